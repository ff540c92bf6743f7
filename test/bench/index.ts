/**
 * Runs every `*.bench.ts` in this folder, one after the other, each in its own Node process (so
 * one benchmark's JIT state and heap do not colour the next), loading TypeScript the same way as a
 * single run: `node --import ./bin/register-ts.js <file>`. Extra arguments are passed to every
 * benchmark, e.g. `--seconds=1` for a quick run. Exits non-zero when a benchmark fails.
 *
 *   node --import ./bin/register-ts.js test/bench/index.ts [--seconds=1] [--samples=200000]
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const register = pathToFileURL(fileURLToPath(new URL('../../bin/register-ts.js', import.meta.url))).href;
const benches = readdirSync(here)
  .filter((name) => name.endsWith('.bench.ts'))
  .sort();

function run(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', register, file, ...process.argv.slice(2)], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

let failed = 0;
for (const name of benches) {
  console.log(`\n=== ${name} ===`);
  const code = await run(fileURLToPath(new URL(name, pathToFileURL(here))));
  if (code !== 0) {
    failed++;
    console.error(`${name} exited with code ${code}`);
  }
}
console.log(`\n${benches.length - failed} of ${benches.length} benchmarks ran${failed ? `, ${failed} failed` : ''}.`);
process.exitCode = failed ? 1 : 0;
