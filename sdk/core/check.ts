/**
 * Field checks for declarations (device models, part options, calibration records) written in
 * JavaScript or parsed from JSON as well as TypeScript: each accepts `unknown` and throws a
 * `ValidationError` naming the path of the bad field and what was expected.
 */
import { ValidationError } from './errors.js';

/** Characters of a string shown in a message; the rest is cut (a message is one line, not a dump). */
const SHOWN_CHARACTERS = 60;

/**
 * Cuts text for a message to its first 60 characters, followed by `…` and the full length.
 *
 * @example
 * ```ts
 * cut('short')                   // 'short'
 * cut('x'.repeat(100_000)).length // 81: 60 characters, then '… (100000 characters)'
 * ```
 */
export function cut(text: string): string {
  return text.length <= SHOWN_CHARACTERS ? text : `${text.slice(0, SHOWN_CHARACTERS)}… (${text.length} characters)`;
}

/**
 * How a bad value is shown in a message: strings quoted (cut to 60 characters, see {@link cut}),
 * numbers as written, objects by kind.
 *
 * @example
 * ```ts
 * describe('a') // '"a"'
 * describe(NaN) // 'NaN'
 * describe([1]) // 'an array'
 * describe('x'.repeat(1000)) // the first 60 x quoted, then '… (1000 characters)'
 * ```
 */
