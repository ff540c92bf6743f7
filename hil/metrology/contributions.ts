/**
 * The inputs of an uncertainty budget (JCGM 100 §4.2, §4.3): each gives its value before the
 * divisor, the divisor that turns it into a standard uncertainty, its sensitivity coefficient
 * (§5.1.3) and its degrees of freedom. Type B inputs have infinitely many degrees of freedom unless
 * stated (§G.4.2).
 */
import type { UncertaintyContribution } from '../record/record.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import { experimentalStandardDeviation, requireNumber, requireReadings } from './statistics.js';

/** One input quantity's uncertainty, before it is combined (see `combineUncertainty`). */
export interface UncertaintyInput {
  readonly name: string;
  readonly type: 'A' | 'B';
  readonly distribution: UncertaintyContribution['distribution'];
  /** A standard deviation (type A), a half-width, or an expanded uncertainty, in the input's unit. */
  readonly value: number;
  readonly divisor: number;
  /** ∂f/∂xᵢ: converts the input's unit to the measurement's (JCGM 100 §5.1.3). Default 1. */
  readonly sensitivity: number;
  /** Degrees of freedom; Infinity when the input is known exactly enough (JCGM 100 §G.4.2). */
  readonly degreesOfFreedom: number;
}

/** Options every input takes. */
export interface InputOptions {
  /** Sensitivity coefficient cᵢ; default 1. */
  readonly sensitivity?: number;
  /** Degrees of freedom of a type B input; default Infinity (see {@link degreesOfFreedomFromReliability}). */
  readonly degreesOfFreedom?: number;
}

/**
 * Type A input from repeated readings: s/√n with ν = n − 1, the experimental standard deviation of
 * the mean (JCGM 100 §4.2.3). Needs two readings.
 *
 * @example
 * ```ts
 * typeA('repeatability', [20.1, 20.3, 20.2]) // value s = 0.1, divisor √3, ν = 2
 * ```
 */
export function typeA(name: string, readings: readonly number[], options: Pick<InputOptions, 'sensitivity'> = {}): UncertaintyInput {
  requireReadings(readings, 'readings', 2);
  return typeAFromStatistics(name, experimentalStandardDeviation(readings), readings.length, options);
}

/**
 * Type A input from a standard deviation `s` (of single readings) and the number of readings
 * averaged, `count`: s/√count. ν is count − 1 unless given, e.g. for a pooled s (JCGM 100 §4.2.4).
 *
 * @example
 * ```ts
 * typeAFromStatistics('pooled repeatability', 0.05, 4, { degreesOfFreedom: 15 })
 * ```
 */
export function typeAFromStatistics(
  name: string,
  standardDeviation: number,
  count: number,
  options: InputOptions = {},
): UncertaintyInput {
  requireNumber(standardDeviation, 'standardDeviation', 0);
  if (!Number.isInteger(count) || count < 1) throw new ArgumentError(`Expected \`count\` to be an integer from 1, got ${String(count)}`);
  const degreesOfFreedom = options.degreesOfFreedom ?? count - 1;
  requireNumber(degreesOfFreedom, 'degreesOfFreedom', 0, true);
  return { name, type: 'A', distribution: 'normal', value: standardDeviation, divisor: Math.sqrt(count), sensitivity: sensitivity(options), degreesOfFreedom };
}

/**
 * Type B input with a normal distribution stated as an expanded uncertainty U and its coverage
 * factor k, e.g. a calibration certificate: u = U/k (JCGM 100 §4.3.3).
 *
 * @example
 * ```ts
 * normalB('reference certificate', 0.05, 2) // u = 0.025
 * ```
 */
export function normalB(name: string, expanded: number, coverageFactor: number, options: InputOptions = {}): UncertaintyInput {
  requireNumber(expanded, 'expanded', 0);
  requireNumber(coverageFactor, 'coverageFactor', 0, true);
  return typeB(name, 'normal', expanded, coverageFactor, options);
}

/**
 * Type B input known only to lie within ±a, equally likely anywhere: u = a/√3 (JCGM 100 §4.3.7).
 *
 * @example
 * ```ts
 * rectangularB('reference accuracy', 0.1) // u = 0.0577
 * ```
 */
export function rectangularB(name: string, halfWidth: number, options: InputOptions = {}): UncertaintyInput {
  requireNumber(halfWidth, 'halfWidth', 0);
  return typeB(name, 'rectangular', halfWidth, Math.sqrt(3), options);
}

/**
 * Type B input within ±a, most likely near the centre: u = a/√6 (JCGM 100 §4.3.9).
 *
 * @example
 * ```ts
 * triangularB('ambient coupling', 0.3) // u = 0.1225
 * ```
 */
export function triangularB(name: string, halfWidth: number, options: InputOptions = {}): UncertaintyInput {
  requireNumber(halfWidth, 'halfWidth', 0);
  return typeB(name, 'triangular', halfWidth, Math.sqrt(6), options);
}

/**
 * Type B input within ±a, most likely near the limits (a sinusoid's value, mismatch): u = a/√2
 * (arcsine distribution, JCGM 101 §6.4.6).
 *
 * @example
 * ```ts
 * uShapedB('mains ripple', 0.02) // u = 0.0141
 * ```
 */
export function uShapedB(name: string, halfWidth: number, options: InputOptions = {}): UncertaintyInput {
  requireNumber(halfWidth, 'halfWidth', 0);
  return typeB(name, 'u-shaped', halfWidth, Math.SQRT2, options);
}

/**
 * Type B input for a digital indication's resolution r: rectangular with half-width r/2, so
 * u = r/√12 (JCGM 100 §F.2.2.1).
 *
 * @example
 * ```ts
 * resolutionB('DUT resolution', 0.01) // value 0.005, divisor √3, u = 0.00289
 * ```
 */
export function resolutionB(name: string, resolution: number, options: InputOptions = {}): UncertaintyInput {
  requireNumber(resolution, 'resolution', 0);
  return typeB(name, 'rectangular', resolution / 2, Math.sqrt(3), options);
}

/**
 * Degrees of freedom of a type B input from the relative uncertainty of its uncertainty,
 * ν ≈ ½·(Δu/u)⁻² (JCGM 100 §G.4.2, eq. G.3): "reliable to 25 %" gives ν = 8.
 *
 * @example
 * ```ts
 * degreesOfFreedomFromReliability(0.25) // 8
 * ```
 */
export function degreesOfFreedomFromReliability(relativeUncertaintyOfUncertainty: number): number {
  requireNumber(relativeUncertaintyOfUncertainty, 'relativeUncertaintyOfUncertainty', 0, true);
  return 0.5 / relativeUncertaintyOfUncertainty ** 2;
}

function typeB(
  name: string,
  distribution: UncertaintyInput['distribution'],
  value: number,
  divisor: number,
  options: InputOptions,
): UncertaintyInput {
  const degreesOfFreedom = options.degreesOfFreedom ?? Infinity;
  if (!(degreesOfFreedom > 0)) {
    throw new ArgumentError(`Expected \`degreesOfFreedom\` to be a number above 0, got ${String(degreesOfFreedom)}`);
  }
  return { name, type: 'B', distribution, value, divisor, sensitivity: sensitivity(options), degreesOfFreedom };
}

function sensitivity(options: Pick<InputOptions, 'sensitivity'>): number {
  const value = options.sensitivity ?? 1;
  requireNumber(value, 'sensitivity');
  return value;
}
