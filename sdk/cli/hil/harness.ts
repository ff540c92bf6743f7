/**
 * What the `hil` verbs use of the harness: loading plans, creating targets, connecting instruments
 * and running. One run of a plan on one target, with its instruments, is {@link runOnTarget}; `run`
 * and `replay` both go through it, so a replay is set up exactly as the run was.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { StorageError, ValidationError } from '../../core/errors.js';
import { planDigest } from '../../../hil/record/plan-digest.js';
import type { TestPlan } from '../../../hil/plan/define-test-plan.js';
import type { RunRecord } from '../../../hil/record/record.js';
import type { Injection } from '../../../hil/targets/emulated-injection.js';
import type { ObservationKind, Target } from '../../../hil/targets/target.js';
import type { DeviceSource } from '../../runtime/device-source.js';
import type { ConnectedInstrument, ProgressEvent } from '../../../hil/run/run-options.js';
import { harness } from './harness-modules.js';
import { UsageError } from '../usage.js';

/** A plan file, loaded: the plan, the name it was given by and its bytes. */
export interface PlanSource {
  readonly plan: TestPlan;
  /** As the user named it: a path, or a shipped plan's id. */
  readonly name: string;
  /**
   * As the record names it (`plan.file`): a shipped plan's id, or the plan file's absolute path,
   * so that a replay finds it from any working directory and a file of the same name elsewhere
   * cannot stand in for it.
   */
  readonly recorded: string;
  readonly bytes: Uint8Array;
}

/** One target of a run: a device in a fixture. */
export interface TargetRun {
  /** Names the output folder and prefixes progress lines. */
  readonly name: string;
  /** The `--target` spec. */
  readonly spec: string;
  readonly seed: number;
  /** Instrument specs by role (`--instrument ROLE=SPEC`). */
  readonly instruments: Readonly<Record<string, string>>;
  /** Start of a virtual clock (a replay starts where the run started). */
  readonly clockStart?: number;
  /** Serial number of an emulated device (fixtures of one station get one each). */
  readonly serialNumber?: string;
  /** Declared truths on the emulated target (`--inject`; a replay takes the record's). */
  readonly inject?: readonly Injection[];
}

/**
 * Resolves a plan given on the command line: an existing file, else a shipped plan's id
 * (`env-node-temperature`); loads it. A name that is neither is a one-line error.
 *
 * @example
 * ```ts
 * const source = await loadPlan('env-node-temperature')
 * source.plan.id // 'env-node-temperature'
 * ```
 */
export async function loadPlan(name: string): Promise<PlanSource> {
  if (!existsSync(name)) {
    const shipped = harness.shippedPlans().find((p) => p.id === name);
    if (shipped === undefined) {
      throw new ValidationError(name, 'no such plan file, and no shipped plan of that name (`sensorkit hil list` shows them)');
    }
    const loaded = await harness.loadTestPlan(shipped.file);
    return { plan: loaded.plan, name, recorded: shipped.id, bytes: loaded.bytes };
  }
  const loaded = await harness.loadTestPlan(name);
  return { plan: loaded.plan, name, recorded: resolve(name), bytes: loaded.bytes };
}

/** A plan file is at most this long (as `loadTestPlan` allows). */
const MAX_PLAN_BYTES = 1024 * 1024;

/**
 * Loads a plan file only when its bytes have the digest a record names: the digest is checked
 * before the file is imported (a .ts or .js plan is code), and again on the bytes that were loaded.
 * `recorded` is what the new record names as its `plan.file`. Throws `ValidationError` ("the plan
 * file changed since the run: …") on a mismatch.
 *
 * @example
 * ```ts
 * const source = await loadPlanWithDigest('plans/kelvin.json', record.plan.digest, record.plan.file)
 * ```
 */
