/**
 * The device identity as the OPC UA application instance certificate, over real TCP: an RSA-3072
 * identity, its key encrypted at rest, serves a production server; node-opcua's client connects
 * with SignAndEncrypt on each of the three policies and the server certificate it received is the
 * identity's (byte for byte), the session works; no decrypted key and no other application
 * certificate is written. A P-256 identity, or one without the application URI, is refused at
 * construction, naming why.
 */
import { existsSync, readdirSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MessageSecurityMode, SecurityPolicy, UserTokenType } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../sdk/core/errors.js';
import { OpcuaServer, listCertificates, pkiPaths, trustCertificate } from '../../sdk/transport/opcua/index.js';
import { identityFiles, initIdentity, loadIdentity, opcuaApplicationUri, type DeviceIdentity } from '../../security/identity/index.js';
import { waitFor } from '../support/net.js';
import { RIG_DEVICE_ID, RIG_USER, makeClient, rigNamespace, rigUsers, startRig, tempDir, type OpcuaRig } from '../support/opcua-rig.js';

const SECRET = 'line-4 provisioning secret, not a password';
let dir: ReturnType<typeof tempDir>;
let rig: OpcuaRig;
let identity: DeviceIdentity;
const pkiDir = (): string => join(dir.path, 'server-pki');
const clientPki = (): string => join(dir.path, 'client-pki');
const operator = { type: UserTokenType.UserName as const, userName: RIG_USER.name, password: RIG_USER.password };

beforeAll(async () => {
  dir = tempDir('sensorkit-opcua-identity-');
  const identityDir = join(dir.path, 'identity');
  await initIdentity({ dir: identityDir, keyType: 'rsa', subject: { commonName: RIG_DEVICE_ID, organization: 'ACME Sensors' }, altNames: { uris: [opcuaApplicationUri(RIG_DEVICE_ID)], dnsNames: ['localhost', hostname()] }, secret: SECRET });
  identity = await loadIdentity(identityDir, { secret: SECRET });
  rig = await startRig({ profile: 'production', pkiDir: pkiDir(), users: await rigUsers(dir.path), identity });
  // The client's certificate is refused once, then trusted.
  const first = makeClient({ securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy.Basic256Sha256, clientPki: clientPki() });
  await first.connect(rig.server.endpointUrl).catch(() => undefined);
  await first.disconnect();
  const rejected = await waitFor(async () => (await listCertificates(pkiDir())).find((c) => c.state === 'rejected'), 15_000, 'the client certificate in rejected/');
  await trustCertificate(pkiDir(), rejected.thumbprint);
  await rig.server.reloadCertificates();
}, 120_000);

afterAll(async () => {
  await rig?.close();
  dir?.remove();
});

describe('the device identity as the OPC UA application certificate', () => {
  for (const securityPolicy of [SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep, SecurityPolicy.Aes256_Sha256_RsaPss]) {
    it(`${securityPolicy.split('#')[1]}: the client gets the identity's certificate and a working session`, async () => {
      const client = makeClient({ securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy, clientPki: clientPki() });
      await client.connect(rig.server.endpointUrl);
      try {
        const session = await client.createSession(operator);
        expect(client.securityMode).toBe(MessageSecurityMode.SignAndEncrypt);
        expect(client.securityPolicy).toBe(securityPolicy);
        const received = client.serverCertificate;
        const der = Buffer.from(Array.isArray(received) ? received[0]! : received!);
        expect(der.equals(identity.certificate!.raw)).toBe(true);
        expect(new X509Certificate(der).fingerprint256).toBe(identity.fingerprint);
        expect(await rigNamespace(session)).toBeGreaterThan(0);
        await session.close();
      } finally {
        await client.disconnect();
      }
    }, 60_000);
  }

  it('writes no key and no application certificate of its own: the identity stays the one key', () => {
    expect(rig.server.certificateSource).toBe('identity');
    expect(rig.server.applicationUri).toBe(`urn:sensorkit:${RIG_DEVICE_ID}`);
    expect(existsSync(pkiPaths(pkiDir(), RIG_DEVICE_ID).certificateFile)).toBe(false);
    // Encrypted at rest: only key.enc.json, never a decrypted key.pem.
    expect(readdirSync(identity.dir).sort()).toEqual(['cert.pem', 'key.enc.json']);
    expect(existsSync(identityFiles(identity.dir).keyFile)).toBe(false);
  });

  it('refuses a P-256 identity and one whose certificate lacks the application URI, naming why', async () => {
    const p256 = await initIdentity({ dir: join(dir.path, 'p256'), subject: { commonName: RIG_DEVICE_ID }, altNames: { uris: [opcuaApplicationUri(RIG_DEVICE_ID)] } });
    const users = await rigUsers(dir.path);
    expect(() => new OpcuaServer(rig.device, { profile: 'production', pkiDir: pkiDir(), users, identity: p256 })).toThrow(ValidationError);
    expect(() => new OpcuaServer(rig.device, { profile: 'production', pkiDir: pkiDir(), users, identity: p256 })).toThrow(/identity: .*a p256 key; the OPC UA security policies need RSA/);
    const other = await initIdentity({ dir: join(dir.path, 'other'), keyType: 'rsa', subject: { commonName: 'another-device' }, altNames: { uris: [opcuaApplicationUri('another-device')] } });
    expect(() => new OpcuaServer(rig.device, { profile: 'production', pkiDir: pkiDir(), users, identity: other })).toThrow(
      /subjectAltName has URI urn:sensorkit:another-device, not the server's application URI urn:sensorkit:opcua-rig-RIG-0042/,
    );
  }, 60_000);
});
