/**
 * One RSA identity, its request signed by a plant CA (as a factory CA would: the OPC UA key usages
 * and the application URI copied from the request), serves both MQTT mutual TLS (a broker that
 * requires client certificates) and the OPC UA server's application certificate, whose chain the
 * node-opcua client receives; the key stays encrypted at rest.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageSecurityMode, SecurityPolicy } from 'node-opcua';
import { afterEach, describe, expect, it } from 'vitest';
import { TimeoutError } from '../../sdk/core/errors.js';
import { Runtime } from '../../sdk/runtime/index.js';
import { OpcuaServer } from '../../sdk/transport/opcua/index.js';
import { identityFiles, importIdentityCertificate, initIdentity, loadIdentity, opcuaApplicationUri, writeIdentityCsr } from '../../security/identity/index.js';
import { startBroker, type TestBroker } from '../support/brokers.js';
import { makeClient } from '../support/opcua-rig.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEVICE_ID = 'env-node-MTLS-2';
const SECRET = 'provisioning secret of line 8';
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const openssl = (cwd: string, ...args: string[]): void => void execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new TimeoutError(`${what} within 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('one RSA identity for MQTT mutual TLS and the OPC UA application certificate', () => {
  it('a CA-issued RSA identity connects to a broker requiring client certificates and is the OPC UA server certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-identity-rsa-all-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // A plant CA (RSA) and a broker certificate for 127.0.0.1 it issued.
    openssl(dir, 'req', '-x509', '-newkey', 'rsa:3072', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Plant CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'server.ext');
    const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
    const certificates = { ca: read('ca.pem'), serverCert: read('server.pem'), serverKey: read('server.key'), clientCert: '', clientKey: '', strangerCert: '', strangerKey: '' };
    const broker: TestBroker = await startBroker('aedes', { tls: { certificates, requireClientCert: true } });
    cleanups.push(() => broker.close());

    // The device's RSA identity, encrypted at rest; the CA copies the requested extensions.
    const identityDir = join(dir, 'identity');
    const created = await initIdentity({ dir: identityDir, keyType: 'rsa', subject: { commonName: DEVICE_ID, serialNumber: 'MTLS-2' }, altNames: { uris: [opcuaApplicationUri(DEVICE_ID)], dnsNames: ['localhost'] }, secret: SECRET });
    await writeIdentityCsr(created);
    openssl(dir, 'x509', '-req', '-in', identityFiles(identityDir).csrFile, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'device.pem', '-days', '1', '-copy_extensions', 'copy');
    const issued = await importIdentityCertificate(created, `${read('device.pem')}${read('ca.pem')}`, { ca: read('ca.pem'), secret: SECRET });
    expect(issued.certificate!.issuer).toBe('CN=Plant CA');

    const previous = process.env.SENSORKIT_PROVISIONING_SECRET;
    process.env.SENSORKIT_PROVISIONING_SECRET = SECRET;
    cleanups.push(() => (previous === undefined ? delete process.env.SENSORKIT_PROVISIONING_SECRET : (process.env.SENSORKIT_PROVISIONING_SECRET = previous)));
    const runtime = await Runtime.open(
      { device: `${ROOT}examples/env-node`, serialNumber: 'MTLS-2', opcua: false, outbox: { dir: join(dir, 'outbox') }, mqtt: { url: broker.url, tls: { ca: join(dir, 'ca.pem'), identity: true } }, security: { identity: { dir: identityDir } } },
      { warn: () => undefined },
    );
    cleanups.push(() => runtime.stop());
    await runtime.start();
    await until(() => runtime.transport!.state === 'connected', 'an mTLS connection with the RSA identity');

    // The same identity as the OPC UA application certificate of the same device.
    const identity = await loadIdentity(identityDir, { secret: SECRET });
    const server = new OpcuaServer(runtime.device, { profile: 'dev', host: '127.0.0.1', port: 0, pkiDir: join(dir, 'pki'), identity });
    await server.start();
    cleanups.push(() => server.stop());
    expect(server.deviceId).toBe(DEVICE_ID);
    const client = makeClient({ securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy.Basic256Sha256, clientPki: join(dir, 'client-pki') });
    // The client's own certificate is not trusted yet: the channel is refused after the client read the server's certificate.
    await client.connect(server.endpointUrl).catch(() => undefined);
    const received = client.serverCertificate;
    await client.disconnect();
    const chain = Array.isArray(received) ? received : [received!];
    expect(Buffer.from(chain[0]!).subarray(0, identity.certificate!.raw.length).equals(identity.certificate!.raw)).toBe(true);
  }, 90_000);
});
