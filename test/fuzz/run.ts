/**
 * The long fuzz run: `npm run fuzz -- [--runs N] [--seed S] [--time-limit S] [--json FILE] [target…]`.
 * Runs each target (all by default) for N inputs (default 1,000,000) or until the time limit (seconds), and prints per target: inputs,
 * crashes (an exception other than the documented one), property violations, hangs (an input over
 * HANG_MS), the slowest input in ms, the peak heap and RSS (sampled every 256 inputs), the rate,
 * the outcome counters and the first failing inputs. Unlike the short run it does not stop at the
 * first failure, so one run counts them all. Exit code 1 when any target had a crash, violation or hang.
 */
import { writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import { FuzzViolation, HANG_MS, type FuzzTarget } from './target.js';
import { TARGETS } from './targets/index.js';

interface Options {
  runs: number;
  seed: number;
  timeLimitS: number | undefined;
  json: string | undefined;
  names: string[];
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { runs: 1_000_000, seed: 20_261_205, timeLimitS: undefined, json: undefined, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--runs') options.runs = Number(value());
    else if (arg === '--seed') options.seed = Number(value());
    else if (arg === '--time-limit') options.timeLimitS = Number(value());
    else if (arg === '--json') options.json = value();
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else options.names.push(arg);
  }
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error('--runs takes a positive integer');
  const known = new Set(TARGETS.map((t) => t.name));
  const unknown = options.names.filter((name) => !known.has(name));
  if (unknown.length > 0) throw new Error(`unknown target ${unknown.join(', ')}; targets: ${[...known].join(', ')}`);
  return options;
}

interface TargetReport {
  target: string;
  property: string;
  seed: number;
  inputs: number;
  crashes: number;
  violations: number;
  hangs: number;
  slowestMs: number;
  peakHeapMiB: number;
  peakRssMiB: number;
  seconds: number;
  inputsPerSecond: number;
  interrupted: boolean;
  outcomes: Readonly<Record<string, number>>;
  failures: { kind: string; error: string; input: string }[];
}

const MiB = 2 ** 20;

async function run(target: FuzzTarget<unknown>, options: Options): Promise<TargetReport> {
  await target.setup?.();
  const report: TargetReport = {
    target: target.name,
    property: target.property,
    seed: options.seed,
    inputs: 0,
    crashes: 0,
    violations: 0,
    hangs: 0,
    slowestMs: 0,
    peakHeapMiB: 0,
    peakRssMiB: 0,
    seconds: 0,
    inputsPerSecond: 0,
    interrupted: false,
    outcomes: {},
    failures: [],
  };
  const sampleMemory = (): void => {
    const memory = process.memoryUsage();
    report.peakHeapMiB = Math.max(report.peakHeapMiB, memory.heapUsed / MiB);
    report.peakRssMiB = Math.max(report.peakRssMiB, memory.rss / MiB);
  };
  const started = performance.now();
  const property = fc.asyncProperty(target.arbitrary, async (input) => {
    report.inputs++;
    const start = performance.now();
    try {
      await target.check(input);
    } catch (error) {
      const kind = error instanceof FuzzViolation ? error.kind : 'crash';
      if (kind === 'hang') report.hangs++;
      else if (kind === 'violation') report.violations++;
      else report.crashes++;
      if (report.failures.length < 5) report.failures.push({ kind, error: String((error as Error)?.stack ?? error).slice(0, 800), input: fc.stringify(input).slice(0, 2000) });
    }
    report.slowestMs = Math.max(report.slowestMs, performance.now() - start);
    if ((report.inputs & 255) === 0) sampleMemory();
    return true;
  });
  const result = await fc.check(property, {
    seed: options.seed,
    numRuns: options.runs,
    ...(options.timeLimitS === undefined ? {} : { interruptAfterTimeLimit: options.timeLimitS * 1000, markInterruptAsFailure: false }),
  });
  sampleMemory();
  report.interrupted = result.interrupted;
  report.seconds = (performance.now() - started) / 1000;
  report.inputsPerSecond = report.inputs / report.seconds;
  report.outcomes = target.outcomes?.() ?? {};
  await target.teardown?.();
  return report;
}

function print(report: TargetReport): void {
  const line = [
    `${report.target}:`,
    `${report.inputs.toLocaleString('en')} inputs${report.interrupted ? ' (time limit)' : ''},`,
    `${report.crashes} crashes, ${report.violations} violations, ${report.hangs} hangs (> ${HANG_MS} ms),`,
    `slowest ${report.slowestMs.toFixed(1)} ms, peak heap ${report.peakHeapMiB.toFixed(0)} MiB, peak RSS ${report.peakRssMiB.toFixed(0)} MiB,`,
    `${report.seconds.toFixed(0)} s (${report.inputsPerSecond.toFixed(0)}/s), seed ${report.seed}`,
  ].join(' ');
  console.log(line);
  for (const [name, count] of Object.entries(report.outcomes)) console.log(`  ${name}: ${count.toLocaleString('en')}`);
  for (const failure of report.failures) console.log(`  ${failure.kind}: ${failure.error.split('\n')[0]}\n    input: ${failure.input.slice(0, 400)}`);
}

const options = parseArgs(process.argv.slice(2));
const targets = options.names.length === 0 ? TARGETS : TARGETS.filter((t) => options.names.includes(t.name));
const reports: TargetReport[] = [];
for (const target of targets) {
  const report = await run(target, options);
  print(report);
  reports.push(report);
}
if (options.json !== undefined) await writeFile(options.json, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, reports }, null, 2)}\n`);
process.exitCode = reports.some((r) => r.crashes + r.violations + r.hangs > 0) ? 1 : 0;
