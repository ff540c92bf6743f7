/**
 * Where a sampled, noisy response crosses a level: a straight line fitted to the samples around
 * the crossing (from the last sample clearly below the level to the first clearly above it,
 * "clearly" being half the resolution plus 3σ of the noise), solved for the level and corrected for the response's
 * curvature, which a quadratic through the window's ends and the next sample shows (the curve lies
 * (g″/2)·((t − t̄)² − Stt/m) off the line). Without noise and with two samples that is quadratic
 * interpolation. Uncertainty: the noise and the rounding to the resolution through the whole
 * estimator, its sensitivities ∂t_c/∂yᵢ taken by differences (JCGM 100 §5.1.3), rounding errors
 * correlated between samples a fraction of a step apart, and half the curvature correction as a
 * rectangular bound on the higher-order terms left.
 */
import { normalB, rectangularB, resolutionB, typeAFromStatistics, type UncertaintyInput } from './contributions.js';
import { fitLine } from './least-squares.js';

/** Harmonics of the saw-tooth summed for the covariance of rounding errors. */
const ROUNDING_HARMONICS = 200;

/** A located crossing. */
export interface Crossing {
  /** The crossing time. */
  readonly at: number;
  readonly inputs: readonly UncertaintyInput[];
}

/** The noise of the samples: σ (in the values' scale) and the degrees of freedom of its estimate. */
export interface Noise {
  readonly sigma: number;
  readonly degreesOfFreedom: number;
  /** Readings per unit of the values (the step's size when values are fractions of it), so the budget shows σ in the readings' unit. */
  readonly scale?: number;
  /** The readings' resolution, in the values' scale: each sample is off by up to half of it. */
  readonly resolution?: number;
}

/**
 * How far from a level a sample must be to lie on its side whatever its error: half the resolution
 * (rounding moves a reading by at most that) plus 3σ of the noise. A window chosen by samples inside
 * this margin would be chosen by their errors, and biased by them.
 *
 * @example
 * ```ts
 * marginOf({ sigma: 0.01, degreesOfFreedom: 20, resolution: 0.1 }) // 0.08
 * ```
 */
export function marginOf(noise: Noise): number {
  return (noise.resolution ?? 0) / 2 + 3 * noise.sigma;
}

/**
 * The noise and resolution inputs of an estimate from samples `values`: σ and r/2 through the
 * estimator, its sensitivity √Σ(∂e/∂yᵢ)² taken by differences (samples independent).
 *
 * @example
 * ```ts
 * sampleInputs('the crossing', (y) => y[0]! + y[1]!, [1, 2], { sigma: 0.1, degreesOfFreedom: 9 }) // [type A σ = 0.1 with c = √2]
 * ```
 */
export function sampleInputs(
  what: string,
  estimate: (values: readonly number[]) => number | undefined,
  values: readonly number[],
  noise: Noise,
): UncertaintyInput[] {
  const resolution = noise.resolution ?? 0;
  if (!(noise.sigma > 0) && !(resolution > 0)) return [];
  const base = estimate(values);
  if (base === undefined) return [];
  const step = (noise.sigma > 0 ? noise.sigma : resolution) * 1e-3;
  const partials = values.map((_, k) => {
    const nudged = estimate(values.map((v, j) => (j === k ? v + step : v)));
    return nudged === undefined ? 0 : (nudged - base) / step;
  });
  const scale = noise.scale ?? 1;
  const sensitivity = Math.sqrt(partials.reduce((sum, c) => sum + c * c, 0)) / scale;
  const inputs: UncertaintyInput[] = [];
  if (noise.sigma > 0) {
    const sigma = noise.sigma * scale;
    inputs.push(
      Number.isFinite(noise.degreesOfFreedom)
        ? typeAFromStatistics(`noise at ${what}`, sigma, 1, { degreesOfFreedom: noise.degreesOfFreedom, sensitivity })
        : normalB(`noise at ${what}`, sigma, 1, { sensitivity }),
    );
  }
  if (resolution > 0) {
    // Rounding errors of samples whose values differ by less than a few steps are correlated.
    let variance = 0;
    partials.forEach((ci, i) => {
      partials.forEach((cj, j) => {
        variance += ci * cj * roundingCovariance(Math.abs(values[i]! - values[j]!) / resolution, noise.sigma / resolution);
      });
    });
    const resolutionSensitivity = Math.sqrt(Math.max(0, variance) * 12) / scale;
    inputs.push(resolutionB(`DUT resolution at ${what}`, resolution * scale, { sensitivity: resolutionSensitivity }));
  }
  return inputs;
}

/**
 * Covariance, in units of the resolution squared, of the rounding errors of two readings whose true
 * values are `distance` steps apart, over a uniformly placed rounding grid, with Gaussian noise of
 * `sigma` steps dithering them: Σₖ cos(2πk·d)/(2π²k²)·e^{−4π²k²σ²} (the saw-tooth's Fourier series).
 * 1/12 at distance 0 without noise; −1/24 half a step apart.
 */
