/**
 * The one strict CBOR reader (RFC 8949) behind every decoder that takes bytes from outside: the
 * SenML-CBOR decoder and the OTA manifest parser. It decodes the exact bytes received into values
 * and refuses, with a `DecodeError` naming the byte offset:
 * - input that ends inside an item, or bytes after the top-level item (§5.3.1);
 * - reserved additional information 28–30, a break outside an indefinite item, a two-byte simple
 *   value below 32 (§3, §3.3), text that is not UTF-8 (§5.3.1 validity);
 * - indefinite lengths, and integers, lengths, counts and tags not in their shortest form (§4.2.1);
 * - duplicate map keys (§5.6), and keys out of bytewise order where the profile asks for it (§4.2.1);
 * - map keys that are not integers or text, integers beyond ±(2^53 − 1) (not safe integers);
 * - what its {@link CborProfile} does not allow: floats, tags, `undefined` and other simple values;
 * - more bytes, items, string bytes or nesting than its {@link CborLimits}.
 *
 * cbor-x is not used here on purpose: it accepts duplicate keys, indefinite lengths and non-minimal
 * integers, and a signed or untrusted payload must be checked over the bytes themselves.
 */
import { DecodeError, type DecodeReason } from '../core/errors.js';

/** A CBOR value as this reader models it. Maps keep their keys (integers or text) in wire order. */
export type CborValue = number | string | Uint8Array | boolean | null | CborValue[] | CborMap | CborTagged;

/** A map with integer or text keys. */
export type CborMap = Map<number | string, CborValue>;

/**
 * A tagged item (RFC 8949 §3.4), e.g. the SUIT envelope (107) or COSE_Sign1 (18).
 *
 * @example
 * ```ts
 * new CborTagged(18, [new Uint8Array(0), new Map(), null, new Uint8Array(64)])
 * ```
 */
export class CborTagged {
  constructor(
    readonly tag: number,
    readonly value: CborValue,
  ) {}
}

/**
 * What hostile input may make the reader walk or allocate.
 *
 * @example
 * ```ts
 * const limits: CborLimits = { maxBytes: 65_536, maxItems: 256, maxDepth: 16, maxStringLength: 16_384 }
 * ```
 */
export interface CborLimits {
  /** Longest input, in bytes. */
  readonly maxBytes: number;
  /** Most items of one array or entries of one map. */
  readonly maxItems: number;
  /** Deepest nesting: the top-level item is at depth 1, an item inside it at 2, and so on. */
  readonly maxDepth: number;
  /** Longest byte or text string, in bytes. */
  readonly maxStringLength: number;
}

/**
 * What a format allows beyond plain integers, strings, arrays, maps, `false`, `true` and `null`.
 *
 * @example
 * ```ts
 * const suit: CborProfile = { format: 'SUIT manifests', tags: [107], floats: false, sortedKeys: true, copyBytes: false }
 * ```
 */
export interface CborProfile {
  /** The format's name in messages: "tag 1 is not used in SenML-CBOR". */
  readonly format: string;
  /** Tags that may appear; any other tag is refused. */
  readonly tags: readonly number[];
  /** Whether half, single and double floats may appear. */
  readonly floats: boolean;
  /** Whether map keys must be in the bytewise order of their encodings (RFC 8949 §4.2.1). */
  readonly sortedKeys: boolean;
  /** Whether byte strings are copied out of the input (true) or returned as views of it (false). */
  readonly copyBytes: boolean;
  /**
   * Whether integers, lengths and counts may take more bytes than needed. Default false (shortest
   * form, RFC 8949 §4.2.1). Well-formed all the same (§3); cbor-x writes an object's map head in
   * three bytes, so a format that common encoders write freely takes them.
   */
  readonly longHeads?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A cursor over one input. `decodeStrictCbor` reads one whole item with it; a format decoder (the
 * SenML one) walks its own top levels with `head()` and `text()`, checking its labels at their byte
 * offsets, and reads each value with `item()`. One instance per decoder; not re-entrant.
 *
 * @example
 * ```ts
 * const reader = new CborReader({ maxBytes: 1024, maxItems: 16, maxDepth: 8, maxStringLength: 64 }, profile)
 * reader.begin(Uint8Array.of(0xa1, 0x01, 0x02))
 * reader.item(1) // Map { 1 => 2 }
 * reader.end()
 * ```
 */
export class CborReader {
  readonly limits: Readonly<CborLimits>;
  readonly profile: Readonly<CborProfile>;
  #bytes: Uint8Array = new Uint8Array(0);
  #view = new DataView(this.#bytes.buffer);
  #pos = 0;
  // The head just read: additional information and argument (a float's value for major type 7).
  #ai = 0;
  #arg = 0;

