import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../sdk/core/clock.js';
import { AuditLog, nodeAuditStorage, rotatedAuditFile, verifyAuditFiles, verifyAuditLog, type AuditAlert, type AuditStorage } from '../../security/audit-log.js';

const dirs: string[] = [];
async function logFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sensorkit-audit-trail-'));
  dirs.push(dir);
  return join(dir, 'audit.log');
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const login = (i: number) => ({ category: 'login', event: 'opcua.session', result: i % 2 ? 'denied' : 'success', source: 'opcua', actor: `user-${i}`, detail: { i } }) as const;

/** A full disk after `okWrites` appends: every later append fails with ENOSPC until `heal()`. */
function fullDisk(okWrites: number): { storage: AuditStorage; heal(): void } {
  let left = okWrites;
  let healed = false;
  return {
    storage: {
      ...nodeAuditStorage,
      async append(file, text) {
        if (!healed && left-- <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        await nodeAuditStorage.append(file, text);
      },
    },
    heal: () => void (healed = true),
  };
}

describe('AuditLog records (the event shape)', () => {
  it('writes time, source, actor, category, event, result and detail, chained; records from before the shape still verify', async () => {
    const file = await logFile();
    const clock = new VirtualClock();
    const log = await AuditLog.open(file, { clock });
    // A record as the log wrote it before categories existed (no category, result, source, actor).
    await log.append('ota.confirmed', { sequence: 1 });
    const entry = await log.record(login(1));
    expect(entry).toMatchObject({ seq: 2, time: '2026-01-01T00:00:00.000Z', source: 'opcua', actor: 'user-1', category: 'login', event: 'opcua.session', result: 'denied', data: { i: 1 } });
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ category: 'ota', result: 'success' });
    // An old-format line (what earlier versions wrote): strip the new fields, rebuild its hash as they did.
    expect((await verifyAuditLog(file)).ok).toBe(true);
    // Audit information is the owner's and its group's (IEC 62443-4-2 CR 3.9).
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    expect(() => log.record({ category: 'nope', event: 'x', result: 'success' } as never)).toThrow(/category/);
  });

  it('verifies a log written by the earlier format (records without category or result)', async () => {
    const file = await logFile();
    // Two records exactly as the earlier AuditLog wrote them.
    const { createHash } = await import('node:crypto');
    const zero = '0'.repeat(64);
    const h1 = createHash('sha256').update(`${zero}\n{"data":{"sequence":2},"event":"ota.offer","seq":1,"time":"2026-01-01T00:00:00.000Z"}`).digest('hex');
    const h2 = createHash('sha256').update(`${h1}\n{"data":{},"event":"ota.confirmed","seq":2,"time":"2026-01-01T00:00:01.000Z"}`).digest('hex');
    await writeFile(file, `${JSON.stringify({ seq: 1, time: '2026-01-01T00:00:00.000Z', event: 'ota.offer', data: { sequence: 2 }, prev: zero, hash: h1 })}\n${JSON.stringify({ seq: 2, time: '2026-01-01T00:00:01.000Z', event: 'ota.confirmed', data: {}, prev: h1, hash: h2 })}\n`);
    await writeFile(`${file}.head`, JSON.stringify({ seq: 2, hash: h2 }));
    expect((await verifyAuditLog(file)).ok).toBe(true);
    const log = await AuditLog.open(file, { clock: new VirtualClock() });
    await log.record(login(3));
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, entries: [{ seq: 1 }, { seq: 2 }, { seq: 3, category: 'login' }] });
  });
});

