/**
 * The runtime's security controls through its public interface, each with its bad input: an
 * unprovisioned device under the production profile (no identity, a copied identity, a weak broker
 * password, no operator trust store) stays `provisioning` and never samples; a key file others can
 * read is refused; a critical hardening finding refuses the start, naming it; a provisioned device
 * runs and writes its audit trail (start, setting change, clock step, stop); a full disk raises an
 * alert while sampling keeps its cadence.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { TimeoutError } from '../../sdk/core/errors.js';
import type { Sample } from '../../sdk/core/sample.js';
import { Runtime, checkConfig, runtimeProfile } from '../../sdk/runtime/index.js';
import { nodeAuditStorage, verifyAuditLog, type AuditStorage } from '../../security/audit-log.js';
import { identityFiles, initIdentity } from '../../security/identity/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENV_NODE = `${ROOT}examples/env-node`;
const START = Date.UTC(2026, 10, 25, 8);
const DEVICE_ID = 'env-node-SEC-1';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-runtime-security-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function open(options: Omit<Parameters<typeof Runtime.open>[0], 'device'>, warnings: string[] = []): Promise<Runtime> {
  const runtime = await Runtime.open({ device: ENV_NODE, serialNumber: 'SEC-1', opcua: false, ...options }, { warn: (message) => warnings.push(message) });
  cleanups.push(() => runtime.stop());
  return runtime;
}

/** Resolves once `condition` holds, checking between I/O callbacks; rejects after 5 s. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new TimeoutError('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** An identity for this device (CN = its id), valid around the test's virtual time. */
async function identityFor(dir: string, commonName = DEVICE_ID): Promise<string> {
  const at = join(dir, `identity-${commonName}`);
  await initIdentity({ dir: at, subject: { commonName, serialNumber: commonName === DEVICE_ID ? 'SEC-1' : 'OTHER-9' }, now: START - 86_400_000, days: 30 });
  return at;
}

describe('provisioning under the production profile', () => {
  it('a device without identity stays provisioning: nothing samples, the status names the problem, the audit log records the refusal', async () => {
    const dir = tempDir();
    const clock = new VirtualClock({ start: START });
    const warnings: string[] = [];
    const auditFile = join(dir, 'audit.log');
    const runtime = await open({ profile: 'production', mqtt: false, clock, security: { identity: { dir: join(dir, 'none') }, auditLog: { file: auditFile } } }, warnings).catch((e: unknown) => e);
    // A configured identity folder that does not exist is a provisioning problem, not a crash.
    expect(runtime).toBeInstanceOf(Runtime);
    const rt = runtime as Runtime;
    const samples: Sample[] = [];
    rt.device.on('sample', (s) => samples.push(s));
    await rt.start();
    expect(rt.state).toBe('provisioning');
    await expect(rt.ready).rejects.toThrow(/not provisioned \(production profile\): no device identity in .*none/);
    expect(rt.securityStatus()).toMatchObject({ profile: 'production', provisioning: [expect.stringMatching(/^no device identity in /)], identity: undefined });
    expect(warnings).toEqual([expect.stringMatching(/^not provisioned: no device identity in /)]);
    await clock.advance(10_000);
    expect(samples).toHaveLength(0);
    expect(rt.device.state).not.toBe('running');
    await rt.stop();
    const log = await verifyAuditLog(auditFile);
    expect(log.ok).toBe(true);
    expect(log.entries.map((e) => [e.category, e.event, e.result])).toEqual([['system', 'runtime.provisioning', 'denied']]);
  });

  it('names each problem: a copied identity, a known-weak broker password, no operator trust store', async () => {
    const dir = tempDir();
    const clock = new VirtualClock({ start: START });
    const identity = await identityFor(dir, 'env-node-OTHER-9');
    const runtime = await open({ profile: 'production', clock, mqtt: { url: 'mqtts://admin:Passw0rd!@127.0.0.1:1' }, security: { identity: { dir: identity }, auditLog: { file: join(dir, 'audit.log') } } });
    await runtime.start();
    expect(runtime.state).toBe('provisioning');
    expect(runtime.securityStatus().provisioning).toEqual([
      expect.stringMatching(/its certificate names CN=env-node-OTHER-9, serialNumber=OTHER-9, not this device \(env-node-SEC-1, serial SEC-1\): a copied or shared identity/),
      expect.stringMatching(/^mqtt: the broker password is a common password .*: give a unique one in mqtt.passwordFile$/),
      expect.stringMatching(/^no operator trust store \(security.operators\)/),
    ]);
    // Nothing was published: the transport never started.
    expect(runtime.transport!.state).toBe('idle');
  });

  it('names an expired certificate and a broker without credentials', async () => {
    const dir = tempDir();
    const clock = new VirtualClock({ start: START });
    const identity = join(dir, 'expired');
    await initIdentity({ dir: identity, subject: { commonName: DEVICE_ID }, now: START - 40 * 86_400_000, days: 30 });
    const operators = join(dir, 'operators.json');
    writeFileSync(operators, JSON.stringify({ version: 1, operators: [] }), { mode: 0o600 });
    const runtime = await open({ profile: 'production', clock, mqtt: { url: 'mqtts://127.0.0.1:1' }, security: { identity: { dir: identity }, operators, auditLog: false } });
    await runtime.start();
    expect(runtime.securityStatus().provisioning).toEqual([
      expect.stringMatching(/: its certificate expired on 2026-11-15T08:00:00\.000Z$/),
      'mqtt: no credentials at the broker (neither a password nor a client certificate: mqtt.passwordFile or mqtt.tls.identity)',
    ]);
  });

  it('refuses to load a key file readable by group or others, naming the file and its mode', async () => {
    const dir = tempDir();
    const identity = await identityFor(dir);
    chmodSync(identityFiles(identity).keyFile, 0o640);
    await expect(open({ profile: 'production', mqtt: false, clock: new VirtualClock({ start: START }), security: { identity: { dir: identity }, auditLog: false } })).rejects.toThrow(
      `security.identity.dir: ${identityFiles(identity).keyFile}: readable by group or others (mode 0640); chmod 600 ${identityFiles(identity).keyFile}`,
    );
  });

  it('a critical hardening finding refuses the start, naming the rule and its IEC 62443-4-2 requirement', async () => {
    const dir = tempDir();
    const clock = new VirtualClock({ start: START });
    const password = join(dir, 'password');
    writeFileSync(password, 'vivid-otter-carries-9-lanterns\n');
    const operators = join(dir, 'operators.json');
    writeFileSync(operators, JSON.stringify({ version: 1, operators: [] }), { mode: 0o600 });
    const runtime = await open({ profile: 'production', clock, mqtt: { url: 'mqtt://127.0.0.1:1', username: 'env-node', passwordFile: password }, security: { identity: { dir: await identityFor(dir) }, operators, auditLog: { file: join(dir, 'audit.log') } } });
    await expect(runtime.start()).rejects.toThrow(/^refusing to start under the production profile: .*SK-MQTT-001 \[critical\] CR 3\.1/);
    expect(runtime.state).toBe('stopped');
    const log = await verifyAuditLog(join(dir, 'audit.log'));
    expect(log.entries.map((e) => e.event)).toEqual(['runtime.hardening-refused']);
    expect(log.entries[0]!.data).toMatchObject({ findings: expect.arrayContaining(['SK-MQTT-001']) });
  });
});

