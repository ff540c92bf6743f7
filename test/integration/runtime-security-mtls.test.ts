/**
 * One identity serves MQTT mutual TLS: a device identity whose request a plant CA signed connects
 * to a broker that requires client certificates (`mqtt.tls.identity`), with the key encrypted at
 * rest; the same identity self-signed (not the CA's) is refused by the broker.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { TimeoutError } from '../../sdk/core/errors.js';
import { Runtime } from '../../sdk/runtime/index.js';
import { identityFiles, importIdentityCertificate, initIdentity, writeIdentityCsr } from '../../security/identity/index.js';
import { startBroker, type TestBroker } from '../support/brokers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const openssl = (cwd: string, ...args: string[]): void => void execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

/** A plant CA and a broker certificate for 127.0.0.1 it issued. */
function plantCa(dir: string): { ca: string; caFile: string; serverCert: string; serverKey: string } {
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Plant CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'server.ext');
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  return { ca: read('ca.pem'), caFile: join(dir, 'ca.pem'), serverCert: read('server.pem'), serverKey: read('server.key') };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new TimeoutError(`${what} within 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('MQTT mutual TLS with the device identity', () => {
  it('connects with the CA-issued identity (key encrypted at rest); the self-signed one is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-runtime-mtls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const pki = plantCa(dir);
    const certificates = { ca: pki.ca, serverCert: pki.serverCert, serverKey: pki.serverKey, clientCert: '', clientKey: '', strangerCert: '', strangerKey: '' };
    const broker: TestBroker = await startBroker('aedes', { tls: { certificates, requireClientCert: true } });
    cleanups.push(() => broker.close());

    const secret = 'provisioning secret of line 7';
    const previous = process.env.SENSORKIT_PROVISIONING_SECRET;
    process.env.SENSORKIT_PROVISIONING_SECRET = secret;
    cleanups.push(() => (previous === undefined ? delete process.env.SENSORKIT_PROVISIONING_SECRET : (process.env.SENSORKIT_PROVISIONING_SECRET = previous)));

    const open = async (identityDir: string): Promise<{ runtime: Runtime; errors: string[]; states: string[] }> => {
      const runtime = await Runtime.open(
        { device: `${ROOT}examples/env-node`, serialNumber: 'MTLS-1', opcua: false, outbox: { dir: join(identityDir, 'outbox') }, mqtt: { url: broker.url, tls: { ca: pki.caFile, identity: true } }, security: { identity: { dir: identityDir } } },
        { warn: () => undefined },
      );
      cleanups.push(() => runtime.stop());
      const errors: string[] = [];
      const states: string[] = [];
      runtime.transport!.on('error', (error) => errors.push(error.message));
      runtime.transport!.on('state', (state) => states.push(state));
      await runtime.start();
      return { runtime, errors, states };
    };

    // The self-signed identity: the broker refuses it.
    const selfSigned = join(dir, 'self-signed');
    await initIdentity({ dir: selfSigned, subject: { commonName: 'env-node-MTLS-1' }, secret });
    const refused = await open(selfSigned);
    // The broker ends the handshake: the transport goes back to reconnecting, never connected.
    await until(() => refused.states.includes('reconnecting'), 'a refusal');
    expect(refused.states).not.toContain('connected');

    // The same kind of identity, its request signed by the plant CA: connects.
    const issuedDir = join(dir, 'issued');
    const identity = await initIdentity({ dir: issuedDir, subject: { commonName: 'env-node-MTLS-1' }, secret });
    await writeIdentityCsr(identity);
    writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    openssl(dir, 'x509', '-req', '-in', identityFiles(issuedDir).csrFile, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'device.pem', '-days', '1', '-extfile', 'client.ext');
    await importIdentityCertificate(identity, readFileSync(join(dir, 'device.pem'), 'utf8'), { ca: pki.ca, secret });
    const accepted = await open(issuedDir);
    await until(() => accepted.runtime.transport!.state === 'connected', 'an mTLS connection');
    expect(accepted.errors).toEqual([]);
  }, 60_000);
});
