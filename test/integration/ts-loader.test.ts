/**
 * bin/register-ts.js: .ts sources run directly inside the repository, transpiled once and cached by
 * content, with `sensorkit/...` resolving to the sources. bin/user-files.js: when an installed
 * sensorkit loads the TypeScript compiler at all.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { mentionsTypeScript } from '../../bin/user-files.js';

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

  it('resolves sensorkit/... to the TypeScript sources inside the repository (the "sensorkit-source" condition)', () => {
    const main = join(work, 'self-reference.ts');
    writeFileSync(main, "import { VirtualClock } from 'sensorkit/core';\nconsole.log(import.meta.resolve('sensorkit/core'), typeof VirtualClock);\n");
    expect(runTs(main)).toBe(`${new URL('../../sdk/core/index.ts', import.meta.url).href} function`);
  });
});

describe('mentionsTypeScript (bin/user-files.js)', () => {
  const check = mentionsTypeScript;

  it('is true for a .ts device or config file, or a folder whose device entry is .ts', () => {
    const folder = mkdtempSync(join(tmpdir(), 'sensorkit-user-files-'));
    try {
      mkdirSync(join(folder, 'ts-device'));
      writeFileSync(join(folder, 'ts-device', 'device.ts'), '');
      mkdirSync(join(folder, 'js-device'));
      writeFileSync(join(folder, 'js-device', 'device.js'), '');
      writeFileSync(join(folder, 'js-device', 'index.ts'), '');
      expect(check(['run', './my-device.ts'])).toBe(true);
      expect(check(['run', '--config', 'sensorkit.config.mts'])).toBe(true);
      expect(check(['run', '--config=site/sensorkit.config.ts'])).toBe(true);
      expect(check(['run', join(folder, 'ts-device')])).toBe(true);
      expect(check(['run', './my-device.js', '--no-mqtt'])).toBe(false);
      expect(check(['model', join(folder, 'js-device')])).toBe(false);
      expect(check(['run', 'types.d.ts'])).toBe(false);
      expect(check(['--help'])).toBe(false);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
