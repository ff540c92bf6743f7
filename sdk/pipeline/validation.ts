/**
 * Small checks shared by the pipeline stages' validators. Declarations arrive as plain data (often
 * parsed JSON), so every check accepts `unknown` and names the exact field that is wrong.
 */
import { ValidationError } from '../core/errors.js';

/**
 * How a bad value is shown in a message: strings quoted, objects by kind, numbers as written.
 *
 * @example
 * ```ts
 * describe('a') // '"a"'
 * describe(NaN) // 'NaN'
 * ```
 */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/**
 * Checks that `value` is a plain object (a declaration), or throws `ValidationError` at `path`.
 *
 * @example
 * ```ts
 * requireRecord(spec, 'channels[0].calibration')
 * ```
 */
export function requireRecord(value: unknown, path: string): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(path, `must be an object, got ${describe(value)}`);
  }
  return value as Readonly<Record<string, unknown>>;
}

/**
 * Checks that `value` is a finite number, or throws `ValidationError` at `path`.
 *
 * @example
 * ```ts
 * requireFinite(spec.offset, 'calibration.offset')
 * ```
 */
export function requireFinite(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValidationError(path, `must be a finite number, got ${describe(value)}`);
  }
  return value;
}

/**
 * Checks that `value` is a non-empty string, or throws `ValidationError` at `path`.
 *
 * @example
 * ```ts
 * requireNonEmptyString(spec.id, 'calibration.id')
 * ```
 */
export function requireNonEmptyString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ValidationError(path, `must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

/**
 * Joins a parent path and a field: `join('channels[0]', 'range')` → `channels[0].range`;
 * an empty parent gives the field alone.
 *
 * @example
 * ```ts
 * join('', 'calibration') // 'calibration'
 * ```
 */
export function join(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}
