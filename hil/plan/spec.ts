/**
 * The test plan declaration: what `defineTestPlan()` accepts. Everything but the custom `run` step
 * is plain data, so a plan can be written as JSON as well as in TypeScript.
 *
 * Times are milliseconds of target time (virtual on the emulated target); values carry SenML units
 * and convert to the channel's unit (Cel/K, Pa/hPa/kPa/bar, A/mA …) before they are compared.
 */
import type { QualityLevel, Sample } from '../../sdk/core/sample.js';
import type { DeviceSource } from '../../sdk/runtime/device-source.js';
import type { Instrument, InstrumentQuantity } from '../instruments/instrument.js';
import type { MeasurementRecord, Outcome } from '../record/record.js';
import type { ObservationKind, Target } from '../targets/target.js';
import type { MethodStep } from './method-spec.js';

/** Sets a physical input of the target to a constant, e.g. the true air temperature to 25 °C. */
export interface StimulusStep {
  readonly kind: 'stimulus';
  /** The input's name, e.g. `temperature` (see `Target.inputs()`). */
  readonly input: string;
  readonly value: number;
  /** Unit of `value`; converts to the input's unit. */
  readonly unit: string;
  readonly name?: string;
}

/**
 * Makes a physical input of the target follow an instrument's physical output (`Instrument.output`,
 * simulated instruments): the emulated BME280 then feels the simulated chamber's air. Set the
 * instrument with a `source` step; take the reference from the instrument (or from the input: its
 * value at the time of the measurement).
 */
export interface DriveStep {
  readonly kind: 'drive';
  readonly input: string;
  /** The instrument's role in the plan's `instruments`. */
  readonly instrument: string;
  readonly quantity: InstrumentQuantity;
  readonly name?: string;
}

/** Sets an instrument's output, e.g. a calibrator's temperature or a supply's voltage. */
export interface SourceStep {
  readonly kind: 'source';
  /** The instrument's role in the plan's `instruments`. */
  readonly instrument: string;
  readonly quantity: InstrumentQuantity;
  readonly value: number;
  readonly unit: string;
  readonly name?: string;
}

/** Lets target time pass. */
export interface WaitStep {
  readonly kind: 'wait';
  readonly durationMs: number;
  readonly name?: string;
}

/**
 * Waits until a channel is stable: every usable sample of the last `windowMs` lies within
 * ±`tolerance` of the window's mean. Not stable after `timeoutMs`: the phase is aborted.
 */
export interface SettleStep {
  readonly kind: 'settle';
  /**
   * Records the settling as a measurement with this id: the time it took (s, outcome `recorded`)
   * and the channel's samples meanwhile as a series (a step response for the report's plots).
   */
  readonly id?: string;
  readonly channel: string;
  readonly tolerance: number;
  /** Unit of `tolerance` (a difference: 1 Cel = 1 K). */
  readonly unit: string;
  readonly windowMs: number;
  readonly timeoutMs: number;
  readonly name?: string;
}

/** Where a measurement's reference value comes from. */
export type ReferenceSpec =
  /** The value a stimulus set on this physical input, or the value of the signal driving it, at the measurement (the true value of the emulated world). */
  | { readonly input: string }
  /** One reading of an instrument (a reference thermometer, a DMM). */
  | { readonly instrument: string; readonly quantity: InstrumentQuantity }
  /** A stated value. */
  | { readonly value: number; readonly unit: string };

/** Absolute limits on the measured value; either bound may be absent, the unit may not. */
export interface AbsoluteLimitsSpec {
  readonly low?: number;
  readonly high?: number;
  readonly unit: string;
  /** What the limits are, e.g. `NAMUR NE 43 under-range`. */
  readonly basis?: string;
}

/**
 * Limits of ± `tolerance` around the reference: a number with its unit, or `'mpe'`, the channel's
 * maximum permissible error (`accuracy.mpe` of the model), optionally scaled by `factor`.
 */
export interface ToleranceLimitsSpec {
  readonly tolerance: number | 'mpe';
  /** Unit of a numeric tolerance (a difference); not used with `'mpe'`. */
  readonly unit?: string;
  /** Multiplies the tolerance (e.g. 0.5 for half the MPE). Default 1. */
  readonly factor?: number;
  readonly basis?: string;
}

/** Limits of a measurement. */
export type LimitsSpec = AbsoluteLimitsSpec | ToleranceLimitsSpec;

/**
 * Measures a channel: the mean of the next `samples` usable samples (good, or uncertain with a fresh
 * value such as an out-of-range reading; never a stale repeat or a failed read), judged against the
 * limits. With `expectQuality`, the next `samples` samples of any quality are taken and the outcome
 * is whether every one has that quality level (a transmitter's failure signal must read `bad`).
 */
export interface MeasureStep {
  readonly kind: 'measure';
  /** Unique within the phase; default: the channel (numbered when measured again). */
  readonly id?: string;
  readonly channel: string;
  /** Samples averaged (default 1). */
  readonly samples?: number;
  /** Unit the measurement is recorded in; default: the channel's. */
  readonly unit?: string;
  readonly reference?: ReferenceSpec;
  readonly limits?: LimitsSpec;
  /** The quality level every sample must have (see above). */
  readonly expectQuality?: QualityLevel;
  /** How long to wait for the samples; then the phase is aborted. Default: 10 sample periods, at least 10 s. */
  readonly timeoutMs?: number;
  /**
   * The decision rule: `simple` (ILAC-G8:09 §4.2.1 simple acceptance: within the limits is a pass).
   * A basic measurement carries no uncertainty budget, so it has no other; the metrology method
   * steps (`accuracy`, `linearity` …) state U and decide with guard bands (their `decisionRule`).
   */
  readonly decisionRule?: 'simple';
  readonly name?: string;
}

