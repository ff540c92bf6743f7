/**
 * Publication of audit records for a SIEM (sdk/runtime/audit-trail.ts): each stored record is
 * published as stored, on the transport's `audit` event topic; the log's alerts are published too;
 * setting changes and certificate failures become records.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { TypedEmitter } from '../../sdk/core/events.js';
import type { Device } from '../../sdk/device/device.js';
import type { Transport, TransportEvents } from '../../sdk/transport/registry.js';
import { wireAuditTrail } from '../../sdk/runtime/audit-trail.js';
import type { SecuritySide } from '../../sdk/runtime/security-side.js';
import { AuditLog, nodeAuditStorage, verifyAuditLog, type AuditStorage } from '../../security/audit-log.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A transport that keeps what it is asked to publish. */
class RecordingTransport extends TypedEmitter<TransportEvents> {
  readonly url = 'mqtts://broker.plant:8883';
  readonly published: { suffix: string; payload: Record<string, unknown>; contentType: string }[] = [];
  publishEvent(suffix: 'audit', payload: Uint8Array, contentType: string): boolean {
    this.published.push({ suffix, payload: JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown>, contentType });
    return true;
  }
}

async function sideWith(storage?: AuditStorage): Promise<{ security: SecuritySide; log: AuditLog; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-audit-publish-'));
  dirs.push(dir);
  const file = join(dir, 'audit.log');
  const log = await AuditLog.open(file, { clock: new VirtualClock(), ...(storage ? { storage } : {}) });
  const security = { profile: 'production', identity: undefined, auditLog: log, authorizer: undefined, operators: undefined, signedCommandsRequired: true, problems: [], record: (event) => void log.record(event), close: async () => undefined } satisfies SecuritySide;
  return { security, log, file };
}

describe('the audit trail wiring', () => {
  it('publishes every stored record as stored, and records setting changes and certificate failures', async () => {
    const { security, log, file } = await sideWith();
    const device = new TypedEmitter<{ property: [id: string, value: number | boolean | string] }>();
    const transport = new RecordingTransport();
    const unwire = wireAuditTrail({ security, device: device as unknown as Device, transport: transport as unknown as Transport, setAside: ['/var/lib/outbox/000001.seg.damaged'], clock: new VirtualClock(), publish: true });
    device.emit('property', 'location', 'hall 7');
    transport.emit('error', new Error('self-signed certificate in certificate chain'));
    transport.emit('error', new Error('connect ECONNREFUSED 127.0.0.1:8883'));
    await log.flush();
    const stored = (await verifyAuditLog(file)).entries;
    expect(stored.map((e) => `${e.category} ${e.event} ${e.result}`)).toEqual(['integrity outbox.file-damaged failure', 'setting property.changed success', 'certificate mqtt.certificate-rejected failure']);
    expect(transport.published.map((p) => p.payload)).toEqual(stored.map((e) => JSON.parse(JSON.stringify(e))));
    expect(transport.published.every((p) => p.suffix === 'audit' && p.contentType === 'application/json')).toBe(true);
    unwire();
    device.emit('property', 'location', 'hall 8');
    await log.flush();
    expect((await verifyAuditLog(file)).entries).toHaveLength(3);
  });

  it('publishes the log\'s alerts (a full disk) though they are not in the log', async () => {
    let full = true;
    const { security, log } = await sideWith({
      ...nodeAuditStorage,
      async append(file, text) {
        if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        await nodeAuditStorage.append(file, text);
      },
    });
    const transport = new RecordingTransport();
    wireAuditTrail({ security, device: new TypedEmitter() as unknown as Device, transport: transport as unknown as Transport, setAside: [], clock: new VirtualClock(), publish: true });
    await log.record({ category: 'login', event: 'opcua.session', result: 'failure', actor: 'alice' });
    expect(transport.published).toEqual([{ suffix: 'audit', contentType: 'application/json', payload: expect.objectContaining({ category: 'system', event: 'audit.alert', result: 'failure', data: expect.objectContaining({ kind: 'write-failed', pending: 1 }) }) }]);
    full = false;
    await log.flush();
    expect(transport.published.map((p) => p.payload.event)).toEqual(['audit.alert', 'opcua.session', 'audit.alert']);
  });
});
