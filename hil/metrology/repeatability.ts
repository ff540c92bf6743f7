/**
 * Repeatability (VIM 2.21): the experimental standard deviation s of at least ten readings at one
 * point under the same conditions (JCGM 100 §4.2.2). Its standard uncertainty is s/√(2(n − 1))
 * (JCGM 100 §E.4.3, Table E.1) with ν = n − 1, and its coverage factor the exact one for a standard
 * deviation of normal readings (see `standardDeviationCoverageFactor`), not Student's t.
 */
import type { MetrologyResult } from './result.js';
import { standardDeviationUncertainty } from './spread.js';
import { experimentalStandardDeviation, mean, requireReadings } from './statistics.js';

/** Fewest readings accepted for a repeatability. */
export const MINIMUM_REPEATABILITY_READINGS = 10;

/** Options of {@link repeatability}. */
export interface RepeatabilityOptions {
  /** At least ten readings at one point. */
  readonly readings: readonly number[];
  readonly unit: string;
  readonly coverageProbability?: number;
}

/**
 * The repeatability s of readings at one point, with its uncertainty.
 *
 * @example
 * ```ts
 * repeatability({ unit: 'Cel', readings: [20.1, 20.2, 20.1, 20.0, 20.2, 20.1, 20.1, 20.2, 20.0, 20.1] })
 * // { id: 'repeatability', value: 0.0738, unit: 'Cel', samples: 10, uncertainty: { expanded: 0.0476, coverageFactor: 2.737, … } }
 * ```
 */
export function repeatability(options: RepeatabilityOptions): MetrologyResult & { readonly mean: number } {
  const { readings, unit } = options;
  requireReadings(readings, 'readings', MINIMUM_REPEATABILITY_READINGS);
  const s = experimentalStandardDeviation(readings);
  const n = readings.length;
  return {
    id: 'repeatability',
    value: s,
    unit,
    difference: true,
    samples: n,
    mean: mean(readings),
    uncertainty: standardDeviationUncertainty('scatter of s (JCGM 100 E.4.3)', s, n, options.coverageProbability),
  };
}