/**
 * Injects a fault on an emulated target: a fault its emulation declares (`transmitter`:
 * `downscale`) or a board fault on a pin or I2C address (`i2c1@0x76`: `dropout`, `timeout`, `nak`,
 * `stuck` …); `fault: 'clear'` ends it.
 */
export interface FaultStep {
  readonly kind: 'fault';
  readonly target: string;
  readonly fault: string;
  /** How long it lasts; default: until cleared or the end of the run. */
  readonly durationMs?: number;
  /** Options of a board fault: `probability` (dropout), `sigma` (noise-burst, V), `timeoutMs`, `wiring`. */
  readonly options?: Readonly<Record<string, number | string>>;
  readonly name?: string;
}

/** A step written in TypeScript (custom checks, several devices, a broker outage …). */
export interface RunStep {
  readonly kind?: 'run';
  readonly run: (context: StepContext) => unknown;
  readonly name?: string;
  /**
   * Watchdog, ms of wall-clock time (default 600 000): a step still unfinished then (awaiting
   * something that never comes) ends its phase as aborted. Waits inside the step should use
   * `ctx.wait` and `ctx.samples`, which are bounded in target time.
   */
  readonly timeoutMs?: number;
}

/** One step of a phase: a basic step, a metrology method (method-spec.ts), or a custom `run` step. */
export type StepSpec = StimulusStep | DriveStep | SourceStep | WaitStep | SettleStep | MeasureStep | FaultStep | MethodStep | RunStep;

/** A phase: optional setup steps, the steps, and teardown steps that run even after an abort. */
export interface PhaseSpec {
  /** Identifier, unique in the plan. */
  readonly id: string;
  /** Default: the id. */
  readonly name?: string;
  readonly description?: string;
  readonly setup?: readonly StepSpec[];
  readonly steps: readonly StepSpec[];
  readonly teardown?: readonly StepSpec[];
  /** Skips the phase, recorded with this reason. */
  readonly skip?: string;
  /** Runs the phase this many times (default 1), one record each. */
  readonly repeat?: number;
  /** Upper bound of the phase's target time; past it the phase is aborted. Default: none beyond each step's own bound. */
  readonly timeoutMs?: number;
  /**
   * What a failed or aborted iteration of this phase means for the rest of the run: `continue`
   * (default) runs the next phases; `stop` skips them, with this phase named as the reason (a
   * device that fails its power-up check is not worth the rest of the plan).
   */
  readonly onFailure?: 'continue' | 'stop';
  /**
   * Runs even when the run stops early (after a phase with `onFailure: 'stop'`, or at the run's
   * abort signal): the place to bring a station back to a safe state (chamber to ambient, supply
   * off). Its steps ignore the abort signal; their waits stay bounded.
   */
  readonly always?: boolean;
}

/** What `defineTestPlan()` takes. */
export interface TestPlanSpec {
  /** Identifier: lower case, digits, `_` and `-`. */
  readonly id: string;
  readonly name: string;
  /** The plan's own version, recorded with every run. */
  readonly version: string;
  readonly description?: string;
  /** The device under test: a device file path, a model, or a model with its emulation. */
  readonly device: DeviceSource;
  /** How the device is observed. Default `in-process` (emulated targets). */
  readonly observation?: ObservationKind;
  /** Instruments by role, with the quantities the plan needs of each. */
  readonly instruments?: Readonly<Record<string, readonly InstrumentQuantity[]>>;
  readonly phases: readonly PhaseSpec[];
  /** Free fields carried into the record's context (standard, customer, procedure …). */
  readonly metadata?: Readonly<Record<string, string | number | boolean>>;
  /**
   * How conditional outcomes (ILAC-G8:09 guard band) count for JUnit and the exit code; recorded as
   * the record's `conditionalOutcomes`. Default: a conditional pass passes, a conditional fail fails.
   */
  readonly conditionalOutcomes?: ConditionalOutcomes;
}

/** What a conditional pass and a conditional fail count as. */
export interface ConditionalOutcomes {
  readonly pass?: 'pass' | 'fail';
  readonly fail?: 'pass' | 'fail';
}

/**
 * What a custom step records: a measurement without its time (the run adds it), its outcome
 * optional (judged against `limits` when absent, `recorded` without limits).
 */
export type MeasurementInput = Omit<MeasurementRecord, 'time' | 'outcome'> & { readonly outcome?: Outcome };

/**
 * What a custom `run` step gets.
 *
 * @example
 * ```ts
 * { name: 'loop current follows the process', run: async (ctx) => {
 *     await ctx.target.stimulate('pressure', 500_000, 'Pa')
 *     await ctx.wait(5_000)
 *     const [sample] = await ctx.samples('loop-current', 1, 5_000)
 *     ctx.record({ id: 'loop@50%', channel: 'loop-current', value: sample!.value, unit: 'mA', limits: { low: 11.9, high: 12.1, unit: 'mA' } })
 *   } }
 * ```
 */
export interface StepContext {
  readonly target: Target;
  readonly instruments: Readonly<Record<string, Instrument>>;
  /** Target time since the run's start, ms. */
  time(): number;
  /** Lets `ms` of target time pass. */
  wait(ms: number): Promise<void>;
  /** The next `count` samples of `channel` observed from now; rejects with `TimeoutError` on silence. */
  samples(channel: string, count: number, timeoutMs: number): Promise<Sample[]>;
  /** Adds a line to the phase's log. */
  log(message: string): void;
  /** Records a measurement in the phase (judged against its limits when no outcome is given). */
  record(measurement: MeasurementInput): MeasurementRecord;
  /** Ends the phase as aborted with `reason` (teardown still runs). */
  abort(reason: string): never;
}
