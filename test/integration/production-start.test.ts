/**
 * A production configuration that fixes what `sensorkit audit` reports for the development
 * defaults: the audit passes it with no high finding, and `sensorkit run` starts with it — device
 * identity issued by a plant CA, MQTT over TLS to a broker that requires client certificates, the
 * OPC UA production profile with a users file, an operator trust store, signed commands, an audit
 * log and a declared time source.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../sdk/transport/opcua/users.js';
import { identityFiles, importIdentityCertificate, initIdentity, writeIdentityCsr } from '../../security/identity/index.js';
import { OperatorTrustStore } from '../../security/operators/index.js';
import { startBroker } from '../support/brokers.js';
import { ROOT, runSensorkit, runSensorkitUntil } from '../support/cli.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const openssl = (cwd: string, ...args: string[]): void => void execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

describe('a production configuration', () => {
  it('passes the hardening audit with no high finding, and starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-production-start-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // The plant CA, and the broker's certificate for 127.0.0.1 it issued.
    openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '400', '-subj', '/CN=Plant CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    chmodSync(join(dir, 'ca.key'), 0o600);
    openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '400', '-extfile', 'server.ext');
    const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
    const certificates = { ca: read('ca.pem'), serverCert: read('server.pem'), serverKey: read('server.key'), clientCert: '', clientKey: '', strangerCert: '', strangerKey: '' };
    const broker = await startBroker('aedes', { tls: { certificates, requireClientCert: true } });
    cleanups.push(() => broker.close());

    // The device identity, its request signed by the plant CA.
    const identityDir = join(dir, 'identity');
    const identity = await initIdentity({ dir: identityDir, subject: { commonName: 'env-node-P-1' } });
    await writeIdentityCsr(identity);
    writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    openssl(dir, 'x509', '-req', '-in', identityFiles(identityDir).csrFile, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'device.pem', '-days', '400', '-extfile', 'client.ext');
    await importIdentityCertificate(identity, read('device.pem'), { ca: read('ca.pem') });

    // One OPC UA user with a strong password, one trusted operator.
    const user = await hashPassword('maintenance', 'correct horse battery staple 42', 'engineer');
    writeFileSync(join(dir, 'opcua-users.json'), `${JSON.stringify({ version: 1, users: [user] })}\n`, { mode: 0o600 });
    const operators = new OperatorTrustStore([], join(dir, 'operators.json'));
    await operators.trust(generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(), { role: 'engineer', name: 'alice' });
    chmodSync(join(dir, 'operators.json'), 0o600);

    writeFileSync(
      join(dir, 'sensorkit.config.json'),
      JSON.stringify({
        device: `${ROOT}examples/env-node`,
        serialNumber: 'P-1',
        profile: 'production',
        mqtt: { url: broker.url, tls: { ca: 'ca.pem', identity: true } },
        outbox: { dir: 'outbox' },
        opcua: { profile: 'production', host: '127.0.0.1', port: 0, users: 'opcua-users.json', pki: 'pki' },
        security: { identity: { dir: 'identity' }, operators: 'operators.json', signedCommands: true, auditLog: { file: 'audit.log' }, timeSource: 'ntp' },
      }),
    );

    const audit = await runSensorkit(['audit', '--config', 'sensorkit.config.json', '--profile', 'production', '--fail-on', 'high'], dir);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    expect(audit.stdout).not.toMatch(/ (critical|high) /);

    // A plant client (its own CA-issued certificate) watches what the device publishes.
    openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'watcher.key', '-out', 'watcher.csr', '-subj', '/CN=watcher');
    openssl(dir, 'x509', '-req', '-in', 'watcher.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'watcher.pem', '-days', '400', '-extfile', 'client.ext');
    const watcher = await connectAsync(broker.url, { ca: read('ca.pem'), cert: read('watcher.pem'), key: read('watcher.key'), protocolVersion: 4, reconnectPeriod: 0 });
    cleanups.push(() => watcher.endAsync());
    const topics = new Set<string>();
    watcher.on('message', (topic) => void topics.add(topic));
    await watcher.subscribeAsync('sensorkit/v1/env-node-P-1/#', { qos: 1 });

    // Runs until OPC UA is ready and telemetry has reached the broker (the production OPC UA start
    // makes its RSA application certificate first: seconds on a loaded machine), then Ctrl-C.
    const run = await runSensorkitUntil(['run', '--config', 'sensorkit.config.json', '--json'], dir, (stdout, stderr) => / ready after /.test(stderr) && stdout.includes('"temperature"') && topics.has('sensorkit/v1/env-node-P-1/telemetry'), 90_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/not provisioned|refusing to start/);
    const readings = run.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { channel: string; unit: string });
    expect(readings.map((r) => r.channel)).toContain('temperature');
    expect(run.stderr).toMatch(/OPC UA opc\.tcp:\/\/127\.0\.0\.1:\d+ \(production\), ready/);
    // Connected over mutual TLS with the identity: its status and telemetry reached the broker.
    expect([...topics]).toEqual(expect.arrayContaining(['sensorkit/v1/env-node-P-1/status', 'sensorkit/v1/env-node-P-1/telemetry']));
  }, 120_000);
});
