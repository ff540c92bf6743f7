/**
 * The coverage factor k for an expanded uncertainty U = k·u_c (JCGM 100 §6.2, §G.4.1): the
 * two-sided Student t quantile for the coverage probability at the effective degrees of freedom,
 * truncated to the next lower integer as JCGM 100 §G.4.1 allows. For 95 % the conventional k = 2
 * is used from {@link K2_MIN_DEGREES_OF_FREEDOM} degrees of freedom on, where t_{0.975}(ν) ≤ 2, so
 * k is never smaller than the t quantile and the interval never undercovers by the convention.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { studentTQuantile } from './student-t.js';

/** The default coverage probability, 95 % (JCGM 100 §6.2.2; ILAC P14). */
export const DEFAULT_COVERAGE_PROBABILITY = 0.95;

/**
 * Smallest ν at which the 95 % coverage factor is the conventional k = 2: t_{0.975}(60) = 2.0003,
 * t_{0.975}(61) = 1.9996. Below it k = t_{0.975}(ν) (2.571 at ν = 5, 2.228 at ν = 10).
 */
export const K2_MIN_DEGREES_OF_FREEDOM = 61;

/**
 * The coverage factor for a coverage probability p at ν_eff degrees of freedom (null or Infinity:
 * infinitely many).
 *
 * @example
 * ```ts
 * coverageFactor(2)         // 4.3027 (t_{0.975}(2))
 * coverageFactor(5.8)       // 2.5706 (ν truncated to 5)
 * coverageFactor(null)      // 2      (k = 2 for large ν at 95 %)
 * coverageFactor(null, 0.99) // 2.5758
 * ```
 */
export function coverageFactor(effectiveDegreesOfFreedom: number | null, probability = DEFAULT_COVERAGE_PROBABILITY): number {
  if (!(probability > 0 && probability < 1)) {
    throw new ArgumentError(`Expected \`probability\` to be a number between 0 and 1, got ${String(probability)}`);
  }
  const nu = effectiveDegreesOfFreedom ?? Infinity;
  if (!(nu > 0)) throw new ArgumentError(`Expected \`effectiveDegreesOfFreedom\` to be a number above 0, got ${String(nu)}`);
  // Truncate, forgiving the rounding of Welch–Satterthwaite (u⁴/(u⁴/ν) may come out as 46.999…).
  const truncated = nu >= 1 && Number.isFinite(nu) ? Math.floor(nu * (1 + 1e-12)) : nu;
  if (probability === DEFAULT_COVERAGE_PROBABILITY && truncated >= K2_MIN_DEGREES_OF_FREEDOM) return 2;
  if (!Number.isInteger(truncated) || truncated > MEMO_UP_TO) return studentTQuantile((1 + probability) / 2, truncated);
  const key = `${probability}:${truncated}`;
  let k = memo.get(key);
  if (k === undefined) {
    k = studentTQuantile((1 + probability) / 2, truncated);
    if (memo.size < MEMO_SIZE) memo.set(key, k);
  }
  return k;
}

/** Integer ν up to this have their factor remembered (a budget evaluated many times asks for the same few). */
const MEMO_UP_TO = 1000;
const MEMO_SIZE = 4096;
const memo = new Map<string, number>();
