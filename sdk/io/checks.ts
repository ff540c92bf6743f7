/**
 * Argument checks shared by the board adapter, the I2C device base and the emulated models. They
 * return the "Expected …" sentence instead of throwing, so each caller throws the error its
 * contract promises (`ArgumentError` for a call's arguments, `ValidationError` for configuration).
 */

/** What a number must be. */
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
 * Checks a number; returns the problem as a sentence, or `undefined` when it is fine.
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
 * A value as it should appear in an error message: strings quoted, arrays listed, numbers as is.
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

/**
 * A 7-bit address as I2C tools print it, e.g. `0x76`.
 *
 * @example
 * ```ts
 * hex(0x76) // '0x76'
 * ```
 */
export function hex(value: number): string {
  return `0x${value.toString(16).padStart(2, '0')}`;
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
