/**
 * The SUIT envelope (SUIT manifest draft §8.2, CBOR tag 107): an authentication wrapper (key 2)
 * holding the SUIT digest of the manifest and a COSE_Sign1 over that digest, and the manifest
 * (key 3) as a byte string. Verification works on the exact bytes received: the signature is
 * checked over the received digest bytes, the digest over the received manifest bytes, and only
 * then is the manifest decoded (RFC 9124 §4.3.5, §4.3.6).
 */
import { createHash, timingSafeEqual, type KeyObject } from 'node:crypto';
import { ManifestError } from '../errors.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import { CborTagged, decodeCbor, encodeCbor, type CborValue } from './cbor.js';
import { parseSign1, signDetached, verifyDetached } from './cose.js';
import { decodeManifest, encodeManifest, SUIT_SHA256, type SuitManifest } from './suit-manifest.js';

/** SUIT_Envelope_Tagged (draft §8.2). */
export const SUIT_ENVELOPE_TAG = 107;
const AUTHENTICATION_WRAPPER = 2;
const MANIFEST = 3;
/** Largest envelope accepted, bytes: a manifest is a few hundred; this bounds hostile input. */
export const MAX_ENVELOPE_BYTES = 16_384;

/**
 * Builds and signs an envelope. Throws `ManifestError` when {@link verifyEnvelope} would refuse the
 * result whatever the key (above {@link MAX_ENVELOPE_BYTES}, control characters in a text field,
 * a string over the reader's limits): the signer runs the verifier's own checks, so the two never
 * disagree, and an envelope that no device can take is never written.
 *
 * @example
 * ```ts
 * const envelope = signEnvelope({ sequence: 2, componentId: ['firmware'], vendorId, classId, imageDigest, imageSize }, privateKey)
 * ```
 */
export function signEnvelope(manifest: SuitManifest, privateKey: KeyObject): Uint8Array {
  const manifestBytes = encodeManifest(manifest);
  const digestBytes = encodeCbor([SUIT_SHA256, createHash('sha256').update(manifestBytes).digest()]);
  const auth = encodeCbor([digestBytes, signDetached(digestBytes, privateKey)]);
  const envelope = encodeCbor(new CborTagged(SUIT_ENVELOPE_TAG, new Map<number, CborValue>([[AUTHENTICATION_WRAPPER, auth], [MANIFEST, manifestBytes]])));
  readEnvelopeUnverified(envelope);
  return envelope;
}

/** The parts of an envelope, checked for form but not for the signature. */
interface EnvelopeParts {
  readonly digestBytes: Uint8Array;
  readonly sign1: ReturnType<typeof parseSign1>;
  readonly manifestBytes: Uint8Array;
}

function envelopeParts(bytes: Uint8Array): EnvelopeParts {
  if (bytes.length > MAX_ENVELOPE_BYTES) throw new ManifestError('limit', `an envelope of ${bytes.length} bytes is above ${MAX_ENVELOPE_BYTES}`);
  // Well-formedness and determinism of the whole envelope first; byte strings stay undecoded.
  const outer = decodeCbor(bytes, { tags: [SUIT_ENVELOPE_TAG], maxBytes: MAX_ENVELOPE_BYTES });
  if (!(outer instanceof CborTagged) || !(outer.value instanceof Map)) throw new ManifestError('bad-structure', 'not a SUIT_Envelope_Tagged (tag 107 around a map)');
  const fields = outer.value;
  for (const key of fields.keys()) {
    if (key !== AUTHENTICATION_WRAPPER && key !== MANIFEST) throw new ManifestError('bad-structure', `envelope key ${JSON.stringify(key)} is not understood`);
  }
  const authBytes = fields.get(AUTHENTICATION_WRAPPER);
  const manifestBytes = fields.get(MANIFEST);
  if (!(manifestBytes instanceof Uint8Array)) throw new ManifestError('bad-structure', 'the manifest (key 3) is missing or not a byte string');
  if (authBytes === undefined) throw new ManifestError('unsigned', 'no authentication wrapper (key 2)');
  if (!(authBytes instanceof Uint8Array)) throw new ManifestError('bad-structure', 'the authentication wrapper is not a byte string');
  const auth = decodeCbor(authBytes);
  if (!Array.isArray(auth) || auth.length < 1 || !auth.every((item) => item instanceof Uint8Array)) {
    throw new ManifestError('bad-structure', 'the authentication wrapper is not [digest, * signature] byte strings');
  }
  if (auth.length < 2) throw new ManifestError('unsigned', 'the authentication wrapper has no COSE_Sign1');
  // The draft allows several signatures; this profile accepts exactly one, so a second, unchecked
  // block can never ride along with a good one (SUIT manifest draft §8.3).
  if (auth.length > 2) throw new ManifestError('bad-structure', `the authentication wrapper holds ${auth.length - 1} signatures; this profile accepts exactly one`);
  return { digestBytes: auth[0] as Uint8Array, sign1: parseSign1(auth[1] as Uint8Array), manifestBytes };
}

