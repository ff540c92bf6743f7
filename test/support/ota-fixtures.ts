/** Shared fixtures of the OTA tests: keys, a device identity, images and signed envelopes. */
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { ManifestError, UpdateError } from '../../ota/errors.js';
import { generateSigningKey, type SignatureAlgorithm } from '../../ota/keys/keys.js';
import { TrustAnchors } from '../../ota/keys/trust-anchors.js';
import { NAMESPACE_DNS, uuidV5 } from '../../ota/manifest/uuid.js';
import { signEnvelope } from '../../ota/manifest/suit-envelope.js';
import type { SuitManifest } from '../../ota/manifest/suit-manifest.js';
import { SeededRandom } from '../../sdk/core/random.js';

export const VENDOR_ID = uuidV5(NAMESPACE_DNS, 'acme.example');
export const CLASS_ID = uuidV5(VENDOR_ID, 'EN-1');
export const DEVICE = { vendorId: VENDOR_ID, classId: CLASS_ID } as const;

/** A signing key with its private key object and public PEM. */
export interface TestKey {
  readonly privateKey: KeyObject;
  readonly publicPem: string;
  readonly keyId: string;
}

export function makeKey(algorithm: SignatureAlgorithm = 'ed25519'): TestKey {
  const pair = generateSigningKey(algorithm);
  return { privateKey: createPrivateKey(pair.privatePem), publicPem: pair.publicPem, keyId: pair.keyId };
}

export function trustOf(...keys: TestKey[]): TrustAnchors {
  return TrustAnchors.of(keys.map((k) => k.publicPem));
}

/** Deterministic image bytes for a seed. */
export function makeImage(size: number, seed = 1): Buffer {
  const random = new SeededRandom(seed);
  const image = Buffer.alloc(size);
  let i = 0;
  for (; i + 4 <= size; i += 4) image.writeUInt32LE(random.nextUint32(), i);
  for (; i < size; i++) image[i] = random.nextUint32() & 0xff;
  return image;
}

export function manifestFor(image: Uint8Array, sequence: number, extra: Partial<SuitManifest> = {}): SuitManifest {
  return {
    sequence,
    componentId: ['firmware'],
    vendorId: VENDOR_ID,
    classId: CLASS_ID,
    imageDigest: createHash('sha256').update(image).digest(),
    imageSize: image.length,
    uri: 'firmware.bin',
    version: `1.0.${sequence}`,
    ...extra,
  };
}

export function envelopeFor(image: Uint8Array, sequence: number, key: TestKey, extra: Partial<SuitManifest> = {}): Uint8Array {
  return signEnvelope(manifestFor(image, sequence, extra), key.privateKey);
}

/** The reason a refusal gives (`ManifestError`/`UpdateError`), or 'accepted'; other errors rethrow. */
export function reasonOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof ManifestError || error instanceof UpdateError) return error.reason;
    throw error;
  }
  return 'accepted';
}

/** {@link reasonOf} for a promise. */
export async function reasonOfAsync(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    if (error instanceof ManifestError || error instanceof UpdateError) return error.reason;
    throw error;
  }
}
