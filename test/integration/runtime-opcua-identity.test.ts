/**
 * `opcua.identity` through the runtime: the OPC UA server's application certificate is the device
 * identity (an RSA one naming `urn:sensorkit:<device id>`), and node-opcua's client receives it on
 * a SignAndEncrypt channel; with one that cannot serve (P-256) the runtime does not start,
 * naming `opcua.identity`. (Under the production profile such an identity is a provisioning
 * problem: runtime-security-opcua-identity.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageSecurityMode, SecurityPolicy } from 'node-opcua';
import { afterEach, describe, expect, it } from 'vitest';
import { StateError, ValidationError } from '../../sdk/core/errors.js';
import { startRuntime } from '../../sdk/runtime/index.js';
import { initIdentity, loadIdentity, opcuaApplicationUri } from '../../security/identity/index.js';
import { makeClient } from '../support/opcua-rig.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEVICE_ID = 'env-node-SEC-9';
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-runtime-opcua-identity-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const quiet = { warn: () => undefined, log: () => undefined };

describe('opcua.identity through the runtime', () => {
  it('serves the RSA identity as the application certificate: the client receives it', async () => {
    const dir = tempDir();
    const identityDir = join(dir, 'identity');
    await initIdentity({ dir: identityDir, keyType: 'rsa', subject: { commonName: DEVICE_ID }, altNames: { uris: [opcuaApplicationUri(DEVICE_ID)], dnsNames: [hostname()] } });
    const identity = await loadIdentity(identityDir);
    const runtime = await startRuntime(
      { device: `${ROOT}examples/env-node`, serialNumber: 'SEC-9', mqtt: false, opcua: { port: 0, pki: join(dir, 'pki'), users: join(dir, 'users.json'), identity: true }, security: { identity: { dir: identityDir } } },
      quiet,
    );
    cleanups.push(() => runtime.stop());
    const opcua = runtime.status().opcua;
    if (opcua.state !== 'serving') throw new StateError(`OPC UA is ${opcua.state}`);
    const client = makeClient({ securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy.Aes256_Sha256_RsaPss, clientPki: join(dir, 'client') });
    // The client's own certificate is not trusted yet: the channel is refused, but the client has read the server's certificate from the endpoints.
    await client.connect(opcua.endpointUrl).catch(() => undefined);
    const received = client.serverCertificate;
    await client.disconnect();
    const der = Buffer.from(Array.isArray(received) ? received[0]! : received!);
    expect(der.equals(identity.certificate!.raw)).toBe(true);
  }, 60_000);

  it('refuses to serve without an identity that fits, naming opcua.identity', async () => {
    const dir = tempDir();
    const p256 = join(dir, 'p256');
    await initIdentity({ dir: p256, subject: { commonName: DEVICE_ID }, altNames: { uris: [opcuaApplicationUri(DEVICE_ID)] } });
    const error = await startRuntime({ device: `${ROOT}examples/env-node`, serialNumber: 'SEC-9', mqtt: false, opcua: { port: 0, pki: join(dir, 'pki'), identity: true }, security: { identity: { dir: p256 } } }, quiet).then(
      (runtime) => runtime.stop().then(() => undefined),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).path).toBe('opcua.identity');
    expect((error as ValidationError).message).toMatch(/a p256 key; the OPC UA security policies need RSA/);
  }, 60_000);
});
