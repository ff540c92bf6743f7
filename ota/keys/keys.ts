/**
 * Signing keys for manifests: Ed25519 (COSE alg −8, EdDSA) or ECDSA P-256 with SHA-256 (COSE alg
 * −7, ES256), RFC 9053 §2. Private keys are PKCS#8 PEM (mode 0600), public keys SPKI PEM; a key id
 * is the first 8 bytes of the SHA-256 of the SPKI DER, in hex, so any holder of the public key
 * computes the same id.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, writeFile, readFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { COSE_ALGORITHM_ID, coseAlgorithmOfId, coseKeyId, type CoseAlgorithm } from '../../security/cose/sign1.js';
import { ManifestError } from '../errors.js';

/** The signature algorithms this profile accepts (COSE's, shared with signed commands and records). */
export type SignatureAlgorithm = CoseAlgorithm;

/**
 * COSE algorithm identifiers (RFC 9053 §2.1, §2.2).
 *
 * @example
 * ```ts
 * COSE_ALG.ed25519 // -8
 * ```
 */
export const COSE_ALG = COSE_ALGORITHM_ID;

/**
 * The algorithm of a COSE alg id, or undefined when this profile does not accept it.
 *
 * @example
 * ```ts
 * algorithmOfCoseId(-7) // 'p256'
 * ```
 */
export const algorithmOfCoseId = coseAlgorithmOfId;

/**
 * The algorithm of a key object; throws `ManifestError` (`bad-algorithm`) for other key types.
 *
 * @example
 * ```ts
 * algorithmOfKey(createPublicKey(pem)) // 'ed25519'
 * ```
 */
export function algorithmOfKey(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'p256';
  throw new ManifestError('bad-algorithm', `a ${key.asymmetricKeyType ?? 'symmetric'} key; expected Ed25519 or ECDSA P-256`);
}

/**
 * The key id of a public (or private) key: SHA-256 of the SPKI DER, first 8 bytes, hex.
 *
 * @example
 * ```ts
 * keyIdOf(createPublicKey(pem)) // e.g. '3f9a0c…' (16 hex digits)
 * ```
 */
export const keyIdOf = coseKeyId;

/** A key pair in PEM. */
export interface PemKeyPair {
  readonly algorithm: SignatureAlgorithm;
  /** PKCS#8. */
  readonly privatePem: string;
  /** SPKI. */
  readonly publicPem: string;
  readonly keyId: string;
}

/**
 * Generates a key pair.
 *
 * @example
 * ```ts
 * const { privatePem, publicPem, keyId } = generateSigningKey('p256')
 * ```
 */
export function generateSigningKey(algorithm: SignatureAlgorithm = 'ed25519'): PemKeyPair {
  const pair = algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    algorithm,
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(pair.publicKey),
  };
}

/**
 * Generates a key pair into `dir`: `private.pem` (PKCS#8, mode 0600) and `public.pem` (SPKI, 0644).
 * Refuses to overwrite an existing private key.
 *
 * @example
 * ```ts
 * const { keyId } = await writeSigningKey('keys/release', 'ed25519')
 * ```
 */
export async function writeSigningKey(dir: string, algorithm: SignatureAlgorithm = 'ed25519'): Promise<PemKeyPair> {
  const pair = generateSigningKey(algorithm);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // 'wx': never overwrite a key someone may rely on; mode applies to the new file.
  await writeFile(join(dir, 'private.pem'), pair.privatePem, { mode: 0o600, flag: 'wx' });
  await chmod(join(dir, 'private.pem'), 0o600); // the umask may have masked bits off; make it exact
  await writeFile(join(dir, 'public.pem'), pair.publicPem, { mode: 0o644 });
  return pair;
}

/**
 * Reads a PKCS#8 private key PEM file.
 *
 * @example
 * ```ts
 * const key = await readPrivateKey('keys/release/private.pem')
 * ```
 */
export async function readPrivateKey(file: string): Promise<KeyObject> {
  const key = createPrivateKey(await readFile(file, 'utf8'));
  algorithmOfKey(key);
  return key;
}

/**
 * Reads an SPKI public key PEM file (a private key file also gives its public key).
 *
 * @example
 * ```ts
 * const key = await readPublicKey('keys/release/public.pem')
 * ```
 */
export async function readPublicKey(file: string): Promise<KeyObject> {
  const key = createPublicKey(await readFile(file, 'utf8'));
  algorithmOfKey(key);
  return key;
}
