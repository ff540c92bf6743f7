/**
 * `sensorkit hil run PLAN`: runs a plan on one device or, with `--target` repeated or `--station`,
 * on several in parallel (a test station with several fixtures); writes each device's record, JUnit
 * and report, and a summary of all.
 */
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { SensorkitError, StorageError } from '../../core/errors.js';
import { readPrivateKey } from '../../../ota/keys/keys.js';
import type { RunRecord } from '../../../hil/record/record.js';
import { checkInstrumentRoles, instrumentSpecs, loadPlan, runOnTarget, type TargetRun } from './harness.js';
import { harness } from './harness-modules.js';
import { RunProgress } from './progress.js';
import { exitCodeOf, summaryText, writeRunResults, type RunResult } from './results.js';
import { loadStation } from './station.js';
import { UsageError } from '../usage.js';
import { parseOneLine, parseSeed } from './args.js';

export const RUN_HELP = `Usage: sensorkit hil run PLAN [--target SPEC]... [--station FILE] [options]

Runs a test plan on a device and writes OUT/record.json (signed with --key), OUT/junit.xml and
OUT/report.html. With --target repeated or --station, runs it on every device in parallel, one
folder per device (OUT/<name>/) and OUT/summary.json beside them.

  PLAN                   a plan file (.ts, .js, .mjs or .json) or the name of a shipped plan
                         (\`sensorkit hil list\`), e.g. env-node-temperature

Options:
  --target SPEC          the device under test: emulated (default; virtual time), firmata:PATH,
                         serial:PATH or linux; repeat for several devices
  --station FILE         a JSON file naming the station's targets, each with its seed and
                         instruments: {"targets": [{"name", "target", "seed"?, "instruments"?}]}
  --instrument ROLE=SPEC an instrument for a role of the plan: sim:dmm, sim:calibrator,
                         scpi-tcp:HOST[:PORT], scpi-serial:PATH; repeatable
  --seed N               seed of the emulated world and simulated instruments (default: 1)
  --out DIR              where to write the results (default: hil-runs/<plan id>-<UTC time>)
  --key FILE             PKCS#8 private key that signs record.json (\`sensorkit hil keygen\`);
                         without it the record is written unsigned, with a warning (\`hil
                         verify\` refuses an unsigned record)
  --force                overwrite the results of an earlier run in --out (refused without)
  --operator NAME        who ran the test (recorded)
  --inject CH:KIND=V     a declared truth on the emulated target: offset, gain, nonlinearity,
                         hysteresis, lag (s), noise (sigma) or drift (per hour) of an input, e.g.
                         temperature:offset=3; repeatable (recorded as the record's injected)
  --json                 print the summary as JSON on standard output; progress goes to stderr
  -h, --help             show this help

Exit status: 0 when every test passed, 1 when one failed or a phase was aborted, 2 on a usage or
set-up error (a plan that does not load, a target that does not answer, an instrument that does
not identify, an --out that holds an earlier run). A conditional outcome counts as the plan's
conditionalOutcomes says (default: a conditional pass passes, a conditional fail fails).
`;

const OPTIONS = {
  target: { type: 'string', multiple: true },
  station: { type: 'string' },
  instrument: { type: 'string', multiple: true },
  seed: { type: 'string' },
  out: { type: 'string' },
  key: { type: 'string' },
  operator: { type: 'string' },
  inject: { type: 'string', multiple: true },
  json: { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/**
 * Reads `--key` as one-line errors naming the file.
 *
 * @example
 * ```ts
 * const key = await readSigningKey('keys/private.pem')
 * ```
 */
export async function readSigningKey(file: string): Promise<KeyObject> {
  return readPrivateKey(file).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new StorageError(file, `cannot read --key: ${code}`, { cause: error });
    throw new UsageError(`--key ${file}: not a P-256 or Ed25519 private key in PKCS#8 PEM: ${(error as Error).message.split('\n')[0]}`);
  });
}

/** Folder names for repeated `--target`s: the spec in file-name characters, numbered when two are alike. */
function targetNames(specs: readonly string[]): string[] {
  const names = specs.map((spec) => spec.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'target');
  return names.map((name, i) => (names.indexOf(name) !== names.lastIndexOf(name) ? `${name}-${names.slice(0, i + 1).filter((n) => n === name).length}` : name));
}

/**
 * Refuses one real instrument for several parallel runs: two runs would interleave their commands
 * on it. Simulated instruments are made per run.
 */
function checkSharedInstruments(runs: readonly TargetRun[]): void {
  const users = new Map<string, string>();
  for (const run of runs) {
    for (const [role, spec] of Object.entries(run.instruments)) {
      if (spec.startsWith('sim:')) continue;
      const other = users.get(spec);
      if (other !== undefined) throw new UsageError(`instrument ${spec} is given to both ${other} and ${run.name} (${role}); parallel runs need one instrument each (a --station file gives each fixture its own)`);
      users.set(spec, run.name);
    }
  }
}

/** The first line of an error for the summary and the exit-2 message. */
function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

/**
 * Refuses to write over an earlier run: `out/record.json`, or for several devices
 * `out/summary.json` and `out/<name>/record.json` (a signed record is evidence; `--force` says it
 * may go).
 */
