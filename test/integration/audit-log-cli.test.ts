/**
 * `sensorkit audit-log` as a user runs it (real child processes): verify across rotated files,
 * naming the file and record of an edited, deleted, inserted or reordered record; show as lines
 * or JSON, since a time, by category.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { AuditLog, auditLogSet } from '../../security/audit-log.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/sensorkit.js`;

function sensorkit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A log of 30 records (logins, settings, clock steps) rotated at 4 KiB into three files, none dropped. */
async function writtenLog(): Promise<{ file: string; files: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-audit-log-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'audit.log');
  const clock = new VirtualClock({ start: Date.UTC(2026, 2, 1, 8) });
  const log = await AuditLog.open(file, { clock, maxBytes: 4096, keep: 10 });
  for (let i = 1; i <= 30; i++) {
    await clock.advance(60_000);
    if (i % 10 === 0) await log.record({ category: 'clock', event: 'clock.step', result: 'success', source: 'runtime', detail: { stepMs: 90_000 } });
    else await log.record({ category: i % 2 ? 'login' : 'setting', event: i % 2 ? 'opcua.session' : 'property.changed', result: i % 3 ? 'success' : 'denied', source: 'opcua 10.0.0.7:51234', actor: `user-${i}` });
  }
  const files = await auditLogSet(file);
  expect(files).toHaveLength(3);
  return { file, files };
}

describe('sensorkit audit-log verify', () => {
  it('verifies the rotated files in any order, and names the file and record of each kind of tampering', async () => {
    const { files } = await writtenLog();
    const ok = await sensorkit(['audit-log', 'verify', files[2]!, files[0]!, files[1]!]);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(/^ok: \d+ records \(1–\d+\) in 3 files, chain intact\n$/);

    const middle = files[1]!;
    const original = readFileSync(middle, 'utf8');
    const lines = original.trimEnd().split('\n');
    const tamper = async (changed: string[]): Promise<string> => {
      writeFileSync(middle, `${changed.join('\n')}\n`);
      const run = await sensorkit(['audit-log', 'verify', ...files]);
      expect(run.code).toBe(1);
      return run.stdout;
    };
    expect(await tamper(lines.map((l, i) => (i === 2 ? l.replace(/"actor":"user-\d+"/, '"actor":"mallory"') : l)))).toBe(`${middle}: record 3: hash does not match the content\n`);
    expect(await tamper(lines.filter((_, i) => i !== 2))).toBe(`${middle}: record 3: sequence ${JSON.parse(lines[3]!).seq}, expected ${JSON.parse(lines[2]!).seq}\n`);
    expect(await tamper([...lines.slice(0, 3), lines[1]!, ...lines.slice(3)])).toMatch(new RegExp(`^${middle}: record 4: `));
    expect(await tamper([lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)])).toMatch(new RegExp(`^${middle}: record 2: `));
    writeFileSync(middle, original);
    // A rotated file left out: the gap is named.
    const gap = await sensorkit(['audit-log', 'verify', files[0]!, files[2]!]);
    expect(gap.code).toBe(1);
    expect(gap.stdout).toMatch(/are missing between .*audit\.log\.2 and this file\n$/);
  }, 60_000);
});

describe('sensorkit audit-log show', () => {
  it('prints every file of the log oldest first, as lines or JSON, since a time and by category', async () => {
    const { file } = await writtenLog();
    const all = await sensorkit(['audit-log', 'show', file]);
    expect(all.code).toBe(0);
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^2026-03-01T08:01:00\.000Z #1 login success opcua\.session actor=user-1 source=opcua 10\.0\.0\.7:51234$/);
    expect(lines.filter((l) => / audit\.rotated /.test(l))).toHaveLength(2);
    expect(lines).toHaveLength(32);
    const json = (await sensorkit(['audit-log', 'show', file, '--json', '--since', '2026-03-01T08:20:00Z', '--category', 'clock'])).stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json.map((r) => [r.time, r.event])).toEqual([
      ['2026-03-01T08:20:00.000Z', 'clock.step'],
      ['2026-03-01T08:30:00.000Z', 'clock.step'],
    ]);
    expect(json[0]).toMatchObject({ category: 'clock', result: 'success', data: { stepMs: 90_000 }, prev: expect.stringMatching(/^[0-9a-f]{64}$/), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const bad = await sensorkit(['audit-log', 'show', file, '--since', 'yesterday']);
    expect(bad).toMatchObject({ code: 2 });
    expect(bad.stderr.split('\n')[0]).toBe('sensorkit: --since: expected an ISO 8601 time, got "yesterday"');
  }, 60_000);
});
