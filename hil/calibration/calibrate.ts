/**
 * Calibration runs: the accuracy method at the calibration points, then the correction fitted to
 * its readings (`calibrationFromRun`), and the records a device loads (`calibrationsFromRecords`).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { ValidationError } from '../../sdk/core/errors.js';
import type { CalibrationSpec } from '../../sdk/pipeline/specs.js';
import type { DeviceSource } from '../../sdk/runtime/device-source.js';
import { fitCorrection, type CorrectionMethod } from '../metrology/correction-fit.js';
import type { ReferenceStandard } from '../metrology/reference.js';
import { defineTestPlan } from '../plan/define-test-plan.js';
import type { StandardSpec } from '../plan/method-spec.js';
import type { MeasurementRecord, RunRecord } from '../record/record.js';
import { runTestPlan } from '../run/run-plan.js';
import { createEmulatedTarget } from '../targets/emulated.js';
import type { Injection } from '../targets/emulated-injection.js';
import type { Target } from '../targets/target.js';
import type { InstrumentQuantity } from '../instruments/instrument.js';
import type { ConnectedInstrument } from '../run/run-options.js';
import { CALIBRATION_FORMAT, calibrationSpecOf, checkCalibrationRecord, type CalibrationRecord, type CalibrationStandard } from './calibration-record.js';

/** Options of {@link calibrationFromRun}. */
export interface CalibrationFromRunOptions {
  readonly channel: string;
  readonly method: CorrectionMethod;
  /** Degree of a polynomial correction (1 … 5, default 2). */
  readonly degree?: number;
  /** The reference standards and their traceability; default the run's reference source, untraced. */
  readonly standards?: readonly CalibrationStandard[];
  /** Days the calibration is valid from its date; default 365. */
  readonly validityDays?: number;
  readonly performedBy?: string;
  readonly laboratory?: string;
  /** Record id; default `CAL-<serial>-<channel>-<date>`. */
  readonly id?: string;
  /**
   * The wall clock (ms since the epoch) that dates a calibration run on virtual time (`Date.now`
   * for the day it was made; `sensorkit hil calibrate` passes it). Without it such a run is dated
   * by its virtual clock, reproducibly from the seed. A run on a real clock is always dated by the
   * target's clock.
   */
  readonly now?: () => number;
}

const DAY_MS = 86_400_000;

/** The accuracy results of `channel` in a run: a reference and the readings (the measurement's first series). */
function accuracyPoints(record: RunRecord, channel: string): MeasurementRecord[] {
  return record.phases
    .flatMap((phase) => phase.measurements)
    .filter((m) => m.channel === channel && m.reference !== undefined && /@/.test(m.id) && (m.series?.[0]?.value.length ?? 0) >= 2 && m.uncertainty !== undefined);
}

/** The reference standard as the budget of a point states it (certificate, stated accuracy, resolution). */
function standardOf(m: MeasurementRecord): { standard: ReferenceStandard; resolution?: number } {
  const entry = (name: string) => m.uncertainty!.budget.find((c) => c.name === name);
  const certificate = entry('reference certificate');
  const accuracy = entry('reference accuracy');
  const referenceResolution = entry('reference resolution');
  const dut = entry('DUT resolution');
  return {
    standard: {
      source: m.reference!.source,
      ...(certificate === undefined ? {} : { certificate: { expanded: certificate.value, coverageFactor: certificate.divisor } }),
      ...(accuracy === undefined ? {} : { accuracy: accuracy.value }),
      ...(referenceResolution === undefined ? {} : { resolution: 2 * referenceResolution.value }),
    },
    ...(dut === undefined ? {} : { resolution: 2 * dut.value }),
  };
}

/**
 * Fits the correction of `channel` to the accuracy results of a run (each point's reference and
 * readings) and states it as an unsigned calibration record: the coefficients with their
 * covariance, the uncertainty of a corrected reading (GUM, through the fit), the points with their
 * residuals, the standards, the date (the run's target clock, or `now` for a run on virtual time),
 * valid-until, and the `emulated` statement for a run on the emulated board. A two-point
 * correction takes the lowest and the highest point. Throws `ValidationError` when the run has too
 * few points of the channel.
 *
 * @example
 * ```ts
 * const run = await runTestPlan(plan, { target, seed: 1 })   // a plan with an accuracy step on the channel
 * const record = calibrationFromRun(run, { channel: 'temperature', method: 'linear', performedBy: 'A. Tester' })
 * record.correction // { method: 'linear', gain: 0.998, offset: -0.31 }
 * ```
 */
