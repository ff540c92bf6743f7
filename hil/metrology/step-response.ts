/**
 * Step response from a time series and the step's time and levels (IEC 60770-1 terms): the times
 * the response takes to reach 63.2 % (1 − 1/e, one time constant of a first-order sensor) and 90 %
 * of the step, the overshoot beyond the final level in % of the step, and the settling time after
 * which the response stays within ± a band around the final level. Crossings are located by a line
 * through the samples around them (see `crossing.ts`): linear interpolation without noise, a local
 * fit with it, their uncertainty from the noise and the response's curvature between samples. The
 * noise σ is given, or estimated from the last quarter of the series (residuals about a line, at
 * least 10 samples). Settling into a band not much wider than the noise is ill-defined: its time is
 * then dominated by where the noise last leaves the band.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { combineUncertainty } from './budget.js';
import { rectangularB, type UncertaintyInput } from './contributions.js';
import { fallingCrossing, risingCrossing, type Crossing, type Noise } from './crossing.js';
import { fitLine } from './least-squares.js';
import { peakOf } from './peak.js';
import { formatNumber } from './format.js';
import type { SeriesRecord } from '../record/record.js';
import type { MetrologyResult } from './result.js';
import { requireNumber, requireReadings, requireSameLength } from './statistics.js';

/** Fraction of the step at the time constant, 1 − 1/e. */
const TIME_CONSTANT_FRACTION = 1 - Math.exp(-1);

/** Options of {@link stepResponse}. */
export interface StepResponseOptions {
  /** Sample times, ms, strictly increasing. */
  readonly time: readonly number[];
  readonly readings: readonly number[];
  readonly unit: string;
  /** When the input stepped (ms), from which level to which (in `unit`). */
  readonly step: { readonly time: number; readonly from: number; readonly to: number };
  /** Half-width of the settling band around `step.to`, in `unit`; default 2 % of the step. */
  readonly settlingBand?: number;
  /** DUT resolution in `unit`: each sample off by up to half of it, an input of every result. */
  readonly resolution?: number;
  /** σ of the readings' noise in `unit`; default estimated from the last quarter of the series. */
  readonly noise?: number;
  readonly coverageProbability?: number;
}

/** The step response's results; times in ms from the step. */
export interface StepResponseResult {
  readonly t63: MetrologyResult;
  readonly t90: MetrologyResult;
  /** % of the step; 0 when the response never passes the final level. */
  readonly overshoot: MetrologyResult;
  readonly settlingTime: MetrologyResult;
  /** The series analysed (from the last sample before the step), for a report's plot; attach it to a measurement's `series`. */
  readonly series: SeriesRecord;
}

/**
 * Analyses a step response.
 *
 * @example
 * ```ts
 * // A first-order sensor with τ = 2 s sampled every 100 ms after a step from 20 to 30 Cel at t = 1 s:
 * const time = Array.from({ length: 200 }, (_, i) => i * 100)
 * const readings = time.map((t) => (t < 1000 ? 20 : 30 - 10 * Math.exp(-(t - 1000) / 2000)))
 * stepResponse({ time, readings, unit: 'Cel', step: { time: 1000, from: 20, to: 30 } }).t63.value // ≈ 2000 (ms)
 * ```
 */
export function stepResponse(options: StepResponseOptions): StepResponseResult {
  const { time, readings, unit, step } = options;
  requireReadings(time, 'time', 3);
  requireReadings(readings, 'readings', 3);
  requireSameLength(time, 'time', readings, 'readings');
  for (let i = 1; i < time.length; i++) {
    if (!(time[i]! > time[i - 1]!)) throw new ArgumentError(`Expected \`time\` to increase strictly, got ${time[i - 1]} then ${time[i]} at index ${i}`);
  }
  requireNumber(step.time, 'step.time');
  requireNumber(step.from, 'step.from');
  requireNumber(step.to, 'step.to');
  const size = step.to - step.from;
  if (size === 0) throw new ArgumentError('Expected `step.from` and `step.to` to differ');
  const band = options.settlingBand ?? 0.02 * Math.abs(size);
  requireNumber(band, 'settlingBand', 0, true);
  // From the last sample before the step on: the response as a fraction of the step.
  const start = Math.max(0, time.findIndex((t) => t >= step.time) - 1);
  if (time[time.length - 1]! < step.time) throw new ArgumentError('Expected samples after `step.time`');
  const t = time.slice(start);
  const g = readings.slice(start).map((y) => (y - step.from) / size);
  const probability = options.coverageProbability === undefined ? {} : { coverageProbability: options.coverageProbability };
  const samples = t.length;

  const noise: Noise = {
    ...noiseOf(options, time, readings, Math.abs(size)),
    ...(options.resolution === undefined ? {} : { resolution: options.resolution / Math.abs(size) }),
  };
  const timeResult = (id: string, crossing: Crossing | string): MetrologyResult => {
    if (typeof crossing === 'string') return { id, value: null, unit: 'ms', samples, reason: crossing };
    const inputs: UncertaintyInput[] = crossing.inputs.length > 0 ? [...crossing.inputs] : [rectangularB('crossing at a sample', 0)];
    return { id, value: Math.max(0, crossing.at - step.time), unit: 'ms', samples, uncertainty: combineUncertainty(inputs, probability) };
  };
  const reach = (fraction: number, label: string): Crossing | string =>
    risingCrossing(t, g, fraction, noise) ?? `the response did not reach ${label} of the step within the series`;

  // Overshoot: the peak after the step, found between samples (see `peak.ts`), as % of the step.
  const after = t.findIndex((ti) => ti >= step.time);
  const peak = peakOf(t.slice(after), g.slice(after), noise);
  const overshootInputs: UncertaintyInput[] = peak.inputs.map((input) => ({ ...input, sensitivity: input.sensitivity * 100 }));
  const overshoot: MetrologyResult = {
    id: 'overshoot',
    value: Math.max(0, peak.value - 1) * 100,
    unit: '%',
    samples,
    ...(overshootInputs.length === 0 ? {} : { uncertainty: combineUncertainty(overshootInputs, probability) }),
  };

  // Settling: where |reading − final level| falls through the band for good (from the step on).
  const error = g.slice(after).map((value) => Math.abs(value - 1));
  const settling =
    fallingCrossing(t.slice(after), error, band / Math.abs(size), noise) ??
    `the response did not settle within ±${formatNumber(band)} ${unit} of ${formatNumber(step.to)} ${unit} within the series`;

  return {
    t63: timeResult('step-t63', reach(TIME_CONSTANT_FRACTION, '63.2 %')),
    t90: timeResult('step-t90', reach(0.9, '90 %')),
    overshoot,
    settlingTime: timeResult('step-settling-time', settling),
    series: { name: 'step response', unit, time: t, value: readings.slice(start) },
  };
}

/** Noise σ as a fraction of the step: given, or from the residuals of the last quarter about a line. */
function noiseOf(options: StepResponseOptions, time: readonly number[], readings: readonly number[], size: number): Noise {
  if (options.noise !== undefined) {
    requireNumber(options.noise, 'noise', 0);
    return { sigma: options.noise / size, degreesOfFreedom: Infinity, scale: size };
  }
  const tail = Math.floor(time.length / 4);
  if (tail < TAIL_SAMPLES) return { sigma: 0, degreesOfFreedom: Infinity, scale: size };
  const fit = fitLine(time.slice(-tail), readings.slice(-tail));
  return { sigma: fit.residualStandardDeviation / size, degreesOfFreedom: tail - 2, scale: size };
}

/** Fewest samples in the last quarter of the series for a noise estimate from it. */
const TAIL_SAMPLES = 10;
