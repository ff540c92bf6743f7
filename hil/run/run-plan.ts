/**
 * `runTestPlan(plan, options)`: checks the plan against its target and instruments, opens the
 * target, runs the phases (setup, steps, teardown; skipped, repeated or aborted with a reason),
 * closes the target and resolves with the unsigned run record. Everything in the record but the
 * wall-clock fields (`WALL_CLOCK_FIELDS`) is in target time, so an emulated run replays byte for
 * byte from its plan and seed.
 */
import { ArgumentError, StateError, ValidationError } from '../../sdk/core/errors.js';
import type { DeviceModel } from '../../sdk/model/define-device.js';
import type { Instrument } from '../instruments/instrument.js';
import { checkPlan } from '../plan/check-plan.js';
import { modelOf, TestPlan } from '../plan/define-test-plan.js';
import { planDigest } from '../record/plan-digest.js';
import { RECORD_FORMAT, type InstrumentRecord, type MeasurementRecord, type PhaseRecord, type RunRecord, type TestReportInfo } from '../record/record.js';
import { canInjectFaults } from '../targets/emulated-faults.js';
import type { DeviceUnderTest, Target } from '../targets/target.js';
import { runPhase, skippedPhase, worstOutcome } from './phase-runner.js';
import type { ProgressEvent, RunOptions } from './run-options.js';
import type { ProgressInput, RunScope } from './run-scope.js';
import { SampleFeed } from './sample-feed.js';
import { sensorkitVersion } from './version.js';

/**
 * Runs `plan` on `options.target` and resolves with the unsigned record. It never throws for what
 * happens inside a phase (a failed measurement, a silent device, a custom step that throws: the
 * phase is recorded with its outcome and reason). It throws a typed error only before the phases
 * run: `ValidationError` for a plan that names what the device or target lacks or an instrument
 * role with no instrument, and whatever the target's `open()` or an instrument's `identify()`
 * rejects with.
 *
 * @example
 * ```ts
 * const { plan } = await loadTestPlan('hil/plans/env-node-temperature.ts')
 * const target = createEmulatedTarget({ device: plan.device, seed: 42 })
 * const record = await runTestPlan(plan, { target, seed: 42, onProgress: (event) => console.log(event.kind) })
 * console.log(record.outcome) // 'pass'
 * ```
 */
export async function runTestPlan(plan: TestPlan, options: RunOptions): Promise<RunRecord> {
  if (!(plan instanceof TestPlan)) throw new ValidationError('plan', 'expected a plan from defineTestPlan() or loadTestPlan()');
  if (typeof options !== 'object' || options === null || typeof options.target?.open !== 'function') throw new ArgumentError('Expected `options.target` to be a Target');
  if (!Number.isInteger(options.seed)) throw new ArgumentError(`Expected \`seed\` to be an integer, got ${String(options.seed)}`);
  const { target } = options;
  const wallStart = performance.now();
  const startedAt = new Date().toISOString();

  const known = knownModel(target);
  if (known !== undefined) checkDevice(plan, known);
  const { instruments, records: instrumentRecords } = await identifyInstruments(plan, options);

  const device = await target.open();
  let record: RunRecord;
  try {
    checkDevice(plan, target.model);
    checkPlan(plan, target.model, { inputs: target.inputs(), faults: canInjectFaults(target) });
    record = await runPhases(plan, options, target, device, instruments, instrumentRecords, { wallStart, startedAt });
  } catch (error) {
    await closeWithin(target, closeTimeout(options));
    throw error;
  }
  const closeProblem = await closeWithin(target, closeTimeout(options));
  if (closeProblem !== undefined) record = withCloseNote(record, closeProblem);
  return { ...record, finishedAt: new Date().toISOString(), wallDuration: Math.round(performance.now() - wallStart) };
}

/** Wall-clock bound on `target.close()` when `RunOptions.closeTimeoutMs` is not given. */
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

function closeTimeout(options: RunOptions): number {
  const ms = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
  if (!(Number.isFinite(ms) && ms > 0)) throw new ArgumentError(`Expected \`closeTimeoutMs\` to be a number above 0, got ${String(ms)}`);
  return ms;
}

/**
 * Closes the target within `ms` of wall time. Resolves with what went wrong (a close that rejected
 * or did not settle in time, then abandoned) or undefined; never rejects, so the record survives a
 * fixture that cannot be closed.
 */
