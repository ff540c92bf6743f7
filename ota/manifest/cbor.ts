/**
 * A strict, deterministic CBOR codec for signed manifests (RFC 8949). The decoder accepts only the
 * core deterministic encoding (§4.2.1): definite lengths, integers, lengths and tags in their
 * shortest form, map keys unique and in bytewise lexicographic order of their encodings. It also
 * refuses floats, `undefined` and other simple values, integers beyond 2^53 and tags not listed by
 * the caller: a SUIT envelope uses none of them, and each one is a second way to write the same
 * thing. Byte strings are returned as views of the input, so the exact received bytes of a
 * `bstr .cbor` field can be hashed and verified before they are decoded.
 */
import { ManifestError } from '../errors.js';

/** A CBOR value as this codec models it. Maps keep their keys (integers or text) in wire order. */
export type CborValue = number | string | Uint8Array | boolean | null | CborValue[] | CborMap | CborTagged;

/** A map with integer or text keys. */
export type CborMap = Map<number | string, CborValue>;

/**
 * A tagged item (RFC 8949 §3.4), e.g. the SUIT envelope (107) or COSE_Sign1 (18).
 *
 * @example
 * ```ts
 * encodeCbor(new CborTagged(18, [new Uint8Array(0), new Map(), null, new Uint8Array(64)]))
 * ```
 */
export class CborTagged {
  constructor(
    readonly tag: number,
    readonly value: CborValue,
  ) {}
}

/** Limits on what hostile input can make the decoder walk or allocate. */
export interface CborLimits {
  /** Longest input, bytes. Default 65,536 (a manifest is a few hundred bytes). */
  readonly maxBytes: number;
  /** Deepest nesting of arrays, maps and tags. Default 16. */
  readonly maxDepth: number;
  /** Longest byte or text string. Default 16,384. */
  readonly maxStringLength: number;
  /** Most items of one array or entries of one map. Default 256. */
  readonly maxItems: number;
  /** Tags that may appear. Default none. */
  readonly tags: readonly number[];
}

/**
 * The defaults of {@link decodeCbor}.
 *
 * @example
 * ```ts
 * decodeCbor(bytes, { ...DEFAULT_CBOR_LIMITS, tags: [107] })
 * ```
 */
export const DEFAULT_CBOR_LIMITS: Readonly<CborLimits> = Object.freeze({ maxBytes: 65_536, maxDepth: 16, maxStringLength: 16_384, maxItems: 256, tags: [] });

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * Decodes exactly one deterministic CBOR item from `bytes`; throws `ManifestError` (`malformed-cbor`
 * or `limit`, with the byte offset) for anything else, trailing bytes included.
 *
 * @example
 * ```ts
 * decodeCbor(Uint8Array.of(0xa1, 0x01, 0x02))          // Map { 1 => 2 }
 * decodeCbor(Uint8Array.of(0x18, 0x01))                // throws: non-minimal integer
 * decodeCbor(Uint8Array.of(0xa2, 0x01, 0x00, 0x01, 0x00)) // throws: duplicate key
 * ```
 */
export function decodeCbor(bytes: Uint8Array, limits: Partial<CborLimits> = {}): CborValue {
  const resolved: CborLimits = { ...DEFAULT_CBOR_LIMITS, ...limits };
  if (bytes.length > resolved.maxBytes) throw new ManifestError('limit', `${bytes.length} bytes is above maxBytes ${resolved.maxBytes}`);
  const reader = new Reader(bytes, resolved);
  const value = reader.item(0);
  if (reader.pos !== bytes.length) throw new ManifestError('malformed-cbor', `${bytes.length - reader.pos} trailing bytes at byte ${reader.pos}`);
  return value;
}

