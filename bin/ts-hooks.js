// Node module hooks (module.register) that load sensorkit's .ts files through bin/ts-cache.js.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transpile } from './ts-cache.js';

/** `./x.js` written in a .ts file means `./x.ts` (TypeScript's NodeNext convention). */
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const fromTs = context.parentURL?.endsWith('.ts');
    if (error?.code === 'ERR_MODULE_NOT_FOUND' && fromTs && /^\.{1,2}\/.*\.js$/.test(specifier)) {
      return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
    }
    throw error;
  }
}

/** .ts files are ES modules (package.json "type": "module"), transpiled through the cache. */
export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const source = await readFile(path, 'utf8');
  return { format: 'module', source: transpile(path, source), shortCircuit: true };
}
