/**
 * Ordinary least-squares straight line y = a + b·x with the quantities the methods need: the
 * residuals, the residual standard deviation (ν = n − 2), Sxx and the leverages hᵢᵢ.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { mean, requireReadings, requireSameLength } from './statistics.js';

/** A fitted line. */
export interface LineFit {
  readonly intercept: number;
  readonly slope: number;
  /** yᵢ − (a + b·xᵢ). */
  readonly residuals: readonly number[];
  /** √(Σ residual² / (n − 2)); NaN for two points. */
  readonly residualStandardDeviation: number;
  /** Σ (xᵢ − x̄)². */
  readonly sxx: number;
  readonly xMean: number;
  /** Leverage hᵢᵢ = 1/n + (xᵢ − x̄)²/Sxx, the diagonal of the hat matrix. */
  readonly leverage: readonly number[];
}

/**
 * Fits y = a + b·x by least squares; needs two distinct x.
 *
 * @example
 * ```ts
 * fitLine([0, 1, 2], [1, 3, 5]) // { intercept: 1, slope: 2, residuals: [0, 0, 0], … }
 * ```
 */
export function fitLine(x: readonly number[], y: readonly number[]): LineFit {
  requireReadings(x, 'x', 2);
  requireReadings(y, 'y', 2);
  requireSameLength(x, 'x', y, 'y');
  const xMean = mean(x);
  const yMean = mean(y);
  let sxx = 0;
  let sxy = 0;
  x.forEach((xi, i) => {
    sxx += (xi - xMean) ** 2;
    sxy += (xi - xMean) * (y[i]! - yMean);
  });
  if (!(sxx > 0)) throw new ArgumentError('Expected `x` to have at least 2 distinct values');
  const slope = sxy / sxx;
  const intercept = yMean - slope * xMean;
  const residuals = x.map((xi, i) => y[i]! - (intercept + slope * xi));
  const sumSquares = residuals.reduce((sum, r) => sum + r * r, 0);
  return {
    intercept,
    slope,
    residuals,
    residualStandardDeviation: x.length > 2 ? Math.sqrt(sumSquares / (x.length - 2)) : NaN,
    sxx,
    xMean,
    leverage: x.map((xi) => 1 / x.length + (xi - xMean) ** 2 / sxx),
  };
}