describe('AuditLog rotation', () => {
  it('rotates by size; the first record of each new file chains to the last of the old; the files verify together', async () => {
    const file = await logFile();
    const log = await AuditLog.open(file, { clock: new VirtualClock(), maxBytes: 2048, keep: 3 });
    for (let i = 1; i <= 40; i++) await log.record(login(i));
    const files = [file, rotatedAuditFile(file, 1), rotatedAuditFile(file, 2), rotatedAuditFile(file, 3)];
    for (const f of files) expect((await readFile(f)).length).toBeLessThanOrEqual(2048);
    await expect(readFile(rotatedAuditFile(file, 4))).rejects.toThrow(/ENOENT/);
    const result = await verifyAuditFiles([...files].reverse());
    expect(result.ok).toBe(true);
    expect(result.files.map((f) => f.file)).toEqual([...files].reverse());
    // The oldest kept file continues one removed by rotation: said, not an error.
    expect(result.continues).toBeGreaterThan(0);
    const first = JSON.parse((await readFile(file, 'utf8')).split('\n')[0]!) as { event: string; data: { previous: string } };
    expect(first).toMatchObject({ event: 'audit.rotated', data: { previous: 'audit.log.1' } });
    // Reopened, the log continues the chain.
    const again = await AuditLog.open(file, { clock: new VirtualClock(), maxBytes: 2048, keep: 3 });
    await again.record(login(41));
    expect((await verifyAuditFiles(files)).ok).toBe(true);
  });

  it('finds an edited, deleted, inserted or reordered record, and a missing file, naming the file and record', async () => {
    const file = await logFile();
    const log = await AuditLog.open(file, { clock: new VirtualClock(), maxBytes: 2048, keep: 3 });
    for (let i = 1; i <= 25; i++) await log.record(login(i));
    const older = rotatedAuditFile(file, 1);
    const oldest = rotatedAuditFile(file, 2);
    const original = await readFile(older, 'utf8');
    const lines = original.trimEnd().split('\n');
    const put = (l: string[]): Promise<void> => writeFile(older, `${l.join('\n')}\n`);
    const check = () => verifyAuditFiles([oldest, older, file]);

    await put(lines.map((l, i) => (i === 2 ? l.replace('"actor":"user-', '"actor":"mallory-') : l)));
    expect(await check()).toMatchObject({ ok: false, problem: { file: older, record: 3, reason: 'hash does not match the content' } });
    await put(lines.filter((_, i) => i !== 3));
    expect(await check()).toMatchObject({ ok: false, problem: { file: older, record: 4 } });
    await put([...lines.slice(0, 2), lines[1]!, ...lines.slice(2)]);
    expect(await check()).toMatchObject({ ok: false, problem: { file: older, record: 3 } });
    await put([lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)]);
    expect(await check()).toMatchObject({ ok: false, problem: { file: older, record: 2 } });
    // The last record of a rotated file cut off: the next file's first record no longer chains to it.
    await put(lines.slice(0, -1));
    expect(await check()).toMatchObject({ ok: false, problem: { file, record: 1 } });
    await writeFile(older, original);
    expect((await check()).ok).toBe(true);
    // A whole file missing between two.
    expect(await verifyAuditFiles([oldest, file])).toMatchObject({ ok: false, problem: { file, record: 1, reason: expect.stringMatching(/are missing between/) } });
  });
});

describe('AuditLog on a full disk', () => {
  it('alerts once, holds the newest events in memory (bounded), never rejects a record, and writes them in order when space returns', async () => {
    const file = await logFile();
    const disk = fullDisk(3);
    const alerts: AuditAlert[] = [];
    const log = await AuditLog.open(file, { clock: new VirtualClock(), storage: disk.storage, memoryRecords: 5 });
    log.on('alert', (alert) => alerts.push(alert));
    for (let i = 1; i <= 3; i++) expect(await log.record(login(i))).toBeDefined();
    for (let i = 4; i <= 12; i++) expect(await log.record(login(i))).toBeUndefined();
    expect(log.pending).toBe(5);
    expect(alerts.map((a) => a.kind)).toEqual(['write-failed', 'records-dropped']);
    expect(alerts[0]!.message).toMatch(/ENOSPC/);
    await expect(log.append('ota.failed', {})).rejects.toThrow(/ENOSPC/);
    disk.heal();
    expect(await log.flush()).toBe(0);
    expect(alerts.map((a) => a.kind)).toEqual(['write-failed', 'records-dropped', 'recovered']);
    const result = await verifyAuditLog(file);
    expect(result.ok).toBe(true);
    // 3 written, then the count of the dropped (4 … 8), then the newest five held in memory (9 … 12 and the OTA one).
    expect(result.entries.map((e) => (e.event === 'opcua.session' ? e.actor : e.event))).toEqual(['user-1', 'user-2', 'user-3', 'audit.records-dropped', 'user-9', 'user-10', 'user-11', 'user-12', 'ota.failed']);
    expect(result.entries[3]!.data).toEqual({ count: 5 });
  });

  it('a rotation that fails raises an alert and the log keeps writing to its file', async () => {
    const file = await logFile();
    const alerts: AuditAlert[] = [];
    const storage: AuditStorage = { ...nodeAuditStorage, move: async () => Promise.reject(Object.assign(new Error('EROFS: read-only file system, rename'), { code: 'EROFS' })) };
    const log = await AuditLog.open(file, { clock: new VirtualClock(), storage, maxBytes: 1024 });
    log.on('alert', (alert) => alerts.push(alert));
    for (let i = 1; i <= 10; i++) expect(await log.record(login(i))).toBeDefined();
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts[0]).toMatchObject({ kind: 'rotation-failed', message: expect.stringMatching(/EROFS/) });
    expect((await verifyAuditLog(file)).entries).toHaveLength(10);
  });
});
