/**
 * Step response from a time series and the step's time and levels (IEC 60770-1 terms): the times
 * the response takes to reach 63.2 % (1 − 1/e, one time constant of a first-order sensor) and 90 %
 * of the step, the overshoot beyond the final level in % of the step, and the settling time after
 * which the response stays within ± a band around the final level. Crossings are interpolated
 * linearly between the two samples around them; their uncertainty is that interval as a rectangular
 * distribution (half-width Δt/2). Noise near a crossing is not accounted for: give a filtered or
 * averaged series when the noise is large against the step.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { combineUncertainty } from './budget.js';
import { rectangularB, resolutionB } from './contributions.js';
import { formatNumber } from './format.js';
import type { SeriesRecord } from '../record/record.js';
import type { MetrologyResult } from './result.js';
import { extent, requireNumber, requireReadings, requireSameLength } from './statistics.js';

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
  /** DUT resolution in `unit`, an input of the overshoot's uncertainty. */
  readonly resolution?: number;
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

  const timeResult = (id: string, crossing: { at: number; interval: number } | string): MetrologyResult =>
    typeof crossing === 'string'
      ? { id, value: null, unit: 'ms', samples, reason: crossing }
      : {
          id,
          value: Math.max(0, crossing.at - step.time),
          unit: 'ms',
          samples,
          uncertainty: combineUncertainty([rectangularB('sampling interval (linear interpolation)', crossing.interval / 2)], probability),
        };
  const reach = (fraction: number, label: string): { at: number; interval: number } | string => {
    const j = g.findIndex((value) => value >= fraction);
    if (j < 0) return `the response did not reach ${label} of the step within the series`;
    if (j === 0) return { at: t[0]!, interval: 0 };
    return { at: interpolate(t[j - 1]!, g[j - 1]!, t[j]!, g[j]!, fraction), interval: t[j]! - t[j - 1]! };
  };

  const peak = extent(g).max;
  const overshootInputs = options.resolution === undefined ? [] : [resolutionB('DUT resolution', options.resolution, { sensitivity: 100 / Math.abs(size) })];
  const overshoot: MetrologyResult = {
    id: 'overshoot',
    value: Math.max(0, peak - 1) * 100,
    unit: '%',
    samples,
    ...(overshootInputs.length === 0 ? {} : { uncertainty: combineUncertainty(overshootInputs, probability) }),
  };

  // Settling: after the last sample outside the band.
  const outside = (i: number): number => Math.abs(readings[start + i]! - step.to);
  let last = -1;
  for (let i = 0; i < t.length; i++) if (t[i]! >= step.time && outside(i) > band) last = i;
  let settling: { at: number; interval: number } | string;
  if (last === t.length - 1) settling = `the response did not settle within ±${formatNumber(band)} ${unit} of ${formatNumber(step.to)} ${unit} within the series`;
  else if (last < 0) settling = { at: step.time, interval: 0 };
  else settling = { at: interpolate(t[last]!, outside(last), t[last + 1]!, outside(last + 1), band), interval: t[last + 1]! - t[last]! };

  return {
    t63: timeResult('step-t63', reach(TIME_CONSTANT_FRACTION, '63.2 %')),
    t90: timeResult('step-t90', reach(0.9, '90 %')),
    overshoot,
    settlingTime: timeResult('step-settling-time', settling),
    series: { name: 'step response', unit, time: t, value: readings.slice(start) },
  };
}

/** The time at which a quantity going from y0 at t0 to y1 at t1 passes `level`. */
function interpolate(t0: number, y0: number, t1: number, y1: number, level: number): number {
  return y1 === y0 ? t1 : t0 + ((level - y0) / (y1 - y0)) * (t1 - t0);
}
