/**
 * A strict well-formedness scanner for SenML-CBOR, run over the exact bytes received before any
 * decoder sees them (cbor-x is lenient: it accepts duplicate keys, indefinite lengths and
 * non-minimal integers). It walks the data items without building values and rejects, with a
 * `DecodeError` naming the byte offset:
 * - input that ends inside an item, or bytes after the top-level item (RFC 8949 §5.3.1);
 * - reserved additional information 28–30, a break outside an indefinite item, a two-byte simple
 *   value below 32 (§3, §3.3), text that is not UTF-8 (§5.3.1 validity);
 * - indefinite lengths and integers, lengths and counts not in their shortest form (§4.2.1);
 * - duplicate map keys (§5.6), compared by their encoding (exact for integers and strings);
 * - tags, `undefined` and unassigned simple values: SenML-CBOR uses none (RFC 8428 §6), and they
 *   would reach cbor-x's own extensions (records, packed CBOR, structured clone);
 * - more bytes, records, string bytes or nesting than the configured limits;
 * - a top level that is not a non-empty array of maps (RFC 8428 §6, §11), record labels that are
 *   neither integers nor text, integer labels outside RFC 8428 Table 4, registered labels spelled
 *   as text, and must-understand labels ending in `_` (§4.4).
 */
import { DecodeError, type DecodeReason } from '../core/errors.js';
import { SENML_LABELS } from './senml.js';

/**
 * Limits the scanner enforces; see `SenmlCborDecoderOptions` for their meaning and defaults.
 *
 * @example
 * ```ts
 * const limits: ScanLimits = { ...DEFAULT_SCAN_LIMITS, maxRecords: 100 }
 * ```
 */
export interface ScanLimits {
  readonly maxBytes: number;
  readonly maxRecords: number;
  readonly maxStringLength: number;
  readonly maxDepth: number;
}

// The registered integer labels as bits: 0…8 at bits 0–8, −1…−6 at bits 16–21.
const KNOWN_INT_KEYS = Object.values(SENML_LABELS).reduce<number>((mask, key) => mask | (1 << (key >= 0 ? key : 16 - 1 - key)), 0);
const UNDERSCORE = 0x5f;

/** Up to 4 bytes and their count as one number, so short labels compare without making strings. */
function pack(bytes: ArrayLike<number>, from: number, to: number): number {
  let packed = to - from;
  for (let i = from; i < to; i++) packed = packed * 256 + bytes[i]!;
  return packed;
}

// The registered labels (all ASCII, 1–4 bytes) packed: spelled as text in CBOR they are refused.
const REGISTERED_TEXT: ReadonlySet<number> = new Set(Object.keys(SENML_LABELS).map((label) => pack(Buffer.from(label, 'latin1'), 0, label.length)));

/**
 * Remembers the keys of one map by the byte range of their encoding. Pairwise comparison while a
 * map is small; a set of the encodings beyond, so a hostile map cannot make the check quadratic.
 */
class KeySet {
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  #set: Set<string> | undefined;

  reset(): void {
    this.#starts.length = 0;
    this.#ends.length = 0;
    this.#set = undefined;
  }

