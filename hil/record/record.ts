/**
 * The run record: everything a test run found, written as `record.json`, signed (COSE_Sign1) and
 * replayable. Results carry target time only (ms since the run's start on the target's clock), so
 * a replay of an emulated run reproduces them byte for byte; the wall-clock fields listed in
 * {@link WALL_CLOCK_FIELDS} and the signature are the only parts that differ between replays.
 */
import type { InstrumentCertificate } from '../instruments/instrument.js';

/** The record format's name and revision, the first field of every record. */
export const RECORD_FORMAT = 'sensorkit-hil-record/1';

/** Outcome of a measurement, a phase, or the whole run. */
export type Outcome =
  | 'pass'
  | 'fail'
  /** ILAC-G8 outcomes when the decision accounts for the measurement uncertainty. */
  | 'conditional-pass'
  | 'conditional-fail'
  | 'skipped'
  /** The phase stopped before its end (device silent, instrument error …); `reason` says why. */
  | 'aborted'
  /** Nothing to judge: a measurement recorded without limits. */
  | 'recorded';

/** Limits of a measurement, in `unit`; either bound may be absent. */
export interface LimitsRecord {
  readonly low?: number;
  readonly high?: number;
  readonly unit: string;
  /** What the limits are, e.g. `MPE ±1 Cel of the reference` or `NAMUR NE 43 under-range`. */
  readonly basis?: string;
}

/** One contribution to an uncertainty budget (GUM, JCGM 100 §5). */
export interface UncertaintyContribution {
  readonly name: string;
  /** `A` (statistics of the readings) or `B` (certificate, resolution, stated accuracy …). */
  readonly type: 'A' | 'B';
  readonly distribution: 'normal' | 'rectangular' | 'triangular' | 'u-shaped';
  /** The input's value before the divisor: a half-width, or an expanded uncertainty with its k. */
  readonly value: number;
  readonly divisor: number;
  readonly sensitivity: number;
  /** Standard uncertainty contributed, in the measurement's unit. */
  readonly standardUncertainty: number;
  /** Degrees of freedom (Infinity is written as null in JSON). */
  readonly degreesOfFreedom: number | null;
  /** Share of the combined variance, 0…1. */
  readonly share: number;
}

/** A measurement's uncertainty, in the measurement's unit. */
export interface UncertaintyRecord {
  readonly combinedStandardUncertainty: number;
  readonly effectiveDegreesOfFreedom: number | null;
  readonly coverageFactor: number;
  /** Expanded uncertainty U = k·u_c. */
  readonly expanded: number;
  /** Coverage probability of ±U, e.g. 0.95. */
  readonly coverageProbability: number;
  readonly budget: readonly UncertaintyContribution[];
}

/** A time series kept for the report's plots, target time in ms since the run's start. */
export interface SeriesRecord {
  readonly name: string;
  readonly unit: string;
  /** Target time, ms since the run's start; reference values in `axisUnit` when `axis` is `reference`. */
  readonly time: readonly number[];
  readonly value: readonly number[];
  /** What `time` holds: target time (default) or the reference value (a hysteresis loop's up and down legs). */
  readonly axis?: 'time' | 'reference';
  /** Unit of the reference values of a `reference` axis. */
  readonly axisUnit?: string;
}

/** One measurement of a phase. */
export interface MeasurementRecord {
  /** Unique within the phase, e.g. `error@25Cel`. */
  readonly id: string;
  /** The channel measured, when the measurement is of a channel. */
  readonly channel?: string;
  /** The measured value in `unit` (a mean when several samples were taken). */
  readonly value: number | null;
  readonly unit: string;
  /** The reference value it was compared with, in `unit`, and where it came from. */
  readonly reference?: { readonly value: number; readonly unit: string; readonly source: string };
  /** Number of samples behind `value`. */
  readonly samples?: number;
  readonly limits?: LimitsRecord;
  readonly uncertainty?: UncertaintyRecord;
  /** Name of the decision rule applied, e.g. `simple acceptance` or `guard band w = U (ILAC-G8:09)`. */
  readonly decisionRule?: string;
  readonly outcome: Outcome;
  /** Why the outcome, in one line, when it is not a plain pass (`27.3 Cel above high limit 26 Cel`). */
  readonly reason?: string;
  /** Time of the measurement, ms since the run's start on the target's clock. */
  readonly time: number;
  /** Series for the report's plots (readings vs reference, a step response …). */
  readonly series?: readonly SeriesRecord[];
}

