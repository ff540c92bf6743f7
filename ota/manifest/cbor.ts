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
import { DecodeError } from '../../sdk/core/errors.js';
import { CborTagged, decodeStrictCbor, type CborLimits, type CborMap, type CborValue } from '../../sdk/encoding/cbor-reader.js';
import { concatBytes, encodeCoseCbor, encodeHead, type CoseCborValue } from '../../security/cose/cbor-write.js';
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
 * lengths, map keys sorted by their encodings; integers only (a manifest holds no floats). Plain
 * objects are not accepted; use `Map`.
 *
 * @example
 * ```ts
 * encodeCbor(new Map([[2, 'b'], [1, 'a']])) // a2 01 61 61 02 61 62: keys sorted
 * ```
 */
export function encodeCbor(value: CborValue): Uint8Array {
  return encodeCoseCbor(value as CoseCborValue, { integersOnly: true });
}

export { concatBytes, encodeHead };
