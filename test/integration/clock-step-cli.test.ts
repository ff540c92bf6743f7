/**
 * `sensorkit run` in a child process whose wall clock the test steps by +2 h and then −2 h (the
 * preload test/support/wall-step.mjs offsets the child's Date.now() by what the test writes to a
 * file; the child's monotonic counter runs on): the readings' timestamps follow the wall time, the
 * 20 Hz cadence has no burst and no gap across either step, and each step is named in one warning
 * line and one `clock.step` audit record.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../support/cli.js';
import { RATE_HZ } from '../support/wall-step.device.js';

const PRELOAD = join(ROOT, 'test/support/wall-step.mjs');
const DEVICE = join(ROOT, 'test/support/wall-step.device.ts');
const TWO_HOURS = 2 * 3600_000;
const PERIOD_MS = 1000 / RATE_HZ;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A reading line of `--json`, with the test's own (unstepped) time of its arrival. */
interface Arrival {
  readonly time: number;
  readonly arrivedAt: number;
}

describe('sensorkit run when the system clock steps by +2 h and −2 h', () => {
  it('follows the wall time, keeps its cadence, and names each step in a warning and an audit record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-wall-step-'));
    dirs.push(dir);
    const stepFile = join(dir, 'offset');
    const auditFile = join(dir, 'audit.log');
    const setOffset = (ms: number): void => {
      writeFileSync(`${stepFile}.tmp`, String(ms));
      renameSync(`${stepFile}.tmp`, stepFile);
    };
    setOffset(0);
    writeFileSync(join(dir, 'sensorkit.config.json'), JSON.stringify({ security: { auditLog: { file: auditFile } } }));

    const child = spawn(process.execPath, ['--import', PRELOAD, BIN, 'run', DEVICE, '--config', join(dir, 'sensorkit.config.json'), '--no-mqtt', '--no-opcua', '--duration', '7', '--json'], {
      cwd: ROOT,
      env: { ...process.env, SENSORKIT_DEBUG: '', SENSORKIT_WALL_STEP_FILE: stepFile },
    });
    const arrivals: Arrival[] = [];
    let pending = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const arrivedAt = Date.now();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) arrivals.push({ time: Date.parse((JSON.parse(line) as { time: string }).time), arrivedAt });
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));

    // The steps are made once readings flow, on the test's clock; each one's moment is kept.
    const offsets: { readonly from: number; readonly offset: number }[] = [];
    await new Promise<void>((resolve) => {
      const wait = setInterval(() => {
        if (arrivals.length < RATE_HZ) return;
        clearInterval(wait);
        resolve();
      }, 10);
    });
    offsets.push({ from: Date.now(), offset: TWO_HOURS });
    setOffset(TWO_HOURS);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    offsets.push({ from: Date.now(), offset: 0 });
    setOffset(0);
    expect(await exited).toBe(0);

    // Each reading is on the wall time of its moment: the offset then in force, once the child
    // has noticed the step (it compares its clocks at least every second).
    const NOTICE_MS = 1500;
    const offsetAt = (at: number): number | undefined => {
      let offset = 0;
      for (const change of offsets) {
        if (at >= change.from && at < change.from + NOTICE_MS) return undefined;
        if (at >= change.from) offset = change.offset;
      }
      return offset;
    };
    let checked = 0;
    for (const { time, arrivedAt } of arrivals) {
      const offset = offsetAt(arrivedAt);
      if (offset === undefined) continue;
      // Printed within a moment of being taken (standard output is a pipe read as it comes; a
      // loaded machine may hold it a second or two): on the wall time, not 2 h off it.
      expect(Math.abs(arrivedAt + offset - time)).toBeLessThan(5000);
      checked++;
    }
    expect(checked).toBeGreaterThan(RATE_HZ * 3);

    // The cadence: consecutive readings one period apart, but for the two steps themselves.
    const gaps = arrivals.slice(1).map((reading, i) => reading.time - arrivals[i]!.time);
    const steps = gaps.filter((gap) => Math.abs(gap) > 1000);
    expect(steps).toHaveLength(2);
    expect(steps[0]! - PERIOD_MS).toBeCloseTo(TWO_HOURS, -2);
    expect(steps[1]! - PERIOD_MS).toBeCloseTo(-TWO_HOURS, -2);
    const cadence = gaps.map((gap) => (Math.abs(gap) > 1000 ? gap - Math.sign(gap) * TWO_HOURS : gap));
    // No burst of catch-up ticks (readings stacked within a few ms) and no hole (a gap of several
    // periods) anywhere, the steps included once their size is taken off. A reading's time is when
    // it was read: on a loaded, shared machine a tick may run tens of ms late or, rarely, be skipped.
    for (const gap of cadence) {
      expect(gap).toBeGreaterThan(5);
      expect(gap).toBeLessThan(2.5 * PERIOD_MS);
    }
    const span = arrivals.at(-1)!.time - arrivals[0]!.time - (steps[0]! + steps[1]!);
    const ticks = Math.round(span / PERIOD_MS) + 1;
    expect(Math.abs(arrivals.length - ticks)).toBeLessThanOrEqual(2 + ticks * 0.02);

    const warnings = stderr.split('\n').filter((line) => line.includes('the system clock stepped'));
    expect(warnings).toEqual([
      expect.stringMatching(/^sensorkit: warning: the system clock stepped by \+2 h 0 min \(NTP setting the time\?\); timestamps follow it from \d{4}-\d\d-\d\dT/),
      expect.stringMatching(/^sensorkit: warning: the system clock stepped by −2 h 0 min \(NTP setting the time\?\); timestamps follow it from .*; readings after it are earlier than those before it$/),
    ]);
    const records = readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq: number; category: string; event: string; data?: { stepMs: number; followed: boolean } });
    const clockSteps = records.filter((record) => record.event === 'clock.step');
    expect(clockSteps.map((record) => [record.category, Math.round(record.data!.stepMs / 60_000), record.data!.followed])).toEqual([
      ['clock', 120, true],
      ['clock', -120, true],
    ]);
    // The audit chain is ordered by its sequence numbers, not by its (stepped) times.
    expect(records.map((record) => record.seq)).toEqual(records.map((_, i) => records[0]!.seq + i));
  }, 60_000);
});
