/**
 * The OPC UA server's PKI folder (IEC 62541-12 §F.1 layout, as node-opcua keeps it):
 *
 * - `own/certs/<device id>.pem`, `own/private/private_key.pem`: the application instance
 *   certificate of each device run from this folder (its subjectAltName URI is the device's
 *   application URI, IEC 62541-6 §6.2.2, so each device has its own), created on first start; the
 *   key file is owner-only (0600).
 * - `trusted/certs/`: client certificates accepted; `rejected/`: client certificates seen and
 *   refused, until someone trusts them (`sensorkit opcua trust <thumbprint>`, or moving the file).
 * - `users/`: the same layout for X.509 user-identity certificates.
 *
 * Thumbprints are the SHA-1 of the DER certificate in hex (IEC 62541-6 §6.2.3).
 */
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError, ValidationError } from '../../core/errors.js';

/** Default PKI folder, relative to the working directory. */
export const DEFAULT_PKI_DIR = join('.sensorkit', 'pki');

/** Where the parts of a PKI folder are; `certificateFile` is the device's application certificate. */
export function pkiPaths(dir: string, deviceId = 'certificate') {
  return {
    root: dir,
    certificateFile: join(dir, 'own', 'certs', `${deviceId}.pem`),
    privateKeyFile: join(dir, 'own', 'private', 'private_key.pem'),
    trusted: join(dir, 'trusted', 'certs'),
    rejected: join(dir, 'rejected'),
    users: join(dir, 'users'),
  };
}

/** A client certificate in the PKI folder. */
export interface PkiCertificate {
  readonly state: 'trusted' | 'rejected';
  /** SHA-1 of the DER, lower-case hex. */
  readonly thumbprint: string;
  readonly subject: string;
  readonly notAfter: string;
  readonly file: string;
}

/**
 * Makes the private key owner-only (0600) and its folder 0700; throws `StorageError` when that
 * cannot be done (a key others can read is not a key).
 */
export async function protectPrivateKey(dir: string): Promise<void> {
  const { privateKeyFile } = pkiPaths(dir);
  let mode: number;
  try {
    await chmod(join(dir, 'own', 'private'), 0o700);
    await chmod(privateKeyFile, 0o600);
    mode = (await stat(privateKeyFile)).mode & 0o777;
  } catch (error) {
    throw new StorageError(privateKeyFile, `cannot make the private key owner-only: ${(error as Error).message}`, { cause: error });
  }
  // A file system without POSIX modes (some mounts) accepts chmod and keeps its own.
  if (mode !== 0o600) throw new StorageError(privateKeyFile, `cannot make the private key owner-only: mode is ${mode.toString(8)}`);
}

/** Normalises a thumbprint as people type it (`AB:CD…`, `abcd…`). */
export function normaliseThumbprint(text: string): string {
  return text.replace(/[:\s]/g, '').toLowerCase();
}

async function certificatesIn(folder: string, state: PkiCertificate['state']): Promise<PkiCertificate[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new StorageError(folder, `cannot list: ${(error as Error).message}`, { cause: error });
  }
  const found: PkiCertificate[] = [];
  for (const name of names.sort()) {
    if (!/\.(pem|der)$/i.test(name)) continue;
    const file = join(folder, name);
    try {
      const certificate = new X509Certificate(await readFile(file));
      found.push({ state, thumbprint: normaliseThumbprint(certificate.fingerprint), subject: certificate.subject.replace(/\n/g, ', '), notAfter: certificate.validTo, file });
    } catch {
      // Not a certificate (a stray file): not listed, never trusted.
    }
  }
  return found;
}

/**
 * The client certificates of a PKI folder, trusted first.
 *
 * @example
 * ```ts
 * for (const c of await listCertificates('.sensorkit/pki')) console.log(c.state, c.thumbprint, c.subject)
 * ```
 */
export async function listCertificates(dir: string, scope: 'clients' | 'users' = 'clients'): Promise<PkiCertificate[]> {
  const paths = pkiPaths(scope === 'clients' ? dir : pkiPaths(dir).users);
  return [...(await certificatesIn(paths.trusted, 'trusted')), ...(await certificatesIn(paths.rejected, 'rejected'))];
}

/**
 * Trusts a rejected certificate, named by its thumbprint or a unique prefix of at least 8 hex
 * digits: moves it from `rejected/` to `trusted/certs/`. Throws `ValidationError` (path
 * `thumbprint`) when no rejected certificate, or more than one, matches.
 *
 * @example
 * ```ts
 * await trustCertificate('.sensorkit/pki', '3f2a9c01')
 * ```
 */
export async function trustCertificate(dir: string, thumbprint: string, scope: 'clients' | 'users' = 'clients'): Promise<PkiCertificate> {
  const wanted = normaliseThumbprint(thumbprint);
  if (!/^[0-9a-f]{8,40}$/.test(wanted)) throw new ValidationError('thumbprint', `expected 8 to 40 hex digits, got ${JSON.stringify(thumbprint)}`);
  const all = await listCertificates(dir, scope);
  const trusted = all.find((c) => c.state === 'trusted' && c.thumbprint.startsWith(wanted));
  if (trusted) return trusted;
  const matches = all.filter((c) => c.state === 'rejected' && c.thumbprint.startsWith(wanted));
  if (matches.length === 0) throw new ValidationError('thumbprint', `no rejected certificate ${wanted} in ${dir} (a client's certificate appears there after its first refused connection)`);
  if (matches.length > 1) throw new ValidationError('thumbprint', `${wanted} matches ${matches.length} certificates; give more digits`);
  const match = matches[0]!;
  const target = pkiPaths(scope === 'clients' ? dir : pkiPaths(dir).users).trusted;
  const destination = join(target, match.file.slice(match.file.lastIndexOf('/') + 1));
  try {
    await mkdir(target, { recursive: true });
    await rename(match.file, destination);
  } catch (error) {
    throw new StorageError(match.file, `cannot move to ${target}: ${(error as Error).message}`, { cause: error });
  }
  return { ...match, state: 'trusted', file: destination };
}