  /** Adds the key encoded at `bytes[start, end)`; false when the map already has it. */
  add(bytes: Uint8Array, start: number, end: number): boolean {
    if (this.#set) return this.#addToSet(bytes, start, end);
    const length = end - start;
    for (let k = 0; k < this.#starts.length; k++) {
      const s = this.#starts[k]!;
      if (this.#ends[k]! - s !== length) continue;
      let i = 0;
      while (i < length && bytes[s + i] === bytes[start + i]) i++;
      if (i === length) return false;
    }
    this.#starts.push(start);
    this.#ends.push(end);
    if (this.#starts.length > 16) {
      this.#set = new Set();
      for (let k = 0; k < this.#starts.length; k++) this.#addToSet(bytes, this.#starts[k]!, this.#ends[k]!);
    }
    return true;
  }

  #addToSet(bytes: Uint8Array, start: number, end: number): boolean {
    const key = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
    if (this.#set!.has(key)) return false;
    this.#set!.add(key);
    return true;
  }
}

/**
 * Scans one SenML-CBOR pack. One instance per decoder; not re-entrant (it keeps its position).
 *
 * @example
 * ```ts
 * const scanner = new SenmlCborScanner({ maxBytes: 65536, maxRecords: 1000, maxStringLength: 256, maxDepth: 16 })
 * scanner.scan(Uint8Array.of(0x81, 0xa1, 0x02, 0x01)) // ok: [{2: 1}]
 * scanner.scan(Uint8Array.of(0x81, 0xa1, 0x02))       // throws DecodeError (truncated)
 * ```
 */
export class SenmlCborScanner {
  readonly #limits: ScanLimits;
  readonly #utf8 = new TextDecoder('utf-8', { fatal: true });
  readonly #recordKeys = new KeySet();
  #bytes: Uint8Array = new Uint8Array(0);
  #pos = 0;
  // The head just read: additional information and argument.
  #ai = 0;
  #arg = 0;

  constructor(limits: ScanLimits) {
    this.#limits = limits;
  }

  /** Throws `DecodeError` unless `bytes` is one well-formed, allowed SenML-CBOR pack. */
  scan(bytes: Uint8Array): void {
    const limits = this.#limits;
    if (bytes.length > limits.maxBytes) throw new DecodeError('limit', `${bytes.length} bytes is above maxBytes ${limits.maxBytes}`);
    this.#bytes = bytes;
    this.#pos = 0;
    if (this.#head() !== 4) throw this.#error('wrong-type', 'a SenML pack is an array (RFC 8428 §6)', 0);
    const count = this.#arg;
    if (count === 0) throw this.#error('wrong-type', 'a SenML pack has at least one record (RFC 8428 §11)', 0);
    if (count > limits.maxRecords) throw this.#error('limit', `${count} records is above maxRecords ${limits.maxRecords}`, 0);
    if (count > bytes.length - this.#pos) throw this.#error('truncated', `an array of ${count} records needs more bytes than remain`, 0);
    for (let index = 0; index < count; index++) this.#record(index);
    if (this.#pos !== bytes.length) throw this.#error('trailing-bytes', `${bytes.length - this.#pos} bytes after the pack`, this.#pos);
    this.#bytes = new Uint8Array(0);
  }

  #record(index: number): void {
    const start = this.#pos;
    if (this.#head() !== 5) throw this.#error('wrong-type', `record ${index} is not a map`, start);
    const count = this.#arg;
    if (count * 2 > this.#bytes.length - this.#pos) throw this.#error('truncated', `record ${index}: a map of ${count} fields needs more bytes than remain`, start);
    const keys = this.#recordKeys;
    keys.reset();
    let intKeys = 0;
    let bver = false;
    for (let field = 0; field < count; field++) {
      const keyStart = this.#pos;
      const major = this.#head();
      if (major === 0 || major === 1) {
        // Registered labels are 0…8 and −1…−6, all one-byte heads; bits 0–8 and 16–21 of the masks.
        const arg = this.#arg;
        const bit = this.#ai >= 24 ? -1 : major === 0 ? (arg <= 8 ? arg : -1) : arg <= 5 ? 16 + arg : -1;
        if (bit < 0 || !((KNOWN_INT_KEYS >>> bit) & 1)) {
          const label = major === 0 ? this.#arg : -1 - this.#arg;
          throw this.#error('unknown-label', `record ${index}: integer label ${label} is not in RFC 8428 Table 4`, keyStart);
        }
        if ((intKeys >>> bit) & 1) throw this.#error('duplicate-key', `record ${index}: label ${major === 0 ? this.#arg : -1 - this.#arg} appears twice`, keyStart);
        intKeys |= 1 << bit;
        bver = bit === 16;
      } else if (major === 3) {
        bver = false;
        this.#text(this.#arg, keyStart);
        this.#label(index, keyStart);
        if (!keys.add(this.#bytes, keyStart, this.#pos)) throw this.#error('duplicate-key', `record ${index}: a label appears twice`, keyStart);
      } else {
        throw this.#error('wrong-type', `record ${index}: a label must be an integer or a text string`, keyStart);
      }
      const valueStart = this.#pos;
      this.#item(3);
      // RFC 8428 §6: "For the version number, only an unsigned integer is allowed" (cbor-x gives 1.0 as 1).
      if (bver && this.#bytes[valueStart]! >> 5 !== 0) throw this.#error('wrong-type', `record ${index}: bver must be an unsigned integer`, valueStart);
    }
  }

  /** Checks the text label just read (its bytes end at the current position). */
  #label(index: number, keyStart: number): void {
    const length = this.#arg;
    const bytes = this.#bytes;
    const end = this.#pos;
    if (length > 0 && bytes[end - 1] === UNDERSCORE) {
      throw this.#error('must-understand', `record ${index}: label "${this.#decodeText(end - length, end)}" ends in "_" and is not understood (RFC 8428 §4.4)`, keyStart);
    }
    if (length <= 4 && REGISTERED_TEXT.has(pack(bytes, end - length, end))) {
      const label = this.#decodeText(end - length, end) as keyof typeof SENML_LABELS;
      throw this.#error('wrong-type', `record ${index}: "${label}" must use its integer label ${SENML_LABELS[label]} in CBOR (RFC 8428 §6)`, keyStart);
    }
  }

  /** Skips one data item at nesting `depth`, checking everything the module comment lists. */
  #item(depth: number): void {
    if (depth > this.#limits.maxDepth) throw this.#error('limit', `nesting deeper than maxDepth ${this.#limits.maxDepth}`, this.#pos);
    const start = this.#pos;
    switch (this.#head()) {
      case 0:
      case 1:
        return;
      case 2:
        this.#skipBytes(this.#arg, start);
        return;
      case 3:
        this.#text(this.#arg, start);
        return;
      case 4: {
        const count = this.#arg;
        if (count > this.#bytes.length - this.#pos) throw this.#error('truncated', `an array of ${count} items needs more bytes than remain`, start);
        for (let i = 0; i < count; i++) this.#item(depth + 1);
        return;
      }
      case 5: {
        const count = this.#arg;
        if (count * 2 > this.#bytes.length - this.#pos) throw this.#error('truncated', `a map of ${count} entries needs more bytes than remain`, start);
        const keys = new KeySet();
        for (let i = 0; i < count; i++) {
          const keyStart = this.#pos;
          this.#item(depth + 1);
          if (!keys.add(this.#bytes, keyStart, this.#pos)) throw this.#error('duplicate-key', 'a map key appears twice', keyStart);
          this.#item(depth + 1);
        }
        return;
      }
      case 6:
        throw this.#error('wrong-type', `tag ${this.#arg} is not used in SenML-CBOR (RFC 8428 §6)`, start);
      default:
        // Major type 7: false, true, null and floats are allowed; undefined and other simple values are not.
        if (this.#ai >= 25 || this.#arg === 20 || this.#arg === 21 || this.#arg === 22) return;
        throw this.#error('wrong-type', `simple value ${this.#arg} is not used in SenML-CBOR`, start);
    }
  }

  #skipBytes(length: number, start: number): void {
    if (length > this.#limits.maxStringLength) throw this.#error('limit', `a string of ${length} bytes is above maxStringLength ${this.#limits.maxStringLength}`, start);
    if (length > this.#bytes.length - this.#pos) throw this.#error('truncated', `a string of ${length} bytes runs past the end`, start);
    this.#pos += length;
  }

  /** Skips a text string of `length` bytes, checking that it is UTF-8. */
  #text(length: number, start: number): void {
    this.#skipBytes(length, start);
    const bytes = this.#bytes;
    const end = this.#pos;
    for (let i = end - length; i < end; i++) {
      if (bytes[i]! >= 0x80) {
        this.#decodeText(end - length, end, start);
        return;
      }
    }
  }

  #decodeText(from: number, to: number, start = from): string {
    try {
      return this.#utf8.decode(this.#bytes.subarray(from, to));
    } catch {
      throw this.#error('not-well-formed', 'a text string is not valid UTF-8 (RFC 8949 §5.3.1)', start);
    }
  }

  /** Reads an initial byte and its argument (RFC 8949 §3), checking §3, §3.3 and §4.2.1; returns the major type. */
  #head(): number {
    const bytes = this.#bytes;
    const start = this.#pos;
    if (start >= bytes.length) throw this.#error('truncated', 'the input ends where a data item should start', start);
    const initial = bytes[start]!;
    const major = initial >> 5;
    const ai = initial & 31;
    this.#ai = ai;
    let p = start + 1;
    if (ai < 24) {
      this.#arg = ai;
    } else if (ai <= 27) {
      const size = 1 << (ai - 24);
      if (p + size > bytes.length) throw this.#error('truncated', `the input ends inside a ${size}-byte argument`, start);
      if (major === 7 && ai > 24) {
        this.#arg = 0; // a float: half, single or double precision, any value
      } else if (ai === 24) {
        const value = bytes[p]!;
        if (major === 7 && value < 32) throw this.#error('not-well-formed', `two-byte simple value ${value} (RFC 8949 §3.3)`, start);
        if (major !== 7 && value < 24) throw this.#error('non-minimal', `${value} in two bytes (RFC 8949 §4.2.1)`, start);
        this.#arg = value;
      } else if (ai === 25) {
        this.#arg = (bytes[p]! << 8) | bytes[p + 1]!;
        if (this.#arg < 0x100) throw this.#error('non-minimal', `${this.#arg} in three bytes (RFC 8949 §4.2.1)`, start);
      } else if (ai === 26) {
        this.#arg = ((bytes[p]! << 24) >>> 0) + ((bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!);
        if (this.#arg < 0x10000) throw this.#error('non-minimal', `${this.#arg} in five bytes (RFC 8949 §4.2.1)`, start);
      } else {
        const high = ((bytes[p]! << 24) >>> 0) + ((bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!);
        const low = ((bytes[p + 4]! << 24) >>> 0) + ((bytes[p + 5]! << 16) | (bytes[p + 6]! << 8) | bytes[p + 7]!);
        if (high === 0) throw this.#error('non-minimal', `${low} in nine bytes (RFC 8949 §4.2.1)`, start);
        this.#arg = high * 4294967296 + low; // approximate above 2^53; only compared with limits then
      }
      p += size;
    } else if (ai === 31) {
      if (major >= 2 && major <= 5) throw this.#error('indefinite-length', 'indefinite-length item (RFC 8949 §4.2.1 requires definite lengths)', start);
      throw this.#error('not-well-formed', major === 7 ? 'a break outside an indefinite-length item' : `additional information 31 with major type ${major}`, start);
    } else {
      throw this.#error('not-well-formed', `reserved additional information ${ai} (RFC 8949 §3)`, start);
    }
    this.#pos = p;
    return major;
  }

  #error(reason: DecodeReason, message: string, offset: number): DecodeError {
    this.#bytes = new Uint8Array(0);
    return new DecodeError(reason, `${message} at byte ${offset}`);
  }
}

/**
 * Decode limits as options: each optional, validated by {@link resolveScanLimits}.
 *
 * @example
 * ```ts
 * const options: ScanLimitOptions = { maxBytes: 65_536 }
 * ```
 */
export type ScanLimitOptions = { readonly [K in keyof ScanLimits]?: number };

/**
 * Defaults: 1 MiB, 10,000 records, 1,024-byte strings, nesting 16 (pack 1, record 2, value 3…).
 *
 * @example
 * ```ts
 * DEFAULT_SCAN_LIMITS.maxRecords // 10000
 * ```
 */
export const DEFAULT_SCAN_LIMITS: Readonly<ScanLimits> = Object.freeze({ maxBytes: 1_048_576, maxRecords: 10_000, maxStringLength: 1024, maxDepth: 16 });

const LIMIT_RANGES: Readonly<Record<keyof ScanLimits, readonly [number, number]>> = {
  maxBytes: [1, 2 ** 31 - 1],
  maxRecords: [1, 2 ** 31 - 1],
  maxStringLength: [1, 2 ** 31 - 1],
  maxDepth: [3, 64],
};

/**
 * Fills in and validates decode limits; throws a precise `TypeError` for a bad option.
 *
 * @example
 * ```ts
 * resolveScanLimits({ maxRecords: 100 }) // { maxBytes: 1048576, maxRecords: 100, maxStringLength: 1024, maxDepth: 16 }
 * resolveScanLimits({ maxDepth: 2 })     // TypeError: Expected `maxDepth` to be an integer from 3 to 64, got 2
 * ```
 */
export function resolveScanLimits(options: ScanLimitOptions): ScanLimits {
  if (typeof options !== 'object' || options === null) throw new TypeError(`Expected \`options\` to be an object, got ${String(options)}`);
  const limits = { ...DEFAULT_SCAN_LIMITS };
  for (const name of Object.keys(LIMIT_RANGES) as Array<keyof ScanLimits>) {
    const value = options[name];
    if (value === undefined) continue;
    const [min, max] = LIMIT_RANGES[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new TypeError(`Expected \`${name}\` to be an integer from ${min} to ${max}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
    }
    limits[name] = value;
  }
  return limits;
}
