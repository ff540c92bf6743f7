/**
 * An RSA-3072 device identity, the kind that can also be the OPC UA application instance
 * certificate: OpenSSL reads and verifies its certificate (sha256WithRSAEncryption; keyUsage as
 * IEC 62541-6 §6.2.2 asks; the subject key identifier OpenSSL computes) and its request; records
 * signed with it verify; and `opcuaCertificateProblem` names what keeps an identity from serving
 * OPC UA (not RSA, no application URI, expired).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError, ValidationError } from '../../sdk/core/errors.js';
import {
  identityFiles,
  initIdentity,
  keyTypeOf,
  loadIdentity,
  opcuaApplicationCertificate,
  opcuaApplicationUri,
  opcuaCertificateProblem,
  signWithIdentity,
  subjectAltNameUris,
  verifyWithCertificate,
  writeIdentityCsr,
} from '../../security/identity/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sensorkit-identity-rsa-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const openssl = (...args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const DEVICE = 'acme-env-node-0042';
const URI = opcuaApplicationUri(DEVICE);
const subject = { commonName: DEVICE, organization: 'Acme Sensors', serialNumber: '0042' };
const NOW = Date.parse('2026-03-01T00:00:00Z');

describe('RSA device identity', () => {
  it('a self-signed RSA-3072 certificate for OPC UA: OpenSSL reads and verifies it and its request; records sign and verify', async () => {
    const dir = join(await tempDir(), 'identity');
    const identity = await initIdentity({ dir, keyType: 'rsa', subject, altNames: { uris: [URI], dnsNames: ['env-node-0042.plant'] }, days: 30, now: NOW });
    expect(identity.keyType).toBe('rsa');
    expect(identity.privateKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    const files = identityFiles(dir);
    const text = openssl('x509', '-in', files.certificateFile, '-noout', '-text');
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(text).toMatch(/Public-Key: \(3072 bit\)/);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    // IEC 62541-6 §6.2.2: digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment; keyCertSign when self-signed.
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Non Repudiation, Key Encipherment, Data Encipherment, Certificate Sign/);
    expect(text).toMatch(/TLS Web Client Authentication, TLS Web Server Authentication/);
    expect(text).toMatch(/DNS:env-node-0042\.plant, URI:urn:sensorkit:acme-env-node-0042/);
    // The subject key identifier is SHA-1 of the subjectPublicKey bits: for RSA, the RSAPublicKey (PKCS#1) DER.
    const ski = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(text)![1]!.replace(/:/g, '').toLowerCase();
    expect(ski).toBe(createHash('sha1').update(identity.publicKey.export({ type: 'pkcs1', format: 'der' })).digest('hex'));
    expect(openssl('verify', '-CAfile', files.certificateFile, '-attime', String(NOW / 1000 + 60), files.certificateFile)).toMatch(/OK/);
    const certificate = new X509Certificate(await readFile(files.certificateFile));
    expect(certificate.verify(identity.publicKey)).toBe(true);
    expect(subjectAltNameUris(certificate)).toEqual([URI]);

    await writeIdentityCsr(identity);
    expect(openssl('req', '-in', files.csrFile, '-verify', '-noout')).toBe('');
    // A request asks for the OPC UA key usages without keyCertSign (the CA decides).
    expect(openssl('req', '-in', files.csrFile, '-noout', '-text')).toMatch(/Key Usage: critical\s+Digital Signature, Non Repudiation, Key Encipherment, Data Encipherment\n/);

    const data = Buffer.from('calibration record');
    const signature = signWithIdentity(identity, data);
    expect(signature).toHaveLength(384);
    expect(verifyWithCertificate(certificate, data, signature)).toBe(true);
    expect(verifyWithCertificate(certificate, Buffer.from('calibration recorD'), signature)).toBe(false);
  }, 60_000);

  it('serves as the OPC UA application certificate only when RSA, naming the URI, and valid', async () => {
    const base = await tempDir();
    const rsa = await initIdentity({ dir: join(base, 'rsa'), keyType: 'rsa', subject, altNames: { uris: [URI] }, days: 30, now: NOW });
    expect(opcuaCertificateProblem(rsa, URI, NOW + 86_400_000)).toBeUndefined();
    expect(opcuaApplicationCertificate(rsa, URI, NOW + 86_400_000)).toMatchObject({ certificateFile: identityFiles(join(base, 'rsa')).certificateFile, keyFile: identityFiles(join(base, 'rsa')).keyFile });
    expect(opcuaCertificateProblem(rsa, opcuaApplicationUri('another-device'), NOW)).toBe(
      `identity ${join(base, 'rsa')}: its certificate's subjectAltName has URI ${URI}, not the server's application URI urn:sensorkit:another-device (IEC 62541-6 §6.2.2; sensorkit identity init --uri urn:sensorkit:another-device)`,
    );
    expect(opcuaCertificateProblem(rsa, URI, NOW + 31 * 86_400_000)).toBe(`identity ${join(base, 'rsa')}: its certificate expired on 2026-03-31T00:00:00.000Z`);
    const p256 = await initIdentity({ dir: join(base, 'p256'), subject, altNames: { uris: [URI] }, now: NOW });
    expect(opcuaCertificateProblem(p256, URI, NOW)).toBe(`identity ${join(base, 'p256')}: a p256 key; the OPC UA security policies need RSA (sensorkit identity init --key-type rsa)`);
    expect(() => opcuaApplicationCertificate(p256, URI, NOW)).toThrow(ValidationError);
    const noUri = await initIdentity({ dir: join(base, 'no-uri'), keyType: 'rsa', subject, now: NOW });
    expect(opcuaCertificateProblem(noUri, URI, NOW)).toMatch(/subjectAltName has no URI, not the server's application URI/);
    // Reloaded from disk (the key encrypted or not), the same answer.
    expect(opcuaCertificateProblem(await loadIdentity(join(base, 'rsa')), URI, NOW + 1000)).toBeUndefined();
  }, 60_000);

  it('refuses RSA keys below 2048 bits and other curves', () => {
    expect(keyTypeOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)).toBe('rsa');
    expect(() => keyTypeOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey)).toThrow(ArgumentError);
    expect(() => keyTypeOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey)).toThrow('Expected a P-256, Ed25519 or RSA (2048 bits or more) key, got rsa 1024 bits');
    expect(() => keyTypeOf(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey)).toThrow('got ec secp384r1');
  });
});
