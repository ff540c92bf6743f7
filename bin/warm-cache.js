// `npm ci` runs this (the `prepare` script) inside the repository: transpiles every runtime source
// once into the cache, so the first `npm start` from the sources does not pay for it.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTranspiler } from './ts-cache.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const transpile = createTranspiler('repo');

function* typescriptFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* typescriptFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

let count = 0;
const started = performance.now();
for (const folder of ['sdk', 'boards', 'examples', 'security', 'ota', 'hil']) {
  try {
    for (const file of typescriptFiles(join(ROOT, folder))) {
      transpile(file);
      count++;
    }
  } catch (error) {
    if (error?.code !== 'ENOENT') throw error;
  }
}
console.log(`sensorkit: ${count} TypeScript files ready to run (${Math.round(performance.now() - started)} ms)`);
