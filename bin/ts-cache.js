// Transpiles sensorkit's TypeScript with ts-node (transpile only) and keeps the output in a cache
// keyed by the source's content, so a device starts in well under a second once warm — on a
// Raspberry-Pi-class board, transpiling ~60 files at every start would take many seconds.
// Types are checked by `npm run typecheck`, never at run time.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const require = createRequire(import.meta.url);
const CACHE_DIR = process.env.SENSORKIT_TS_CACHE ?? join(ROOT, 'node_modules', '.cache', 'sensorkit-ts');
// A new TypeScript, ts-node or tsconfig must not reuse old output.
const SALT = [
  'esm-1',
  require('typescript/package.json').version,
  require('ts-node/package.json').version,
  readFileSync(join(ROOT, 'tsconfig.json'), 'utf8'),
].join('\0');

let service;

/** Returns the JavaScript for a TypeScript file, from the cache when the source is unchanged. */
export function transpile(path, source = readFileSync(path, 'utf8')) {
  const key = createHash('sha256').update(SALT).update('\0').update(path).update('\0').update(source).digest('hex');
  const cached = join(CACHE_DIR, `${key}.js`);
  try {
    return readFileSync(cached, 'utf8');
  } catch {
    // Not cached yet.
  }
  // Always ES modules, whatever package.json sits next to a user's device file: the loader hands
  // Node every .ts file as `module` (see ts-hooks.js).
  service ??= require('ts-node').create({
    transpileOnly: true,
    project: join(ROOT, 'tsconfig.json'),
    compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler' },
  });
  const output = service.compile(source, path);
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    // Write then rename: a reader never sees a half-written file, even with two processes starting.
    const temporary = `${cached}.${process.pid}.tmp`;
    writeFileSync(temporary, output);
    renameSync(temporary, cached);
  } catch {
    // A read-only file system still runs, just without the cache.
  }
  return output;
}
