/**
 * Option checks shared by the emulation modules. They return the "Expected …" message instead of
 * throwing, so each caller throws the error type its contract promises (`TypeError` for
 * programming errors in signal and ADC models, `ValidationError` for board configuration).
 */

/** What a number option must be. */
export interface NumberRule {
  /** Must be an integer. */
  readonly integer?: boolean;
  /** Inclusive lower bound. */
  readonly min?: number;
  /** Exclusive lower bound (e.g. "above 0" for time constants). */
  readonly above?: number;
  /** Inclusive upper bound. */
  readonly max?: number;
}

/**
 * Checks a number option; returns the problem as a sentence, or `undefined` when it is fine.
 *
 * @example
 * ```ts
 * numberProblem('resolution', 0, { integer: true, min: 1, max: 24 })
 * // 'Expected `resolution` to be an integer from 1 to 24, got 0'
 * ```
 */
export function numberProblem(name: string, value: unknown, rule: NumberRule = {}): string | undefined {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (rule.integer !== true || Number.isInteger(value)) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.above === undefined || value > rule.above) &&
    (rule.max === undefined || value <= rule.max);
  if (ok) return undefined;
  return `Expected \`${name}\` to be ${describe(rule)}, got ${show(value)}`;
}

/**
 * Like {@link numberProblem}, but throws a `TypeError`; returns the number for chaining.
 *
 * @example
 * ```ts
 * const sigma = expectNumber('sigma', options.sigma, { min: 0 })
 * ```
 */
export function expectNumber(name: string, value: unknown, rule: NumberRule = {}): number {
  const problem = numberProblem(name, value, rule);
  if (problem !== undefined) throw new TypeError(problem);
  return value as number;
}

/**
 * A value as it should appear in an error message: strings quoted, everything else as `String()`.
 *
 * @example
 * ```ts
 * show('x') // '"x"'
 * ```
 */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  return String(value);
}

function describe(rule: NumberRule): string {
  const kind = rule.integer === true ? 'an integer' : 'a finite number';
  if (rule.min !== undefined && rule.max !== undefined) return `${kind} from ${rule.min} to ${rule.max}`;
  if (rule.above !== undefined && rule.max !== undefined) return `${kind} above ${rule.above} and up to ${rule.max}`;
  if (rule.min !== undefined) return `${kind} from ${rule.min} and up`;
  if (rule.above !== undefined) return `${kind} above ${rule.above}`;
  if (rule.max !== undefined) return `${kind} up to ${rule.max}`;
  return kind;
}