async function closeWithin(target: Target, ms: number): Promise<string | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`the target did not close within ${ms} ms of wall time and was abandoned`), ms);
  });
  const closing = target.close().then(
    () => undefined,
    (error: unknown) => `closing the target failed: ${error instanceof Error ? error.message : String(error)}`,
  );
  try {
    return await Promise.race([closing, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The record with a close problem logged at the end of its last phase (its outcome unchanged). */
function withCloseNote(record: RunRecord, problem: string): RunRecord {
  const last = record.phases.at(-1);
  if (last === undefined) return record;
  const entry = { time: record.clock.duration, message: problem };
  return { ...record, phases: [...record.phases.slice(0, -1), { ...last, log: [...last.log, entry] }] };
}

/** The plan's checks against the model the target runs, which must be the plan's device when the plan holds a model. */
function checkDevice(plan: TestPlan, model: DeviceModel): void {
  const planned = modelOf(plan.device);
  if (planned !== undefined && planned.id !== model.id) {
    throw new ValidationError('device', `the plan is for device "${planned.id}", but the target runs "${model.id}"`);
  }
  checkPlan(plan, model);
}

function knownModel(target: Target): DeviceModel | undefined {
  try {
    return target.model;
  } catch (error) {
    if (error instanceof StateError) return undefined; // a device file loaded by open()
    throw error;
  }
}

async function identifyInstruments(plan: TestPlan, options: RunOptions): Promise<{ instruments: Record<string, Instrument>; records: InstrumentRecord[] }> {
  const instruments: Record<string, Instrument> = {};
  const records: InstrumentRecord[] = [];
  const roles = Object.keys(plan.instruments);
  const given = options.instruments ?? {};
  const missing = roles.filter((role) => given[role] === undefined);
  if (missing.length > 0) {
    throw new ValidationError(`instruments.${missing[0]}`, `the plan needs an instrument for role "${missing[0]}" (${plan.instruments[missing[0]!]!.join(', ')}); none was given`);
  }
  for (const role of Object.keys(given).sort()) {
    const connected = given[role]!;
    const identity = await connected.instrument.identify();
    instruments[role] = connected.instrument;
    records.push({ id: role, connection: connected.connection, ...identity });
  }
  return { instruments, records };
}

async function runPhases(
  plan: TestPlan,
  options: RunOptions,
  target: Target,
  device: DeviceUnderTest,
  instruments: Record<string, Instrument>,
  instrumentRecords: InstrumentRecord[],
  wall: { wallStart: number; startedAt: string },
): Promise<RunRecord> {
  const clockStart = target.clock.now();
  const feed = new SampleFeed(target, clockStart, options.signal);
  const progress = (event: ProgressInput): void => {
    options.onProgress?.({ ...event, time: feed.time(), wallTime: Math.round(performance.now() - wall.wallStart) } as ProgressEvent);
  };
  const run: RunScope = { target, model: target.model, feed, instruments, inputValues: new Map(), progress };
  const phases: PhaseRecord[] = [];
  /** Why the remaining phases are skipped: the run was aborted, or a phase with `onFailure: 'stop'` did not pass. */
  let runReason: string | undefined;
  let stopped: string | undefined;
  progress({ kind: 'run-start', plan: plan.id, target: target.description, phases: plan.phases.length });
  try {
    for (const [index, phase] of plan.phases.entries()) {
      for (let iteration = 1; iteration <= phase.repeat; iteration++) {
        progress({ kind: 'phase-start', phase: phase.id, iteration, index, count: plan.phases.length });
        let phaseRecord: PhaseRecord;
        const skipReason = phase.always === true ? undefined : (runReason ?? stopped);
        if (skipReason !== undefined) phaseRecord = skippedPhase(phase, iteration, feed.time(), skipReason);
        else if (phase.skip !== undefined) phaseRecord = skippedPhase(phase, iteration, feed.time(), phase.skip);
        else {
          feed.obeyAbort = phase.always !== true;
          const { record, runAborted } = await runPhase(phase, iteration, run);
          feed.obeyAbort = true;
          phaseRecord = record;
          if (runAborted) runReason = record.reason ?? 'run aborted';
          else if (phase.onFailure === 'stop' && (record.outcome === 'fail' || record.outcome === 'aborted' || record.outcome === 'conditional-fail')) {
            stopped = `phase ${phase.id} ended ${record.outcome}, and the plan stops there`;
          }
        }
        phases.push(phaseRecord);
        progress({ kind: 'phase-end', phase: phaseRecord });
      }
    }
  } finally {
    feed.close();
  }
  const outcome = runReason !== undefined ? 'aborted' : worstOutcome(phases.map((phase) => phase.outcome));
  const firstAborted = phases.find((phase) => phase.outcome === 'aborted');
  const reason = runReason ?? (firstAborted === undefined ? undefined : `phase ${firstAborted.id}: ${firstAborted.reason ?? 'aborted'}`);
  progress({ kind: 'run-end', outcome });
  const context = { ...contextOf(plan), ...(options.context ?? {}) };
  const report = reportInfo(plan, device, context, phases, outcome, reason, {
    start: new Date(clockStart).toISOString(),
    end: new Date(clockStart + feed.time()).toISOString(),
    seed: options.seed,
  });
  return {
    format: RECORD_FORMAT,
    plan: {
      id: plan.id,
      name: plan.name,
      version: plan.version,
      digest: planDigest(options.planFile?.bytes ?? plan.spec),
      ...(options.planFile === undefined ? {} : { file: options.planFile.path }),
    },
    target: { kind: target.kind, description: target.description, observation: target.observation, virtualTime: target.virtualTime },
    device: { ...device },
    sensorkit: { version: sensorkitVersion() },
    instruments: instrumentRecords,
    seed: options.seed,
    clock: { kind: target.virtualTime ? 'virtual' : 'system', start: new Date(clockStart).toISOString(), duration: feed.time() },
    ...injectedOf(options, target),
    context,
    startedAt: wall.startedAt,
    finishedAt: wall.startedAt,
    wallDuration: 0,
    outcome,
    ...(reason === undefined ? {} : { reason }),
    phases,
    report,
    ...(plan.conditionalOutcomes === undefined ? {} : { conditionalOutcomes: { ...plan.conditionalOutcomes } }),
  };
}

/** The test report's ISO/IEC 17025 §7.8.2 items from the plan, the device, the context and the results. */
function reportInfo(
  plan: TestPlan,
  device: DeviceUnderTest,
  context: RunRecord['context'],
  phases: readonly PhaseRecord[],
  outcome: RunRecord['outcome'],
  reason: string | undefined,
  when: { start: string; end: string; seed: number },
): TestReportInfo {
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined);
  const measurements = phases.flatMap((phase) => phase.measurements);
  const rules = [...new Set(measurements.map((m) => m.decisionRule).filter((rule): rule is string => rule !== undefined))].sort();
  const location = text(context.location) ?? text(context.station);
  const procedure = text(context.procedure);
  return {
    title: `Test report: ${plan.name}`,
    laboratory: text(context.laboratory) ?? 'not stated',
    ...(location === undefined ? {} : { location }),
    id: `${plan.id}/${device.serialNumber}/${when.start}/seed-${when.seed}`,
    customer: text(context.customer) ?? 'not stated',
    method: `${plan.name}, plan ${plan.id} ${plan.version}${procedure === undefined ? '' : `: ${procedure}`}`,
    item: { description: `${device.manufacturer} ${device.model} (${device.id})`, serialNumber: device.serialNumber },
    performed: { start: when.start, end: when.end },
    decisionRules: rules,
    statement: conformityStatement(measurements, outcome, reason, rules),
    authorisedBy: text(context.authorisedBy) ?? text(context.operator) ?? 'not stated',
  };
}

/**
 * The statement of conformity (ISO/IEC 17025 §7.8.6, ILAC-G8:09 §4.2): conforms, conforms with a
 * conditional pass, does not conform (conditional or not), or no statement for an aborted run.
 */
function conformityStatement(measurements: readonly MeasurementRecord[], outcome: RunRecord['outcome'], reason: string | undefined, rules: readonly string[]): string {
  const under = rules.length === 0 ? '' : ` under ${rules.join('; ')}`;
  const ids = (wanted: string): string => {
    const found = measurements.filter((m) => m.outcome === wanted).map((m) => m.id);
    return `${found.slice(0, 5).join(', ')}${found.length > 5 ? ` and ${found.length - 5} more` : ''}`;
  };
  switch (outcome) {
    case 'pass':
      return `The item conforms to the specified limits${under}.`;
    case 'conditional-pass':
      return `The item conforms (conditional pass${under}): ${ids('conditional-pass')} lie within the limits but inside the guard band.`;
    case 'conditional-fail':
      return `The item does not conform (conditional fail${under}): ${ids('conditional-fail')} lie outside the limits by no more than the guard band.`;
    case 'fail':
      return `The item does not conform to the specified limits${under}: ${ids('fail') || 'a phase failed'}.`;
    case 'aborted':
      return `No statement of conformity: the run was aborted (${reason ?? 'no reason given'}).`;
    default:
      return measurements.length === 0 ? 'No statement of conformity: nothing was judged.' : 'No statement of conformity: no result was judged against limits.';
  }
}

/** The declared truths: as given, or those the target carries (an emulated target's `inject`). */
function injectedOf(options: RunOptions, target: Target): { injected: NonNullable<RunRecord['injected']> } | Record<string, never> {
  if (options.injected !== undefined) return { injected: options.injected };
  const carried = (target as { injected?: unknown }).injected;
  if (!Array.isArray(carried) || carried.length === 0) return {};
  return { injected: carried.map((entry: { channel: string; kind: string; value: number }) => ({ channel: entry.channel, kind: entry.kind, value: entry.value })) };
}

/** The plan's metadata as record context fields (booleans as text). */
function contextOf(plan: TestPlan): Record<string, string | number> {
  const context: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(plan.metadata)) context[key] = typeof value === 'boolean' ? String(value) : value;
  return context;
}

