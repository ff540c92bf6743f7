/**
 * `sensorkit hil init DEVICE`: a plan written from the device model runs as written (exit 0 on the
 * emulated target), names its device relative to its own folder, never overwrites a file, and an
 * unknown channel is one line with exit 2.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runSensorkit as sensorkit } from '../support/cli.js';

let dir: string;


beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-hil-init-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sensorkit hil init', () => {
  it('writes a plan from the model that runs as written on the emulated target', async () => {
    const file = join(dir, 'plans', 'en-1-temperature.json');
    const unwritable = await sensorkit(['hil', 'init', 'examples/env-node', '--channel', 'temperature', '--out', join(dir, 'missing-folder', 'x.json')]);
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(/^sensorkit: .*missing-folder.*cannot write the plan: ENOENT\n/);
    await mkdir(join(dir, 'plans'));
    const init = await sensorkit(['hil', 'init', 'examples/env-node', '--channel', 'temperature', '--out', file]);
    expect(init.code, init.stderr).toBe(0);
    const plan = JSON.parse(await readFile(file, 'utf8')) as { device: string; phases: { steps: { channel?: string }[] }[] };
    // Relative to the plan's own folder, as a plan file resolves it.
    expect(plan.device.startsWith('.')).toBe(true);
    expect(resolve(join(dir, 'plans'), plan.device)).toBe(resolve(ROOT, 'examples/env-node'));
    expect(plan.phases.length).toBeGreaterThanOrEqual(5);
    expect(plan.phases.flatMap((phase) => phase.steps.map((step) => step.channel)).every((channel) => channel === undefined || channel === 'temperature')).toBe(true);

    const run = await sensorkit(['hil', 'run', file, '--seed', '3', '--out', join(dir, 'run')]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const record = JSON.parse(await readFile(join(dir, 'run', 'record.json'), 'utf8')) as { phases: { measurements: { id: string; value: number | null; unit: string; decisionRule?: string; outcome: string }[] }[] };
    const results = record.phases.flatMap((phase) => phase.measurements);
    expect(results.filter((m) => m.id.startsWith('accuracy@'))).toHaveLength(5);
    for (const result of results) {
      expect(result.value, result.id).not.toBeNull();
      expect(result.unit, result.id).not.toBe('');
      expect(['pass', 'recorded'], result.id).toContain(result.outcome);
    }

    const again = await sensorkit(['hil', 'init', 'examples/env-node', '--out', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists/);
  }, 180_000);

  it('prints the plan without --out, and refuses an unknown channel with one line (exit 2)', async () => {
    const printed = await sensorkit(['hil', 'init', 'examples/pressure-transmitter']);
    expect(printed.code, printed.stderr).toBe(0);
    expect((JSON.parse(printed.stdout) as { device: string }).device).toBe('examples/pressure-transmitter');
    const unknown = await sensorkit(['hil', 'init', 'examples/env-node', '--channel', 'co2']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('sensorkit: hil init: channel: no channel "co2" in env-node (channels: temperature, humidity, pressure)\n');
  }, 60_000);
});
