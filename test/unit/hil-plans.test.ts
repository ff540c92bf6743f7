/**
 * The shipped plans pass on the emulated target with any seed, and `shippedPlans()` lists them.
 */
import { describe, expect, it } from 'vitest';
import { loadTestPlan, shippedPlans } from '../../hil/plan/index.js';
import { WALL_CLOCK_FIELDS, type RunRecord } from '../../hil/record/record.js';
import { runTestPlan } from '../../hil/run/index.js';
import { createEmulatedTarget } from '../../hil/targets/emulated.js';
import { firstOrderLag, gaussianNoise, PhysicalInputs, sine, type EmulatedBoard } from '../../boards/emulated/index.js';
import { Ads1115Peripheral, currentLoopTransmitter, type CurrentLoopFault } from '../../boards/emulated/parts/index.js';
import type { SeededRandom } from '../../sdk/core/index.js';
import type { CalibrationSpec } from '../../sdk/model/index.js';
import pressureTransmitter, { CALIBRATION } from '../../examples/pressure-transmitter/device.js';

const SEEDS = [1, 2, 3, 42, 1234];

async function runShipped(file: string, seed: number) {
  const { plan, path, bytes } = await loadTestPlan(file);
  return runTestPlan(plan, { target: createEmulatedTarget({ device: plan.device, seed }), seed, planFile: { path, bytes } });
}

describe('hil/plans/env-node-temperature.ts', () => {
  it.each(SEEDS)('passes accuracy, linearity, hysteresis, repeatability and response with seed %i, every result with U, k and a decision', async (seed) => {
    const record = await runShipped('hil/plans/env-node-temperature.ts', seed);
    expect(record.outcome).toBe('pass');
    expect(record.phases.map((phase) => [phase.id, phase.outcome])).toEqual([
      ['accuracy', 'pass'],
      ['linearity', 'pass'],
      ['hysteresis', 'pass'],
      ['repeatability', 'pass'],
      ['response', 'pass'],
    ]);
    const ids = record.phases.flatMap((phase) => phase.measurements.map((m) => m.id));
    expect(ids).toEqual([
      ...[-30, 0, 25, 50, 80].map((cel) => `accuracy@${cel}Cel`),
      'linearity',
      'linearity-terminal',
      'hysteresis',
      'hysteresis-difference',
      'repeatability',
      'step-response-t63',
      'step-response-t90',
      'step-response-overshoot',
      'step-response-settling-time',
    ]);
    for (const m of record.phases.flatMap((phase) => phase.measurements)) {
      expect(m.value, m.id).toEqual(expect.any(Number));
      expect(m.unit, m.id).not.toBe('');
      expect(m.decisionRule, m.id).toMatch(/^ILAC-G8:09 (guard band w = U|simple acceptance)$/);
      expect(m.limits, m.id).toBeDefined();
      // The overshoot has a U only when the response passes its final level.
      if (m.id !== 'step-response-overshoot') expect(m.uncertainty!.expanded, m.id).toBeGreaterThan(0);
      if (m.uncertainty !== undefined) expect(m.uncertainty.coverageFactor, m.id).toBeGreaterThanOrEqual(2);
    }
    for (const m of record.phases[0]!.measurements) {
      // ±1 Cel: env-node's temperature MPE, around the true temperature the plan set; the part's own error is within ±0.4 Cel.
      expect(m.limits!.high! - m.reference!.value).toBeCloseTo(1, 9);
      expect(Math.abs(m.value! - m.reference!.value)).toBeLessThan(0.45);
      expect(m.samples).toBe(5);
    }
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
      ['linearity', 'pass'],
      ['hysteresis', 'pass'],
      ['repeatability', 'pass'],
      ['response', 'pass'],
    ]);
    expect(record.outcome).toBe('pass');
    const measured = new Map(record.phases.flatMap((phase) => phase.measurements.map((m) => [m.id, m] as const)));
    // NE 43: saturated at 3.8 mA below the range and 20.5 mA above it, with the span points' 0.08 mA allowance.
    expect(measured.get('loop-current@under-range')!.limits).toMatchObject({ low: 3.72, high: 3.88, unit: 'mA' });
    expect(measured.get('loop-current@over-range')!.limits).toMatchObject({ low: 20.42, high: 20.58, unit: 'mA' });
    expect(measured.get('loop-current@under-range')!.value).toBeLessThan(4);
    expect(measured.get('loop-current@over-range')!.value).toBeGreaterThan(20);
    expect(measured.get('pressure-quality@under-range')!.reason).toBe('quality uncertain (out_of_range)');
    // The failure signals, judged on the current the receiver read when it rejected it.
    expect(measured.get('loop-current@downscale')).toMatchObject({ value: 3.5, unit: 'mA', outcome: 'pass', limits: { low: 1, high: 3.6, unit: 'mA' } });
    // 21.5 mA across 250 Ω is 5.375 V, which the ADS1115 on a 5 V supply reads at its input limit of about 21.2 mA.
    expect(measured.get('loop-current@upscale')).toMatchObject({ unit: 'mA', outcome: 'pass', limits: { low: 21, unit: 'mA' } });
    expect(measured.get('loop-current@upscale')!.value).toBeGreaterThanOrEqual(21.1);
    expect(measured.get('loop-current@upscale')!.value).toBeLessThanOrEqual(21.5);
    expect(measured.get('loop-quality@downscale')!.reason).toMatch(/^quality bad \(sensor_fault: loop current 3\.50 mA: at or below 3\.6 mA/);
    expect(measured.get('loop-quality@upscale')!.reason).toMatch(/at or above 21 mA/);
    expect(measured.get('pressure@recovered')!.outcome).toBe('pass');
    // The method phases: named after the method, each result with U and a guard-band decision.
    for (const id of ['linearity', 'linearity-terminal', 'hysteresis', 'hysteresis-difference', 'repeatability', 'step-response-t63', 'step-response-t90', 'step-response-settling-time']) {
      expect(measured.get(id), id).toMatchObject({ outcome: 'pass', decisionRule: 'ILAC-G8:09 guard band w = U' });
      expect(measured.get(id)!.uncertainty!.expanded, id).toBeGreaterThan(0);
    }
    // The transmitter's lag of about 2 s behind the channel's EMA.
    expect(measured.get('step-response-t63')!.value).toBeGreaterThan(1.5);
    expect(measured.get('step-response-t63')!.value).toBeLessThan(3);
  });
});

