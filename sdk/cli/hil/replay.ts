/**
 * `sensorkit hil replay record.json`: reruns an emulated run from its record (plan file, target,
 * seed, clock start, simulated instruments, context) and prints every difference between the
 * recorded results and the new ones, the wall-clock fields and the signature aside.
 */
import { parseArgs } from 'node:util';
import { ValidationError } from '../../core/errors.js';
import { RECORD_FORMAT, type RunRecord } from '../../../hil/record/record.js';
import { verifyRecord } from '../../../hil/record/sign.js';
import { compareRecords, describeDifference } from '../../../hil/record/compare.js';
import { planDigest } from '../../../hil/record/plan-digest.js';
import { writeRunOutput } from '../../../hil/record/write-output.js';
import type { Injection } from '../../../hil/targets/emulated-injection.js';
import { loadPlan, runOnTarget } from './harness.js';
import { harness } from './harness-modules.js';
import { RunProgress } from './progress.js';
import { readInput } from '../ota/options.js';
import { UsageError } from '../usage.js';

export const REPLAY_HELP = `Usage: sensorkit hil replay RECORD.json [--out DIR] [--json]

Reruns an emulated run from its record: the same plan file, target, seed, virtual clock start,
simulated instruments and context. Prints every difference from the recorded results (JSON paths;
the wall-clock fields startedAt, finishedAt, wallDuration and the signature aside).

Exits 0 when the replay reproduced the record, 1 on any difference, 2 when the record cannot be
replayed (not an emulated run on virtual time, a real instrument, its plan file missing).

Options:
  --out DIR              also write the replay's record.json (unsigned), junit.xml and report.html
  --json                 print {"record", "differences": [{"path", "kind", "a", "b"}]} as JSON
  -h, --help             show this help
`;

/** Differences printed; a replay that went another way differs in every series value after. */
const MAX_SHOWN = 40;

function readRecord(file: string, text: string): RunRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(file, `not JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (typeof value !== 'object' || value === null || (value as { format?: unknown }).format !== RECORD_FORMAT) throw new ValidationError(file, `not a run record (format "${RECORD_FORMAT}")`);
  return value as RunRecord;
}

/** The instrument specs a replay connects: every instrument of the run must have been simulated. */
function replayInstruments(file: string, record: RunRecord): Record<string, string> {
  const specs: Record<string, string> = {};
  for (const instrument of record.instruments) {
    if (!instrument.simulated) throw new ValidationError(file, `instrument "${instrument.id}" was real (${instrument.connection}); only runs with simulated instruments replay`);
    specs[instrument.id] = instrument.connection;
  }
  return specs;
}

/**
 * Runs `sensorkit hil replay`; resolves with 0 when the replay reproduced the record, 1 otherwise.
 *
 * @example
 * ```ts
 * await replayCommand(['out/record.json']) // 0: no differences
 * ```
 */
export async function replayCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { out: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) return void process.stdout.write(REPLAY_HELP), 0;
  if (positionals.length !== 1) throw new UsageError(`hil replay takes one record.json, got ${positionals.length}`);
  const file = positionals[0]!;
  const text = (await readInput(file)).toString('utf8');
  const record = readRecord(file, text);
  const notes: string[] = [];
  if ((record as { signature?: unknown }).signature !== undefined) {
    const check = verifyRecord(text);
    if (!check.ok) notes.push(`the record's signature does not hold (${check.message})`);
  }
  if (record.target.kind !== 'emulated' || !record.target.virtualTime) {
    throw new ValidationError(file, `ran on ${record.target.description} (${record.target.virtualTime ? 'virtual' : 'real'} time); only emulated runs on virtual time replay`);
  }
  // The injected truths are part of the emulated world: the replay injects them again.
  const inject = (record.injected ?? []).map((truth, i) => harness.checkInjection(truth as Injection, `${file}: injected[${i}]`));
  if (record.plan.file === undefined) throw new ValidationError(file, 'names no plan file to replay (the plan was run from code)');
  const clockStart = Date.parse(record.clock.start);
  if (Number.isNaN(clockStart)) throw new ValidationError(file, `clock.start "${record.clock.start}" is not a date`);
  const instruments = replayInstruments(file, record);
  const source = await loadPlan(record.plan.file);
  const digest = planDigest(source.bytes);
  if (digest !== record.plan.digest) notes.push(`the plan file ${record.plan.file} changed since the run (${record.plan.digest} → ${digest})`);

  // A replay prints its differences; the progress of the rerun is shown on a terminal only.
  const progress = process.stderr.isTTY ? new RunProgress(process.stderr, ['replay']) : undefined;
  let replayed: RunRecord;
  try {
    replayed = await runOnTarget(
      source,
      { name: 'replay', spec: record.target.description, seed: record.seed, instruments, clockStart, inject },
      {
        context: record.context,
        onProgress: (event) => progress?.event('replay', event),
        warn: (message) => void process.stderr.write(`sensorkit: warning: ${message}\n`),
      },
    );
  } finally {
    progress?.done();
  }
  if (values.out !== undefined) await writeRunOutput(values.out, replayed);
  const differences = compareRecords(record, replayed);
  for (const note of notes) process.stderr.write(`sensorkit: note: ${note}\n`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ record: file, differences })}\n`);
  } else if (differences.length === 0) {
    const measurements = replayed.phases.reduce((n, p) => n + p.measurements.length, 0);
    process.stdout.write(`replay of ${file}: no differences (${replayed.phases.length} phase${replayed.phases.length === 1 ? '' : 's'}, ${measurements} measurements, seed ${record.seed}; wall ${(replayed.wallDuration / 1000).toFixed(1)} s)\n`);
  } else {
    const shown = differences.slice(0, MAX_SHOWN).map((d) => `  ${describeDifference(d)}\n`);
    const more = differences.length > MAX_SHOWN ? `  … and ${differences.length - MAX_SHOWN} more (--json lists them all)\n` : '';
    process.stdout.write(`replay of ${file}: ${differences.length} difference${differences.length === 1 ? '' : 's'}\n${shown.join('')}${more}`);
  }
  return differences.length === 0 ? 0 : 1;
}