export async function loadPlanWithDigest(file: string, digest: string, recorded: string): Promise<PlanSource> {
  let bytes: Uint8Array;
  try {
    const stats = await stat(file);
    if (!stats.isFile()) throw new ValidationError(file, 'not a regular file');
    if (stats.size > MAX_PLAN_BYTES) throw new ValidationError(file, 'larger than a plan file may be (1 MiB)');
    bytes = new Uint8Array(await readFile(file));
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new StorageError(file, `cannot read the plan file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  const changed = (found: string): ValidationError => new ValidationError(file, `the plan file changed since the run: it is ${found}, the record names ${digest}`);
  const before = planDigest(bytes);
  if (before !== digest) throw changed(before);
  const loaded = await harness.loadTestPlan(file);
  const after = planDigest(loaded.bytes);
  if (after !== digest) throw changed(after);
  return { plan: loaded.plan, name: file, recorded, bytes: loaded.bytes };
}

/**
 * Parses `--instrument ROLE=SPEC` options into specs by role.
 *
 * @example
 * ```ts
 * instrumentSpecs(['reference=sim:calibrator', 'dmm=scpi-tcp:127.0.0.1:5025']) // { reference: 'sim:calibrator', dmm: 'scpi-tcp:127.0.0.1:5025' }
 * ```
 */
export function instrumentSpecs(options: readonly string[]): Record<string, string> {
  const specs: Record<string, string> = {};
  for (const option of options) {
    const at = option.indexOf('=');
    if (at <= 0 || at === option.length - 1) throw new UsageError(`--instrument: expected ROLE=SPEC (e.g. reference=sim:calibrator), got "${option}"`);
    const role = option.slice(0, at);
    if (Object.hasOwn(specs, role)) throw new UsageError(`--instrument: role "${role}" given twice`);
    specs[role] = option.slice(at + 1);
  }
  return specs;
}

/**
 * Checks that every instrument role the plan needs is given, and no role it does not know.
 *
 * @example
 * ```ts
 * checkInstrumentRoles(plan, { reference: 'sim:calibrator' })
 * ```
 */
export function checkInstrumentRoles(plan: TestPlan, specs: Readonly<Record<string, string>>, where = ''): void {
  for (const [role, quantities] of Object.entries(plan.instruments)) {
    if (!Object.hasOwn(specs, role)) throw new UsageError(`${where}plan ${plan.id} needs the instrument "${role}" (${quantities.join(', ')}): give --instrument ${role}=SPEC`);
  }
  for (const role of Object.keys(specs)) {
    if (!Object.hasOwn(plan.instruments, role)) {
      const known = Object.keys(plan.instruments);
      throw new UsageError(`${where}--instrument ${role}: plan ${plan.id} has no instrument role "${role}"${known.length > 0 ? ` (it has ${known.join(', ')})` : ' (it uses none)'}`);
    }
  }
}

/** Common settings of every target's run. */
export interface RunSettings {
  readonly context: RunRecord['context'];
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Told what an operator should know while the target runs. */
  readonly warn?: (message: string) => void;
  /** Aborts the run: the current phase is recorded as aborted with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * Runs a loaded plan on one target: creates the target, connects its instruments on the target's
 * clock, runs, and closes the instruments. Throws a typed error for a set-up error (the target does
 * not open, an instrument does not identify); a failure inside a phase is in the record.
 *
 * @example
 * ```ts
 * const record = await runOnTarget(await loadPlan('env-node-temperature'), { name: 'emulated', spec: 'emulated', seed: 1, instruments: {} }, { context: {} })
 * ```
 */
export async function runOnTarget(source: PlanSource, run: TargetRun, settings: RunSettings): Promise<RunRecord> {
  const { plan } = source;
  const target = createRunTarget(plan.device, run, { observation: plan.observation, ...(settings.warn === undefined ? {} : { warn: settings.warn }) });
  let instruments: Record<string, ConnectedInstrument> = {};
  try {
    instruments = await connectInstruments(run.instruments, target, run.seed);
    return await harness.runTestPlan(plan, {
      target,
      seed: run.seed,
      instruments,
      planFile: { path: source.recorded, bytes: source.bytes },
      context: settings.context,
      ...(settings.onProgress === undefined ? {} : { onProgress: settings.onProgress }),
      ...(settings.signal === undefined ? {} : { signal: settings.signal }),
    });
  } finally {
    await closeInstruments(instruments);
    // runTestPlan closes the target; closing again is harmless and covers a failure before it opened.
    await target.close().catch(() => undefined);
  }
}

/**
 * The target of a {@link TargetRun} for `device`, not yet opened: `--target`, seed, virtual clock
 * start, serial number and declared truths as `hil run` creates it. Throws `ValidationError` for a
 * malformed spec or a path that does not exist.
 *
 * @example
 * ```ts
 * const target = createRunTarget('examples/env-node', { name: 'bench', spec: 'serial:/dev/ttyACM0', seed: 1, instruments: {} })
 * ```
 */
export function createRunTarget(device: DeviceSource, run: TargetRun, options: { readonly observation?: ObservationKind; readonly warn?: (message: string) => void } = {}): Target {
  return harness.createTarget(run.spec, {
    device,
    seed: run.seed,
    ...(options.observation === undefined ? {} : { observation: options.observation }),
    ...(run.clockStart === undefined ? {} : { clockStart: run.clockStart }),
    ...(run.inject === undefined || run.inject.length === 0 ? {} : { inject: run.inject }),
    ...(run.serialNumber === undefined ? {} : { serialNumber: run.serialNumber }),
    ...(options.warn === undefined ? {} : { warn: options.warn }),
  });
}

/**
 * Connects and identifies the instruments of a run by role, on the target's clock, one after the
 * other; when one fails, those already connected are closed and its one-line typed error is thrown
 * (each SCPI answer is awaited a bounded time: 2000 ms unless the spec says `?timeout=MS`).
 *
 * @example
 * ```ts
 * const instruments = await connectInstruments({ reference: 'scpi-tcp:10.0.0.7' }, target, 1)
 * await closeInstruments(instruments)
 * ```
 */
export async function connectInstruments(specs: Readonly<Record<string, string>>, target: Target, seed: number): Promise<Record<string, ConnectedInstrument>> {
  const instruments: Record<string, ConnectedInstrument> = {};
  try {
    for (const [role, spec] of Object.entries(specs)) {
      instruments[role] = await harness.connectInstrument(spec, { role, clock: target.clock, seed });
    }
  } catch (error) {
    await closeInstruments(instruments);
    throw error;
  }
  return instruments;
}

/**
 * Closes connected instruments; never throws.
 *
 * @example
 * ```ts
 * await closeInstruments(instruments)
 * ```
 */
export async function closeInstruments(instruments: Readonly<Record<string, ConnectedInstrument>>): Promise<void> {
  await Promise.allSettled(Object.values(instruments).map((connected) => connected.instrument.close()));
}
