/**
 * Audit records published for a plant's SIEM through the runtime: each record written to the log
 * arrives on `sensorkit/v1/<device id>/audit` as stored (JSON), and its chain can be checked there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../../sdk/runtime/index.js';
import { chainHash, type AuditEntry } from '../../security/audit-log.js';
import { json, subscriber } from '../fixtures/mqtt-probe.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('audit records on sensorkit/v1/<id>/audit', () => {
  it('publishes each record as stored, chained', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-runtime-security-publish-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const runtime = await Runtime.open({ device: `${ROOT}examples/env-node`, seed: 31, opcua: false, outbox: { dir: join(dir, 'outbox') }, security: { auditLog: { file: join(dir, 'audit.log') } } }, { warn: () => undefined });
    cleanups.push(() => runtime.stop());
    const topic = 'sensorkit/v1/env-node-EMU-31/audit';
    const watcher = await subscriber(runtime.broker!.url, 4, [topic]);
    cleanups.push(() => watcher.close());
    await runtime.start();
    await watcher.next(topic, (m) => json(m.payload).event === 'runtime.start', 15_000);
    runtime.device.writeProperty('location', 'hall 9');
    await watcher.next(topic, (m) => json(m.payload).event === 'property.changed', 15_000);
    const records = watcher.on(topic).map((m) => json(m.payload) as unknown as AuditEntry);
    expect(records.map((r) => r.event)).toEqual(['runtime.start', 'property.changed']);
    expect(records[1]!.prev).toBe(records[0]!.hash);
    expect(chainHash(records[1]!.prev, records[1]!, undefined)).toBe(records[1]!.hash);
  }, 30_000);
});
