// Transpiles TypeScript with ts-node (transpile only) and keeps the output in a cache keyed by the
// source's content, so a device starts in well under a second once warm: on a Raspberry-Pi-class
// board, transpiling ~60 files at every start would take many seconds. Types are checked by
// `tsc`, never at run time.
//
// Two scopes: "repo" transpiles sensorkit's own sources inside its repository (with its
// tsconfig.json); "user" transpiles only a user's device or config file next to an installed
// sensorkit, which ships compiled JavaScript and no tsconfig.json, with ts-node and typescript
// from the user's project (optional peer dependencies).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** What a user needs for a .ts device or config file; printed when it is missing. */
export const TYPESCRIPT_MISSING =
  'loading a TypeScript device file needs ts-node and typescript: npm install --save-dev ts-node typescript';

/**
 * A `require` that finds ts-node and typescript: beside sensorkit (the repository's devDependencies,
 * or a user's project where sensorkit is installed), else from the working directory (sensorkit
 * installed globally, ts-node in the user's project). `undefined` when neither has both.
 */
export function typeScriptRequire() {
  for (const base of [import.meta.url, join(process.cwd(), 'package.json')]) {
    const require = createRequire(base);
    try {
      require.resolve('ts-node');
      require.resolve('typescript');
      return require;
    } catch {
      // Not here; try the next place.
    }
  }
  return undefined;
}

/** node_modules/.cache/sensorkit-ts beside the node_modules that holds sensorkit, else the temp dir. */
function defaultCacheDir(scope) {
  if (scope === 'repo') return join(ROOT, 'node_modules', '.cache', 'sensorkit-ts');
  const modules = dirname(ROOT.replace(/[/\\]$/, ''));
  return basename(modules) === 'node_modules' && existsSync(modules)
    ? join(modules, '.cache', 'sensorkit-ts')
    : join(tmpdir(), `sensorkit-ts-${userInfo().uid}`);
}

/**
 * Returns `transpile(path, source?)` for a scope ("repo" or "user"), which gives the JavaScript for a
 * TypeScript file, from the cache when the source is unchanged.
 */
export function createTranspiler(scope) {
  const require = scope === 'repo' ? createRequire(import.meta.url) : typeScriptRequire();
  if (require === undefined) throw new Error(TYPESCRIPT_MISSING);
  const cacheDir = process.env.SENSORKIT_TS_CACHE ?? defaultCacheDir(scope);
  const project = scope === 'repo' ? join(ROOT, 'tsconfig.json') : undefined;
  // A new TypeScript, ts-node or tsconfig must not reuse old output.
  const salt = [
    `esm-2-${scope}`,
    require('typescript/package.json').version,
    require('ts-node/package.json').version,
    project === undefined ? '' : readFileSync(project, 'utf8'),
  ].join('\0');
  // Always ES modules, whatever package.json sits next to a user's device file: the loader hands
  // Node every .ts file as `module` (see ts-hooks.js).
  const compilerOptions = { module: 'ESNext', moduleResolution: 'Bundler' };
  let service;

  return function transpile(path, source = readFileSync(path, 'utf8')) {
    const key = createHash('sha256').update(salt).update('\0').update(path).update('\0').update(source).digest('hex');
    const cached = join(cacheDir, `${key}.js`);
    try {
      return readFileSync(cached, 'utf8');
    } catch {
      // Not cached yet.
    }
    service ??=
      project === undefined
        ? require('ts-node').create({
            transpileOnly: true,
            skipProject: true,
            compiler: require.resolve('typescript'),
            compilerOptions: { ...compilerOptions, target: 'ES2022', isolatedModules: true, esModuleInterop: true },
          })
        : require('ts-node').create({ transpileOnly: true, project, compilerOptions });
    const output = service.compile(source, path);
    try {
      mkdirSync(cacheDir, { recursive: true });
      // Write then rename: a reader never sees a half-written file, even with two processes starting.
      const temporary = `${cached}.${process.pid}.tmp`;
      writeFileSync(temporary, output);
      renameSync(temporary, cached);
    } catch {
      // A read-only file system still runs, just without the cache.
    }
    return output;
  };
}
