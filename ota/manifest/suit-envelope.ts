/**
 * The SUIT envelope (SUIT manifest draft §8.2, CBOR tag 107): an authentication wrapper (key 2)
 * holding the SUIT digest of the manifest and a COSE_Sign1 over that digest, the manifest (key 3) as
 * a byte string, and any severed members (suit-payload-fetch 16, suit-install 20, suit-text 23) as
 * byte strings whose digests the manifest holds (draft §8.4.2).
 *
 * Verification works on the exact bytes received: the signature is checked over the received
 * digest bytes, the digest over the received manifest's bstr (its head included: "the SUIT_Digest
 * is computed over the bstr-wrapped SUIT_Manifest", draft §8.3), each severed member over its bstr
 * the same way, and only then is the manifest decoded (RFC 9124 §4.3.5, §4.3.6).
 */
import { createHash, timingSafeEqual, type KeyObject } from 'node:crypto';
import { ManifestError } from '../errors.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import { CborTagged, decodeCbor, encodeCbor, type CborValue } from './cbor.js';
import { parseSign1, signDetached, verifyDetached, type ParsedSign1 } from './cose.js';
import { interpretManifest } from './suit-interpret.js';
import { manifestMembers, OLD_INSTALL_KEY, parseSuitDigest, readManifestDocument, SEVERABLE_KEYS, SUIT_SHA256, type SuitManifest, type SuitManifestDocument } from './suit-manifest.js';

/** SUIT_Envelope_Tagged (draft §8.2). */
export const SUIT_ENVELOPE_TAG = 107;
const AUTHENTICATION_WRAPPER = 2;
const MANIFEST = 3;
/** Largest envelope accepted, bytes: a manifest is a few hundred; this bounds hostile input. */
export const MAX_ENVELOPE_BYTES = 16_384;

/** Options of {@link signEnvelope}. */
export interface SignOptions {
  /**
   * Sever suit-install and suit-text: the manifest holds their digests, the envelope their bytes
   * (draft §8.4.2), so a distributor may strip the text. Default false.
   */
  readonly severable?: boolean;
}

/** SHA-256 SUIT_Digest of a byte string as it is wrapped in the envelope (head included). */
function wrappedDigest(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(encodeCbor(bytes)).digest();
}

/**
 * Builds and signs an envelope. Throws `ManifestError` when {@link verifyEnvelope} would refuse the
 * result whatever the key (above {@link MAX_ENVELOPE_BYTES}, control characters in a text field,
 * a string over the reader's limits): the signer runs the verifier's own checks, so the two never
 * disagree, and an envelope that no device can take is never written.
 *
 * @example
 * ```ts
 * const envelope = signEnvelope({ sequence: 2, componentId: ['firmware'], vendorId, classId, imageDigest, imageSize }, privateKey)
 * const severed = signEnvelope(manifest, privateKey, { severable: true })
 * ```
 */
export function signEnvelope(manifest: SuitManifest, privateKey: KeyObject, options: SignOptions = {}): Uint8Array {
  const members = manifestMembers(manifest);
  const outside = new Map<number, CborValue>();
  if (options.severable === true) {
    for (const key of SEVERABLE_KEYS) {
      const member = members.get(key);
      if (!(member instanceof Uint8Array)) continue;
      members.set(key, [SUIT_SHA256, wrappedDigest(member)]);
      outside.set(key, member);
    }
  }
  const manifestBytes = encodeCbor(members);
  const digestBytes = encodeCbor([SUIT_SHA256, wrappedDigest(manifestBytes)]);
  const auth = encodeCbor([digestBytes, signDetached(digestBytes, privateKey)]);
  const envelope = encodeCbor(new CborTagged(SUIT_ENVELOPE_TAG, new Map<number, CborValue>([[AUTHENTICATION_WRAPPER, auth], [MANIFEST, manifestBytes], ...outside])));
  readEnvelopeUnverified(envelope);
  return envelope;
}

