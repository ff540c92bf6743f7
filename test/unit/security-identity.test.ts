import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyFileModeError, describeIdentity, identityFiles, identityTlsCredentials, importIdentityCertificate, initIdentity, loadIdentity, provisioningSecret, signWithIdentity, verifyWithCertificate, writeIdentityCsr } from '../../security/identity/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sensorkit-identity-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const openssl = (...args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const subject = { commonName: 'acme-env-node-EMU-1', organization: 'Acme Sensors', serialNumber: 'EMU-1' };
const NOW = Date.parse('2026-03-01T00:00:00Z');

describe('device identity', () => {
  for (const keyType of ['p256', 'ed25519'] as const) {
    it(`${keyType}: a self-signed X.509 v3 certificate that OpenSSL and Node read and verify; a CSR OpenSSL verifies`, async () => {
      const dir = join(await tempDir(), 'identity');
      const identity = await initIdentity({ dir, keyType, subject, altNames: { uris: ['urn:sensorkit:device:acme-env-node-EMU-1'] }, days: 30, now: NOW });
      const files = identityFiles(dir);
      expect((await stat(files.keyFile)).mode & 0o777).toBe(0o600);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      const text = openssl('x509', '-in', files.certificateFile, '-noout', '-text');
      expect(text).toContain('Version: 3 (0x2)');
      expect(text).toMatch(keyType === 'p256' ? /Signature Algorithm: ecdsa-with-SHA256/ : /Signature Algorithm: ED25519/);
      expect(text).toMatch(/Subject: O = Acme Sensors, CN = acme-env-node-EMU-1, serialNumber = EMU-1/);
      expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
      expect(text).toMatch(/Key Usage: critical\s+Digital Signature/);
      expect(text).toMatch(/TLS Web Client Authentication, TLS Web Server Authentication/);
      expect(text).toContain('URI:urn:sensorkit:device:acme-env-node-EMU-1');
      expect(text).toContain('Not Before: Mar  1 00:00:00 2026 GMT');
      expect(text).toContain('Not After : Mar 31 00:00:00 2026 GMT');
      // OpenSSL checks the self-signature too.
      expect(openssl('verify', '-CAfile', files.certificateFile, '-attime', String(NOW / 1000 + 60), files.certificateFile)).toMatch(/OK/);
      const certificate = new X509Certificate(await readFile(files.certificateFile));
      expect(certificate.verify(identity.publicKey)).toBe(true);
      expect(identity.fingerprint).toBe(certificate.fingerprint256);

      await writeIdentityCsr(identity);
      expect(openssl('req', '-in', files.csrFile, '-verify', '-noout')).toBe('');
      expect(openssl('req', '-in', files.csrFile, '-noout', '-subject')).toMatch(/CN = acme-env-node-EMU-1/);

      const summary = describeIdentity(identity, NOW);
      expect(summary).toMatchObject({ keyType, selfSigned: true, keyStorage: 'owner-only file', daysLeft: 30, notAfter: '2026-03-31T00:00:00.000Z' });

      const data = Buffer.from('calibration record');
      const signature = signWithIdentity(identity, data);
      expect(verifyWithCertificate(certificate, data, signature)).toBe(true);
      expect(verifyWithCertificate(certificate, Buffer.from('calibration recorD'), signature)).toBe(false);
    });
  }

  it('refuses a key file readable by group or others, naming the file and its mode', async () => {
    const dir = await tempDir();
    await initIdentity({ dir, subject });
    await chmod(identityFiles(dir).keyFile, 0o644);
    const error = await loadIdentity(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyFileModeError);
    expect((error as KeyFileModeError).message).toBe(`${identityFiles(dir).keyFile}: readable by group or others (mode 0644); chmod 600 ${identityFiles(dir).keyFile}`);
    expect((error as KeyFileModeError).mode).toBe(0o644);
    await chmod(identityFiles(dir).keyFile, 0o600);
    await expect(loadIdentity(dir)).resolves.toBeDefined();
  });

  it('encrypts the key at rest (AES-256-GCM, scrypt): loads with the secret, refuses without it or with a wrong one', async () => {
    const dir = await tempDir();
    const secret = 'factory-line-7 provisioning secret';
    const created = await initIdentity({ dir, subject, secret });
    const file = identityFiles(dir).encryptedKeyFile;
    const stored = await readFile(file, 'utf8');
    expect(stored).toContain('"cipher": "aes-256-gcm"');
    expect(stored).not.toContain('PRIVATE KEY');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const loaded = await loadIdentity(dir, { secret });
    expect(loaded.encrypted).toBe(true);
    expect(loaded.fingerprint).toBe(created.fingerprint);
    await expect(loadIdentity(dir)).rejects.toThrow(/the key is encrypted: give the provisioning secret in \$SENSORKIT_PROVISIONING_SECRET/);
    await expect(loadIdentity(dir, { secret: 'wrong' })).rejects.toThrow(/does not open this key/);
    // An edited ciphertext fails the GCM tag.
    const parsed = JSON.parse(stored) as { data: string };
    parsed.data = Buffer.from(Buffer.from(parsed.data, 'base64').map((b, i) => (i === 5 ? b ^ 1 : b))).toString('base64');
    await writeFile(file, JSON.stringify(parsed), { mode: 0o600 });
    await expect(loadIdentity(dir, { secret })).rejects.toThrow(/does not open this key/);
    // The secret comes from the environment or a file the environment names, never from argv.
    const secretFile = join(dir, 'secret');
    await writeFile(secretFile, `${secret}\n`);
    expect(provisioningSecret({ SENSORKIT_PROVISIONING_SECRET_FILE: secretFile })).toBe(secret);
    expect(provisioningSecret({ SENSORKIT_PROVISIONING_SECRET: 'x' })).toBe('x');
    expect(provisioningSecret({})).toBeUndefined();
  });

  it('installs a certificate a factory CA issued from the CSR; refuses one for another key or another CA', async () => {
    const dir = await tempDir();
    const identity = await initIdentity({ dir: join(dir, 'id'), subject });
    await writeIdentityCsr(identity);
    // A factory CA made with OpenSSL signs the request.
    const caKey = join(dir, 'ca.key');
    const caCert = join(dir, 'ca.pem');
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', caCert, '-subj', '/O=Acme Sensors/CN=Acme Factory CA', '-days', '30');
    const issued = join(dir, 'device.crt');
    openssl('x509', '-req', '-in', identityFiles(identity.dir).csrFile, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', issued, '-days', '20', '-copy_extensions', 'copy');
    const installed = await importIdentityCertificate(identity, await readFile(issued, 'utf8'), { ca: await readFile(caCert, 'utf8') });
    expect(describeIdentity(installed, Date.now())).toMatchObject({ selfSigned: false, issuer: 'O=Acme Sensors, CN=Acme Factory CA', subject: 'O=Acme Sensors, CN=acme-env-node-EMU-1, serialNumber=EMU-1' });
    expect(identityTlsCredentials(installed).cert).toContain('BEGIN CERTIFICATE');
    // Another device's certificate: refused.
    const other = await initIdentity({ dir: join(dir, 'other'), subject });
    await expect(importIdentityCertificate(identity, other.certificatePem!)).rejects.toThrow(/its public key is not this device's key/);
    // Issued by the right key but checked against another CA: refused.
    await expect(importIdentityCertificate(identity, await readFile(issued, 'utf8'), { ca: other.certificatePem! })).rejects.toThrow(/not issued by/);
    // The refused imports left the installed certificate alone.
    expect((await loadIdentity(identity.dir)).certificate!.issuer).toContain('Acme Factory CA');
  });

  it('refuses to make a second identity over the first', async () => {
    const dir = await tempDir();
    await initIdentity({ dir, subject });
    await expect(initIdentity({ dir, subject })).rejects.toThrow(/already holds an identity/);
  });
});