describe('the audit trail of a running device', () => {
  it('records start, setting changes, clock steps and stop in a chain that verifies', async () => {
    const dir = tempDir();
    const clock = new VirtualClock({ start: START });
    let wall = START;
    const auditFile = join(dir, 'audit.log');
    const runtime = await open({ profile: 'production', mqtt: false, clock, wallNow: () => wall + (clock.now() - START), security: { identity: { dir: await identityFor(dir) }, auditLog: { file: auditFile } } });
    await runtime.start();
    await runtime.ready;
    expect(runtime.state).toBe('running');
    expect(runtime.securityStatus()).toMatchObject({ profile: 'production', provisioning: [], identity: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/), auditLog: { file: auditFile } });
    runtime.device.writeProperty('location', 'hall 7');
    wall += 90_000; // NTP sets the clock 90 s ahead
    await clock.advance(5_000);
    await runtime.stop();
    const log = await verifyAuditLog(auditFile);
    expect(log.ok).toBe(true);
    expect(log.entries.map((e) => `${e.category} ${e.event} ${e.result}`)).toEqual(['system runtime.start success', 'setting property.changed success', 'clock clock.step success', 'system runtime.stop success']);
    expect(log.entries[1]!.data).toEqual({ property: 'location', value: 'hall 7' });
    expect(log.entries[2]!.data).toMatchObject({ stepMs: 90_000 });
  });

  it('a full disk: the audit log alerts and holds records in memory, bounded; sampling keeps its cadence', async () => {
    const dir = tempDir();
    const clock = new VirtualClock({ start: START });
    let full = false;
    const storage: AuditStorage = {
      ...nodeAuditStorage,
      async append(file, text) {
        if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        await nodeAuditStorage.append(file, text);
      },
    };
    const warnings: string[] = [];
    const runtime = await open({ profile: 'production', mqtt: false, clock, auditStorage: storage, security: { identity: { dir: await identityFor(dir) }, auditLog: { file: join(dir, 'audit.log') } } }, warnings);
    await runtime.start();
    await runtime.ready;
    const samples: Sample[] = [];
    runtime.device.on('sample', (s) => samples.push(s));
    await clock.advance(10_000);
    const before = samples.length;
    full = true;
    for (let i = 0; i < 2_000; i++) runtime.device.writeProperty('location', `bay ${i}`);
    await clock.advance(10_000);
    // The records are written on the real file system: wait for the last one's outcome.
    await until(() => warnings.some((w) => /ENOSPC/.test(w)));
    expect(warnings.some((w) => /^audit log: .*ENOSPC/.test(w))).toBe(true);
    expect(warnings.some((w) => /^audit log: 1000 events held in memory: the oldest are dropped/.test(w))).toBe(true);
    // Bounded: at most 1000 held (one may have reached the disk before it filled).
    expect(runtime.securityStatus().auditLog!.pending).toBeLessThanOrEqual(1000);
    expect(runtime.securityStatus().auditLog!.pending).toBeGreaterThanOrEqual(999);
    // Sampling went on at the same cadence through the full disk.
    const during = samples.length - before;
    expect(before).toBeGreaterThanOrEqual(27);
    expect(during).toBeGreaterThanOrEqual(before - 3);
    full = false;
    await runtime.stop();
    const log = await verifyAuditLog(join(dir, 'audit.log'));
    expect(log.ok).toBe(true);
    expect(log.entries.map((e) => e.event)).toContain('audit.records-dropped');
  });
});