export function describe(value: unknown): string {
  if (typeof value === 'string') {
    if (value.length <= SHOWN_CHARACTERS) return JSON.stringify(value);
    return `${JSON.stringify(value.slice(0, SHOWN_CHARACTERS))}… (${value.length} characters)`;
  }
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** Requires a plain object. */
export function requireObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(path, `expected an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Requires an array (optionally non-empty) without holes: `[, c]` and `new Array(3)` are refused
 * here, at the index of the first hole, since `forEach` and `map` skip holes and a later reader
 * would meet `undefined`.
 *
 * @example
 * ```ts
 * requireArray([, { id: 'a' }], 'channels')
 * // throws ValidationError: channels[0]: missing (an array with a hole)
 * ```
 */
export function requireArray(value: unknown, path: string, options: { nonEmpty?: boolean } = {}): unknown[] {
  if (!Array.isArray(value)) throw new ValidationError(path, `expected an array, got ${describe(value)}`);
  if (options.nonEmpty && value.length === 0) throw new ValidationError(path, 'expected at least one entry');
  for (let i = 0; i < value.length; i++) {
    if (!(i in value)) throw new ValidationError(`${path}[${i}]`, 'missing (an array with a hole)');
  }
  return value;
}

/**
 * Rejects fields that are not in `allowed`, so a typo (`sampelRate`) is an error, not a silent
 * default. The message suggests the nearest allowed name; with `{ list: true }` it names every
 * allowed field instead, the better hint for a small declaration.
 *
 * @example
 * ```ts
 * rejectUnknownKeys({ sampelRate: 1 }, ['sampleRate'], 'channels[0]')
 * // throws ValidationError: channels[0].sampelRate: unknown field; did you mean "sampleRate"?
 * rejectUnknownKeys({ limt: 5 }, ['id', 'limit'], 'alarms[0]', { list: true })
 * // throws ValidationError: alarms[0].limt: unknown field; expected id, limit
 * ```
 */
export function rejectUnknownKeys(object: Record<string, unknown>, allowed: readonly string[], path: string, options: { list?: boolean } = {}): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      if (options.list) throw new ValidationError(join(path, cut(key)), `unknown field; expected ${allowed.join(', ')}`);
      // The edit distance costs length²: a long key is near nothing.
      const near = key.length > SHOWN_CHARACTERS ? undefined : allowed.find((name) => name.toLowerCase() === key.toLowerCase() || editDistance(name, key) <= 2);
      throw new ValidationError(join(path, cut(key)), `unknown field${near ? `; did you mean "${near}"?` : ''}`);
    }
  }
}

/** Requires a non-empty string, optionally matching `pattern` (described by `patternHint`). */
export function requireString(value: unknown, path: string, pattern?: RegExp, patternHint?: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ValidationError(path, `expected a non-empty string, got ${describe(value)}`);
  }
  if (pattern && !pattern.test(value)) throw new ValidationError(path, `${describe(value)} must be ${patternHint ?? `like ${pattern}`}`);
  return value;
}

/** Identifiers of devices, channels, properties, commands and alarms: safe in topics, SenML names and URLs. */
const IDENTIFIER = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * Requires an identifier: lower case letters, digits, `_` or `-`, starting with a letter, at most 63.
 *
 * @example
 * ```ts
 * requireIdentifier('winding-temperature', 'channels[3].id') // ok
 * requireIdentifier('Temp 1', 'channels[0].id')              // throws ValidationError
 * ```
 */
export function requireIdentifier(value: unknown, path: string): string {
  return requireString(value, path, IDENTIFIER, 'lower case letters, digits, "_" or "-", starting with a letter');
}

/** Number constraints. */
export interface NumberRule {
  min?: number;
  max?: number;
  /** Strictly greater than. */
  above?: number;
  integer?: boolean;
}

/** Requires a finite number within the rule. */
export function requireNumber(value: unknown, path: string, rule: NumberRule = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValidationError(path, `expected a finite number, got ${describe(value)}`);
  }
  if (rule.integer && !Number.isInteger(value)) throw new ValidationError(path, `expected an integer, got ${value}`);
  if (rule.above !== undefined && !(value > rule.above)) throw new ValidationError(path, `must be above ${rule.above}, got ${value}`);
  if (rule.min !== undefined && value < rule.min) throw new ValidationError(path, `must be at least ${rule.min}, got ${value}`);
  if (rule.max !== undefined && value > rule.max) throw new ValidationError(path, `must be at most ${rule.max}, got ${value}`);
  return value;
}

/** Requires one of the listed values. */
export function requireOneOf<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ValidationError(path, `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/** Throws when `ids` repeat, naming the second occurrence. */
export function requireUnique(ids: readonly string[], path: (index: number) => string): void {
  const seen = new Map<string, number>();
  ids.forEach((id, index) => {
    const first = seen.get(id);
    if (first !== undefined) throw new ValidationError(path(index), `duplicate id ${describe(id)} (first used at index ${first})`);
    seen.set(id, index);
  });
}

/** Joins path segments: `join('channels[0]', 'unit')` → `channels[0].unit`. */
export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/**
 * Checks that `value` is plain data, as a declaration must be (it is cloned, frozen and exported):
 * strings, numbers, booleans, null, arrays and plain objects, nested at most `maxDepth` deep.
 * Throws `ValidationError` naming the first field that is a function, a symbol, a bigint or an
 * instance of a class.
 *
 * @example
 * ```ts
 * requirePlainData({ channels: [{ description: () => 'x' }] }, '') // ValidationError: channels[0].description: …
 * ```
 */
export function requirePlainData(value: unknown, path: string, maxDepth = 32): void {
  const kind = typeof value;
  if (kind === 'function' || kind === 'symbol' || kind === 'bigint') {
    throw new ValidationError(path, `must be plain data (a string, number, boolean, array or object), got a ${kind}`);
  }
  if (kind !== 'object' || value === null) return;
  if (maxDepth === 0) throw new ValidationError(path, 'is nested too deeply');
  if (Array.isArray(value)) {
    value.forEach((item, i) => requirePlainData(item, `${path}[${i}]`, maxDepth - 1));
    return;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    throw new ValidationError(path, `must be plain data, got an instance of ${typeof name === 'string' && name !== '' ? cut(name) : 'a class'}`);
  }
  for (const [key, item] of Object.entries(value as object)) requirePlainData(item, join(path, key), maxDepth - 1);
}
