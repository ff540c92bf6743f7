/**
 * The device's private key on disk (IEC 62443-4-2 CR 1.5 authenticator management, CR 4.1
 * information confidentiality; ETSI EN 303 645 provision 5.4-1): PKCS#8 PEM in a file only its
 * owner may read (0600), or encrypted at rest with AES-256-GCM under a key derived with scrypt
 * (N 2^15, r 8, p 1) from a provisioning secret. The secret comes from the environment
 * (`SENSORKIT_PROVISIONING_SECRET`) or a file (`SENSORKIT_PROVISIONING_SECRET_FILE`), never from
 * the command line, where `ps` shows it. A key file that its group or others can read is refused
 * on load, whether encrypted or not: {@link KeyFileModeError} names the file and its mode.
 *
 * Encrypted file (`key.enc.json`): `{ "format": "sensorkit-key/1", "kdf": { "name": "scrypt",
 * "N", "r", "p", "salt" }, "cipher": "aes-256-gcm", "iv", "tag", "data" }`, binary fields in
 * base64; `data` is the PKCS#8 DER of the key, the format string the GCM additional data.
 */
import { createCipheriv, createDecipheriv, createPrivateKey, randomBytes, scryptSync, type KeyObject } from 'node:crypto';
import { constants, readFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { StorageError, ValidationError } from '../../sdk/core/errors.js';

/** The environment variable holding the provisioning secret. */
export const PROVISIONING_SECRET_ENV = 'SENSORKIT_PROVISIONING_SECRET';
/** The environment variable naming a file that holds the provisioning secret. */
export const PROVISIONING_SECRET_FILE_ENV = 'SENSORKIT_PROVISIONING_SECRET_FILE';

const FORMAT = 'sensorkit-key/1';
const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
/** scrypt needs 128·N·r bytes; Node's default cap (32 MiB) is exactly that, so allow a little more. */
const SCRYPT_MAXMEM = 64 * 1024 * 1024;

/**
 * A key file its group or others may read or write: refused (a key others can read is not a key).
 *
 * @example
 * ```ts
 * try { await readKeyFile('id/key.pem') } catch (e) {
 *   if (e instanceof KeyFileModeError) console.error(e.message) // "id/key.pem: readable by group or others (mode 0644); chmod 600 id/key.pem"
 * }
 * ```
 */
export class KeyFileModeError extends StorageError {
  /** The file's permission bits. */
  readonly mode: number;

  constructor(file: string, mode: number) {
    super(file, `readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); chmod 600 ${file}`);
    this.mode = mode;
  }
}

/**
 * The provisioning secret from `$SENSORKIT_PROVISIONING_SECRET`, else the file named by
 * `$SENSORKIT_PROVISIONING_SECRET_FILE` (a trailing line break removed); undefined when neither is set.
 *
 * @example
 * ```ts
 * const secret = provisioningSecret() // from the environment, never from argv
 * ```
 */
export function provisioningSecret(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const direct = env[PROVISIONING_SECRET_ENV];
  if (direct !== undefined && direct !== '') return direct;
  const file = env[PROVISIONING_SECRET_FILE_ENV];
  if (file === undefined || file === '') return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new ValidationError(PROVISIONING_SECRET_FILE_ENV, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  if (text === '') throw new ValidationError(PROVISIONING_SECRET_FILE_ENV, `${file} is empty`);
  return text;
}

/**
 * The text of a new key file: PKCS#8 PEM, or with a secret the encrypted JSON.
 *
 * @example
 * ```ts
 * await writeFile('key.enc.json', encodeKeyFile(privateKey, secret), { mode: 0o600 })
 * ```
 */
export function encodeKeyFile(privateKey: KeyObject, secret: string | undefined): string {
  if (secret === undefined) return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = scryptSync(secret, salt, 32, { ...SCRYPT, maxmem: SCRYPT_MAXMEM });
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(FORMAT));
  const data = Buffer.concat([cipher.update(privateKey.export({ type: 'pkcs8', format: 'der' })), cipher.final()]);
  const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
  return `${JSON.stringify({ format: FORMAT, kdf: { name: 'scrypt', ...SCRYPT, salt: b64(salt) }, cipher: 'aes-256-gcm', iv: b64(iv), tag: b64(cipher.getAuthTag()), data: b64(data) }, null, 2)}\n`;
}

/**
 * Whether a key file's text is the encrypted form.
 *
 * @example
 * ```ts
 * isEncryptedKeyFile(readFileSync('key.enc.json', 'utf8')) // true
 * ```
 */
export function isEncryptedKeyFile(text: string): boolean {
  return text.trimStart().startsWith('{');
}

/**
 * Reads a private key file: refuses one its group or others may access ({@link KeyFileModeError}),
 * decrypts the encrypted form with `secret` (a `ValidationError` without it or with a wrong one).
 *
 * @example
 * ```ts
 * const privateKey = await readKeyFile('.sensorkit/identity/key.pem')
 * ```
 */
export async function readKeyFile(file: string, secret?: string): Promise<KeyObject> {
  let text: string;
  try {
    const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const mode = (await handle.stat()).mode & 0o777;
      if ((mode & 0o077) !== 0) throw new KeyFileModeError(file, mode);
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof StorageError) throw error;
    throw new StorageError(file, `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  if (!isEncryptedKeyFile(text)) {
    try {
      return createPrivateKey(text);
    } catch (error) {
      throw new StorageError(file, 'not a PEM private key', { cause: error });
    }
  }
  return decryptKeyFile(file, text, secret);
}

function decryptKeyFile(file: string, text: string, secret: string | undefined): KeyObject {
  if (secret === undefined) throw new ValidationError(file, `the key is encrypted: give the provisioning secret in $${PROVISIONING_SECRET_ENV} or a file named by $${PROVISIONING_SECRET_FILE_ENV}`);
  let parsed: { format?: unknown; kdf?: { name?: unknown; N?: unknown; r?: unknown; p?: unknown; salt?: unknown }; cipher?: unknown; iv?: unknown; tag?: unknown; data?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new StorageError(file, 'not an encrypted key file (not JSON)');
  }
  const { kdf } = parsed;
  const isB64 = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9+/=]+$/.test(v);
  if (parsed.format !== FORMAT || parsed.cipher !== 'aes-256-gcm' || kdf?.name !== 'scrypt' || kdf.N !== SCRYPT.N || kdf.r !== SCRYPT.r || kdf.p !== SCRYPT.p || !isB64(kdf.salt) || !isB64(parsed.iv) || !isB64(parsed.tag) || !isB64(parsed.data)) {
    throw new StorageError(file, `not a ${FORMAT} encrypted key file`);
  }
  const key = scryptSync(secret, Buffer.from(kdf.salt, 'base64'), 32, { ...SCRYPT, maxmem: SCRYPT_MAXMEM });
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parsed.iv, 'base64'));
  decipher.setAAD(Buffer.from(FORMAT));
  decipher.setAuthTag(Buffer.from(parsed.tag, 'base64'));
  let der: Buffer;
  try {
    der = Buffer.concat([decipher.update(Buffer.from(parsed.data, 'base64')), decipher.final()]);
  } catch {
    throw new ValidationError(file, 'the provisioning secret does not open this key (wrong secret, or the file was changed)');
  }
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/**
 * The permission bits of a file, or undefined when it does not exist.
 *
 * @example
 * ```ts
 * (await fileMode('key.pem'))?.toString(8) // '600'
 * ```
 */
export async function fileMode(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mode & 0o777;
  } catch {
    return undefined;
  }
}
