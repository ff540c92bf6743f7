/**
 * Input checks and the basic statistics every method shares: the mean and the experimental
 * standard deviation (JCGM 100 §4.2.1, §4.2.2). Bad input is refused with an `ArgumentError` that
 * names the argument.
 */
import { ArgumentError } from '../../sdk/core/errors.js';

/**
 * Refuses an array that is not an array of finite numbers with at least `minimum` values.
 *
 * @example
 * ```ts
 * requireReadings([1, 2, NaN], 'readings', 2) // ArgumentError: Expected `readings[2]` to be a finite number, got NaN
 * ```
 */
export function requireReadings(values: readonly number[], name: string, minimum: number): void {
  if (!Array.isArray(values)) throw new ArgumentError(`Expected \`${name}\` to be an array of numbers`);
  if (values.length < minimum) {
    throw new ArgumentError(`Expected \`${name}\` to have at least ${minimum} values, got ${values.length}`);
  }
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ArgumentError(`Expected \`${name}[${i}]\` to be a finite number, got ${String(value)}`);
    }
  }
}

/**
 * Refuses two arrays of different lengths.
 *
 * @example
 * ```ts
 * requireSameLength([1, 2], 'time', [1], 'value') // ArgumentError: Expected `value` to have as many values as `time` (2), got 1
 * ```
 */
export function requireSameLength(a: readonly unknown[], aName: string, b: readonly unknown[], bName: string): void {
  if (a.length !== b.length) {
    throw new ArgumentError(`Expected \`${bName}\` to have as many values as \`${aName}\` (${a.length}), got ${b.length}`);
  }
}

/**
 * Refuses a number that is not finite and at least `minimum` (or above it when `exclusive`).
 *
 * @example
 * ```ts
 * requireNumber(-1, 'resolution', 0) // ArgumentError: Expected `resolution` to be a finite number from 0, got -1
 * ```
 */
export function requireNumber(value: number, name: string, minimum = -Infinity, exclusive = false): void {
  const ok = typeof value === 'number' && Number.isFinite(value) && (exclusive ? value > minimum : value >= minimum);
  if (!ok) {
    const bound = minimum === -Infinity ? '' : exclusive ? ` above ${minimum}` : ` from ${minimum}`;
    throw new ArgumentError(`Expected \`${name}\` to be a finite number${bound}, got ${String(value)}`);
  }
}

/**
 * The arithmetic mean.
 *
 * @example
 * ```ts
 * mean([1, 2, 3, 4]) // 2.5
 * ```
 */
export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/**
 * The smallest and largest value, by a loop (spreading a long series into `Math.min` overflows the stack).
 *
 * @example
 * ```ts
 * extent([3, 1, 2]) // { min: 1, max: 3 }
 * ```
 */
export function extent(values: readonly number[]): { readonly min: number; readonly max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { min, max };
}

/**
 * The experimental standard deviation s (divisor n − 1, JCGM 100 §4.2.2); needs two values.
 *
 * @example
 * ```ts
 * experimentalStandardDeviation([1, 2, 3, 4]) // 1.2909944487358056
 * ```
 */
export function experimentalStandardDeviation(values: readonly number[]): number {
  requireReadings(values, 'values', 2);
  const m = mean(values);
  let sum = 0;
  for (const value of values) sum += (value - m) ** 2;
  return Math.sqrt(sum / (values.length - 1));
}
