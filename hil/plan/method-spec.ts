/**
 * Metrology method steps: accuracy, linearity, hysteresis, repeatability, step response, drift,
 * resolution, noise and supply variation, each a plain-data step of a plan. A method step sets the
 * quantity (a physical input of the target, or an instrument's output), waits, takes readings of the
 * channel, computes the result with its GUM uncertainty budget (hil/metrology) and records it judged
 * per ILAC-G8:09 under the step's decision rule. Waits and reading intervals default to what the
 * channel's sample rate and filters need (see `methodWaits`).
 */
import type { InstrumentQuantity } from '../instruments/instrument.js';
import type { ReferenceSpec } from './spec.js';

/** The method step kinds. */
export const METHOD_KINDS = ['accuracy', 'linearity', 'hysteresis', 'repeatability', 'step-response', 'drift', 'resolution', 'noise', 'supply-variation'] as const;

/** A method step kind. */
export type MethodKind = (typeof METHOD_KINDS)[number];

/**
 * The decision rule of a method's results (ILAC-G8:09 §4.2): `simple` acceptance (w = 0),
 * `guard-band` w = U, or a guard band w = `fraction`·U. Default `guard-band`; a result without an
 * uncertainty (resolution, peak-to-peak noise) is judged by simple acceptance.
 */
export type MethodDecisionRule = 'simple' | 'guard-band' | { readonly guardBand: number };

/** What is known of the reference standard, in the step's `unit` (a type B input of every result). */
export interface StandardSpec {
  /** Expanded uncertainty of its calibration certificate, with the certificate's k. */
  readonly certificate?: { readonly expanded: number; readonly coverageFactor: number; readonly degreesOfFreedom?: number };
  /** Stated accuracy ±a (rectangular). */
  readonly accuracy?: number;
  /** Its resolution. */
  readonly resolution?: number;
  /** The standard's name and traceability for the record, e.g. `PT100 ref. 4711, DKD-K-12345`. */
  readonly description?: string;
}

/**
 * The limit of a method's main result: ± `tolerance` for a signed result (an error, a drift, a change
 * under a supply condition), an upper limit for a spread or a width (repeatability, noise,
 * hysteresis, linearity). `'mpe'` is the channel's `accuracy.mpe` (in % of the range for linearity
 * and hysteresis), times `factor`.
 */
export interface MethodLimits {
  readonly tolerance: number | 'mpe';
  /** Unit of a numeric tolerance: the channel's (or convertible), `%` of span for linearity and hysteresis, unit per hour for drift. */
  readonly unit?: string;
  /** Multiplies the tolerance. Default 1. */
  readonly factor?: number;
  readonly basis?: string;
}

/** Fields every method step has. */
export interface MethodStepBase {
  readonly kind: MethodKind;
  /** Names the results (`accuracy@25Cel`, `linearity`, `step-response-t90` …); default the kind. */
  readonly id?: string;
  readonly channel: string;
  /** The physical input that sets the quantity; default an input named like the channel. */
  readonly input?: string;
  /** Or an instrument's output that sets it (a calibrator, a chamber). */
  readonly source?: { readonly instrument: string; readonly quantity: InstrumentQuantity };
  /** Unit of the step's points; default the channel's. */
  readonly unit?: string;
  /** Where the reference value comes from; default the input (`{ input }`) or the source's setting. */
  readonly reference?: ReferenceSpec;
  readonly standard?: StandardSpec;
  /** Readings at each point. */
  readonly readings?: number;
  /** Target time between readings, ms; default the channel's filter memory (independent readings). */
  readonly intervalMs?: number;
  /** Wait after each change of the quantity, ms; default from the sample rate and the filters. */
  readonly settleMs?: number;
  readonly limits?: MethodLimits;
  readonly decisionRule?: MethodDecisionRule;
  readonly name?: string;
}

