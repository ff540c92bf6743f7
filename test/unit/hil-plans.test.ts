/**
 * The shipped plans pass on the emulated target with any seed, and `shippedPlans()` lists them.
 */
import { describe, expect, it } from 'vitest';
import { loadTestPlan, shippedPlans } from '../../hil/plan/index.js';
import { WALL_CLOCK_FIELDS, type RunRecord } from '../../hil/record/record.js';
import { runTestPlan } from '../../hil/run/index.js';
import { createEmulatedTarget } from '../../hil/targets/emulated.js';

const SEEDS = [1, 2, 3, 42, 1234];

async function runShipped(file: string, seed: number) {
  const { plan, path, bytes } = await loadTestPlan(file);
  return runTestPlan(plan, { target: createEmulatedTarget({ device: plan.device, seed }), seed, planFile: { path, bytes } });
}

describe('hil/plans/env-node-temperature.ts', () => {
  it.each(SEEDS)('passes at 5 points of span within the channel MPE with seed %i', async (seed) => {
    const record = await runShipped('hil/plans/env-node-temperature.ts', seed);
    expect(record.outcome).toBe('pass');
    const [accuracy] = record.phases;
    const points = [-30, 0, 25, 50, 80];
    expect(accuracy!.measurements.map((m) => m.id)).toEqual(points.flatMap((cel) => [`settling@${cel}Cel`, `temperature@${cel}Cel`]));
    const settlings = accuracy!.measurements.filter((m) => m.id.startsWith('settling@'));
    for (const settling of settlings) {
      expect(settling).toMatchObject({ unit: 's', outcome: 'recorded' });
      expect(settling.series![0]!.value.length).toBeGreaterThanOrEqual(10);
    }
    for (const measurement of accuracy!.measurements.filter((m) => m.id.startsWith('temperature@'))) {
      expect(measurement.outcome).toBe('pass');
      expect(measurement.samples).toBe(5);
      // ±1 Cel: env-node's temperature MPE, around the true temperature the plan set.
      expect(measurement.limits!.high! - measurement.reference!.value).toBeCloseTo(1, 9);
      expect(Math.abs(measurement.value! - measurement.reference!.value)).toBeLessThan(1);
    }
    // Each point was settled before it was measured.
    expect(accuracy!.log.filter((entry) => entry.message.startsWith('temperature settled'))).toHaveLength(5);
  });
});

describe('hil/plans/pressure-transmitter-loop.ts', () => {
  it.each(SEEDS)('passes span points and NAMUR NE 43 signalling with seed %i', async (seed) => {
    const record = await runShipped('hil/plans/pressure-transmitter-loop.ts', seed);
    expect(record.phases.map((phase) => [phase.id, phase.outcome])).toEqual([
      ['span', 'pass'],
      ['under-range', 'pass'],
      ['over-range', 'pass'],
      ['failure-signal', 'pass'],
    ]);
    expect(record.outcome).toBe('pass');
    const measured = new Map(record.phases.flatMap((phase) => phase.measurements.map((m) => [m.id, m] as const)));
    // NE 43: held at 3.8 mA below the range and 20.5 mA above it, with the span points' 0.08 mA allowance.
    expect(measured.get('loop-current@under-range')!.limits).toMatchObject({ low: 3.72, high: 4, unit: 'mA' });
    expect(measured.get('loop-current@over-range')!.limits).toMatchObject({ low: 20, high: 20.58, unit: 'mA' });
    expect(measured.get('loop-current@under-range')!.value).toBeGreaterThan(3.6);
    expect(measured.get('loop-current@over-range')!.value).toBeLessThan(21);
    expect(measured.get('pressure-quality@under-range')!.reason).toBe('quality uncertain (out_of_range)');
    expect(measured.get('loop-current@downscale')!.value).toBeNull();
    expect(measured.get('loop-current@downscale')!.reason).toMatch(/^quality bad \(sensor_fault: loop current 3\.50 mA: at or below 3\.6 mA/);
    expect(measured.get('loop-current@upscale')!.reason).toMatch(/at or above 21 mA/);
    expect(measured.get('pressure@recovered')!.outcome).toBe('pass');
  });
});

describe('replays of the shipped plans', () => {
  it.each(['hil/plans/env-node-temperature.ts', 'hil/plans/pressure-transmitter-loop.ts'])('%s gives the same record for the same seed, apart from the wall-clock fields', async (file) => {
    const strip = (record: RunRecord) => Object.fromEntries(Object.entries(record).filter(([field]) => !(WALL_CLOCK_FIELDS as readonly string[]).includes(field)));
    const first = await runShipped(file, 42);
    const second = await runShipped(file, 42);
    expect(strip(second)).toEqual(strip(first));
  });
});

describe('shippedPlans()', () => {
  it('lists the plan files in hil/plans with their descriptions', () => {
    const plans = shippedPlans();
    const byId = new Map(plans.map((plan) => [plan.id, plan]));
    expect(byId.get('env-node-temperature')!.description).toMatch(/^env-node temperature accuracy at 5 points/);
    expect(byId.get('env-node-temperature')!.file).toMatch(/hil\/plans\/env-node-temperature\.ts$/);
    expect(byId.get('pressure-transmitter-loop')!.description).toMatch(/NAMUR NE 43/);
    expect(plans.map((plan) => plan.id)).toEqual([...plans.map((plan) => plan.id)].sort());
    for (const plan of plans) expect(plan.description).not.toBe('');
    // A plan's helper module (no description, no default plan) is not a plan.
    expect(byId.has('communications-checks')).toBe(false);
  });
});
