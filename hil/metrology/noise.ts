/**
 * Noise of a channel at a constant input: the RMS about the mean and the peak-to-peak range
 * max − min. The RMS is √(Σ(yᵢ − ȳ)²/(n − 1)), the experimental standard deviation (JCGM 100
 * §4.2.2), an estimate of the noise's σ (dividing by n would bias it low by √((n − 1)/n)). It carries
 * the standard uncertainty RMS/√(2(n − 1)) (JCGM 100 §E.4.3) with the exact coverage factor of a
 * standard deviation (see `standardDeviationCoverageFactor`); peak-to-peak, which grows with n and
 * has no normal sampling distribution, is recorded without one. Readings should be independent:
 * a filtered channel's correlated samples make the uncertainty too small.
 */
import type { MetrologyResult } from './result.js';
import { standardDeviationUncertainty } from './spread.js';
import { extent, mean, requireReadings } from './statistics.js';

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
  const rms = Math.sqrt(readings.reduce((sum, y) => sum + (y - m) ** 2, 0) / (n - 1));
  return {
    rms: {
      id: 'noise-rms',
      value: rms,
      unit,
      difference: true,
      samples: n,
      uncertainty: standardDeviationUncertainty('scatter of the RMS (JCGM 100 E.4.3)', rms, n, options.coverageProbability),
    },
    peakToPeak: { id: 'noise-peak-to-peak', value: extent(readings).max - extent(readings).min, unit, samples: n, difference: true },
    mean: m,
  };
}
