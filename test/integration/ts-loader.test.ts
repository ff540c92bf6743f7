/** bin/register-ts.js: .ts sources run directly, transpiled once and cached by content. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(ROOT, 'test', '.tmp-loader-'));
const cache = mkdtempSync(join(tmpdir(), 'sensorkit-ts-cache-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(cache, { recursive: true, force: true });
});

function runTs(file: string): string {
  const result = spawnSync(process.execPath, ['--import', join(ROOT, 'bin/register-ts.js'), file], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, SENSORKIT_TS_CACHE: cache },
  });
  expect(result.stderr).toBe('');
  return result.stdout.trim();
}

describe('TypeScript loader', () => {
  it('runs a .ts file importing ./x.js as ./x.ts, caches the output and notices a changed source', () => {
    const helper = join(work, 'helper.ts');
    const main = join(work, 'main.ts');
    writeFileSync(helper, 'export const answer: number = 41;\n');
    writeFileSync(main, "import { answer } from './helper.js';\nconst plus = (n: number): number => n + 1;\nconsole.log(plus(answer));\n");
    expect(runTs(main)).toBe('42');
    expect(readdirSync(cache).filter((name) => name.endsWith('.js'))).toHaveLength(2);
    expect(runTs(main)).toBe('42');
    expect(readdirSync(cache).filter((name) => name.endsWith('.js'))).toHaveLength(2);
    writeFileSync(helper, 'export const answer: number = 99;\n');
    expect(runTs(main)).toBe('100');
    expect(readdirSync(cache).filter((name) => name.endsWith('.js'))).toHaveLength(3);
  });

  it('runs a .ts file from a package that is not "type": "module" (a user\'s device folder) as an ES module', () => {
    const folder = mkdtempSync(join(tmpdir(), 'sensorkit-cjs-package-'));
    try {
      writeFileSync(join(folder, 'package.json'), '{ "name": "my-device" }\n');
      writeFileSync(join(folder, 'device.ts'), 'export const unit: string = "Cel";\nconsole.log(typeof require, unit);\n');
      expect(runTs(join(folder, 'device.ts'))).toBe('undefined Cel');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
