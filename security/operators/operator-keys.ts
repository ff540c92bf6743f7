/**
 * Operator key pairs: Ed25519 (default) or ECDSA P-256, the algorithms of COSE_Sign1 here
 * (RFC 9053 §2). The private key is PKCS#8 PEM, owner-only (0600); the public key SPKI PEM, to be
 * trusted on devices with a role. A key id is the first 8 bytes of SHA-256 over the SPKI DER.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError, ValidationError } from '../../sdk/core/errors.js';
import { coseAlgorithmOfKey, coseKeyId, type CoseAlgorithm } from '../cose/sign1.js';

/** An operator's name: letters, digits and `. _ @ -`, 1 to 64 characters. */
export const OPERATOR_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

/** Where {@link writeOperatorKey} put a key pair. */
export interface OperatorKeyFiles {
  readonly name: string;
  readonly algorithm: CoseAlgorithm;
  readonly keyId: string;
  /** `<dir>/<name>.key`, PKCS#8 PEM, mode 0600. */
  readonly privateKeyFile: string;
  /** `<dir>/<name>.pub`, SPKI PEM. */
  readonly publicKeyFile: string;
}

/**
 * Generates an operator key pair into `dir` as `<name>.key` (0600) and `<name>.pub`; refuses to
 * overwrite an existing private key. Throws `ValidationError` (path `name`) for a bad name and
 * `StorageError` when a file cannot be written.
 *
 * @example
 * ```ts
 * const { keyId, publicKeyFile } = await writeOperatorKey('keys', 'alice')
 * ```
 */
export async function writeOperatorKey(dir: string, name: string, algorithm: CoseAlgorithm = 'ed25519'): Promise<OperatorKeyFiles> {
  if (!OPERATOR_NAME.test(name)) throw new ValidationError('name', `expected 1–64 letters, digits or . _ @ -, got ${JSON.stringify(name)}`);
  const pair = algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const privateKeyFile = join(dir, `${name}.key`);
  const publicKeyFile = join(dir, `${name}.pub`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // 'wx': never overwrite a key someone relies on.
    await writeFile(privateKeyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    await chmod(privateKeyFile, 0o600); // the umask may have masked bits off; make it exact
    await writeFile(publicKeyFile, pair.publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new StorageError(privateKeyFile, code === 'EEXIST' ? 'a key of that name exists already; choose another name or remove it' : `cannot write: ${(error as Error).message}`, { cause: error });
  }
  return { name, algorithm, keyId: coseKeyId(pair.publicKey), privateKeyFile, publicKeyFile };
}

function checked(key: KeyObject, file: string): KeyObject {
  if (coseAlgorithmOfKey(key) === undefined) throw new ValidationError(file, `a ${key.asymmetricKeyType ?? 'symmetric'} key; expected Ed25519 or ECDSA P-256`);
  return key;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new StorageError(file, `cannot read: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Reads an operator's private key (PKCS#8 PEM); throws `StorageError` or `ValidationError`.
 *
 * @example
 * ```ts
 * const key = await readOperatorPrivateKey('keys/alice.key')
 * ```
 */
export async function readOperatorPrivateKey(file: string): Promise<KeyObject> {
  const text = await readText(file);
  try {
    return checked(createPrivateKey(text), file);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(file, 'not a PEM private key', { cause: error });
  }
}

/**
 * Reads an operator's public key (SPKI PEM; a private key file gives its public key too).
 *
 * @example
 * ```ts
 * const key = await readOperatorPublicKey('keys/alice.pub')
 * ```
 */
export async function readOperatorPublicKey(file: string): Promise<KeyObject> {
  const text = await readText(file);
  try {
    return checked(createPublicKey(text), file);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(file, 'not a PEM public key', { cause: error });
  }
}
