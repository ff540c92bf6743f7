/**
 * `sensorkit hil replay record.json`: reruns an emulated run from its record (plan file, target,
 * seed, clock start, simulated instruments, context) and prints every difference between the
 * recorded results and the new ones, the wall-clock fields and the signature aside.
 */
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { StorageError, ValidationError } from '../../core/errors.js';
import type { RunRecord } from '../../../hil/record/record.js';
import { verifyRecord } from '../../../hil/record/sign.js';
import { compareRecords, describeDifference } from '../../../hil/record/compare.js';
import { writeRunOutput } from '../../../hil/record/write-output.js';
import type { Injection } from '../../../hil/targets/emulated-injection.js';
import { loadPlanWithDigest, runOnTarget, type PlanSource } from './harness.js';
import { harness } from './harness-modules.js';
import { RunProgress } from './progress.js';
import { readInput } from '../ota/options.js';
import { UsageError } from '../usage.js';
import { parseOneLine } from './args.js';
import { readPublicKeys } from './verify.js';

export const REPLAY_HELP = `Usage: sensorkit hil replay RECORD.json [--key PUBLIC.pem]... [--plan FILE] [--out DIR [--force]] [--json]

Reruns an emulated run from its record: the same plan, target, seed, virtual clock start,
simulated instruments and context. Prints every difference from the recorded results (JSON paths;
the wall-clock fields startedAt, finishedAt, wallDuration and the signature aside).

A replay runs the plan's code, so it trusts the record before it loads anything:
  - a record whose signature does not verify is refused;
  - a shipped plan (\`sensorkit hil list\`) named by the record is always run;
  - a plan file named by the record is run only when the record is signed by a key given with
    --key; otherwise give the plan file yourself with --plan FILE.
In every case the plan file's SHA-256 must be the record's plan.digest, checked before the file is
loaded; a plan that changed since the run is refused.

Exits 0 when the replay reproduced the record, 1 on any difference, 2 when the record cannot be
replayed (its signature does not verify, it is not trusted and no --plan is given, its plan changed,
not an emulated run on virtual time, a real instrument).

Options:
  --key FILE             SPKI public key PEM of a signer you trust; repeatable
  --plan FILE            the plan file to replay the record with (its digest must match)
  --out DIR              also write the replay's record.json (unsigned), junit.xml and report.html
                         (a folder holding a record.json is refused)
  --force                overwrite the record.json in --out
  --json                 print {"record", "differences": [{"path", "kind", "a", "b"}]} as JSON
  -h, --help             show this help
`;

/** Differences printed; a replay that went another way differs in every series value after. */
const MAX_SHOWN = 40;

/** A record read for replay, and whether its signer is one of the keys given. */
interface TrustedRecord {
  readonly record: RunRecord;
  /** Why the record's plan file may not be run without --plan; undefined when it is signed by a key given. */
  readonly untrusted?: string;
}

/**
 * Reads and checks a record before anything of it is used: its shape, the exact text, and its
 * signature when it has one. A signature that does not verify is refused (exit 2).
 */
function readRecord(file: string, bytes: Uint8Array, keys: readonly KeyObject[] | undefined): TrustedRecord {
  const check = verifyRecord(bytes, keys);
  if (check.ok) {
    return check.trusted ? { record: check.record } : { record: check.record, untrusted: `its signer ${check.keyId} was not checked (no --key)` };
  }
  if (check.reason === 'not-signed' && check.record !== undefined) return { record: check.record, untrusted: 'it is not signed' };
  if (check.reason === 'wrong-key') {
    // Signed by another key: intact records of other signers replay like unsigned ones.
    const intact = verifyRecord(bytes);
    if (intact.ok) return { record: intact.record, untrusted: `it is signed by ${intact.keyId}, not by a key given with --key` };
    throw new ValidationError(file, `the record's signature does not verify: ${intact.message}`);
  }
  // Not JSON, not a record, or not the exact text written (a byte order mark, an edit around intact content).
  if (check.reason === 'malformed' || check.reason === 'not-a-record' || check.reason === 'not-canonical') throw new ValidationError(file, check.message);
  throw new ValidationError(file, `the record's signature does not verify: ${check.message}`);
}

/**
 * The plan a record is replayed with, loaded only after its digest is checked: `--plan FILE`, else
 * the shipped plan the record names, else (a signer given with --key only) the absolute path it names.
 */
async function replayPlan(file: string, trusted: TrustedRecord, planOption: string | undefined): Promise<PlanSource> {
  const { record, untrusted } = trusted;
  const named = record.plan.file;
  if (planOption !== undefined) return loadPlanWithDigest(planOption, record.plan.digest, named ?? resolve(planOption));
  if (named === undefined) throw new ValidationError(file, 'names no plan file to replay (the plan was run from code); give --plan FILE');
  const shipped = harness.shippedPlans().find((p) => p.id === named);
  if (shipped !== undefined) return loadPlanWithDigest(shipped.file, record.plan.digest, named);
  if (untrusted !== undefined) throw new ValidationError(file, `names the plan file ${named}, which runs code, but ${untrusted}: give the plan file with --plan FILE, or the signer's key with --key`);
  if (!isAbsolute(named)) throw new ValidationError(file, `names the plan file ${named} relative to a folder it does not record: give it with --plan FILE`);
  return loadPlanWithDigest(named, record.plan.digest, named);
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
  const { values, positionals } = parseOneLine(() =>
    parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        key: { type: 'string', multiple: true },
        plan: { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }),
  );
  if (values.help) return void process.stdout.write(REPLAY_HELP), 0;
  if (positionals.length !== 1) throw new UsageError(`hil replay takes one record.json, got ${positionals.length}`);
  const file = positionals[0]!;
  if (values.out !== undefined && !values.force && existsSync(join(values.out, 'record.json'))) {
    throw new StorageError(join(values.out, 'record.json'), 'the results of an earlier run are there; give another --out, or --force to overwrite them');
  }
  const keys = values.key === undefined ? undefined : await readPublicKeys(values.key);
  const trusted = readRecord(file, await readInput(file), keys);
  const record = trusted.record;
  if (record.target.kind !== 'emulated' || !record.target.virtualTime) {
    throw new ValidationError(file, `ran on ${record.target.description} (${record.target.virtualTime ? 'virtual' : 'real'} time); only emulated runs on virtual time replay`);
  }
  // The injected truths are part of the emulated world: the replay injects them again.
  const inject = (record.injected ?? []).map((truth, i) => harness.checkInjection(truth as Injection, `${file}: injected[${i}]`));
  const clockStart = Date.parse(record.clock.start);
  if (Number.isNaN(clockStart)) throw new ValidationError(file, `clock.start "${record.clock.start}" is not a date`);
  const instruments = replayInstruments(file, record);
  const source = await replayPlan(file, trusted, values.plan);

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
