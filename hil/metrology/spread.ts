/**
 * The uncertainty of a standard deviation s (a repeatability, an RMS noise) estimated from n normal
 * readings. Its standard uncertainty is s/√(2ν), ν = n − 1 (JCGM 100 §E.4.3, Table E.1), but s is
 * skewed (ν·s²/σ² is χ² with ν degrees of freedom), so s ± t·u undercovers σ at small n (92.5 %
 * instead of 95 % at n = 10). The coverage factor here is the exact one instead: the k for which
 * s ± k·u covers σ with the stated probability. With k′ = k/√(2ν), s·(1 − k′) ≤ σ ≤ s·(1 + k′)
 * holds when 1/(1 + k′)² ≤ χ²/ν ≤ 1/(1 − k′)², whose probability comes from the χ² distribution
 * (k = 2.74 at ν = 9, 2.29 at ν = 19, 2.01 at ν = 99, tending to 1.96).
 */
import type { UncertaintyRecord } from '../record/record.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import { combineUncertainty } from './budget.js';
import { typeAFromStatistics } from './contributions.js';
import { DEFAULT_COVERAGE_PROBABILITY } from './coverage.js';
import { regularizedGammaP } from './special-functions.js';

const BISECTIONS = 200;

/**
 * The coverage factor k of s ± k·s/√(2ν) for σ, exact for normal readings.
 *
 * @example
 * ```ts
 * standardDeviationCoverageFactor(9)  // 2.737 (t(0.975, 9) = 2.262 would cover σ in 92.5 % only)
 * standardDeviationCoverageFactor(99) // 2.009
 * ```
 */
export function standardDeviationCoverageFactor(degreesOfFreedom: number, probability = DEFAULT_COVERAGE_PROBABILITY): number {
  if (!(degreesOfFreedom >= 1) || !Number.isFinite(degreesOfFreedom)) {
    throw new ArgumentError(`Expected \`degreesOfFreedom\` to be a finite number from 1, got ${String(degreesOfFreedom)}`);
  }
  if (!(probability > 0 && probability < 1)) throw new ArgumentError(`Expected \`probability\` to be a number between 0 and 1, got ${String(probability)}`);
  const nu = degreesOfFreedom;
  const chiSquareCdf = (ratio: number): number => regularizedGammaP(nu / 2, (nu * ratio) / 2);
  // Coverage of s·(1 − k′) ≤ σ ≤ s·(1 + k′), increasing in k′.
  const coverage = (relative: number): number => {
    const upper = relative < 1 ? chiSquareCdf(1 / (1 - relative) ** 2) : 1;
    return upper - chiSquareCdf(1 / (1 + relative) ** 2);
  };
  let low = 0;
  let high = 1;
  while (coverage(high) < probability) high *= 2;
  for (let i = 0; i < BISECTIONS && high - low > 1e-14 * high; i++) {
    const middle = (low + high) / 2;
    if (coverage(middle) < probability) low = middle;
    else high = middle;
  }
  return ((low + high) / 2) * Math.sqrt(2 * nu);
}

/**
 * The uncertainty record of a standard deviation s from n readings: u = s/√(2(n − 1)), ν = n − 1,
 * k from {@link standardDeviationCoverageFactor}.
 *
 * @example
 * ```ts
 * standardDeviationUncertainty('scatter of s', 0.074, 10) // { combinedStandardUncertainty: 0.0174, coverageFactor: 2.737, … }
 * ```
 */
export function standardDeviationUncertainty(name: string, standardDeviation: number, count: number, probability?: number): UncertaintyRecord {
  const nu = count - 1;
  const input = { ...typeAFromStatistics(name, standardDeviation, 1, { degreesOfFreedom: nu }), divisor: Math.sqrt(2 * nu) };
  const record = combineUncertainty([input], probability === undefined ? {} : { coverageProbability: probability });
  const k = standardDeviationCoverageFactor(nu, record.coverageProbability);
  return { ...record, coverageFactor: k, expanded: k * record.combinedStandardUncertainty };
}