class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly limits: CborLimits,
  ) {}

  fail(message: string, at: number, reason: 'malformed-cbor' | 'limit' = 'malformed-cbor'): ManifestError {
    return new ManifestError(reason, `${message} at byte ${at}`);
  }

  /** Reads a head; returns major type and argument, enforcing shortest form (§4.2.1). */
  head(): [number, number] {
    const { bytes } = this;
    const start = this.pos;
    if (start >= bytes.length) throw this.fail('input ends where an item should start', start);
    const initial = bytes[start]!;
    const major = initial >> 5;
    const ai = initial & 31;
    this.pos = start + 1;
    if (ai < 24) return [major, ai];
    if (ai === 31) throw this.fail(major === 7 ? 'a break outside an indefinite item' : 'indefinite length (RFC 8949 §4.2.1 requires definite lengths)', start);
    if (ai > 27) throw this.fail(`reserved additional information ${ai} (RFC 8949 §3)`, start);
    if (major === 7) throw this.fail('floats and two-byte simple values are not used in SUIT manifests', start);
    const size = 1 << (ai - 24);
    if (this.pos + size > bytes.length) throw this.fail(`input ends inside a ${size}-byte argument`, start);
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + bytes[this.pos + i]!;
    this.pos += size;
    const floor = ai === 24 ? 24 : ai === 25 ? 0x100 : ai === 26 ? 0x10000 : 0x100000000;
    if (value < floor) throw this.fail(`${value} not in its shortest form (RFC 8949 §4.2.1)`, start);
    if (value > Number.MAX_SAFE_INTEGER) throw this.fail('an integer or length beyond 2^53', start, 'limit');
    return [major, value];
  }

  item(depth: number): CborValue {
    if (depth > this.limits.maxDepth) throw this.fail(`nesting deeper than maxDepth ${this.limits.maxDepth}`, this.pos, 'limit');
    const start = this.pos;
    const [major, arg] = this.head();
    switch (major) {
      case 0:
        return arg;
      case 1:
        return -1 - arg;
      case 2:
        return this.string(arg, start);
      case 3: {
        const raw = this.string(arg, start);
        try {
          return utf8.decode(raw);
        } catch {
          throw this.fail('text that is not UTF-8 (RFC 8949 §5.3.1)', start);
        }
      }
      case 4: {
        this.count(arg, 1, start);
        const items: CborValue[] = [];
        for (let i = 0; i < arg; i++) items.push(this.item(depth + 1));
        return items;
      }
      case 5: {
        this.count(arg, 2, start);
        const map: CborMap = new Map();
        let previous: Uint8Array | undefined;
        for (let i = 0; i < arg; i++) {
          const keyStart = this.pos;
          const key = this.item(depth + 1);
          if (typeof key !== 'number' && typeof key !== 'string') throw this.fail('a map key that is neither an integer nor text', keyStart);
          const encoded = this.bytes.subarray(keyStart, this.pos);
          if (previous !== undefined) {
            const order = compareBytes(previous, encoded);
            if (order === 0) throw this.fail('a duplicate map key (RFC 8949 §5.6)', keyStart);
            if (order > 0) throw this.fail('map keys out of deterministic order (RFC 8949 §4.2.1)', keyStart);
          }
          previous = encoded;
          map.set(key, this.item(depth + 1));
        }
        return map;
      }
      case 6:
        if (!this.limits.tags.includes(arg)) throw this.fail(`tag ${arg} is not allowed here`, start);
        return new CborTagged(arg, this.item(depth + 1));
      default:
        if (arg === 20) return false;
        if (arg === 21) return true;
        if (arg === 22) return null;
        throw this.fail(`simple value ${arg} is not used in SUIT manifests`, start);
    }
  }

  string(length: number, start: number): Uint8Array {
    if (length > this.limits.maxStringLength) throw this.fail(`a string of ${length} bytes is above maxStringLength ${this.limits.maxStringLength}`, start, 'limit');
    if (length > this.bytes.length - this.pos) throw this.fail(`a string of ${length} bytes runs past the end`, start);
    const view = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }

  count(count: number, minBytesEach: number, start: number): void {
    if (count > this.limits.maxItems) throw this.fail(`${count} items is above maxItems ${this.limits.maxItems}`, start, 'limit');
    if (count * minBytesEach > this.bytes.length - this.pos) throw this.fail(`${count} items need more bytes than remain`, start);
  }
}

/** Bytewise lexicographic order, shorter first on a common prefix (RFC 8949 §4.2.1). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Encodes a value in the core deterministic encoding (RFC 8949 §4.2.1): shortest heads, definite
 * lengths, map keys sorted by their encodings. Plain objects are not accepted; use `Map`.
 *
 * @example
 * ```ts
 * encodeCbor(new Map([[2, 'b'], [1, 'a']])) // a2 01 61 61 02 61 62: keys sorted
 * ```
 */
export function encodeCbor(value: CborValue): Uint8Array {
  const parts: Uint8Array[] = [];
  write(value, parts);
  return concatBytes(parts);
}

function writeHead(major: number, arg: number, parts: Uint8Array[]): void {
  if (!Number.isSafeInteger(arg) || arg < 0) throw new TypeError(`Expected a CBOR argument from 0 to 2^53, got ${arg}`);
  const m = major << 5;
  if (arg < 24) parts.push(Uint8Array.of(m | arg));
  else if (arg < 0x100) parts.push(Uint8Array.of(m | 24, arg));
  else if (arg < 0x10000) parts.push(Uint8Array.of(m | 25, arg >> 8, arg & 0xff));
  else if (arg < 0x100000000) parts.push(Uint8Array.of(m | 26, arg >>> 24, (arg >> 16) & 0xff, (arg >> 8) & 0xff, arg & 0xff));
  else {
    const high = Math.floor(arg / 0x100000000);
    const low = arg >>> 0;
    parts.push(Uint8Array.of(m | 27, 0, (high >> 16) & 0xff, (high >> 8) & 0xff, high & 0xff, low >>> 24, (low >> 16) & 0xff, (low >> 8) & 0xff, low & 0xff));
  }
}

function write(value: CborValue, parts: Uint8Array[]): void {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`Expected an integer within ±2^53, got ${value}`);
    if (value >= 0) writeHead(0, value, parts);
    else writeHead(1, -1 - value, parts);
  } else if (typeof value === 'string') {
    const bytes = utf8Encoder.encode(value);
    writeHead(3, bytes.length, parts);
    parts.push(bytes);
  } else if (value instanceof Uint8Array) {
    writeHead(2, value.length, parts);
    parts.push(value);
  } else if (value === false || value === true || value === null) {
    parts.push(Uint8Array.of(value === false ? 0xf4 : value === true ? 0xf5 : 0xf6));
  } else if (Array.isArray(value)) {
    writeHead(4, value.length, parts);
    for (const item of value) write(item, parts);
  } else if (value instanceof Map) {
    const entries = [...value].map(([key, item]) => [encodeCbor(key), item] as const).sort((a, b) => compareBytes(a[0], b[0]));
    for (let i = 1; i < entries.length; i++) {
      if (compareBytes(entries[i - 1]![0], entries[i]![0]) === 0) throw new TypeError('Expected unique map keys');
    }
    writeHead(5, entries.length, parts);
    for (const [key, item] of entries) {
      parts.push(key);
      write(item, parts);
    }
  } else if (value instanceof CborTagged) {
    writeHead(6, value.tag, parts);
    write(value.value, parts);
  } else {
    throw new TypeError(`Expected a CBOR value, got ${typeof value}`);
  }
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
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
