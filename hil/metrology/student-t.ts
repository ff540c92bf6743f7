/**
 * Student's t and the standard normal distribution: distribution functions and quantiles. The t
 * quantile gives the coverage factor k = t_p(ν) of JCGM 100 §G.3 and Table G.2.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { erfc, regularizedIncompleteBeta } from './special-functions.js';

/** Above this many degrees of freedom the t distribution is taken as normal (|t − z| < 1e-7 at 95 %). */
const NORMAL_FROM = 1e7;
const BISECTIONS = 200;

/**
 * Upper tail P(T > t) of Student's t with ν degrees of freedom (ν may be fractional; Infinity or
 * null is the normal distribution): ½·I_{ν/(ν+t²)}(ν/2, ½) for t ≥ 0.
 *
 * @example
 * ```ts
 * studentTUpperTail(12.706204736, 1) // 0.025
 * studentTUpperTail(0, 5)            // 0.5
 * ```
 */
export function studentTUpperTail(t: number, degreesOfFreedom: number | null): number {
  const nu = requireDegreesOfFreedom(degreesOfFreedom);
  if (Number.isNaN(t)) throw new ArgumentError('Expected `t` to be a number, got NaN');
  if (nu >= NORMAL_FROM) return normalUpperTail(t);
  if (t < 0) return 1 - studentTUpperTail(-t, nu);
  if (t === Infinity) return 0;
  const squared = t * t;
  return 0.5 * regularizedIncompleteBeta(nu / (nu + squared), nu / 2, 0.5, squared / (nu + squared));
}

/**
 * Distribution function P(T ≤ t) of Student's t with ν degrees of freedom.
 *
 * @example
 * ```ts
 * studentTCdf(2.570581836, 5) // 0.975
 * ```
 */
export function studentTCdf(t: number, degreesOfFreedom: number | null): number {
  return 1 - studentTUpperTail(t, degreesOfFreedom);
}

/**
 * The p-quantile of Student's t with ν degrees of freedom (Infinity or null: the normal
 * distribution), by bisection on the upper tail to full double precision.
 *
 * @example
 * ```ts
 * studentTQuantile(0.975, 1)        // 12.7062…
 * studentTQuantile(0.975, 10)       // 2.2281…
 * studentTQuantile(0.975, Infinity) // 1.9599…
 * ```
 */
export function studentTQuantile(probability: number, degreesOfFreedom: number | null): number {
  const nu = requireDegreesOfFreedom(degreesOfFreedom);
  requireProbability(probability);
  if (probability === 0.5) return 0;
  if (probability < 0.5) return -studentTQuantile(1 - probability, nu);
  const tail = 1 - probability;
  let high = 1;
  while (studentTUpperTail(high, nu) > tail) high *= 2;
  let low = 0;
  for (let i = 0; i < BISECTIONS && high - low > 1e-15 * high; i++) {
    const middle = (low + high) / 2;
    if (studentTUpperTail(middle, nu) > tail) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/**
 * Upper tail P(Z > z) of the standard normal distribution, ½·erfc(z/√2).
 *
 * @example
 * ```ts
 * normalUpperTail(1.959963984540054) // 0.025
 * ```
 */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * The p-quantile of the standard normal distribution.
 *
 * @example
 * ```ts
 * normalQuantile(0.975) // 1.959963984540054
 * ```
 */
export function normalQuantile(probability: number): number {
  return studentTQuantile(probability, Infinity);
}

function requireDegreesOfFreedom(value: number | null): number {
  if (value === null) return Infinity;
  if (!(value > 0)) throw new ArgumentError(`Expected \`degreesOfFreedom\` to be a number above 0, got ${String(value)}`);
  return value;
}

function requireProbability(value: number): void {
  if (!(value > 0 && value < 1)) throw new ArgumentError(`Expected \`probability\` to be a number between 0 and 1, got ${String(value)}`);
}
