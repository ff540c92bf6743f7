/**
 * Reads a signed operator request (a COSE_Sign1_Tagged, RFC 9052 §4.2, with the claims of
 * `security/operators/signed-request.ts` as its payload) with the project's one strict CBOR reader,
 * bounded like every request: definite lengths, no duplicate keys, no trailing bytes, tag 18 only
 * at the top, nesting at most 4 in the envelope and 3 in the payload (claims, arguments, a scalar). The outcome is what
 * the authorizer decides on; checking the signature, the key and the claims is its job.
 */
import { cut } from '../../core/check.js';
import { DecodeError } from '../../core/errors.js';
import { decodeStrictCbor, CborTagged, type CborLimits, type CborProfile } from '../../encoding/cbor-reader.js';
import { claimsOf, COSE_HEADER, COSE_SIGN1_TAG, SIGNED_REQUEST_CONTENT_TYPE, type PresentedRequest } from '../../../security/operators/index.js';

const ENVELOPE: CborProfile = { format: 'signed requests', tags: [COSE_SIGN1_TAG], floats: false, sortedKeys: false, copyBytes: false };
const HEADER: CborProfile = { format: 'COSE headers', tags: [], floats: false, sortedKeys: false, copyBytes: false };
const CLAIMS: CborProfile = { format: 'signed request claims', tags: [], floats: true, sortedKeys: false, copyBytes: true };

/**
 * Whether a request presents itself as signed: its MQTT 5 Content Type is `application/cose…`, or
 * its first byte is the head of tag 18 (0xd2), which neither a CBOR map nor JSON text starts with.
 *
 * @example
 * ```ts
 * looksSigned(Uint8Array.of(0xd2, 0x84), undefined) // true
 * ```
 */
export function looksSigned(payload: Uint8Array, contentType: string | undefined): boolean {
  return contentType?.startsWith('application/cose') === true || payload[0] === 0xd2;
}

/**
 * Reads a request for the authorizer: `unsigned` unless it looks signed; then `signed` with its
 * parts, or `malformed` with the reason.
 *
 * @example
 * ```ts
 * const presented = presentRequest(payload, packet.properties?.contentType, { maxBytes: 4096 })
 * const decision = authorizer.authorize(presented, target)
 * ```
 */
export function presentRequest(payload: Uint8Array, contentType: string | undefined, limits: { maxBytes?: number; maxEntries?: number } = {}): PresentedRequest {
  if (!looksSigned(payload, contentType)) return { kind: 'unsigned' };
  const maxBytes = limits.maxBytes ?? 4096;
  const bounds: CborLimits = { maxBytes, maxItems: (limits.maxEntries ?? 32) * 2 + 32, maxDepth: 3, maxStringLength: maxBytes };
  try {
    // Tag, array, unprotected map, kid: depth 4.
    const tagged = decodeStrictCbor(payload, { ...bounds, maxDepth: 4 }, ENVELOPE);
    if (!(tagged instanceof CborTagged) || tagged.tag !== COSE_SIGN1_TAG || !Array.isArray(tagged.value) || tagged.value.length !== 4) return malformed('not a COSE_Sign1_Tagged (RFC 9052 §4.2)');
    const [protectedBytes, unprotected, body, signature] = tagged.value;
    if (!(protectedBytes instanceof Uint8Array) || !(unprotected instanceof Map) || !(body instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
      return malformed('COSE_Sign1 fields have the wrong types (an attached payload is required)');
    }
    const header = protectedBytes.length === 0 ? new Map() : decodeStrictCbor(protectedBytes, { ...bounds, maxDepth: 2 }, HEADER);
    if (!(header instanceof Map)) return malformed('the protected header is not a map');
    for (const key of header.keys()) if (key !== COSE_HEADER.alg && key !== COSE_HEADER.contentType && key !== COSE_HEADER.kid) return malformed(`protected header parameter ${cut(String(key))} is not understood`);
    for (const key of unprotected.keys()) if (key !== COSE_HEADER.kid) return malformed(`unprotected header parameter ${cut(String(key))} is not understood`);
    if (header.has(COSE_HEADER.kid) && unprotected.has(COSE_HEADER.kid)) return malformed('kid in both the protected and the unprotected header (RFC 9052 §3)');
    const kid = header.get(COSE_HEADER.kid) ?? unprotected.get(COSE_HEADER.kid);
    // A key id here is 8 bytes; a longer one is not one this device issued, and would only bloat replies and records.
    if (kid !== undefined && !(kid instanceof Uint8Array && kid.length <= 32)) return malformed('kid must be a byte string of at most 32 bytes');
    const claims = claimsOf(decodeStrictCbor(body, bounds, CLAIMS));
    if (typeof claims === 'string') return malformed(claims);
    return {
      kind: 'signed',
      envelope: { algorithmId: header.get(COSE_HEADER.alg), keyId: kid === undefined ? undefined : Buffer.from(kid).toString('hex'), protectedBytes, payload: body, signature, claims },
    };
  } catch (error) {
    if (error instanceof DecodeError) return malformed(`invalid CBOR: ${error.message}`);
    return malformed('not a signed request');
  }
}

function malformed(message: string): PresentedRequest {
  return { kind: 'malformed', message };
}

export { SIGNED_REQUEST_CONTENT_TYPE };