  constructor(limits: CborLimits, profile: CborProfile) {
    this.limits = limits;
    this.profile = profile;
  }

  /** The offset of the next byte to read. */
  get position(): number {
    return this.#pos;
  }

  /** Bytes left after the position. */
  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }

  /** The argument of the head just read: a value, length or count (RFC 8949 §3). */
  get argument(): number {
    return this.#arg;
  }

  /** The major type of the item that starts at `offset`. */
  majorAt(offset: number): number {
    return this.#bytes[offset]! >> 5;
  }

  /** Starts on `bytes`; throws `DecodeError` (`limit`) when they are more than `maxBytes`. */
  begin(bytes: Uint8Array): void {
    if (bytes.length > this.limits.maxBytes) throw new DecodeError('limit', `${bytes.length} bytes is above maxBytes ${this.limits.maxBytes}`);
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    this.#pos = 0;
  }

  /** Ends the input: throws `DecodeError` (`trailing-bytes`) unless everything was read. */
  end(): void {
    if (this.#pos !== this.#bytes.length) throw this.error('trailing-bytes', `${this.#bytes.length - this.#pos} bytes after the top-level item`, this.#pos);
    this.#release();
  }

  /** A `DecodeError` with the byte offset in its message; it lets go of the input. */
  error(reason: DecodeReason, message: string, offset: number): DecodeError {
    this.#release();
    return new DecodeError(reason, `${message} at byte ${offset}`);
  }

  /** Reads one data item at nesting `depth` (the top level is 1), checking everything the module comment lists. */
  item(depth: number): CborValue {
    if (depth > this.limits.maxDepth) throw this.error('limit', `nesting deeper than maxDepth ${this.limits.maxDepth}`, this.#pos);
    const start = this.#pos;
    const major = this.head();
    const arg = this.#arg;
    switch (major) {
      case 0:
        return arg;
      case 1:
        // −1 − (2^53 − 1) = −2^53 is not a safe integer: refused, so every value read is one
        // that can be written back (encoders refuse integers beyond ±(2^53 − 1)).
        if (arg === Number.MAX_SAFE_INTEGER) throw this.error('limit', 'an integer below −(2^53 − 1)', start);
        return -1 - arg;
      case 2:
        return this.#string(arg, start, this.profile.copyBytes);
      case 3:
        return this.text(arg, start);
      case 4: {
        this.#count(arg, 1, start);
        const items: CborValue[] = new Array(arg);
        for (let i = 0; i < arg; i++) items[i] = this.item(depth + 1);
        return items;
      }
      case 5:
        return this.#map(arg, depth, start);
      case 6:
        if (!this.profile.tags.includes(arg)) throw this.error('wrong-type', `tag ${arg} is not used in ${this.profile.format}`, start);
        return new CborTagged(arg, this.item(depth + 1));
      default:
        if (this.#ai >= 25) return arg; // a float; head() checked that the profile allows them
        if (arg === 20) return false;
        if (arg === 21) return true;
        if (arg === 22) return null;
        throw this.error('wrong-type', `simple value ${arg} is not used in ${this.profile.format}`, start);
    }
  }

  /** Reads the body of a text string of `length` bytes whose head starts at `start`; checks UTF-8. */
  text(length: number, start: number): string {
    const from = this.#take(length, start);
    const bytes = this.#bytes;
    // Short ASCII text (labels, names, units) without a TextDecoder call: the common case in SenML.
    if (length <= 16) {
      let text = '';
      let i = from;
      for (; i < from + length; i++) {
        const byte = bytes[i]!;
        if (byte >= 0x80) break;
        text += String.fromCharCode(byte);
      }
      if (i === from + length) return text;
    }
    try {
      return utf8.decode(bytes.subarray(from, from + length));
    } catch {
      throw this.error('not-well-formed', 'a text string is not valid UTF-8 (RFC 8949 §5.3.1)', start);
    }
  }

  /** Reads an initial byte and its argument (RFC 8949 §3), checking §3, §3.3 and §4.2.1; returns the major type. */
  head(): number {
    const bytes = this.#bytes;
    const start = this.#pos;
    if (start >= bytes.length) throw this.error('truncated', 'the input ends where a data item should start', start);
    const initial = bytes[start]!;
    const major = initial >> 5;
    const ai = initial & 31;
    this.#ai = ai;
    if (ai < 24) {
      this.#arg = ai;
      this.#pos = start + 1;
      return major;
    }
    if (ai === 31) {
      if (major >= 2 && major <= 5) throw this.error('indefinite-length', 'indefinite-length item (RFC 8949 §4.2.1 requires definite lengths)', start);
      throw this.error('not-well-formed', major === 7 ? 'a break outside an indefinite-length item' : `additional information 31 with major type ${major}`, start);
    }
    if (ai > 27) throw this.error('not-well-formed', `reserved additional information ${ai} (RFC 8949 §3)`, start);
    const size = 1 << (ai - 24);
    const p = start + 1;
    if (p + size > bytes.length) throw this.error('truncated', `the input ends inside a ${size}-byte argument`, start);
    this.#pos = p + size;
    if (major === 7) {
      if (ai === 24) {
        const value = bytes[p]!;
        if (value < 32) throw this.error('not-well-formed', `two-byte simple value ${value} (RFC 8949 §3.3)`, start);
        this.#arg = value;
        return major;
      }
      if (!this.profile.floats) throw this.error('wrong-type', `floats are not used in ${this.profile.format}`, start);
      const view = this.#view;
      this.#arg = ai === 25 ? halfToNumber(view.getUint16(p)) : ai === 26 ? view.getFloat32(p) : view.getFloat64(p);
      return major;
    }
    let value: number;
    const shortest = this.profile.longHeads !== true;
    if (ai === 24) {
      value = bytes[p]!;
      if (shortest && value < 24) throw this.error('non-minimal', `${value} in two bytes (RFC 8949 §4.2.1)`, start);
    } else if (ai === 25) {
      value = this.#view.getUint16(p);
      if (shortest && value < 0x100) throw this.error('non-minimal', `${value} in three bytes (RFC 8949 §4.2.1)`, start);
    } else if (ai === 26) {
      value = this.#view.getUint32(p);
      if (shortest && value < 0x10000) throw this.error('non-minimal', `${value} in five bytes (RFC 8949 §4.2.1)`, start);
    } else {
      const high = this.#view.getUint32(p);
      const low = this.#view.getUint32(p + 4);
      if (shortest && high === 0) throw this.error('non-minimal', `${low} in nine bytes (RFC 8949 §4.2.1)`, start);
      if (high >= 0x200000) throw this.error('limit', 'an integer, length or count beyond 2^53', start);
      value = high * 0x100000000 + low;
    }
    this.#arg = value;
    return major;
  }

  #map(count: number, depth: number, start: number): CborMap {
    this.#count(count, 2, start);
    const map: CborMap = new Map();
    const bytes = this.#bytes;
    let previousStart = -1;
    let previousEnd = -1;
    for (let i = 0; i < count; i++) {
      const keyStart = this.#pos;
      const keyMajor = keyStart < bytes.length ? bytes[keyStart]! >> 5 : 0;
      // Integer or text keys only, so equal keys are equal values and `Map.has` finds duplicates.
      if (keyMajor !== 0 && keyMajor !== 1 && keyMajor !== 3) throw this.error('wrong-type', 'a map key must be an integer or a text string', keyStart);
      const key = this.item(depth + 1) as number | string;
      if (map.has(key)) throw this.error('duplicate-key', `map key ${JSON.stringify(key)} appears twice (RFC 8949 §5.6)`, keyStart);
      if (this.profile.sortedKeys && previousStart >= 0 && compareRanges(bytes, previousStart, previousEnd, bytes, keyStart, this.#pos) > 0) {
        throw this.error('unsorted-keys', 'map keys out of the order of their encodings (RFC 8949 §4.2.1)', keyStart);
      }
      previousStart = keyStart;
      previousEnd = this.#pos;
      map.set(key, this.item(depth + 1));
    }
    return map;
  }

  #string(length: number, start: number, copy: boolean): Uint8Array {
    const from = this.#take(length, start);
    return copy ? this.#bytes.slice(from, from + length) : this.#bytes.subarray(from, from + length);
  }

  /** Steps over the `length` bytes of a string whose head starts at `start`; returns where they begin. */
  #take(length: number, start: number): number {
    if (length > this.limits.maxStringLength) throw this.error('limit', `a string of ${length} bytes is above maxStringLength ${this.limits.maxStringLength}`, start);
    if (length > this.#bytes.length - this.#pos) throw this.error('truncated', `a string of ${length} bytes runs past the end`, start);
    const from = this.#pos;
    this.#pos += length;
    return from;
  }

  /** Checks an array's or map's count against `maxItems` and against the bytes left (each item takes one at least). */
  #count(count: number, minBytesEach: number, start: number): void {
    if (count > this.limits.maxItems) throw this.error('limit', `${count} items is above maxItems ${this.limits.maxItems}`, start);
    if (count * minBytesEach > this.#bytes.length - this.#pos) throw this.error('truncated', `${count} items need more bytes than remain`, start);
  }

  #release(): void {
    this.#bytes = new Uint8Array(0);
    this.#pos = 0;
    this.#view = new DataView(this.#bytes.buffer);
  }
}

/**
 * Decodes exactly one item from `bytes` under `limits` and `profile`; throws `DecodeError` for
 * anything else, trailing bytes included.
 *
 * @example
 * ```ts
 * const profile: CborProfile = { format: 'this format', tags: [], floats: false, sortedKeys: true, copyBytes: true }
 * const limits: CborLimits = { maxBytes: 1024, maxItems: 16, maxDepth: 8, maxStringLength: 64 }
 * decodeStrictCbor(Uint8Array.of(0xa1, 0x01, 0x02), limits, profile) // Map { 1 => 2 }
 * decodeStrictCbor(Uint8Array.of(0x18, 0x01), limits, profile)       // DecodeError: non-minimal: 1 in two bytes …
 * ```
 */
export function decodeStrictCbor(bytes: Uint8Array, limits: CborLimits, profile: CborProfile): CborValue {
  const reader = new CborReader(limits, profile);
  reader.begin(bytes);
  const value = reader.item(1);
  reader.end();
  return value;
}

/**
 * Bytewise lexicographic order of two byte ranges, shorter first on a common prefix (RFC 8949 §4.2.1).
 *
 * @example
 * ```ts
 * compareBytes(Uint8Array.of(1), Uint8Array.of(1, 0)) // < 0
 * ```
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return compareRanges(a, 0, a.length, b, 0, b.length);
}

function compareRanges(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) if (a[aStart + i] !== b[bStart + i]) return a[aStart + i]! - b[bStart + i]!;
  return aEnd - aStart - (bEnd - bStart);
}

// 2^(e − 25) for the 5-bit exponent e of a half-precision float; e = 0 (subnormal) uses 2^−24.
const HALF_SCALE = Float64Array.from({ length: 32 }, (_, e) => 2 ** (e === 0 ? -24 : e - 25));

/** A half-precision float (IEEE 754 binary16) as a number (RFC 8949 Appendix D). */
function halfToNumber(half: number): number {
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  const magnitude = exponent === 31 ? (mantissa === 0 ? Infinity : NaN) : (exponent === 0 ? mantissa : mantissa + 1024) * HALF_SCALE[exponent]!;
  return half & 0x8000 ? -magnitude : magnitude;
}