/** One execution of a phase (a repeated phase has one record per iteration). */
export interface PhaseRecord {
  readonly id: string;
  readonly name: string;
  /** 1-based iteration of a repeated phase. */
  readonly iteration: number;
  readonly outcome: Outcome;
  readonly reason?: string;
  /** Target time at the phase's start and its duration, ms. */
  readonly start: number;
  readonly duration: number;
  readonly measurements: readonly MeasurementRecord[];
  /** Notable events of the phase in order (stimulus set, wait ended, fault injected), target time. */
  readonly log: readonly { readonly time: number; readonly message: string }[];
}

/** An instrument as the record names it. */
export interface InstrumentRecord {
  /** The instrument's calibration certificate, when it states one (the reference's type B input). */
  readonly certificate?: InstrumentCertificate;
  /** The plan's role for it. */
  readonly id: string;
  /** How it was reached, e.g. `simulated`, `scpi-tcp:127.0.0.1:5025`, `scpi-serial:/dev/ttyUSB0`. */
  readonly connection: string;
  readonly manufacturer: string;
  readonly model: string;
  readonly serialNumber: string;
  readonly firmware: string;
  readonly simulated: boolean;
}

/**
 * The items of a test report (ISO/IEC 17025 §7.8.2.1) that are not elsewhere in the record, and the
 * statement of conformity with the decision rules applied (§7.8.6). Dates are the target clock's.
 */
export interface TestReportInfo {
  /** a) title. */
  readonly title: string;
  /** b) the laboratory (context `laboratory`), `not stated` without. */
  readonly laboratory: string;
  /** c) where the work was done (context `location` or `station`). */
  readonly location?: string;
  /** d) unique identification: plan id, serial number, target clock start and seed. */
  readonly id: string;
  /** e) the customer (context `customer`), `not stated` without. */
  readonly customer: string;
  /** f) the method: the plan, its version and its procedure. */
  readonly method: string;
  /** g) the item tested, with its serial number. */
  readonly item: { readonly description: string; readonly serialNumber: string };
  /** i) dates of performance, ISO 8601 on the target's clock. */
  readonly performed: { readonly start: string; readonly end: string };
  /** §7.8.6.2: the decision rules applied to the results. */
  readonly decisionRules: readonly string[];
  /** §7.8.6: the statement of conformity, one sentence. */
  readonly statement: string;
  /** k) who authorised the report (context `authorisedBy`, else the operator), `not stated` without. */
  readonly authorisedBy: string;
}

/** The record of one run of one plan on one target. Every number in target units and target time. */
export interface RunRecord {
  readonly format: typeof RECORD_FORMAT;
  readonly plan: {
    readonly id: string;
    readonly name: string;
    readonly version: string;
    /** `sha-256:<hex>` of the plan file's bytes (or of the plan's canonical JSON when it has no file). */
    readonly digest: string;
    /** The plan's file: a shipped plan's id, or the absolute path of the plan file (`hil run`). */
    readonly file?: string;
  };
  readonly target: { readonly kind: string; readonly description: string; readonly observation: string; readonly virtualTime: boolean };
  readonly device: {
    readonly id: string;
    readonly manufacturer: string;
    readonly model: string;
    readonly serialNumber: string;
    readonly hardwareRevision?: string;
    readonly softwareRevision?: string;
  };
  readonly sensorkit: { readonly version: string };
  readonly instruments: readonly InstrumentRecord[];
  /** Seed of the emulated world (and of simulated instruments' noise). */
  readonly seed: number;
  /** The target clock at the run's start (ISO 8601, as the clock reads it) and the target time the run took. */
  readonly clock: { readonly kind: 'virtual' | 'system'; readonly start: string; readonly duration: number };
  /** Declared truths of an emulated target (injected offset, gain, noise …), for self-validation. */
  readonly injected?: readonly { readonly channel: string; readonly kind: string; readonly value: number }[];
  /** Who ran it and where: fields a report needs (operator, station, ambient conditions …). */
  readonly context: { readonly operator?: string; readonly station?: string; readonly [field: string]: string | number | undefined };
  /** Wall-clock time the run started and ended (ISO 8601); differ between replays. */
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Wall time the run took, ms; differs between replays. */
  readonly wallDuration: number;
  readonly outcome: Outcome;
  /** Why the run was aborted or errored, when it was. */
  readonly reason?: string;
  readonly phases: readonly PhaseRecord[];
  /** The ISO/IEC 17025 §7.8.2 items of the test report and the statement of conformity. */
  readonly report?: TestReportInfo;
  /** How the plan counts conditional outcomes for JUnit and the exit code (absent: a conditional pass passes, a conditional fail fails). */
  readonly conditionalOutcomes?: { readonly pass?: 'pass' | 'fail'; readonly fail?: 'pass' | 'fail' };
}

/** Top-level fields of a {@link RunRecord} that depend on the wall clock, not on the run. */
export const WALL_CLOCK_FIELDS = ['startedAt', 'finishedAt', 'wallDuration'] as const;