/** Checks the SUIT digest against the manifest bytes and decodes the manifest. */
function digestAndManifest(parts: EnvelopeParts): { manifest: SuitManifest; manifestDigest: string } {
  const digest = decodeCbor(parts.digestBytes);
  if (!Array.isArray(digest) || digest.length !== 2 || digest[0] !== SUIT_SHA256 || !(digest[1] instanceof Uint8Array) || digest[1].length !== 32) {
    throw new ManifestError('bad-structure', 'the SUIT digest is not [-16 (SHA-256), 32 bytes]');
  }
  const actual = createHash('sha256').update(parts.manifestBytes).digest();
  if (!timingSafeEqual(actual, digest[1])) throw new ManifestError('digest-mismatch', 'the manifest bytes do not match the signed digest');
  return { manifest: decodeManifest(parts.manifestBytes), manifestDigest: actual.toString('hex') };
}

/**
 * Reads an envelope's manifest with every check of {@link verifyEnvelope} except the signature:
 * for the signer's self-check and for a server that only needs to know what an envelope it serves
 * names (its URI, size and digest). Never a reason to trust the manifest: devices verify.
 *
 * @example
 * ```ts
 * const { manifest } = readEnvelopeUnverified(await readFile('fw.suit'))
 * manifest.uri // 'fw.bin'
 * ```
 */
export function readEnvelopeUnverified(bytes: Uint8Array): { manifest: SuitManifest; manifestDigest: string } {
  return digestAndManifest(envelopeParts(bytes));
}

/** A verified envelope. */
export interface VerifiedManifest {
  readonly manifest: SuitManifest;
  /** Id of the trust anchor whose signature verified. */
  readonly keyId: string;
  /** SHA-256 of the manifest bytes (hex): identifies this exact manifest. */
  readonly manifestDigest: string;
}

/**
 * Verifies an envelope against trust anchors and returns its manifest. Throws `ManifestError` with
 * the reason: malformed or non-deterministic CBOR, an unsigned envelope, `alg` outside the protected
 * header, an unknown or revoked key, a bad signature, a manifest that does not match its digest.
 * `allowRevoked` is for re-checking an image installed while its key was still valid (at boot).
 *
 * @example
 * ```ts
 * const { manifest, keyId } = verifyEnvelope(bytes, trust)
 * ```
 */
export function verifyEnvelope(bytes: Uint8Array, trust: TrustAnchors, options: { allowRevoked?: boolean } = {}): VerifiedManifest {
  const parts = envelopeParts(bytes);
  const anchor = trust.resolve(parts.sign1.keyId, parts.sign1.algorithm, options);
  if (anchor.algorithm !== parts.sign1.algorithm) throw new ManifestError('bad-algorithm', `key ${anchor.keyId} is ${anchor.algorithm}, the header names ${parts.sign1.algorithm}`);
  if (!verifyDetached(parts.sign1, parts.digestBytes, anchor.publicKey)) throw new ManifestError('bad-signature', `the signature does not verify with key ${anchor.keyId}`);
  // Authenticated from here on: the digest bytes were signed.
  return { ...digestAndManifest(parts), keyId: anchor.keyId };
}