/** Error of indication at ≥ 5 points of span, each repeated; one result per point, `ID@<point><unit>`. Default limits: ± the MPE. */
export interface AccuracyStep extends MethodStepBase {
  readonly kind: 'accuracy';
  readonly points: readonly number[];
}

/** Independent (best-fit, `ID`) and terminal-based (`ID-terminal`) linearity, % of span, ≥ 3 points. */
export interface LinearityStep extends MethodStepBase {
  readonly kind: 'linearity';
  readonly points: readonly number[];
}

/** Hysteresis over ≥ 3 up/down cycles through the points: `ID` (% of span) and `ID-difference` (in the unit). */
export interface HysteresisStep extends MethodStepBase {
  readonly kind: 'hysteresis';
  readonly points: readonly number[];
  /** Default 3. */
  readonly cycles?: number;
}

/** Repeatability: s of ≥ 10 readings at one point. Default limit: a third of the MPE. */
export interface RepeatabilityStep extends MethodStepBase {
  readonly kind: 'repeatability';
  readonly point: number;
}

/**
 * Step response from `from` to `to`: `ID-t63`, `ID-t90`, `ID-overshoot`, `ID-settling-time`, times
 * in s from the step. The fractions are of the channel's own change: from the mean of its readings
 * before the step to the mean of the record's last quarter (the channel's error at either level is
 * not part of the response), so `durationMs` must leave the last quarter settled.
 */
export interface StepResponseStep extends Omit<MethodStepBase, 'limits'> {
  readonly kind: 'step-response';
  readonly from: number;
  readonly to: number;
  /** How long the response is recorded after the step; default three times the settling wait. */
  readonly durationMs?: number;
  /** Settling band ± in the channel's unit (the response's); default 2 % of the step. */
  readonly settlingBand?: number;
  /** Upper limits: times in s, overshoot in %. */
  readonly limits?: { readonly t63?: number; readonly t90?: number; readonly settlingTime?: number; readonly overshoot?: number };
}

/** Drift at one point over `durationMs` (hours of target time): the slope, unit per hour. */
export interface DriftStep extends MethodStepBase {
  readonly kind: 'drift';
  readonly point: number;
  readonly durationMs: number;
  /** Between readings; default 1/12 of the duration. */
  readonly everyMs?: number;
}

/**
 * Resolution: the smallest step of the readings while the physical input ramps slowly (a quarter of
 * the declared resolution per sample) through a few steps; limit the declared resolution. With a
 * `source` instrument the quantity is held at `point` instead (no ramp).
 */
export interface ResolutionStep extends MethodStepBase {
  readonly kind: 'resolution';
  readonly point: number;
}

/** Noise at one point: `ID-rms` and `ID-peak-to-peak`. Default limit on the RMS: a third of the MPE. */
export interface NoiseStep extends MethodStepBase {
  readonly kind: 'noise';
  readonly point: number;
}

/**
 * Supply variation: the change of the reading from the nominal supply under each condition (supply
 * limits, a dip), `ID@<V>V` / `ID@dip<depth>%`. The supply is an instrument (`supply` role with
 * `voltage-dc`); when the target has a physical input `supplyInput`, it follows the supply's output.
 */
export interface SupplyVariationStep extends MethodStepBase {
  readonly kind: 'supply-variation';
  readonly point: number;
  readonly supply: string;
  /** Nominal supply voltage, V. */
  readonly nominal: number;
  /** Supply voltages, V, e.g. the device's limits. */
  readonly conditions?: readonly number[];
  /** A voltage dip (IEC 61000-4-29 style), read while it lasts. */
  readonly dip?: { readonly depthPercent: number; readonly durationMs: number };
  /** The target's input fed by the supply, if it has one. */
  readonly supplyInput?: string;
}

/** A method step. */
export type MethodStep =
  | AccuracyStep
  | LinearityStep
  | HysteresisStep
  | RepeatabilityStep
  | StepResponseStep
  | DriftStep
  | ResolutionStep
  | NoiseStep
  | SupplyVariationStep;
