/**
 * Checking a stated uncertainty by simulation: over N runs with a known truth, the number of runs
 * whose interval estimate ± U contains the truth is binomial(N, p) when U is honest. This gives the
 * two-sided acceptance band for that count at a chosen risk of rejecting an honest U, and shows how
 * many runs a check needs: over 40 runs an honest 95 % U covers all 40 in 12.9 % of checks, so 40
 * runs cannot tell an honest U from one too large.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { regularizedIncompleteBeta } from './special-functions.js';

/**
 * P(X ≤ k) for X binomial with n trials of success probability p, exactly: I_{1−p}(n − k, k + 1).
 *
 * @example
 * ```ts
 * binomialCdf(35, 40, 0.95) // 0.048: an honest 95 % interval covers 35 of 40 or fewer about one time in 21
 * ```
 */
export function binomialCdf(k: number, n: number, p: number): number {
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`Expected \`n\` to be an integer from 1, got ${String(n)}`);
  if (!(p >= 0 && p <= 1)) throw new ArgumentError(`Expected \`p\` to be a number from 0 to 1, got ${String(p)}`);
  if (Number.isNaN(k)) throw new ArgumentError('Expected `k` to be a number, got NaN');
  const floor = Math.floor(k);
  if (floor < 0) return 0;
  if (floor >= n) return 1;
  if (p === 0) return 1;
  if (p === 1) return 0;
  return regularizedIncompleteBeta(1 - p, n - floor, floor + 1, p);
}

/** The acceptance band of {@link coverageBand}. */
export interface CoverageBand {
  /** Fewest covering runs accepted. */
  readonly low: number;
  /** Most covering runs accepted; equal to `runs` when even all covering is not rare enough to reject. */
  readonly high: number;
  /** Risk of rejecting an honest U below `low` and above `high`. */
  readonly riskLow: number;
  readonly riskHigh: number;
}

/**
 * The band of covering runs (out of `runs`) that an honest uncertainty at coverage probability
 * `probability` stays inside except with probability `risk` (split evenly between the sides).
 *
 * @example
 * ```ts
 * coverageBand(2000, 0.95, 0.001) // { low: 1867, high: 1931, … }: 93.35 % … 96.55 %
 * coverageBand(40)                // { low: 34, high: 40, … }: 40 runs cannot reject a U too large
 * ```
 */
export function coverageBand(runs: number, probability = 0.95, risk = 0.01): CoverageBand {
  if (!Number.isInteger(runs) || runs < 1) throw new ArgumentError(`Expected \`runs\` to be an integer from 1, got ${String(runs)}`);
  if (!(probability > 0 && probability < 1)) throw new ArgumentError(`Expected \`probability\` to be a number between 0 and 1, got ${String(probability)}`);
  if (!(risk > 0 && risk < 1)) throw new ArgumentError(`Expected \`risk\` to be a number between 0 and 1, got ${String(risk)}`);
  let low = 0;
  while (low < runs && binomialCdf(low, runs, probability) <= risk / 2) low++;
  let high = runs;
  while (high > low && 1 - binomialCdf(high - 1, runs, probability) <= risk / 2) high--;
  return {
    low,
    high,
    riskLow: low === 0 ? 0 : binomialCdf(low - 1, runs, probability),
    riskHigh: 1 - binomialCdf(high, runs, probability),
  };
}
