/**
 * Noise of a channel at a constant input: the RMS about the mean, √(Σ(yᵢ − ȳ)²/n), and the
 * peak-to-peak range max − min. The RMS carries the standard uncertainty RMS/√(2(n − 1)) (the
 * approximation of JCGM 100 §E.4.3 for normal noise, ν = n − 1); peak-to-peak, which grows with n
 * and has no normal sampling distribution, is recorded without one. Readings should be independent:
 * a filtered channel's correlated samples make the uncertainty too small.
 */
import { combineUncertainty } from './budget.js';
import { typeAFromStatistics } from './contributions.js';
import type { MetrologyResult } from './result.js';
import { mean, requireReadings } from './statistics.js';

/** Fewest readings accepted for a noise figure. */
export const MINIMUM_NOISE_READINGS = 10;

/** Options of {@link noise}. */
export interface NoiseOptions {
  readonly readings: readonly number[];
  readonly unit: string;
  readonly coverageProbability?: number;
}

/** The noise test's results. */
export interface NoiseResult {
  /** RMS about the mean, id `noise-rms`. */
  readonly rms: MetrologyResult;
  /** Peak-to-peak, id `noise-peak-to-peak`. */
  readonly peakToPeak: MetrologyResult;
  readonly mean: number;
}

/**
 * RMS and peak-to-peak noise of readings at a constant input.
 *
 * @example
 * ```ts
 * const { rms, peakToPeak } = noise({ unit: 'Pa', readings })
 * rms.value        // ≈ σ of the noise
 * peakToPeak.value // max − min
 * ```
 */
export function noise(options: NoiseOptions): NoiseResult {
  const { readings, unit } = options;
  requireReadings(readings, 'readings', MINIMUM_NOISE_READINGS);
  const n = readings.length;
  const m = mean(readings);
  const rms = Math.sqrt(readings.reduce((sum, y) => sum + (y - m) ** 2, 0) / n);
  const input = { ...typeAFromStatistics('scatter of the RMS (JCGM 100 E.4.3)', rms, 1, { degreesOfFreedom: n - 1 }), divisor: Math.sqrt(2 * (n - 1)) };
  return {
    rms: {
      id: 'noise-rms',
      value: rms,
      unit,
      samples: n,
      uncertainty: combineUncertainty([input], options.coverageProbability === undefined ? {} : { coverageProbability: options.coverageProbability }),
    },
    peakToPeak: { id: 'noise-peak-to-peak', value: Math.max(...readings) - Math.min(...readings), unit, samples: n },
    mean: m,
  };
}
