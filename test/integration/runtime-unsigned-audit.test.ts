/**
 * The development profile with an audit log and no signed commands, through the runtime and its
 * broker: an unsigned command and an unsigned setting write over MQTT are let through as before,
 * and each is an audit record by `unsigned` (published on `sensorkit/v1/<id>/audit`, as stored).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../../sdk/runtime/index.js';
import { verifyAuditLog } from '../../security/audit-log.js';
import { json, subscriber } from '../fixtures/mqtt-probe.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('unsigned commands in the development profile', () => {
  it('are audit records by `unsigned`, with their outcome', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-runtime-unsigned-audit-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const auditFile = join(dir, 'audit.log');
    const runtime = await Runtime.open({ device: `${ROOT}examples/env-node`, seed: 32, opcua: false, outbox: { dir: join(dir, 'outbox') }, security: { auditLog: { file: auditFile } } }, { warn: () => undefined });
    cleanups.push(() => runtime.stop());
    const root = 'sensorkit/v1/env-node-EMU-32';
    const watcher = await subscriber(runtime.broker!.url, 4, [`${root}/audit`, `${root}/cmd/#`]);
    cleanups.push(() => watcher.close());
    await runtime.start();
    await watcher.next(`${root}/audit`, (m) => json(m.payload).event === 'runtime.start', 15_000);

    await watcher.client.publishAsync(`${root}/cmd/blink`, '{}', { qos: 1 });
    await watcher.client.publishAsync(`${root}/property/location/set`, '"hall 9"', { qos: 1 });
    const command = await watcher.next(`${root}/audit`, (m) => json(m.payload).event === 'mqtt.command', 15_000);
    const setting = await watcher.next(`${root}/audit`, (m) => json(m.payload).event === 'mqtt.setting', 15_000);
    // env-node has no command `blink`: the device answers an error, and the record says it failed.
    expect(json(command.payload)).toMatchObject({ category: 'command', source: 'mqtt', actor: 'unsigned', result: 'failure', data: { command: 'blink', signed: false } });
    expect(json(setting.payload)).toMatchObject({ category: 'setting', source: 'mqtt', actor: 'unsigned', result: 'success', data: { setting: 'location', signed: false, value: 'hall 9' } });
    expect(runtime.device.readProperty('location')).toBe('hall 9');
    await runtime.stop();
    const stored = (await verifyAuditLog(auditFile)).entries.filter((e) => e.event === 'mqtt.command' || e.event === 'mqtt.setting');
    // Command and setting are handled independently: their records may be in either order.
    expect(stored.map((e) => [e.event, e.actor, e.result]).sort()).toEqual([
      ['mqtt.command', 'unsigned', 'failure'],
      ['mqtt.setting', 'unsigned', 'success'],
    ]);
  }, 30_000);
});
