import { afterEach, describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../sdk/core/clock.js';
import { AuditLog, auditHeadFile, verifyAuditLog } from '../../security/audit-log.js';

const dirs: string[] = [];
async function logFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sensorkit-audit-'));
  dirs.push(dir);
  return join(dir, 'audit.log');
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('AuditLog', () => {
  it('chains entries and verifies them, across reopen', async () => {
    const file = await logFile();
    const clock = new VirtualClock();
    const log = await AuditLog.open(file, { clock });
    await log.append('ota.offer', { sequence: 2 });
    await clock.advance(1000);
    await log.append('ota.confirmed', { sequence: 2, keys: { b: 1, a: 2 } });
    const again = await AuditLog.open(file, { clock });
    const third = await again.append('ota.offer', { sequence: 3 });
    expect(third.seq).toBe(3);
    const result = await verifyAuditLog(file);
    expect(result.ok).toBe(true);
    expect(result.entries.map((e) => e.event)).toEqual(['ota.offer', 'ota.confirmed', 'ota.offer']);
    expect(result.entries[1]!.time).toBe('2026-01-01T00:00:01.000Z');
  });

  it('detects a changed, removed or reordered entry', async () => {
    const file = await logFile();
    const log = await AuditLog.open(file, { clock: new VirtualClock() });
    for (let i = 1; i <= 4; i++) await log.append('step', { i });
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    await writeFile(file, `${lines.map((l, i) => (i === 1 ? l.replace('"i":2', '"i":9') : l)).join('\n')}\n`);
    expect(await verifyAuditLog(file)).toMatchObject({ ok: false, line: 2, reason: 'hash does not match the content' });
    await writeFile(file, `${[lines[0], lines[2], lines[3]].join('\n')}\n`);
    expect(await verifyAuditLog(file)).toMatchObject({ ok: false, line: 2 });
    await writeFile(file, `${[lines[1], lines[0], lines[2]].join('\n')}\n`);
    expect(await verifyAuditLog(file)).toMatchObject({ ok: false, line: 1 });
    await expect(AuditLog.open(file, { clock: new VirtualClock() })).rejects.toThrow(/audit chain broken at line 1/);
  });

  it('with a key, a rebuilt chain without the key does not verify', async () => {
    const file = await logFile();
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    const log = await AuditLog.open(file, { clock: new VirtualClock(), key });
    await log.append('a', {});
    expect((await verifyAuditLog(file, { key })).ok).toBe(true);
    expect((await verifyAuditLog(file)).ok).toBe(false);
  });

  it('cuts a torn last line on open and logs the cut', async () => {
    const file = await logFile();
    const log = await AuditLog.open(file, { clock: new VirtualClock() });
    await log.append('a', {});
    await appendFile(file, '{"seq":2,"time":"20');
    const reopened = await AuditLog.open(file, { clock: new VirtualClock() });
    await reopened.append('b', {});
    const result = await verifyAuditLog(file);
    expect(result.ok).toBe(true);
    expect(result.entries.map((e) => e.event)).toEqual(['a', 'audit.torn-tail-dropped', 'b']);
    expect(result.entries[1]!.data).toEqual({ bytes: 19 });
  });

  it('detects entries cut off the end (the head file records how many there were)', async () => {
    const file = await logFile();
    const log = await AuditLog.open(file, { clock: new VirtualClock() });
    for (let i = 1; i <= 4; i++) await log.append('step', { i });
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    await writeFile(file, `${lines.slice(0, 2).join('\n')}\n`);
    expect(await verifyAuditLog(file)).toMatchObject({ ok: false, line: 3, reason: expect.stringMatching(/head records 4 entries, the log holds 2/) });
    await expect(AuditLog.open(file, { clock: new VirtualClock() })).rejects.toThrow(/cut off the end/);
  });

  it('with a key, a head rewritten without the key does not verify', async () => {
    const file = await logFile();
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    const log = await AuditLog.open(file, { clock: new VirtualClock(), key });
    for (let i = 1; i <= 3; i++) await log.append('step', { i });
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    const second = JSON.parse(lines[1]!) as { hash: string };
    await writeFile(file, `${lines.slice(0, 2).join('\n')}\n`);
    await writeFile(auditHeadFile(file), JSON.stringify({ seq: 2, hash: second.hash }));
    expect(await verifyAuditLog(file, { key })).toMatchObject({ ok: false, reason: 'the head file is not signed with this key' });
  });

  it('a deleted head is logged when the log is opened again; a head one entry behind (a crash) verifies', async () => {
    const file = await logFile();
    const log = await AuditLog.open(file, { clock: new VirtualClock() });
    await log.append('a', {});
    const headAfterA = await readFile(auditHeadFile(file), 'utf8');
    await log.append('b', {});
    await writeFile(auditHeadFile(file), headAfterA);
    expect((await verifyAuditLog(file)).ok).toBe(true);
    await rm(auditHeadFile(file));
    expect(await verifyAuditLog(file)).toMatchObject({ ok: false, reason: expect.stringMatching(/no head file/) });
    await AuditLog.open(file, { clock: new VirtualClock() });
    const result = await verifyAuditLog(file);
    expect(result.ok).toBe(true);
    expect(result.entries.map((e) => e.event)).toEqual(['a', 'b', 'audit.head-missing']);
  });
});
