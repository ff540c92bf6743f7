/**
 * Canonical JSON after the JSON Canonicalization Scheme (JCS, RFC 8785): object members sorted by
 * the UTF-16 code units of their names (§3.2.3), no whitespace, strings escaped as ECMAScript's
 * JSON.stringify escapes them (§3.2.2.2) and numbers in ECMAScript's shortest round-trip form
 * (§3.2.2.3). Input outside I-JSON (RFC 7493) is refused: NaN and ±Infinity, lone surrogates,
 * BigInt and anything that is not a plain object, an array, a string, a number, a boolean or null.
 * Object members whose value is `undefined` are left out, as JSON.stringify leaves them out, so an
 * absent optional field and an undefined one give the same bytes.
 *
 * The signed bytes of a record are its canonical JSON; `record.json` is the same value pretty-printed
 * by {@link prettyCanonicalJson}, so that a verifier can insist on the exact text it was given.
 */
import { ArgumentError } from '../../sdk/core/errors.js';

/** A lone surrogate: I-JSON (RFC 7493 §2.1) forbids them, and JCS inherits the rule. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function refuse(path: string, what: string): never {
  throw new ArgumentError(`canonical JSON: ${path} is ${what}; only I-JSON values can be canonicalised (RFC 8785 §3.1)`);
}

/** JCS sorts names by UTF-16 code units, which is what `<` on JavaScript strings compares. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function encodeString(value: string, path: string): string {
  if (LONE_SURROGATE.test(value)) refuse(path, 'a string with a lone surrogate');
  return JSON.stringify(value);
}

function encodeNumber(value: number, path: string): string {
  if (!Number.isFinite(value)) refuse(path, String(value));
  // ECMAScript Number::toString is the shortest round-trip form JCS prescribes; -0 becomes "0".
  return JSON.stringify(value);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

type Layout = { readonly indent: string; readonly topOrder?: (names: string[]) => string[] };

function encode(value: unknown, path: string, layout: Layout | undefined, depth: number, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return encodeString(value, path);
    case 'number':
      return encodeNumber(value, path);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      return refuse(path, `a ${typeof value}`);
  }
  if (value === null) return 'null';
  if (seen.has(value)) refuse(path, 'a cycle');
  seen.add(value);
  const inner = layout === undefined ? '' : `\n${layout.indent.repeat(depth + 1)}`;
  const outer = layout === undefined ? '' : `\n${layout.indent.repeat(depth)}`;
  let text: string;
  if (Array.isArray(value)) {
    const items = value.map((item, index) => {
      if (item === undefined) refuse(`${path}[${index}]`, 'undefined');
      return encode(item, `${path}[${index}]`, layout, depth + 1, seen);
    });
    text = items.length === 0 ? '[]' : `[${inner}${items.join(`,${inner}`)}${outer}]`;
  } else {
    if (!isPlainObject(value)) refuse(path, `a ${value.constructor?.name ?? 'non-plain'} object`);
    const colon = layout === undefined ? ':' : ': ';
    const sorted = Object.keys(value)
      .filter((name) => value[name] !== undefined)
      .sort(byCodeUnits);
    const members = (depth === 0 && layout?.topOrder ? layout.topOrder(sorted) : sorted).map((name) => `${encodeString(name, `${path} member name`)}${colon}${encode(value[name], memberPath(path, name), layout, depth + 1, seen)}`);
    text = members.length === 0 ? '{}' : `{${inner}${members.join(`,${inner}`)}${outer}}`;
  }
  seen.delete(value);
  return text;
}

/**
 * The JSON path of a member: `$.a.b` for identifier-like names, `$["a b"]` otherwise.
 *
 * @example
 * ```ts
 * memberPath('$.phases[0]', 'outcome') // '$.phases[0].outcome'
 * memberPath('$.context', 'ambient °C') // '$.context["ambient °C"]'
 * ```
 */
export function memberPath(parent: string, name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `${parent}.${name}` : `${parent}[${JSON.stringify(name)}]`;
}

/**
 * The canonical JSON text of `value` (RFC 8785 JCS): sorted member names, no whitespace, shortest
 * round-trip numbers. Throws `ArgumentError` naming the path of a value JSON cannot carry exactly
 * (NaN, Infinity, a lone surrogate, a function, a Date or other class instance, a cycle).
 *
 * @example
 * ```ts
 * canonicalJson({ b: [1e21, 0.1], a: 'x' }) // '{"a":"x","b":[1e+21,0.1]}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$', undefined, 0, new Set());
}

/**
 * The same value as {@link canonicalJson}, indented by two spaces for people to read: sorted
 * members (apart from top-level members named in `first` and `last`, which open and close the
 * object in that order), the same strings and numbers, one member or item a line. Parsing it and canonicalising
 * again gives the canonical text; printing the parsed value again gives this text byte for byte.
 *
 * @example
 * ```ts
 * prettyCanonicalJson({ b: 1, a: [true] }) // '{\n  "a": [\n    true\n  ],\n  "b": 1\n}'
 * ```
 */
export function prettyCanonicalJson(value: unknown, options: { readonly first?: readonly string[]; readonly last?: readonly string[] } = {}): string {
  const first = options.first ?? [];
  const last = options.last ?? [];
  const topOrder = (names: string[]): string[] => [
    ...first.filter((name) => names.includes(name)),
    ...names.filter((name) => !first.includes(name) && !last.includes(name)),
    ...last.filter((name) => names.includes(name)),
  ];
  return encode(value, '$', { indent: '  ', topOrder }, 0, new Set());
}
