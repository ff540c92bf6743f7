/**
 * `planFromModel`: a plan from a device model, test points from the range, limits from the MPE,
 * waits from the sample rate and filters, the methods that fit the quantity; it validates, runs on
 * the emulated target and passes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defineTestPlan, loadTestPlan, planFromDevice, planFromModel, testPoints } from '../../hil/plan/index.js';
import { runTestPlan } from '../../hil/run/index.js';
import { createEmulatedTarget } from '../../hil/targets/emulated.js';
import { resolveDevice } from '../../sdk/runtime/device-source.js';

const envNode = (await resolveDevice('examples/env-node')).model;
const transmitter = (await resolveDevice('examples/pressure-transmitter')).model;

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('planFromModel', () => {
  it('writes a JSON plan file that loads (the device relative to the file) and runs', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hil-init-'));
    const file = join(dir, 'pressure-transmitter.json');
    // The loop current is set through the process pressure (another dimension): no accuracy, no resolution ramp.
    await expect(planFromDevice('examples/pressure-transmitter', { channel: 'loop-current' })).rejects.toThrow(
      /^input: no physical input "loop-current" sets channel loop-current on this target \(inputs: pressure\); name the one that does$/,
    );
    const spec = await planFromDevice('examples/pressure-transmitter', { channel: 'loop-current', input: 'pressure', device: relative(dir, resolve('examples/pressure-transmitter')) });
    expect(spec.phases[0]!.steps[0]).toMatchObject({ kind: 'linearity', channel: 'loop-current', input: 'pressure', unit: 'Pa', points: [100_000, 300_000, 500_000, 700_000, 900_000] });
    await writeFile(file, `${JSON.stringify(spec, null, 2)}\n`);
    const { plan } = await loadTestPlan(file);
    expect(plan.phases.map((phase) => phase.id)).toEqual([
      'loop-current-linearity',
      'loop-current-hysteresis',
      'loop-current-repeatability',
      'loop-current-step-response',
      'loop-current-noise',
      'loop-current-drift',
    ]);
    // Without a channel, the channels no input sets are left out.
    expect((await planFromDevice('examples/pressure-transmitter')).phases.every((phase) => phase.id.startsWith('pressure-'))).toBe(true);
    const record = await runTestPlan(plan, { target: createEmulatedTarget({ device: plan.device, seed: 1 }), seed: 1 });
    // Every phase ran to its end, every result judged (with its U, or by simple acceptance without one).
    expect(record.phases.filter((phase) => phase.outcome === 'aborted').map((phase) => phase.reason)).toEqual([]);
    expect(record.phases.flatMap((phase) => phase.measurements)).toHaveLength(12);
    for (const m of record.phases.flatMap((phase) => phase.measurements)) expect(m.decisionRule, m.id).toMatch(/^ILAC-G8:09 /);
  });

  it('puts five test points at 10 … 90 % of the range', () => {
    expect(testPoints({ min: -40, max: 85 })).toEqual([-27, -2, 23, 48, 73]);
    expect(testPoints({ min: 4, max: 20 })).toEqual([5.6, 8.8, 12, 15.2, 18.4]);
    expect(testPoints({ min: 0, max: 1_000_000 })).toEqual([100_000, 300_000, 500_000, 700_000, 900_000]);
  });

  it('gives a channel the methods that fit it, named after the method, with the MPE as the limit', () => {
    const spec = planFromModel(envNode, { channel: 'temperature', device: '../examples/env-node' });
    expect(spec).toMatchObject({ id: 'env-node-temperature', device: '../examples/env-node', version: '1.0.0' });
    expect(spec.phases.map((phase) => phase.id)).toEqual([
      'temperature-accuracy',
      'temperature-linearity',
      'temperature-hysteresis',
      'temperature-repeatability',
      'temperature-step-response',
      'temperature-noise',
      'temperature-resolution',
      'temperature-drift',
    ]);
    expect(spec.phases[0]!.steps[0]).toEqual({ kind: 'accuracy', channel: 'temperature', points: [-27, -2, 23, 48, 73], readings: 5, limits: { tolerance: 'mpe' } });
    // 1 Hz, a moving average of 4 and the BME280's IIR of 4: 9 samples of memory, 90 s to settle.
    expect(spec.phases[4]!.steps[0]).toMatchObject({ kind: 'step-response', from: -2, to: 48, limits: { t63: 22.5, t90: 45, settlingTime: 90, overshoot: 5 } });
    // Plain data: survives JSON and validates.
    expect(() => defineTestPlan(JSON.parse(JSON.stringify({ ...spec, device: 'examples/env-node' })))).not.toThrow();
  });

  it('covers every channel without `channel`, and refuses an unknown one naming the channels', () => {
    expect(planFromModel(transmitter).phases.map((phase) => phase.id)).toContain('loop-current-hysteresis');
    expect(() => planFromModel(envNode, { channel: 'humdity' })).toThrow(/^channel: no channel "humdity" in env-node \(channels: temperature, humidity, pressure\)$/);
  });

  it.each([1, 2, 3, 42, 1234])('the env-node temperature plan it writes passes on the emulated target (seed %i)', async (seed) => {
    const plan = defineTestPlan({ ...planFromModel(envNode, { channel: 'temperature' }), device: 'examples/env-node' });
    const record = await runTestPlan(plan, { target: createEmulatedTarget({ device: plan.device, seed }), seed });
    expect(record.phases.filter((phase) => phase.outcome !== 'pass').map((phase) => [phase.id, phase.reason, phase.measurements.map((m) => [m.id, m.value, m.reason])])).toEqual([]);
    expect(record.outcome).toBe('pass');
  });
});
