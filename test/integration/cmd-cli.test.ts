/**
 * `sensorkit operator` and `sensorkit cmd` as a user runs them, against a device whose MQTT
 * transport requires signed requests (the production profile) behind a real broker: keys made and
 * trusted with roles, a command run (exit 0), refused with its reason (exit 1), a setting changed,
 * a revoked key refused, an unsigned request answered with an error, usage errors (exit 2).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { topics } from '../../sdk/encoding/topics.js';
import type { AuditEvent } from '../../security/audit/event.js';
import { CommandAuthorizer, OperatorTrustStore } from '../../security/operators/index.js';
import { startBroker } from '../support/brokers.js';
import { waitFor } from '../support/net.js';
import { json, startProbe, subscriber } from '../fixtures/mqtt-probe.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [`${ROOT}bin/sensorkit.js`, ...args], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  cleanups.push(() => void child.kill('SIGKILL'));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-cmd-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('sensorkit operator', () => {
  it('makes keys, trusts them with roles, lists and revokes them', async () => {
    const dir = temp();
    const store = join(dir, 'operators.json');
    const keygen = await cli(['operator', 'keygen', '--out', dir, '--name', 'alice']);
    expect(keygen.code).toBe(0);
    const keyId = /key ([0-9a-f]{16}) \(ed25519\) for alice/.exec(keygen.stdout)?.[1];
    expect(keyId).toBeDefined();
    expect(statSync(join(dir, 'alice.key')).mode & 0o777).toBe(0o600);
    expect((await cli(['operator', 'keygen', '--out', dir, '--name', 'bob', '--alg', 'p256'])).code).toBe(0);

    const trust = await cli(['operator', 'trust', join(dir, 'alice.pub'), '--role', 'engineer', '--store', store]);
    expect(trust).toMatchObject({ code: 0, stdout: `trusted ${keyId} alice as engineer in ${store}\n` });
    expect((await cli(['operator', 'trust', join(dir, 'bob.pub'), '--role', 'viewer', '--store', store])).code).toBe(0);
    const list = await cli(['operator', 'list', '--store', store, '--json']);
    expect(JSON.parse(list.stdout).map((o: { name: string; role: string }) => [o.name, o.role])).toEqual([['alice', 'engineer'], ['bob', 'viewer']]);

    const revoke = await cli(['operator', 'revoke', keyId!.slice(0, 8), '--store', store]);
    expect(revoke.code).toBe(0);
    expect((await cli(['operator', 'list', '--store', store])).stdout).toMatch(new RegExp(`${keyId}  engineer .* REVOKED`));
    const again = await cli(['operator', 'trust', join(dir, 'alice.pub'), '--role', 'engineer', '--store', store]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/was revoked/);
    expect(JSON.parse(readFileSync(store, 'utf8')).version).toBe(1);
  });

  it.each([
    [['operator'], /expected keygen, trust, revoke or list/],
    [['operator', 'keygen', '--name', 'x'], /--out DIR is required/],
    [['operator', 'trust', 'x.pub', '--role', 'root'], /--role must be one of viewer, operator, engineer, security-admin/],
    [['operator', 'frobnicate'], /unknown action "frobnicate"/],
  ])('%j is a usage error: exit 2, one line', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('sensorkit cmd against a device that requires signed requests', () => {
  async function setup(kind: 'mosquitto' | 'aedes' = 'mosquitto') {
    const dir = temp();
    const store = join(dir, 'operators.json');
    for (const [name, role] of [['alice', 'engineer'], ['vic', 'viewer'], ['olga', 'operator']] as const) {
      expect((await cli(['operator', 'keygen', '--out', dir, '--name', name])).code).toBe(0);
      expect((await cli(['operator', 'trust', join(dir, `${name}.pub`), '--role', role, '--store', store])).code).toBe(0);
    }
    const broker = await startBroker(kind);
    cleanups.push(() => broker.close());
    const trust = await OperatorTrustStore.load(store);
    const audit: AuditEvent[] = [];
    const { SystemClock } = await import('../../sdk/core/clock.js');
    const probe = await startProbe(broker.url, {
      extras: { properties: [{ id: 'threshold', type: 'number', range: { min: 0, max: 5 }, default: 3 }] },
      transport: { signedRequests: { authorizer: new CommandAuthorizer({ operators: trust, clock: new SystemClock() }), required: true }, audit: { record: (event) => void audit.push(event) } },
    });
    cleanups.push(() => probe.close());
    await probe.transport.start();
    await waitFor(() => probe.transport.state === 'connected', 10_000, 'the transport to connect');
    const cmd = (...args: string[]) => cli(['cmd', probe.deviceId, ...args, '--mqtt', broker.url, '--timeout', '8000']);
    return { dir, store, broker, probe, audit, cmd, trust };
  }

  it('runs a command signed by an engineer; refuses a viewer with the reason; changes a setting', async () => {
    const s = await setup();
    const ran = await s.cmd('set-gain', 'gain=2.5', '--key', join(s.dir, 'alice.key'));
    expect(ran).toMatchObject({ code: 0, stdout: 'ok 5\n' });
    const json1 = await s.cmd('ping', '--key', join(s.dir, 'olga.key'), '--json');
    expect(json1.code).toBe(0);
    expect(JSON.parse(json1.stdout)).toEqual({ ok: true, result: 'pong' });

    const refused = await s.cmd('ping', '--key', join(s.dir, 'vic.key'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^sensorkit: refused: wrong-role: vic is a viewer; command "ping" needs an operator\n$/);

    const olgaSetting = await s.cmd('threshold', '4', '--setting', '--key', join(s.dir, 'olga.key'));
    expect(olgaSetting.code).toBe(1);
    expect(olgaSetting.stderr).toMatch(/refused: wrong-role/);
    const setting = await s.cmd('threshold', '4', '--setting', '--key', join(s.dir, 'alice.key'));
    expect(setting).toMatchObject({ code: 0, stdout: 'ok\n' });
    expect(s.probe.device.readProperty('threshold')).toBe(4);
    expect(s.audit.map((event) => [event.category, event.result, event.actor])).toEqual([
      ['command', 'success', 'alice'],
      ['command', 'success', 'olga'],
      ['command', 'denied', 'vic'],
      ['setting', 'denied', 'olga'],
      ['setting', 'success', 'alice'],
    ]);
  }, 60_000);

  it('falls back to MQTT 3.1.1 with a broker that takes only 3.1.1 (aedes)', async () => {
    const s = await setup('aedes');
    expect(s.broker.protocols).toEqual([4]);
    expect(await s.cmd('set-gain', 'gain=1', '--key', join(s.dir, 'vic.key'))).toMatchObject({ code: 1, stderr: expect.stringMatching(/refused: wrong-role/) });
    expect(await s.cmd('set-gain', '{"gain":1.5}', '--key', join(s.dir, 'alice.key'))).toMatchObject({ code: 0, stdout: 'ok 3\n' });
  }, 60_000);

  it('refuses a revoked key and an unsigned request, with an error reply and nothing run', async () => {
    const s = await setup();
    const keyId = s.trust.list().find((operator) => operator.name === 'olga')!.keyId;
    await s.trust.revoke(keyId); // the device's own store: in force at once
    const revoked = await s.cmd('ping', '--key', join(s.dir, 'olga.key'));
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toMatch(/refused: revoked: key [0-9a-f]{16} \(olga\) is revoked/);

    const protocol = s.broker.protocols.includes(5) ? 5 : 4;
    const t = topics(s.probe.deviceId);
    const watcher = await subscriber(s.broker.url, protocol, [t.commandResult('set-gain')]);
    cleanups.push(() => watcher.close());
    const before = s.audit.length;
    const plain = await import('mqtt');
    const client = await plain.default.connectAsync(s.broker.url, { protocolVersion: protocol });
    cleanups.push(() => client.endAsync(true));
    await client.publishAsync(t.command('set-gain'), JSON.stringify({ gain: 3 }), { qos: 1 });
    const reply = json((await watcher.next(t.commandResult('set-gain'))).payload);
    expect(reply).toMatchObject({ ok: false, error: { code: 'ERR_REFUSED', reason: 'unsigned' } });
    await waitFor(() => s.audit.length > before, 5000, 'the audit record');
    expect(s.audit.at(-1)).toMatchObject({ category: 'command', result: 'denied', detail: { reason: 'unsigned', command: 'set-gain' } });
    expect(s.probe.transport.status().mqtt.commands).toMatchObject({ refused: 2 });
  }, 60_000);

  it.each([
    [['cmd'], /expected DEVICE COMMAND/],
    [['cmd', 'dev-1', 'ping'], /--key FILE .* is required/],
    [['cmd', 'dev-1', 'ping', '--key', 'k', '--timeout=0'], /--timeout: must be at least 1/],
    [['cmd', 'dev-1', 'ping', 'gain', '--key', 'k'], /argument "gain": expected name=value/],
    [['cmd', 'dev/1', 'ping', '--key', 'k'], /DEVICE/],
    [['cmd', 'dev-1', 'ping', '--key', 'k', '--mqtt', 'http://x'], /unsupported scheme/],
  ])('%j is a usage error: exit 2', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('exits 1 naming the topic when no reply comes in time', async () => {
    const dir = temp();
    expect((await cli(['operator', 'keygen', '--out', dir, '--name', 'alice'])).code).toBe(0);
    const broker = await startBroker('mosquitto');
    cleanups.push(() => broker.close());
    const result = await cli(['cmd', 'nobody-1', 'ping', '--key', join(dir, 'alice.key'), '--mqtt', broker.url, '--timeout', '300']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no reply from the device on sensorkit\/v1\/nobody-1\/cmd\/ping\/result.* within 300 ms/);
  }, 30_000);
});