/**
 * The pressure transmitter's emulation with a different transmitter: one that clamps at 4.00 and
 * 20.00 mA instead of signalling NE 43 saturation, or one whose failure signals are `faults`.
 */
function otherTransmitter(options: { clamp?: boolean; faults?: Readonly<Record<string, CurrentLoopFault>> }) {
  return (board: EmulatedBoard, random: SeededRandom, inputs: PhysicalInputs = new PhysicalInputs()): void => {
    const pressure = inputs.input('pressure', sine({ offset: 400_000, amplitude: 80_000, periodMs: 60_000 }), 'Pa', 'process pressure at the transmitter');
    const process = gaussianNoise(firstOrderLag(pressure, { timeConstantMs: 2_000 }), { sigma: 500, random: random.fork('process') });
    const { low, high } = CALIBRATION as Extract<CalibrationSpec, { method: 'two-point' }>;
    const gain = (high.raw - low.raw) / (high.reference - low.reference);
    const loop = currentLoopTransmitter({ valueAt: (t: number) => low.raw + (process.valueAt(t) - low.reference) * gain }, { rangeMin: 0, rangeMax: 1_000_000, shuntOhms: 250 });
    const clamped = {
      valueAt: (t: number) => {
        const volts = loop.valueAt(t);
        return options.clamp === true && loop.fault === undefined ? Math.min(5, Math.max(1, volts)) : volts; // 4…20 mA across 250 Ω
      },
    };
    inputs.fault('transmitter', ['downscale', 'upscale', 'open'], (kind) => loop.setFault(kind === undefined ? undefined : (options.faults?.[kind] ?? (kind as CurrentLoopFault))), 'failure signal');
    board.attachI2c(new Ads1115Peripheral({ address: 0x48, inputs: [clamped], vdd: 5, random: random.fork('ads1115') }), { bus: 'i2c1' });
  };
}

async function runPressureOn(emulation: ReturnType<typeof otherTransmitter>, seed = 1) {
  const { plan } = await loadTestPlan('hil/plans/pressure-transmitter-loop.ts');
  const record = await runTestPlan(plan, { target: createEmulatedTarget({ device: { model: pressureTransmitter, emulation }, seed }), seed });
  return new Map(record.phases.flatMap((phase) => phase.measurements.map((m) => [m.id, m] as const)));
}

describe('hil/plans/pressure-transmitter-loop.ts against transmitters that do not signal NAMUR NE 43', () => {
  it('fails a transmitter that clamps at 4.00 and 20.00 mA instead of saturating at 3.8 and 20.5 mA', async () => {
    const measured = await runPressureOn(otherTransmitter({ clamp: true }));
    expect(measured.get('loop-current@under-range')).toMatchObject({ outcome: 'fail' });
    expect(measured.get('loop-current@under-range')!.value).toBeCloseTo(4, 1);
    expect(measured.get('loop-current@over-range')).toMatchObject({ outcome: 'fail' });
    expect(measured.get('loop-current@over-range')!.value).toBeCloseTo(20, 1);
    expect(measured.get('loop-current@50%')!.outcome).toBe('pass');
  });

  it('fails an open loop as a downscale or upscale signal', async () => {
    const measured = await runPressureOn(otherTransmitter({ faults: { downscale: 'open', upscale: 'open' } }));
    expect(measured.get('loop-current@downscale')).toMatchObject({ value: 0, outcome: 'fail' });
    expect(measured.get('loop-current@upscale')).toMatchObject({ value: 0, outcome: 'fail' });
    // The receiver marks both bad all the same: only the current tells them apart.
    expect(measured.get('loop-quality@downscale')!.outcome).toBe('pass');
  });

  it('tells downscale from upscale: swapped failure signals fail both', async () => {
    const measured = await runPressureOn(otherTransmitter({ faults: { downscale: 'upscale', upscale: 'downscale' } }));
    expect(measured.get('loop-current@downscale')).toMatchObject({ outcome: 'fail' });
    expect(measured.get('loop-current@downscale')!.value).toBeGreaterThan(21);
    expect(measured.get('loop-current@upscale')).toMatchObject({ value: 3.5, outcome: 'fail' });
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