describe('the security settings', () => {
  it('profile: production is OPC UA\'s default profile; contradictions and doubled TLS material are refused, naming the field', () => {
    expect(runtimeProfile(checkConfig({ profile: 'production', opcua: { host: '0.0.0.0' } }))).toBe('production');
    expect(runtimeProfile(checkConfig({ opcua: { profile: 'production' } }))).toBe('production');
    expect(runtimeProfile(checkConfig({}))).toBe('dev');
    expect(() => checkConfig({ opcua: { host: '0.0.0.0' } })).toThrow(/^opcua\.host: /);
    expect(() => checkConfig({ profile: 'production', opcua: { profile: 'dev' } })).toThrow('opcua.profile: dev contradicts profile production');
    expect(() => checkConfig({ mqtt: { url: 'mqtts://broker:8883', tls: { identity: true, cert: '/c.pem', key: '/k.pem' } } })).toThrow('mqtt.tls.cert: given with tls.identity: the identity supplies the certificate and key');
    expect(() => checkConfig({ mqtt: { url: 'mqtt://broker:1883', tls: { identity: true } } })).toThrow('mqtt.tls.identity: needs an mqtts:// url');
    expect(() => checkConfig({ security: { auditLog: { maxBytes: 10 } } })).toThrow('security.auditLog.maxBytes: must be from 1024 to 2147483648, got 10');
    expect(checkConfig({ opcua: { roles: { defaultUserRole: 'viewer', x509: { 'Line 7 HMI': 'operator' } } } })).toEqual({ opcua: { roles: { defaultUserRole: 'viewer', x509: { 'Line 7 HMI': 'operator' } } } });
    expect(() => checkConfig({ opcua: { roles: { x509: { 'Line 7 HMI': 'root' } } } })).toThrow('opcua.roles.x509.Line 7 HMI: expected one of "viewer", "operator", "engineer", "security-admin", got "root"');
  });
});

describe('the operator trust store', () => {
  it('is re-read every minute on the runtime clock: a revocation holds without a restart', async () => {
    const dir = tempDir();
    const clock = new VirtualClock({ start: START });
    const file = join(dir, 'operators.json');
    const { OperatorTrustStore, writeOperatorKey } = await import('../../security/operators/index.js');
    const writer = new OperatorTrustStore([], file);
    const key = await writeOperatorKey(join(dir, 'keys'), 'alice');
    const trusted = await writer.trust(readFileSync(key.publicKeyFile, 'utf8'), { role: 'operator', name: 'alice' });
    const { openSecuritySide } = await import('../../sdk/runtime/security-side.js');
    const security = await openSecuritySide({ mqtt: false, security: { operators: file } }, clock, { deviceId: DEVICE_ID, serialNumber: 'SEC-1' }, () => undefined);
    expect(security.operators!.lookup(trusted.keyId)?.revoked).toBe(false);
    await writer.revoke(trusted.keyId);
    await clock.advance(59_000);
    expect(security.operators!.lookup(trusted.keyId)?.revoked).toBe(false);
    await clock.advance(1_000);
    await until(() => security.operators!.lookup(trusted.keyId)?.revoked === true);
    await security.close();
    expect(clock.pending).toBe(0);
  });
});
