/**
 * COSE_Sign1 with a detached payload (RFC 9052 §4.2, §4.4), as SUIT uses it to sign the SUIT digest
 * of a manifest (RFC 9124 §4.3, SUIT manifest draft §8.3): `alg` is only in the protected header
 * (where the signature covers it), the key id travels unprotected as a hint, and the payload field
 * is nil. ECDSA signatures are the raw r‖s form (RFC 9053 §2.1), which node:crypto writes with
 * `dsaEncoding: 'ieee-p1363'`. Signing and the signature check are the generic COSE_Sign1 of
 * `security/cose` (shared with signed operator commands); parsing stays here, under the SUIT
 * profile's strict CBOR reader and its typed `ManifestError` reasons.
 */
import type { KeyObject } from 'node:crypto';
import { coseVerify, sign1Structure, signSign1 } from '../../security/cose/sign1.js';
import { ManifestError } from '../errors.js';
import { algorithmOfCoseId, algorithmOfKey, type SignatureAlgorithm } from '../keys/keys.js';
import { CborTagged, decodeCbor } from './cbor.js';

/** COSE_Sign1_Tagged (RFC 9052 §2). */
export const COSE_SIGN1_TAG = 18;
const HEADER_ALG = 1;
const HEADER_KID = 4;

/**
 * The bytes a Sign1 signature covers: `["Signature1", protected, external_aad, payload]`
 * (RFC 9052 §4.4), deterministically encoded.
 *
 * @example
 * ```ts
 * const toBeSigned = sigStructure(protectedBytes, digestBytes)
 * ```
 */
export function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return sign1Structure(protectedBytes, payload);
}

/**
 * Signs `payload` (detached) and returns the encoded COSE_Sign1_Tagged.
 *
 * @example
 * ```ts
 * const sign1 = signDetached(digestBytes, privateKey)
 * ```
 */
export function signDetached(payload: Uint8Array, privateKey: KeyObject): Uint8Array {
  algorithmOfKey(privateKey); // a key of another type is a ManifestError (bad-algorithm) here
  return signSign1(payload, privateKey, { detached: true });
}

/** A parsed COSE_Sign1, before its signature is checked. */
export interface ParsedSign1 {
  readonly algorithm: SignatureAlgorithm;
  /** The key id hint (hex), when present. */
  readonly keyId: string | undefined;
  readonly protectedBytes: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Parses an encoded COSE_Sign1_Tagged with a detached payload; throws `ManifestError`
 * (`bad-structure`, `bad-algorithm`, `malformed-cbor`) when it is not one this profile accepts.
 *
 * @example
 * ```ts
 * const parsed = parseSign1(bytes)
 * parsed.algorithm // 'ed25519'
 * ```
 */
export function parseSign1(bytes: Uint8Array): ParsedSign1 {
  const tagged = decodeCbor(bytes, { tags: [COSE_SIGN1_TAG] });
  if (!(tagged instanceof CborTagged) || !Array.isArray(tagged.value) || tagged.value.length !== 4) {
    throw new ManifestError('bad-structure', 'the authentication block is not a COSE_Sign1_Tagged (RFC 9052 §4.2)');
  }
  const [protectedBytes, unprotected, payload, signature] = tagged.value;
  if (!(protectedBytes instanceof Uint8Array) || !(unprotected instanceof Map) || !(signature instanceof Uint8Array)) {
    throw new ManifestError('bad-structure', 'COSE_Sign1 fields have the wrong types');
  }
  if (payload !== null) throw new ManifestError('bad-structure', 'the COSE_Sign1 payload must be detached (nil)');
  if (unprotected.has(HEADER_ALG)) throw new ManifestError('bad-algorithm', '`alg` must be in the protected header only (RFC 9052 §3.1)');
  const header = protectedBytes.length === 0 ? new Map() : decodeCbor(protectedBytes);
  if (!(header instanceof Map)) throw new ManifestError('bad-structure', 'the protected header is not a map');
  for (const key of header.keys()) {
    if (key !== HEADER_ALG && key !== HEADER_KID) throw new ManifestError('bad-structure', `protected header parameter ${String(key)} is not understood`);
  }
  for (const key of unprotected.keys()) {
    if (key !== HEADER_KID) throw new ManifestError('bad-structure', `unprotected header parameter ${String(key)} is not understood`);
  }
  if (!header.has(HEADER_ALG)) throw new ManifestError('bad-algorithm', 'no `alg` in the protected header');
  const algorithm = algorithmOfCoseId(header.get(HEADER_ALG));
  if (algorithm === undefined) throw new ManifestError('bad-algorithm', `alg ${String(header.get(HEADER_ALG))} is not EdDSA (−8) or ES256 (−7)`);
  // A parameter may not be in both buckets (RFC 9052 §3): which one counts would be ambiguous.
  if (header.has(HEADER_KID) && unprotected.has(HEADER_KID)) throw new ManifestError('bad-structure', 'kid in both the protected and the unprotected header (RFC 9052 §3)');
  const kid = header.get(HEADER_KID) ?? unprotected.get(HEADER_KID);
  if (kid !== undefined && !(kid instanceof Uint8Array)) throw new ManifestError('bad-structure', 'kid must be a byte string');
  return { algorithm, keyId: kid === undefined ? undefined : Buffer.from(kid).toString('hex'), protectedBytes, signature };
}

/**
 * Whether `parsed` is a valid signature of `payload` by `publicKey` (whose algorithm must be the
 * one the protected header names).
 *
 * @example
 * ```ts
 * if (!verifyDetached(parseSign1(bytes), digestBytes, publicKey)) throw new ManifestError('bad-signature', 'the signature does not verify')
 * ```
 */
export function verifyDetached(parsed: ParsedSign1, payload: Uint8Array, publicKey: KeyObject): boolean {
  if (algorithmOfKey(publicKey) !== parsed.algorithm) return false;
  // Ed25519 and raw P-256 r‖s signatures are both 64 bytes (RFC 8032 §5.1.6, RFC 9053 §2.1).
  if (parsed.signature.length !== 64) return false;
  return coseVerify(parsed.algorithm, sigStructure(parsed.protectedBytes, payload), publicKey, parsed.signature);
}
