/**
 * COSE_Sign1 (RFC 9052 §4.2, §4.4) with Ed25519 (EdDSA, alg −8) or ECDSA P-256 with SHA-256 (ES256,
 * alg −7), RFC 9053 §2: the signing side and the signature check, shared by OTA manifests (detached
 * payload) and signed operator requests (attached payload). `alg` is only in the protected header,
 * where the signature covers it; the key id travels unprotected as a hint. ECDSA signatures are the
 * raw r‖s form (RFC 9053 §2.1), which node:crypto writes with `dsaEncoding: 'ieee-p1363'`. Parsing
 * received bytes is left to the caller's strict CBOR reader; this module checks what it parsed.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { ArgumentError } from '../../sdk/core/errors.js';
import { CoseTagged, encodeCoseCbor, type CoseCborValue } from './cbor-write.js';

/** COSE_Sign1_Tagged (RFC 9052 §2). */
export const COSE_SIGN1_TAG = 18;
/** Header labels (RFC 9052 §3.1). */
export const COSE_HEADER = Object.freeze({ alg: 1, contentType: 3, kid: 4 });

/** The signature algorithms accepted. */
export type CoseAlgorithm = 'ed25519' | 'p256';

/**
 * COSE algorithm identifiers (RFC 9053 §2.1, §2.2).
 *
 * @example
 * ```ts
 * COSE_ALGORITHM_ID.ed25519 // -8
 * ```
 */
export const COSE_ALGORITHM_ID: Readonly<Record<CoseAlgorithm, number>> = Object.freeze({ ed25519: -8, p256: -7 });

/**
 * The algorithm of a COSE alg id, or undefined when it is not one accepted here.
 *
 * @example
 * ```ts
 * coseAlgorithmOfId(-7) // 'p256'
 * ```
 */
export function coseAlgorithmOfId(id: unknown): CoseAlgorithm | undefined {
  return id === -8 ? 'ed25519' : id === -7 ? 'p256' : undefined;
}

/**
 * The algorithm of a key, or undefined for a key that is neither Ed25519 nor P-256.
 *
 * @example
 * ```ts
 * coseAlgorithmOfKey(createPublicKey(pem)) // 'ed25519'
 * ```
 */
export function coseAlgorithmOfKey(key: KeyObject): CoseAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'p256';
  return undefined;
}

/**
 * A key id: the first 8 bytes of the SHA-256 of the public key's SPKI DER, in hex, so every holder
 * of the public key computes the same id.
 *
 * @example
 * ```ts
 * coseKeyId(createPublicKey(pem)) // e.g. '3f9a0c…' (16 hex digits)
 * ```
 */
export function coseKeyId(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest().subarray(0, 8).toString('hex');
}

/**
 * The bytes a Sign1 signature covers: `["Signature1", protected, external_aad, payload]`
 * (RFC 9052 §4.4).
 *
 * @example
 * ```ts
 * const toBeSigned = sign1Structure(protectedBytes, payload)
 * ```
 */
export function sign1Structure(protectedBytes: Uint8Array, payload: Uint8Array, externalAad: Uint8Array = new Uint8Array(0)): Uint8Array {
  return encodeCoseCbor(['Signature1', protectedBytes, externalAad, payload]);
}

function algorithmOf(key: KeyObject): CoseAlgorithm {
  const algorithm = coseAlgorithmOfKey(key);
  if (algorithm === undefined) throw new ArgumentError(`Expected an Ed25519 or ECDSA P-256 key, got a ${key.asymmetricKeyType ?? 'symmetric'} key`);
  return algorithm;
}

/**
 * Signs `data` with `privateKey`: Ed25519, or ECDSA P-256 over SHA-256 as raw r‖s (RFC 9053 §2.1).
 *
 * @example
 * ```ts
 * const signature = coseSign(sign1Structure(protectedBytes, payload), privateKey)
 * ```
 */
export function coseSign(data: Uint8Array, privateKey: KeyObject): Uint8Array {
  return algorithmOf(privateKey) === 'ed25519' ? sign(null, data, privateKey) : sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
}

/**
 * Whether `signature` is `publicKey`'s signature of `data` under `algorithm` (which must be the
 * key's own: a key is never used with another algorithm).
 *
 * @example
 * ```ts
 * coseVerify('ed25519', sign1Structure(protectedBytes, payload), publicKey, signature) // true
 * ```
 */
export function coseVerify(algorithm: CoseAlgorithm, data: Uint8Array, publicKey: KeyObject, signature: Uint8Array): boolean {
  if (coseAlgorithmOfKey(publicKey) !== algorithm) return false;
  // Ed25519 and raw P-256 r‖s signatures are both 64 bytes (RFC 8032 §5.1.6, RFC 9053 §2.1).
  if (signature.length !== 64) return false;
  try {
    return algorithm === 'ed25519' ? verify(null, data, publicKey, signature) : verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/** What {@link signSign1} puts in the headers besides `alg` and `kid`. */
export interface Sign1Options {
  /** Content type of the payload (RFC 9052 §3.1, label 3), protected. */
  readonly contentType?: string;
  /** Leave the payload out of the structure (nil), as SUIT does. Default false. */
  readonly detached?: boolean;
}

/**
 * Signs `payload` and returns the encoded COSE_Sign1_Tagged: `alg` (and a content type) protected,
 * the key id unprotected.
 *
 * @example
 * ```ts
 * const bytes = signSign1(payload, privateKey, { contentType: 'application/cbor' })
 * const suit = signSign1(digestBytes, privateKey, { detached: true })
 * ```
 */
export function signSign1(payload: Uint8Array, privateKey: KeyObject, options: Sign1Options = {}): Uint8Array {
  const algorithm = algorithmOf(privateKey);
  const header = new Map<number, CoseCborValue>([[COSE_HEADER.alg, COSE_ALGORITHM_ID[algorithm]]]);
  if (options.contentType !== undefined) header.set(COSE_HEADER.contentType, options.contentType);
  const protectedBytes = encodeCoseCbor(header);
  const unprotected = new Map<number, CoseCborValue>([[COSE_HEADER.kid, Uint8Array.from(Buffer.from(coseKeyId(privateKey), 'hex'))]]);
  const signature = coseSign(sign1Structure(protectedBytes, payload), privateKey);
  return encodeCoseCbor(new CoseTagged(COSE_SIGN1_TAG, [protectedBytes, unprotected, options.detached === true ? null : payload, signature]));
}
