/**
 * Drift: the slope of the readings against time by least squares, per hour, with its standard
 * uncertainty s_res/√Sxx and ν = n − 2 (the straight-line regression of JCGM 100 §H.3). Readings
 * must be independent: the residuals of a filtered or slowly wandering channel are correlated and
 * make the uncertainty too small; take readings further apart than the filter's time constant.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { combineUncertainty } from './budget.js';
import { typeAFromStatistics } from './contributions.js';
import { fitLine } from './least-squares.js';
import type { MetrologyResult } from './result.js';
import { requireReadings, requireSameLength } from './statistics.js';

const MS_PER_HOUR = 3_600_000;

/** Options of {@link drift}. */
export interface DriftOptions {
  /** Times of the readings, ms (target time). */
  readonly time: readonly number[];
  readonly readings: readonly number[];
  readonly unit: string;
  readonly coverageProbability?: number;
}

/**
 * Drift per hour, in `<unit>/h`.
 *
 * @example
 * ```ts
 * drift({ unit: 'Cel', time: [0, 3_600_000, 7_200_000], readings: [20, 20.1, 20.2] })
 * // { id: 'drift', value: 0.1, unit: 'Cel/h', samples: 3, uncertainty: { … ν = 1 … } }
 * ```
 */
export function drift(options: DriftOptions): MetrologyResult & { readonly intercept: number } {
  const { time, readings, unit } = options;
  requireReadings(time, 'time', 3);
  requireReadings(readings, 'readings', 3);
  requireSameLength(time, 'time', readings, 'readings');
  if (time.every((t) => t === time[0])) throw new ArgumentError('Expected `time` to have at least 2 distinct values');
  const hours = time.map((t) => t / MS_PER_HOUR);
  const fit = fitLine(hours, readings);
  const input = {
    ...typeAFromStatistics('residual scatter about the line', fit.residualStandardDeviation, 1, { degreesOfFreedom: readings.length - 2 }),
    divisor: Math.sqrt(fit.sxx),
  };
  return {
    id: 'drift',
    value: fit.slope,
    unit: `${unit}/h`,
    samples: readings.length,
    intercept: fit.intercept,
    uncertainty: combineUncertainty([input], options.coverageProbability === undefined ? {} : { coverageProbability: options.coverageProbability }),
  };
}
