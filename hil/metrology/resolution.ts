/**
 * Resolution seen in the readings: the smallest step between distinct reading values (values closer
 * than a relative 1e-9 of the largest magnitude count as equal, so float noise of a scaled integer
 * does not make a step). Compared with the declared resolution when one is given: a step larger
 * than declared means the channel resolves less than it claims. A quantum, recorded without an
 * uncertainty.
 */
import type { MetrologyResult } from './result.js';
import { requireNumber, requireReadings } from './statistics.js';

/** Relative tolerance under which two readings count as the same value. */
const SAME_VALUE = 1e-9;

/** Options of {@link resolution}. */
export interface ResolutionOptions {
  /** Readings taken while the input moves slowly over a few resolution steps (or with noise). */
  readonly readings: readonly number[];
  readonly unit: string;
  /** The resolution the model declares, in `unit`. */
  readonly declared?: number;
}

/**
 * The smallest step seen between reading values; null (with a reason) when all readings are equal.
 *
 * @example
 * ```ts
 * resolution({ unit: 'Cel', readings: [20.01, 20.03, 20.02, 20.02], declared: 0.01 })
 * // { id: 'resolution', value: 0.01, unit: 'Cel', samples: 4, reference: { value: 0.01, unit: 'Cel', source: 'declared resolution' } }
 * ```
 */
export function resolution(options: ResolutionOptions): MetrologyResult {
  const { readings, unit, declared } = options;
  requireReadings(readings, 'readings', 2);
  if (declared !== undefined) requireNumber(declared, 'declared', 0, true);
  const sorted = [...readings].sort((a, b) => a - b);
  const tolerance = SAME_VALUE * Math.max(Math.abs(sorted[0]!), Math.abs(sorted[sorted.length - 1]!), Number.MIN_VALUE);
  let smallest = Infinity;
  for (let i = 1; i < sorted.length; i++) {
    const step = sorted[i]! - sorted[i - 1]!;
    if (step > tolerance && step < smallest) smallest = step;
  }
  const reference = declared === undefined ? {} : { reference: { value: declared, unit, source: 'declared resolution' } };
  if (smallest === Infinity) {
    return { id: 'resolution', value: null, unit, samples: readings.length, difference: true, ...reference, reason: 'all readings are equal: no step seen' };
  }
  return { id: 'resolution', value: smallest, unit, samples: readings.length, difference: true, ...reference };
}
