/**
 * Deterministic CBOR for signed manifests (RFC 8949). Decoding is the SDK's one strict reader
 * (`sdk/encoding/cbor-reader.ts`) under this profile: the core deterministic encoding (§4.2.1:
 * definite lengths, shortest forms, map keys unique and in bytewise order of their encodings), no
 * floats, `undefined` or other simple values, integers within 2^53, and only the tags the caller
 * lists: a SUIT envelope uses nothing else, and each one is a second way to write the same thing.
 * Byte strings are returned as views of the input, so the exact received bytes of a `bstr .cbor`
 * field can be hashed and verified before they are decoded. The reader's `DecodeError` becomes a
 * `ManifestError`: `limit` for a limit, `malformed-cbor` for everything else.
 */
import { ArgumentError, DecodeError } from '../../sdk/core/errors.js';
import { CborTagged, compareBytes, decodeStrictCbor, type CborLimits, type CborMap, type CborValue } from '../../sdk/encoding/cbor-reader.js';
import { ManifestError } from '../errors.js';

export { CborTagged, type CborMap, type CborValue };

/**
 * What {@link decodeCbor} takes: the reader's limits and the tags that may appear.
 *
 * @example
 * ```ts
 * const options: ManifestCborOptions = { ...DEFAULT_MANIFEST_CBOR, tags: [107] }
 * ```
 */
export interface ManifestCborOptions extends CborLimits {
  /** Tags that may appear. Default none. */
  readonly tags: readonly number[];
}

/**
 * The defaults of {@link decodeCbor}: 65,536 bytes (a manifest is a few hundred), 256 items, nesting
 * 16, strings of 16,384 bytes, no tags.
 *
 * @example
 * ```ts
 * decodeCbor(bytes, { ...DEFAULT_MANIFEST_CBOR, tags: [107] })
 * ```
 */
export const DEFAULT_MANIFEST_CBOR: Readonly<ManifestCborOptions> = Object.freeze({ maxBytes: 65_536, maxItems: 256, maxDepth: 16, maxStringLength: 16_384, tags: [] });

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
export function decodeCbor(bytes: Uint8Array, options: Partial<ManifestCborOptions> = {}): CborValue {
  const { tags, ...limits } = { ...DEFAULT_MANIFEST_CBOR, ...options };
  try {
    return decodeStrictCbor(bytes, limits, { format: 'SUIT manifests', tags, floats: false, sortedKeys: true, copyBytes: false });
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    throw new ManifestError(error.reason === 'limit' ? 'limit' : 'malformed-cbor', error.message, { cause: error });
  }
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
  writeHead(major, arg, parts);
  return concatBytes(parts);
}

function writeHead(major: number, arg: number, parts: Uint8Array[]): void {
  if (!Number.isSafeInteger(arg) || arg < 0) throw new ArgumentError(`Expected a CBOR argument to be an integer from 0 to 2^53, got ${arg}`);
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
    if (!Number.isSafeInteger(value)) throw new ArgumentError(`Expected a CBOR number to be an integer within ±2^53, got ${value}`);
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
      if (compareBytes(entries[i - 1]![0], entries[i]![0]) === 0) throw new ArgumentError('Expected the keys of a CBOR map to be unique');
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
    throw new ArgumentError(`Expected a CBOR value, got ${typeof value}`);
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