/** The parts of an envelope, checked for form but not for the signature or digests. */
export interface EnvelopeParts {
  /** The encoded SUIT_Digest the signature covers. */
  readonly digestBytes: Uint8Array;
  /** The COSE_Sign1, when there is one. */
  readonly sign1: ParsedSign1 | undefined;
  readonly manifestBytes: Uint8Array;
  /** Severed members the envelope carries, by key. */
  readonly members: ReadonlyMap<number, Uint8Array>;
}

/**
 * Splits an envelope into its parts, checking its CBOR (strict, deterministic, bounded) and its
 * structure: tag 107, keys 2, 3 and severable members only, one COSE_Sign1 at most. Throws
 * `ManifestError`; an envelope without a signature is `unsigned` unless `allowUnsigned`.
 *
 * @example
 * ```ts
 * const parts = splitEnvelope(bytes)
 * parts.members.has(23) // the text was severed and travels in the envelope
 * ```
 */
export function splitEnvelope(bytes: Uint8Array, options: { allowUnsigned?: boolean } = {}): EnvelopeParts {
  if (bytes.length > MAX_ENVELOPE_BYTES) throw new ManifestError('limit', `an envelope of ${bytes.length} bytes is above ${MAX_ENVELOPE_BYTES}`);
  // Well-formedness and determinism of the whole envelope first; byte strings stay undecoded.
  const outer = decodeCbor(bytes, { tags: [SUIT_ENVELOPE_TAG], maxBytes: MAX_ENVELOPE_BYTES });
  if (!(outer instanceof CborTagged) || !(outer.value instanceof Map)) throw new ManifestError('bad-structure', 'not a SUIT_Envelope_Tagged (tag 107 around a map)');
  const fields = outer.value;
  const members = new Map<number, Uint8Array>();
  for (const [key, value] of fields) {
    if (key === AUTHENTICATION_WRAPPER || key === MANIFEST) continue;
    if (typeof key === 'string') throw new ManifestError('unsupported-command', `integrated payload ${JSON.stringify(key)}: integrated payloads are not supported`);
    if (key === OLD_INSTALL_KEY || !SEVERABLE_KEYS.includes(key)) throw new ManifestError('bad-structure', `envelope key ${JSON.stringify(key)} is not understood`);
    if (!(value instanceof Uint8Array)) throw new ManifestError('bad-structure', `severable member ${key} is not a byte string`);
    members.set(key, value);
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
  if (auth.length < 2 && !options.allowUnsigned) throw new ManifestError('unsigned', 'the authentication wrapper has no COSE_Sign1');
  // The draft allows several signatures; this profile accepts exactly one, so a second, unchecked
  // block can never ride along with a good one (SUIT manifest draft §8.3).
  if (auth.length > 2) throw new ManifestError('bad-structure', `the authentication wrapper holds ${auth.length - 1} signatures; this profile accepts exactly one`);
  return { digestBytes: auth[0] as Uint8Array, sign1: auth.length === 2 ? parseSign1(auth[1] as Uint8Array) : undefined, manifestBytes, members };
}

/**
 * Checks the SUIT digest against the bstr-wrapped manifest and each severed member against the
 * digest the manifest holds for it. Returns the manifest digest (hex). Throws `ManifestError`:
 * `digest-mismatch`, `old-layout` (a digest over the unwrapped bytes, as sensorkit once wrote),
 * `bad-structure` (a member present without a digest).
 *
 * @example
 * ```ts
 * const manifestDigest = checkDigests(splitEnvelope(bytes))
 * ```
 */
export function checkDigests(parts: EnvelopeParts): string {
  const digest = decodeCbor(parts.digestBytes);
  if (!Array.isArray(digest) || digest.length !== 2 || typeof digest[0] !== 'number' || !(digest[1] instanceof Uint8Array)) throw new ManifestError('bad-structure', 'the SUIT digest is not [algorithm, bytes]');
  if (digest[0] !== SUIT_SHA256 || digest[1].length !== 32) throw new ManifestError('bad-structure', `the SUIT digest algorithm ${digest[0]} is not SHA-256 (−16) with 32 bytes`);
  const actual = wrappedDigest(parts.manifestBytes);
  if (!timingSafeEqual(actual, digest[1])) {
    const unwrapped = createHash('sha256').update(parts.manifestBytes).digest();
    if (timingSafeEqual(unwrapped, digest[1])) throw new ManifestError('old-layout', 'old sensorkit SUIT layout (install at key 17); re-sign with this version');
    throw new ManifestError('digest-mismatch', 'the manifest bytes do not match the signed digest');
  }
  if (parts.members.size > 0) {
    const fields = decodeCbor(parts.manifestBytes);
    if (!(fields instanceof Map)) throw new ManifestError('bad-structure', 'the manifest is not a map');
    for (const [key, member] of parts.members) {
      const held = fields.get(key);
      if (held === undefined || held instanceof Uint8Array) throw new ManifestError('bad-structure', `the envelope carries member ${key} but the manifest holds no digest of it`);
      const expected = parseSuitDigest(held, `the digest of member ${key}`);
      if (expected.algorithm !== SUIT_SHA256 || expected.bytes.length !== 32) throw new ManifestError('bad-structure', `the digest of member ${key} is not SHA-256 (−16) with 32 bytes`);
      if (!timingSafeEqual(wrappedDigest(member), expected.bytes)) throw new ManifestError('digest-mismatch', `severable member ${key} does not match its digest in the manifest`);
    }
  }
  return actual.toString('hex');
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
  const parts = splitEnvelope(bytes);
  const manifestDigest = checkDigests(parts);
  return { manifest: interpretManifest(readManifestDocument(parts.manifestBytes, parts.members)), manifestDigest };
}

/** An envelope whose signature and digests verify, read but not executed. */
export interface AuthenticatedEnvelope {
  readonly document: SuitManifestDocument;
  /** Id of the trust anchor whose signature verified. */
  readonly keyId: string;
  /** SUIT digest of the manifest (hex): identifies this exact manifest. */
  readonly manifestDigest: string;
}

/** A verified envelope. */
export interface VerifiedManifest extends AuthenticatedEnvelope {
  /** What the manifest installs. */
  readonly manifest: SuitManifest;
}

/**
 * Authenticates an envelope against trust anchors and reads its manifest without executing it:
 * signature, digests (manifest and severed members) and structure. Whatever sensorkit can or
 * cannot execute in it, this says whether it is authentic. Throws `ManifestError` with the reason.
 *
 * @example
 * ```ts
 * const { document, keyId } = authenticateEnvelope(bytes, trust)
 * ```
 */
export function authenticateEnvelope(bytes: Uint8Array, trust: TrustAnchors, options: { allowRevoked?: boolean } = {}): AuthenticatedEnvelope {
  const parts = splitEnvelope(bytes);
  const sign1 = parts.sign1!;
  const anchor = trust.resolve(sign1.keyId, sign1.algorithm, options);
  if (anchor.algorithm !== sign1.algorithm) throw new ManifestError('bad-algorithm', `key ${anchor.keyId} is ${anchor.algorithm}, the header names ${sign1.algorithm}`);
  if (!verifyDetached(sign1, parts.digestBytes, anchor.publicKey)) throw new ManifestError('bad-signature', `the signature does not verify with key ${anchor.keyId}`);
  // Authenticated from here on: the digest bytes were signed.
  const manifestDigest = checkDigests(parts);
  return { document: readManifestDocument(parts.manifestBytes, parts.members), keyId: anchor.keyId, manifestDigest };
}

/**
 * Verifies an envelope against trust anchors and returns what its manifest installs. Throws
 * `ManifestError` with the reason: malformed or non-deterministic CBOR, an unsigned envelope, `alg`
 * outside the protected header, an unknown or revoked key, a bad signature, a manifest or severed
 * member that does not match its digest, the old layout, a command sensorkit does not execute.
 * `allowRevoked` is for re-checking an image installed while its key was still valid (at boot).
 *
 * @example
 * ```ts
 * const { manifest, keyId } = verifyEnvelope(bytes, trust)
 * ```
 */
export function verifyEnvelope(bytes: Uint8Array, trust: TrustAnchors, options: { allowRevoked?: boolean } = {}): VerifiedManifest {
  const authenticated = authenticateEnvelope(bytes, trust, options);
  return { ...authenticated, manifest: interpretManifest(authenticated.document) };
}
