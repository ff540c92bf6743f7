/**
 * The one deterministic CBOR writer (RFC 8949 §4.2.1) of what COSE structures, signed requests and
 * SUIT manifests hold: integers, text and byte strings, booleans, null, arrays, maps (keys written
 * in the bytewise order of their encodings) and tags; a number that is not a safe integer is a
 * 64-bit float, or refused with `integersOnly` (a manifest has no floats). Reading is the strict
 * reader's job in the layers above: a signature covers the exact bytes received.
 */
import { ArgumentError } from '../../sdk/core/errors.js';

/** What {@link encodeCoseCbor} writes. */
export type CoseCborValue =
  | number
  | string
  | Uint8Array
  | boolean
  | null
  | readonly CoseCborValue[]
  | ReadonlyMap<number | string, CoseCborValue>
  | TaggedItem;

/** A tagged item: {@link CoseTagged}, or any object with the same two fields (the strict reader's `CborTagged`). */
export interface TaggedItem {
  readonly tag: number;
  readonly value: CoseCborValue;
}

/** Options of {@link encodeCoseCbor}. */
export interface CborWriteOptions {
  /** Refuse numbers that are not safe integers instead of writing them as floats. */
  readonly integersOnly?: boolean;
}

/**
 * A tagged item (RFC 8949 §3.4).
 *
 * @example
 * ```ts
 * new CoseTagged(18, [protectedBytes, new Map(), payload, signature]) // COSE_Sign1_Tagged
 * ```
 */
export class CoseTagged implements TaggedItem {
  constructor(
    readonly tag: number,
    readonly value: CoseCborValue,
  ) {}
}

const utf8 = new TextEncoder();

/**
 * Encodes `value` with shortest heads and definite lengths, map keys sorted bytewise by their encodings.
 *
 * @example
 * ```ts
 * encodeCoseCbor(['Signature1', Uint8Array.of(0xa1, 0x01, 0x27)]) // 82 6a 53 69 67 …
 * ```
 */
export function encodeCoseCbor(value: CoseCborValue, options: CborWriteOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  write(value, parts, options.integersOnly === true);
  return concatBytes(parts);
}

/**
 * The head of a CBOR item in its shortest form (RFC 8949 §3, §4.2.1): major type and argument.
 *
 * @example
 * ```ts
 * encodeHead(5, 2) // Uint8Array [0xa2]: a map of two pairs follows
 * ```
 */
export function encodeHead(major: number, arg: number): Uint8Array {
  const parts: Uint8Array[] = [];
  head(major, arg, parts);
  return concatBytes(parts);
}

function head(major: number, arg: number, parts: Uint8Array[]): void {
  if (!Number.isSafeInteger(arg) || arg < 0) throw new ArgumentError(`Expected a CBOR argument to be an integer from 0 to 2^53, got ${arg}`);
  const m = major << 5;
  if (arg < 24) parts.push(Uint8Array.of(m | arg));
  else if (arg < 0x100) parts.push(Uint8Array.of(m | 24, arg));
  else if (arg < 0x10000) parts.push(Uint8Array.of(m | 25, arg >> 8, arg & 0xff));
  else if (arg < 0x100000000) parts.push(Uint8Array.of(m | 26, arg >>> 24, (arg >> 16) & 0xff, (arg >> 8) & 0xff, arg & 0xff));
  else {
    const bytes = new Uint8Array(9);
    bytes[0] = m | 27;
    new DataView(bytes.buffer).setBigUint64(1, BigInt(arg));
    parts.push(bytes);
  }
}

function write(value: CoseCborValue, parts: Uint8Array[], integersOnly: boolean): void {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return value >= 0 ? head(0, value, parts) : head(1, -1 - value, parts);
    if (integersOnly) throw new ArgumentError(`Expected a CBOR number to be an integer within ±2^53, got ${value}`);
    if (!Number.isFinite(value)) throw new ArgumentError(`Expected a finite number, got ${value}`);
    const bytes = new Uint8Array(9);
    bytes[0] = 0xfb;
    new DataView(bytes.buffer).setFloat64(1, value);
    parts.push(bytes);
  } else if (typeof value === 'string') {
    const bytes = utf8.encode(value);
    head(3, bytes.length, parts);
    parts.push(bytes);
  } else if (value instanceof Uint8Array) {
    head(2, value.length, parts);
    parts.push(value);
  } else if (value === false || value === true || value === null) {
    parts.push(Uint8Array.of(value === false ? 0xf4 : value === true ? 0xf5 : 0xf6));
  } else if (Array.isArray(value)) {
    const items = value as readonly CoseCborValue[];
    head(4, items.length, parts);
    for (const item of items) write(item, parts, integersOnly);
  } else if (value instanceof Map) {
    const entries = [...(value as ReadonlyMap<number | string, CoseCborValue>)].map(([key, item]) => [encodeCoseCbor(key, { integersOnly }), item] as const).sort((a, b) => compare(a[0], b[0]));
    for (let i = 1; i < entries.length; i++) if (compare(entries[i - 1]![0], entries[i]![0]) === 0) throw new ArgumentError('Expected the keys of a CBOR map to be unique');
    head(5, entries.length, parts);
    for (const [key, item] of entries) {
      parts.push(key);
      write(item, parts, integersOnly);
    }
  } else if (isTagged(value)) {
    head(6, value.tag, parts);
    write(value.value, parts, integersOnly);
  } else {
    throw new ArgumentError(`Expected a CBOR value, got ${typeof value}`);
  }
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function isTagged(value: unknown): value is TaggedItem {
  return typeof value === 'object' && value !== null && typeof (value as TaggedItem).tag === 'number' && 'value' in value;
}

/**
 * Concatenates byte arrays into one.
 *
 * @example
 * ```ts
 * concatBytes([Uint8Array.of(1), Uint8Array.of(2)]) // Uint8Array [1, 2]
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
