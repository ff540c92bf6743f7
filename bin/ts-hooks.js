// Node module hooks (module.register) that load .ts files through bin/ts-cache.js. The scope comes
// from register()'s `data`: "repo" (sensorkit's own sources; `sensorkit/...` imports resolve to them
// through the package's "sensorkit-source" export condition) or "user" (only a user's files outside
// node_modules; `sensorkit/...` resolves to the compiled package, the same modules the CLI runs).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createTranspiler } from './ts-cache.js';

let scope = 'repo';
let transpile;

/** Receives `{ scope }` from register(). */
export function initialize(data) {
  if (data?.scope === 'user') scope = 'user';
}

/** `./x.js` written in a .ts file means `./x.ts` (TypeScript's NodeNext convention). */
export async function resolve(specifier, context, nextResolve) {
  const withSource = scope === 'repo' ? { ...context, conditions: ['sensorkit-source', ...context.conditions] } : context;
  try {
    return await nextResolve(specifier, withSource);
  } catch (error) {
    const fromTs = context.parentURL?.endsWith('.ts');
    if (error?.code === 'ERR_MODULE_NOT_FOUND' && fromTs && /^\.{1,2}\/.*\.js$/.test(specifier)) {
      return nextResolve(`${specifier.slice(0, -3)}.ts`, withSource);
    }
    throw error;
  }
}

/** .ts files are ES modules (package.json "type": "module"), transpiled through the cache. */
export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !/\.m?ts$/.test(url) || url.endsWith('.d.ts')) return nextLoad(url, context);
  if (scope === 'user' && url.includes('/node_modules/')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const source = await readFile(path, 'utf8');
  transpile ??= createTranspiler(scope);
  return { format: 'module', source: transpile(path, source), shortCircuit: true };
}
