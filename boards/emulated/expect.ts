/**
 * Option checks of the emulation modules: the shared sentences from sdk/io, and a throwing variant
 * for signal, ADC and part models, whose bad options are programming errors (`ArgumentError`).
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { numberProblem, type NumberRule } from '../../sdk/io/checks.js';

export { numberProblem, show, type NumberRule } from '../../sdk/io/checks.js';

/**
 * Like {@link numberProblem}, but throws an `ArgumentError`; returns the number for chaining.
 *
 * @example
 * ```ts
 * const sigma = expectNumber('sigma', options.sigma, { min: 0 })
 * ```
 */
export function expectNumber(name: string, value: unknown, rule: NumberRule = {}): number {
  const problem = numberProblem(name, value, rule);
  if (problem !== undefined) throw new ArgumentError(problem);
  return value as number;
}