function roundingCovariance(distance: number, sigma: number): number {
  if (distance === 0) return 1 / 12;
  let sum = 0;
  for (let k = 1; k <= ROUNDING_HARMONICS; k++) {
    const damping = Math.exp(-4 * Math.PI ** 2 * k * k * sigma * sigma);
    if (damping < 1e-12) break;
    sum += (Math.cos(2 * Math.PI * k * distance) / (2 * Math.PI ** 2 * k * k)) * damping;
  }
  return sum;
}

/**
 * Where `value` first rises through `level` (values scaled so the response rises), or undefined.
 *
 * @example
 * ```ts
 * risingCrossing([0, 1, 2], [0, 0.5, 1], 0.25, { sigma: 0, degreesOfFreedom: Infinity }) // { at: 0.5, … }
 * ```
 */
export function risingCrossing(time: readonly number[], value: readonly number[], level: number, noise: Noise): Crossing | undefined {
  const margin = marginOf(noise);
  const first = value.findIndex((v) => v >= level);
  if (first < 0) return undefined;
  if (first === 0) return { at: time[0]!, inputs: [] };
  // The window: from the last sample clearly below before the response is clearly above, to that sample.
  let end = value.findIndex((v, i) => i >= first && v > level + margin);
  if (end < 0) end = value.length - 1;
  let start = first - 1;
  for (let i = first - 1; i >= 0; i--) {
    if (value[i]! < level - margin) {
      start = i;
      break;
    }
    start = i;
  }
  return locate(time, value, level, start, end, noise);
}

/**
 * Where `value` last falls through `level` for good (the settling of an error magnitude), or
 * undefined when it is still above at the end.
 *
 * @example
 * ```ts
 * fallingCrossing([0, 1, 2, 3], [1, 0.6, 0.2, 0.1], 0.4, { sigma: 0, degreesOfFreedom: Infinity })
 * // { at: 1.40625, … }: 1.5 on the chord, moved by the curvature the next sample shows
 * ```
 */
export function fallingCrossing(time: readonly number[], value: readonly number[], level: number, noise: Noise): Crossing | undefined {
  const margin = marginOf(noise);
  let last = -1;
  for (let i = 0; i < value.length; i++) if (value[i]! > level) last = i;
  if (last === value.length - 1) return undefined;
  if (last < 0) return { at: time[0]!, inputs: [] };
  let start = last;
  for (let i = last; i >= 0; i--) {
    start = i;
    if (value[i]! > level + margin) break;
  }
  let end = last + 1;
  for (let i = last + 1; i < value.length; i++) {
    end = i;
    if (value[i]! < level - margin) break;
  }
  return locate(time, value.map((v) => -v), -level, start, end, noise);
}

/** Fits the window [start, end] and solves for the level; the response rises through it. */
function locate(time: readonly number[], value: readonly number[], level: number, start: number, end: number, noise: Noise): Crossing {
  const third = end + 1 < time.length ? end + 1 : start - 1;
  const indices = [...Array.from({ length: end - start + 1 }, (_, k) => start + k), ...(third >= 0 && third < time.length ? [third] : [])];
  const estimate = (y: readonly number[]): { at: number; correction: number } | undefined => solve(time, indices, y, end - start + 1, level);
  const values = indices.map((i) => value[i]!);
  const found = estimate(values);
  const t0 = time[start]!;
  const t1 = time[end]!;
  if (found === undefined) return { at: t1, inputs: [rectangularB('crossing between samples', (t1 - t0) / 2)] };
  // Noise and resolution through the whole estimator (line and curvature correction share samples).
  const inputs = sampleInputs('the crossing', (y) => estimate(y)?.at, values, noise);
  inputs.push(rectangularB('curvature beyond the quadratic', Math.abs(found.correction) / 2));
  return { at: found.at, inputs };
}

/**
 * The line through the first `m` of `indices` solved for `level`, corrected for the curvature: the
 * curve lies (g″/2)·((t − t̄)² − Stt/m) off the fitted line, g″ from the quadratic through the
 * window's ends and the extra sample (the last index, when there is one).
 */
function solve(time: readonly number[], indices: readonly number[], y: readonly number[], m: number, level: number): { at: number; correction: number } | undefined {
  const t = indices.slice(0, m).map((i) => time[i]!);
  const fit = fitLine(t, y.slice(0, m));
  if (!(fit.slope > 0)) return undefined;
  const line = fit.xMean + (level - (fit.intercept + fit.slope * fit.xMean)) / fit.slope;
  if (indices.length === m) return { at: line, correction: 0 };
  const x = [t[0]!, t[m - 1]!, time[indices[m]!]!];
  const v = [y[0]!, y[m - 1]!, y[m]!];
  let curvature = 0;
  for (let i = 0; i < 3; i++) {
    let product = 1;
    for (let j = 0; j < 3; j++) if (j !== i) product *= x[i]! - x[j]!;
    curvature += (2 * v[i]!) / product;
  }
  const correction = (-curvature * ((line - fit.xMean) ** 2 - fit.sxx / m)) / (2 * fit.slope);
  return { at: line + correction, correction };
}
