/**
 * `sensorkit hil run --inject`: a declared truth on the emulated target. A temperature offset over
 * the channel's MPE (3 °C against ±1 °C) fails the accuracy tests and exits 1; the same seed without
 * it passes; the record names the truth, and a replay injects it again.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runSensorkit as sensorkit } from '../support/cli.js';

let dir: string;



beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-hil-inject-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sensorkit hil run --inject', () => {
  it('an offset over the MPE fails the accuracy tests (exit 1); the same seed without it passes', async () => {
    const injected = await sensorkit(['hil', 'run', 'env-node-temperature', '--seed', '2', '--inject', 'temperature:offset=3', '--out', join(dir, 'offset')]);
    expect(injected.code, injected.stderr).toBe(1);
    const junit = await readFile(join(dir, 'offset', 'junit.xml'), 'utf8');
    const failed = [...junit.matchAll(/<testcase [^>]*name="([^"]+)"[^>]*>\s*<failure/g)].map((match) => match[1]);
    expect(failed.filter((name) => name!.startsWith('accuracy@'))).toHaveLength(5);
    const record = JSON.parse(await readFile(join(dir, 'offset', 'record.json'), 'utf8')) as { injected?: unknown; outcome: string };
    expect(record.injected).toEqual([{ channel: 'temperature', kind: 'offset', value: 3 }]);
    expect(record.outcome).toBe('fail');

    const clean = await sensorkit(['hil', 'run', 'env-node-temperature', '--seed', '2', '--out', join(dir, 'clean')]);
    expect(clean.code, clean.stderr).toBe(0);
  }, 120_000);

  it('a replay of a record with declared truths injects them again and finds no differences', async () => {
    const run = await sensorkit(['hil', 'run', 'env-node-temperature', '--seed', '5', '--inject', 'temperature:offset=0.2,noise=0.05', '--out', join(dir, 'replay')]);
    expect(run.code, run.stderr).toBe(0);
    const replay = await sensorkit(['hil', 'replay', join(dir, 'replay', 'record.json')]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/no differences/);
  }, 120_000);

  it('refuses an unknown kind with one line and exit 2', async () => {
    const run = await sensorkit(['hil', 'run', 'env-node-temperature', '--inject', 'temperature:bias=2']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^sensorkit: hil run: inject: unknown kind "bias" in "temperature:bias=2"/);
    expect(run.stderr.trim().split('\n')[0]).not.toMatch(/at .*\.ts:\d+/);
  }, 60_000);
});
