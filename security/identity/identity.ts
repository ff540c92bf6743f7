/**
 * The device identity: one key pair (P-256 by default, Ed25519, or RSA-3072) and its X.509
 * certificate, self-signed for development or issued by a factory CA from a PKCS#10 request. One
 * identity serves MQTT mutual TLS, signing records (`signWithIdentity`), authenticating to the
 * update server and, when it is RSA, the OPC UA application instance certificate
 * (`identityApplicationCertificate`) (IEC 62443-4-2 CR 1.2 device identification and authentication, CR 1.8 PKI certificates,
 * CR 1.9 strength of public-key authentication; ETSI EN 303 645 provision 5.1-1 unique per device).
 *
 * Folder (default `.sensorkit/identity`, 0700): `key.pem` (PKCS#8, 0600) or `key.enc.json`
 * (encrypted at rest, see key-file.ts), `cert.pem` (the certificate, then any chain the CA gave),
 * `csr.pem` (the last request written).
 */
import { createHash, createPublicKey, generateKeyPairSync, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError, StorageError, ValidationError } from '../../sdk/core/errors.js';
import { pem } from './der.js';
import { encodeKeyFile, fileMode, readKeyFile } from './key-file.js';
import { certificationRequest, keyTypeOf, RSA_IDENTITY_BITS, selfSignedCertificate, signData, type AltNames, type IdentityKeyType, type IdentitySubject } from './x509.js';

/** The identity folder when none is configured, relative to the working directory. */
export const DEFAULT_IDENTITY_DIR = join('.sensorkit', 'identity');

/**
 * The files of an identity folder.
 *
 * @example
 * ```ts
 * identityFiles('.sensorkit/identity').keyFile // '.sensorkit/identity/key.pem'
 * ```
 */
export function identityFiles(dir: string) {
  return { keyFile: join(dir, 'key.pem'), encryptedKeyFile: join(dir, 'key.enc.json'), certificateFile: join(dir, 'cert.pem'), csrFile: join(dir, 'csr.pem') };
}

/** A loaded device identity. */
export interface DeviceIdentity {
  readonly dir: string;
  readonly keyType: IdentityKeyType;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The key file read (`key.pem` or `key.enc.json`). */
  readonly keyFile: string;
  /** Whether the key is encrypted at rest. */
  readonly encrypted: boolean;
  /** The certificate, when the folder has one. */
  readonly certificate: X509Certificate | undefined;
  /** `cert.pem` as read: the certificate and any chain after it. */
  readonly certificatePem: string | undefined;
  /** SHA-256 of the certificate's DER (of the public key's SPKI DER without one), colon-separated hex. */
  readonly fingerprint: string;
}

/** Options of {@link initIdentity}. */
export interface InitIdentityOptions {
  readonly dir?: string;
  /** Default `p256`; `rsa` (3072 bits) for an identity that is also the OPC UA application certificate. */
  readonly keyType?: IdentityKeyType;
  readonly subject: IdentitySubject;
  readonly altNames?: AltNames;
  /** Validity of the self-signed certificate, days. Default 365. */
  readonly days?: number;
  /** Encrypt the key at rest under this provisioning secret. Default: a plain 0600 file. */
  readonly secret?: string;
  /** Start of validity, ms since the epoch. Default now. */
  readonly now?: number;
}

/**
 * Creates an identity: a new key pair and a self-signed certificate. Refuses (`StateError`) when
 * the folder already holds a key: an identity is replaced on purpose, by removing it first.
 *
 * @example
 * ```ts
 * const identity = await initIdentity({ dir: '.sensorkit/identity', subject: { commonName: 'acme-env-node-EMU-1', organization: 'Acme' } })
 * console.log(identity.fingerprint)
 * ```
 */