export function calibrationFromRun(record: RunRecord, options: CalibrationFromRunOptions): CalibrationRecord {
  let measured = accuracyPoints(record, options.channel);
  if (measured.length < 2) {
    throw new ValidationError('channel', `the run has ${measured.length} accuracy point(s) of channel "${options.channel}" with readings; a calibration needs at least 2`);
  }
  if (options.method === 'two-point') {
    const sorted = [...measured].sort((a, b) => a.reference!.value - b.reference!.value);
    measured = [sorted[0]!, sorted[sorted.length - 1]!];
  }
  const unit = measured[0]!.unit;
  const { standard, resolution } = standardOf(measured[0]!);
  const fit = fitCorrection({
    method: options.method,
    ...(options.degree === undefined ? {} : { degree: options.degree }),
    unit,
    ...(resolution === undefined ? {} : { resolution }),
    standard,
    points: measured.map((m) => ({ reference: m.reference!.value, readings: m.series![0]!.value })),
  });
  // On virtual time the target's clock is the emulated world's (2026-01-01 by default), not when the
  // calibration was made: with `now` the record takes the wall clock's date; either way it says
  // that it is emulated and by which clock it is dated.
  const virtual = record.clock.kind === 'virtual';
  const wall = virtual && options.now !== undefined;
  const at = wall ? options.now!() : Date.parse(record.clock.start) + record.clock.duration;
  const date = new Date(at).toISOString().slice(0, 10);
  const validUntil = new Date(at + (options.validityDays ?? 365) * DAY_MS).toISOString().slice(0, 10);
  const serial = record.device.serialNumber;
  for (const given of options.standards ?? []) {
    const until = given.certificate?.validUntil;
    if (until !== undefined && until < date) {
      const certificate = given.certificate?.id === undefined ? 'the certificate' : `certificate ${given.certificate.id}`;
      throw new ValidationError('standard', `${certificate} of ${given.description} was valid until ${until}, before the calibration date ${date}`);
    }
  }
  const emulated =
    record.target.kind === 'emulated'
      ? `calibrated on the emulated board (seed ${record.seed}${virtual ? `, virtual time from ${record.clock.start}` : ''}), not on a physical unit; dated by ${virtual && !wall ? 'the virtual clock' : 'the wall clock of the run'}`
      : undefined;
  return {
    format: CALIBRATION_FORMAT,
    id: options.id ?? `CAL-${serial}-${options.channel}-${date}`,
    device: { id: record.device.id, manufacturer: record.device.manufacturer, model: record.device.model, serialNumber: serial },
    channel: options.channel,
    unit,
    correction: fit.correction,
    coefficients: fit.coefficients,
    covariance: fit.covariance,
    range: fit.range,
    uncertainty: fit.uncertainty,
    points: measured.map((m, i) => ({ reference: m.reference!.value, mean: m.series![0]!.value.reduce((s, v) => s + v, 0) / m.series![0]!.value.length, readings: m.series![0]!.value.length, residual: fit.residuals[i]! })),
    standards: options.standards ?? [
      {
        description: standard.source ?? 'reference',
        ...(standard.certificate === undefined ? {} : { certificate: standard.certificate }),
        traceability: record.target.kind === 'emulated' ? 'none: the emulated world\'s true value' : 'not stated',
      },
    ],
    date,
    validUntil,
    ...(options.performedBy === undefined ? {} : { performedBy: options.performedBy }),
    ...(options.laboratory === undefined ? {} : { laboratory: options.laboratory }),
    run: { plan: record.plan.id, seed: record.seed, target: record.target.description },
    ...(emulated === undefined ? {} : { emulated }),
  };
}

/** Options of {@link calibrateChannel}. */
export interface CalibrateChannelOptions extends CalibrationFromRunOptions {
  readonly device: DeviceSource;
  readonly seed: number;
  /** Calibration points in the channel's unit (at least 5: the accuracy method's minimum). */
  readonly points: readonly number[];
  /** Readings per point; default 10. */
  readonly readings?: number;
  /** Wait after each point is set, ms; default ten of the channel's filter memories (at least 10 s). */
  readonly settleMs?: number;
  /** Time between the readings of a point, ms; default one filter memory (independent readings). */
  readonly intervalMs?: number;
  /**
   * The instrument that sets the quantity and states the reference value (a calibrator): its role
   * in `instruments` and the quantity it sources. On the emulated target the channel's physical
   * input follows its output (a simulated instrument only); on a real board it is wired to the
   * sensor. Default: the emulated target's input is set directly and is the reference.
   */
  readonly reference?: { readonly role: string; readonly quantity: InstrumentQuantity };
  /** The connected instruments by role. */
  readonly instruments?: Readonly<Record<string, ConnectedInstrument>>;
  /** The reference standard of the points (its certificate enters the fit's uncertainty). */
  readonly standard?: StandardSpec;
  /** The target; default an emulated target of `device` with `seed` (and `inject`). */
  readonly target?: Target;
  readonly inject?: readonly Injection[];
}