function refuseEarlierResults(out: string, names: readonly string[]): void {
  const files = names.length === 0 ? [join(out, 'record.json')] : [join(out, 'summary.json'), join(out, 'record.json'), ...names.map((name) => join(out, name, 'record.json'))];
  const found = files.find((file) => existsSync(file));
  if (found !== undefined) throw new StorageError(found, 'the results of an earlier run are there; give another --out, or --force to overwrite them');
}

function defaultOut(planId: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `hil-runs/${planId}-${stamp}`;
}

/**
 * Runs `sensorkit hil run`; resolves with the exit code (0 all passed, 1 a test failed, 2 a set-up
 * error). Usage and set-up errors before any run starts are thrown as typed errors.
 *
 * @example
 * ```ts
 * await runCommand(['env-node-temperature', '--seed', '3', '--out', 'out', '--key', 'keys/private.pem'])
 * ```
 */
export async function runCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseOneLine(() => parseArgs({ args: [...argv], allowPositionals: true, options: OPTIONS }));
  if (values.help) return void process.stdout.write(RUN_HELP), 0;
  if (positionals.length !== 1) throw new UsageError(`hil run takes one PLAN, got ${positionals.length}${positionals.length > 0 ? `: ${positionals.join(' ')}` : ''}`);
  if (values.station !== undefined && values.target !== undefined) throw new UsageError('give either --target or --station, not both');
  if (values.station !== undefined && values.instrument !== undefined) throw new UsageError('with --station, give instruments in the station file (targets[].instruments)');
  const seed = values.seed === undefined ? 1 : parseSeed(values.seed);
  const key = values.key === undefined ? undefined : await readSigningKey(values.key);
  const inject = (values.inject ?? []).flatMap((text) => harness.parseInjection(text));
  const source = await loadPlan(positionals[0]!);
  const plan = source.plan;

  let runs: TargetRun[];
  let stationName: string | undefined;
  if (values.station !== undefined) {
    const station = await loadStation(values.station);
    stationName = station.name ?? basename(values.station).replace(/\.json$/i, '');
    runs = station.targets.map((t) => ({ name: t.name, spec: t.target, seed: t.seed ?? seed, instruments: t.instruments, inject }));
    for (const run of runs) checkInstrumentRoles(plan, run.instruments, `--station ${values.station}: ${run.name}: `);
  } else {
    const specs = values.target ?? ['emulated'];
    const instruments = instrumentSpecs(values.instrument ?? []);
    checkInstrumentRoles(plan, instruments);
    const names = targetNames(specs);
    runs = specs.map((spec, i) => ({ name: names[i]!, spec, seed, instruments, inject }));
  }
  // Emulated fixtures of one run are different devices: each gets its own serial number.
  if (runs.length > 1) runs = runs.map((run, i) => (run.spec.startsWith('emulated') ? { ...run, serialNumber: `EMU-${run.seed}-${i + 1}` } : run));
  checkSharedInstruments(runs);
  const single = values.station === undefined && runs.length === 1;
  const out = values.out ?? defaultOut(plan.id);
  if (!values.force) refuseEarlierResults(out, single ? [] : runs.map((r) => r.name));

  const progressOut = values.json ? process.stderr : process.stdout;
  const progress = new RunProgress(progressOut, runs.map((r) => r.name));
  const context: RunRecord['context'] = {
    ...(values.operator === undefined ? {} : { operator: values.operator }),
    ...(stationName === undefined ? {} : { station: stationName }),
  };
  // Ctrl-C stops every run at once: each records its current phase as aborted, and its output is
  // still written (exit 1). A second Ctrl-C ends the process the usual way.
  const interrupt = new AbortController();
  const onSigint = (): void => {
    interrupt.abort('interrupted (SIGINT)');
    process.removeListener('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  let results: RunResult[];
  try {
    results = await Promise.all(
      runs.map(async (run): Promise<RunResult> => {
        try {
          const record = await runOnTarget(source, run, {
            context,
            onProgress: (event) => progress.event(run.name, event),
            warn: (message) => progress.line(run.name, `warning: ${message}`),
            signal: interrupt.signal,
          });
          return { run, record };
        } catch (error) {
          // A set-up error of one fixture is reported, and the others run on; anything else is a bug.
          if (!(error instanceof SensorkitError)) throw error;
          if (single) throw error;
          progress.line(run.name, `error: ${oneLine(error)}`);
          return { run, error: oneLine(error) };
        }
      }),
    );
  } finally {
    process.removeListener('SIGINT', onSigint);
    progress.done();
  }

  const summary = await writeRunResults(out, { id: plan.id, name: plan.name, version: plan.version }, results, { single, ...(key === undefined ? {} : { key }) });
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(summaryText(summary, out));
  if (key === undefined && summary.runs.some((r) => r.dir !== undefined)) {
    process.stderr.write(`sensorkit: warning: ${single ? `${join(out, 'record.json')} is` : `the records in ${out} are`} not signed (no --key), and \`hil verify\` refuses ${single ? 'it' : 'them'}; \`sensorkit hil keygen\` makes a key\n`);
  }
  return exitCodeOf(summary);
}