export async function initIdentity(options: InitIdentityOptions): Promise<DeviceIdentity> {
  const dir = options.dir ?? DEFAULT_IDENTITY_DIR;
  const files = identityFiles(dir);
  for (const file of [files.keyFile, files.encryptedKeyFile]) {
    if ((await fileMode(file)) !== undefined) throw new StateError(`${dir} already holds an identity (${file}); remove the folder to make a new one`);
  }
  const keyType = options.keyType ?? 'p256';
  const { privateKey, publicKey } =
    keyType === 'p256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : keyType === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: RSA_IDENTITY_BITS }) : generateKeyPairSync('ed25519');
  const days = options.days ?? 365;
  if (!(Number.isInteger(days) && days >= 1 && days <= 36_500)) throw new ValidationError('days', `must be an integer from 1 to 36500, got ${days}`);
  const notBefore = new Date(Math.floor((options.now ?? Date.now()) / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + days * 86_400_000);
  const der = selfSignedCertificate({ privateKey, publicKey, subject: options.subject, ...(options.altNames ? { altNames: options.altNames } : {}), notBefore, notAfter });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const keyFile = options.secret === undefined ? files.keyFile : files.encryptedKeyFile;
  await writeNew(keyFile, encodeKeyFile(privateKey, options.secret), 0o600);
  await writeReplacing(files.certificateFile, pem('CERTIFICATE', der));
  return loadIdentity(dir, options.secret === undefined ? {} : { secret: options.secret });
}

/**
 * Loads an identity folder. The key file must be owner-only (`KeyFileModeError` otherwise); an
 * encrypted one needs the provisioning secret. A certificate whose public key is not the key's is
 * refused (`ValidationError`).
 *
 * @example
 * ```ts
 * const identity = await loadIdentity('.sensorkit/identity', { secret: provisioningSecret() })
 * ```
 */
export async function loadIdentity(dir: string = DEFAULT_IDENTITY_DIR, options: { secret?: string | undefined } = {}): Promise<DeviceIdentity> {
  const files = identityFiles(dir);
  const encrypted = (await fileMode(files.encryptedKeyFile)) !== undefined;
  const keyFile = encrypted ? files.encryptedKeyFile : files.keyFile;
  if (!encrypted && (await fileMode(keyFile)) === undefined) throw new StorageError(dir, 'no device identity here (sensorkit identity init)');
  const privateKey = await readKeyFile(keyFile, options.secret);
  const keyType = keyTypeOf(privateKey);
  const publicKey = createPublicKey(privateKey);
  let certificatePem: string | undefined;
  try {
    certificatePem = await readFile(files.certificateFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new StorageError(files.certificateFile, `cannot read: ${(error as Error).message}`, { cause: error });
  }
  const certificate = certificatePem === undefined ? undefined : parseCertificate(files.certificateFile, certificatePem);
  if (certificate) checkMatches(files.certificateFile, certificate, publicKey);
  const fingerprint = certificate ? certificate.fingerprint256 : colonHex(createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest());
  return { dir, keyType, privateKey, publicKey, keyFile, encrypted, certificate, certificatePem, fingerprint };
}

/**
 * A PKCS#10 request for a factory CA, PEM, written to `csr.pem` too. The subject defaults to the
 * current certificate's CN, O and serialNumber, the subjectAltName to its URIs and DNS names (an
 * OPC UA application certificate must keep its application URI).
 *
 * @example
 * ```ts
 * const csr = await writeIdentityCsr(identity, { commonName: 'acme-env-node-0042', organization: 'Acme' })
 * ```
 */
export async function writeIdentityCsr(identity: DeviceIdentity, subject?: IdentitySubject, altNames?: AltNames): Promise<string> {
  const wanted = subject ?? subjectOf(identity.certificate);
  if (wanted === undefined) throw new ValidationError('subject', 'no certificate to take the subject from: give one');
  const names = altNames ?? altNamesOf(identity.certificate);
  const der = certificationRequest({ privateKey: identity.privateKey, publicKey: identity.publicKey, subject: wanted, ...(names ? { altNames: names } : {}) });
  const text = pem('CERTIFICATE REQUEST', der);
  await writeReplacing(identityFiles(identity.dir).csrFile, text);
  return text;
}

/**
 * Installs a CA-issued certificate (PEM, the device certificate first, then any chain): it must
 * hold this identity's public key, be valid at `now`, and, with `ca`, verify against the CA's
 * certificate. Replaces `cert.pem`; returns the identity as loaded again.
 *
 * @example
 * ```ts
 * const identity2 = await importIdentityCertificate(identity, readFileSync('device.crt', 'utf8'), { ca: readFileSync('factory-ca.pem', 'utf8') })
 * ```
 */
export async function importIdentityCertificate(identity: DeviceIdentity, pemText: string, options: { ca?: string; now?: number; secret?: string } = {}): Promise<DeviceIdentity> {
  const certificate = parseCertificate('certificate', pemText);
  checkMatches('certificate', certificate, identity.publicKey);
  const now = options.now ?? Date.now();
  if (Date.parse(certificate.validFrom) > now || Date.parse(certificate.validTo) < now) throw new ValidationError('certificate', `not valid now (${certificate.validFrom} to ${certificate.validTo})`);
  if (options.ca !== undefined) {
    const ca = parseCertificate('ca', options.ca);
    if (!certificate.checkIssued(ca) || !certificate.verify(ca.publicKey)) throw new ValidationError('certificate', `not issued by ${ca.subject.replace(/\n/g, ', ')}`);
  }
  await writeReplacing(identityFiles(identity.dir).certificateFile, pemText.endsWith('\n') ? pemText : `${pemText}\n`);
  return loadIdentity(identity.dir, options.secret === undefined ? {} : { secret: options.secret });
}

/**
 * Signs `data` with the device key (ECDSA P-256 with SHA-256, DER signature; or Ed25519): for HIL
 * and calibration records, and anything else the device vouches for.
 *
 * @example
 * ```ts
 * const signature = signWithIdentity(identity, Buffer.from(JSON.stringify(record)))
 * verifyWithCertificate(identity.certificate!, Buffer.from(JSON.stringify(record)), signature) // true
 * ```
 */
export function signWithIdentity(identity: Pick<DeviceIdentity, 'privateKey'>, data: Uint8Array): Uint8Array {
  return signData(identity.privateKey, data);
}

/**
 * Checks a signature made by {@link signWithIdentity} against a certificate or public key.
 *
 * @example
 * ```ts
 * verifyWithCertificate(new X509Certificate(pemText), data, signature)
 * ```
 */
export function verifyWithCertificate(signer: X509Certificate | KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  const key = signer instanceof X509Certificate ? signer.publicKey : signer;
  return verify(keyTypeOf(key) === 'ed25519' ? null : 'sha256', data, key, signature);
}

/**
 * The TLS client credentials of an identity (PEM, in memory: an encrypted key never touches the
 * disk decrypted), for MQTT mutual TLS or the update server.
 *
 * @example
 * ```ts
 * createTransport(url, { ...options, tls: { ca, ...identityTlsCredentials(identity) } })
 * ```
 */
export function identityTlsCredentials(identity: DeviceIdentity): { cert: string; key: string } {
  if (identity.certificatePem === undefined) throw new StateError(`${identity.dir} has no certificate (sensorkit identity init, or import-cert)`);
  return { cert: identity.certificatePem, key: identity.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** What `sensorkit identity show` prints. */
export interface IdentitySummary {
  readonly subject: string | undefined;
  readonly issuer: string | undefined;
  readonly selfSigned: boolean;
  readonly keyType: IdentityKeyType;
  readonly keyStorage: 'encrypted' | 'owner-only file';
  readonly fingerprint: string;
  readonly notBefore: string | undefined;
  readonly notAfter: string | undefined;
  /** Whole days until the certificate expires (negative: expired). */
  readonly daysLeft: number | undefined;
}

/**
 * A summary of an identity for people and `--json`.
 *
 * @example
 * ```ts
 * describeIdentity(identity, Date.now()).daysLeft // 364
 * ```
 */
export function describeIdentity(identity: DeviceIdentity, now: number): IdentitySummary {
  const c = identity.certificate;
  return {
    subject: c?.subject.replace(/\n/g, ', '),
    issuer: c?.issuer.replace(/\n/g, ', '),
    selfSigned: c !== undefined && c.subject === c.issuer && c.verify(identity.publicKey),
    keyType: identity.keyType,
    keyStorage: identity.encrypted ? 'encrypted' : 'owner-only file',
    fingerprint: identity.fingerprint,
    notBefore: c && new Date(c.validFrom).toISOString(),
    notAfter: c && new Date(c.validTo).toISOString(),
    daysLeft: c && Math.floor((Date.parse(c.validTo) - now) / 86_400_000),
  };
}

function subjectOf(certificate: X509Certificate | undefined): IdentitySubject | undefined {
  if (certificate === undefined) return undefined;
  const fields = new Map(certificate.subject.split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const));
  const commonName = fields.get('CN');
  if (commonName === undefined) return undefined;
  const organization = fields.get('O');
  const serialNumber = fields.get('serialNumber');
  return { commonName, ...(organization === undefined ? {} : { organization }), ...(serialNumber === undefined ? {} : { serialNumber }) };
}

function altNamesOf(certificate: X509Certificate | undefined): AltNames | undefined {
  const entries = (certificate?.subjectAltName ?? '').split(/,\s*/);
  const uris = entries.filter((e) => e.startsWith('URI:')).map((e) => e.slice(4));
  const dnsNames = entries.filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4));
  if (uris.length === 0 && dnsNames.length === 0) return undefined;
  return { ...(uris.length === 0 ? {} : { uris }), ...(dnsNames.length === 0 ? {} : { dnsNames }) };
}

function parseCertificate(where: string, text: string): X509Certificate {
  try {
    return new X509Certificate(text);
  } catch (error) {
    throw new ValidationError(where, 'not a PEM certificate', { cause: error });
  }
}

function checkMatches(where: string, certificate: X509Certificate, publicKey: KeyObject): void {
  const given = certificate.publicKey.export({ type: 'spki', format: 'der' });
  if (!given.equals(publicKey.export({ type: 'spki', format: 'der' }))) throw new ValidationError(where, "its public key is not this device's key");
}

function colonHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

/** Creates `file` (never through a link, never over an existing one) with `mode`, and syncs it. */
async function writeNew(file: string, text: string, mode: number): Promise<void> {
  const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await chmod(file, mode);
}

/** Replaces `file` atomically (a temporary file, then rename). */
async function writeReplacing(file: string, text: string): Promise<void> {
  const temp = `${file}.tmp`;
  await rm(temp, { force: true });
  await writeNew(temp, text, 0o644);
  await rename(temp, file);
}
