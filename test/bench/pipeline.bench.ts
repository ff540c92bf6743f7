/**
 * Pipeline throughput: samples through `ChannelPipeline` (two-point calibration, moving average of
 * 8, absolute deadband) beside a hand-written loop doing the same arithmetic, the floor any
 * pipeline could reach. Prints samples/s and heap use; asserts nothing.
 *
 *   node --import ./bin/register-ts.js test/bench/pipeline.bench.ts [--samples=1000000] [--rounds=7]
 *
 * Target (issue): ≥ 5 M samples/s through ChannelPipeline.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { SeededRandom } from '../../sdk/core/random.js';
import type { ChannelSpec } from '../../sdk/model/spec.js';
import { ChannelPipeline } from '../../sdk/pipeline/channel-pipeline.js';
import { option } from './options.js';

const SAMPLES = option('samples', 1_000_000);
const ROUNDS = option('rounds', 7);
const T0 = Date.UTC(2026, 0, 1);
const TARGET = 5_000_000;

const CHANNEL: ChannelSpec = {
  id: 'pressure',
  quantity: 'pressure',
  unit: 'Pa',
  range: { min: 0, max: 250_000 },
  resolution: 1,
  accuracy: { mpe: 250 },
  sampleRate: 1000,
  driver: { part: 'bench', pin: 'A0' },
  calibration: {
    id: 'CAL-BENCH',
    method: 'two-point',
    low: { raw: 1020, reference: 1000 },
    high: { raw: 199_500, reference: 200_000 },
    uncertainty: { expanded: 40 },
  },
  filters: [{ type: 'moving-average', window: 8 }],
  reporting: { deadband: 50 },
};

// Exposes gc() so the retained heap can be measured after a run.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A slowly varying pressure with noise, fixed by the seed. */
function signal(count: number): Float64Array {
  const random = new SeededRandom(42);
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = 101_325 + 2000 * Math.sin(i / 5000) + random.gaussian(0, 30);
  return values;
}

/** One pass through ChannelPipeline; returns the number of reported samples (keeps the work alive). */
function runPipeline(values: Float64Array): number {
  const pipeline = new ChannelPipeline({ channel: CHANNEL });
  let reports = 0;
  for (let i = 0; i < values.length; i++) {
    if (pipeline.process({ time: T0 + i, value: values[i]! }).report) reports++;
  }
  return reports;
}

/** The same arithmetic written inline: calibrate, range check, moving average of 8, deadband. */
function runBaseline(values: Float64Array): number {
  const cal = CHANNEL.calibration as { low: { raw: number; reference: number }; high: { raw: number; reference: number } };
  const x0 = cal.low.raw;
  const y0 = cal.low.reference;
  const slope = (cal.high.reference - cal.low.reference) / (cal.high.raw - cal.low.raw);
  const ring = new Float64Array(8);
  let head = 0;
  let count = 0;
  let sum = 0;
  let last = Number.NaN;
  let reports = 0;
  let outOfRange = 0;
  for (let i = 0; i < values.length; i++) {
    const value = y0 + slope * (values[i]! - x0);
    if (value < 0 || value > 250_000) outOfRange++;
    if (count === 8) sum -= ring[head]!;
    else count++;
    ring[head] = value;
    sum += value;
    head = (head + 1) & 7;
    const filtered = sum / count;
    if (!(Math.abs(filtered - last) <= 50)) {
      last = filtered;
      reports++;
    }
  }
  return reports + outOfRange;
}

interface Result {
  readonly name: string;
  readonly rates: number[];
  readonly reports: number;
}

function measure(name: string, run: (values: Float64Array) => number, values: Float64Array): Result {
  run(values.subarray(0, Math.min(values.length, 200_000))); // warm-up: let the JIT optimise
  const rates: number[] = [];
  let reports = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    reports = run(values);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    rates.push(values.length / seconds);
  }
  return { name, rates, reports };
}

function heapMb(): number {
  return process.memoryUsage().heapUsed / 1048576;
}

const values = signal(SAMPLES);
gc();
const heapBefore = heapMb();
const pipeline = measure('ChannelPipeline', runPipeline, values);
const heapAfterRun = heapMb();
gc();
const heapRetained = heapMb();
const baseline = measure('inline loop (baseline)', runBaseline, values);

const median = (rates: readonly number[]): number => [...rates].sort((a, b) => a - b)[rates.length >> 1]!;
const mps = (rate: number): string => `${(rate / 1e6).toFixed(2)} M/s`;

console.log(`\nPipeline throughput — ${SAMPLES.toLocaleString('en')} samples × ${ROUNDS} rounds (two-point calibration + moving-average(8) + deadband)`);
console.log(`node ${process.version}, ${process.platform}/${process.arch}\n`);
console.log(`${'run'.padEnd(26)}${'best'.padStart(12)}${'median'.padStart(12)}${'worst'.padStart(12)}${'reports'.padStart(10)}`);
for (const result of [pipeline, baseline]) {
  console.log(
    `${result.name.padEnd(26)}${mps(Math.max(...result.rates)).padStart(12)}${mps(median(result.rates)).padStart(12)}${mps(Math.min(...result.rates)).padStart(12)}${String(result.reports).padStart(10)}`,
  );
}
const ratio = median(pipeline.rates) / median(baseline.rates);
console.log(`\npipeline / baseline (median): ${(ratio * 100).toFixed(1)} %`);
console.log(`heap used: before ${heapBefore.toFixed(1)} MB, after the runs ${heapAfterRun.toFixed(1)} MB (garbage included), retained after GC ${heapRetained.toFixed(1)} MB`);
console.log(`target ≥ ${mps(TARGET)}: ${median(pipeline.rates) >= TARGET ? 'met' : 'NOT met'} (median)\n`);