/**
 * A calibration run: the accuracy method at `points`, then {@link calibrationFromRun}. Resolves with
 * the run's record and the unsigned calibration record.
 *
 * @example
 * ```ts
 * const { calibration } = await calibrateChannel({ device: 'examples/env-node', seed: 1, channel: 'temperature', points: [-30, 0, 25, 50, 80], method: 'linear' })
 * await writeFile(`${calibration.id}.json`, calibrationRecordText(signCalibrationRecord(calibration, key)))
 * ```
 */
export async function calibrateChannel(options: CalibrateChannelOptions): Promise<{ run: RunRecord; calibration: CalibrationRecord }> {
  const reference = options.reference;
  const target = options.target ?? createEmulatedTarget({ device: options.device, seed: options.seed, ...(options.inject === undefined ? {} : { inject: options.inject }) });
  const plan = defineTestPlan({
    id: `calibration-${options.channel}`,
    name: `${options.channel} calibration`,
    version: '1.0.0',
    device: options.device,
    ...(reference === undefined ? {} : { instruments: { [reference.role]: [reference.quantity] } }),
    phases: [
      {
        id: 'calibration',
        ...(reference === undefined || target.kind !== 'emulated' ? {} : { setup: [{ kind: 'drive' as const, input: options.channel, instrument: reference.role, quantity: reference.quantity }] }),
        steps: [
          {
            kind: 'accuracy',
            id: 'calibration',
            channel: options.channel,
            points: options.points,
            readings: options.readings ?? 10,
            ...(reference === undefined ? {} : { source: { instrument: reference.role, quantity: reference.quantity }, reference: { instrument: reference.role, quantity: reference.quantity } }),
            ...(options.settleMs === undefined ? {} : { settleMs: options.settleMs }),
            ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
            ...(options.standard === undefined ? {} : { standard: options.standard }),
          },
        ],
      },
    ],
    metadata: { procedure: `calibration of ${options.channel}: ${options.method} correction fitted to the accuracy points` },
  });
  const run = await runTestPlan(plan, { target, seed: options.seed, ...(options.instruments === undefined ? {} : { instruments: options.instruments }) });
  if (run.outcome === 'aborted') throw new ValidationError('calibration', `the calibration run was aborted: ${run.reason ?? 'no reason'}`);
  return { run, calibration: calibrationFromRun(run, options) };
}

/** Options of {@link verifyCalibrationRecord} and {@link calibrationsFromRecords}. */
export interface LoadCalibrationOptions {
  /** The keys trusted to sign calibrations. */
  readonly key: KeyObject | readonly KeyObject[];
  /** The device's serial number. */
  readonly serialNumber: string;
  /** `false` on a real board: a record made on the emulated board is refused. */
  readonly emulatedBoard?: boolean;
}

/**
 * Reads and checks one calibration record file; throws `ValidationError` with the file and one line
 * for a record that is not signed by a trusted key, changed, or for another serial number.
 *
 * @example
 * ```ts
 * const record = await verifyCalibrationRecord('calibrations/CAL-EMU-1-temperature-2026-01-01.json', { key, serialNumber: 'EMU-1' })
 * // ValidationError: calibrations/….json: calibration CAL-EMU-1-… is for serial EMU-1, not EMU-2
 * ```
 */
export async function verifyCalibrationRecord(file: string, options: LoadCalibrationOptions): Promise<CalibrationRecord> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ValidationError(file, `cannot read the calibration record: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const check = checkCalibrationRecord(text, options);
  if (!check.ok) throw new ValidationError(file, check.message);
  return check.record;
}

/**
 * The calibrations a `Device` takes (its `calibrations` option, by channel) from record files: a
 * file, or every `.json` file of a folder. Each is checked (trusted signature, this serial); of two
 * records for one channel the later date wins. Throws `ValidationError` naming the file that fails.
 *
 * @example
 * ```ts
 * const calibrations = await calibrationsFromRecords('calibrations/', { key: trusted, serialNumber: device.serialNumber })
 * new Device(model, { board, calibrations })   // `sensorkit run --calibration calibrations/`
 * ```
 */
export async function calibrationsFromRecords(paths: string | readonly string[], options: LoadCalibrationOptions): Promise<Record<string, CalibrationSpec>> {
  const files: string[] = [];
  for (const path of typeof paths === 'string' ? [paths] : paths) {
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new ValidationError(path, 'no such calibration record file or folder');
    }
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((name) => name.endsWith('.json')).sort();
      files.push(...names.map((name) => join(path, name)));
    } else files.push(path);
  }
  const chosen = new Map<string, CalibrationRecord>();
  for (const file of files) {
    const record = await verifyCalibrationRecord(file, options);
    const earlier = chosen.get(record.channel);
    if (earlier === undefined || earlier.date <= record.date) chosen.set(record.channel, record);
  }
  return Object.fromEntries([...chosen].map(([channel, record]) => [channel, calibrationSpecOf(record)]));
}
