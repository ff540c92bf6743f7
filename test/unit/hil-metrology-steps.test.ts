/**
 * Method steps in plans: a reference instrument's certificate enters the budget, supply variation
 * under a simulated supply (limits and a dip), resolution, noise and drift on the emulated env-node,
 * a device gone silent inside a method, and the plan's rule for conditional outcomes recorded.
 */
import { describe, expect, it } from 'vitest';
import { Bme280Peripheral } from '../../boards/emulated/parts/index.js';
import { constant, type EmulatedBoard, type PhysicalInputs } from '../../boards/emulated/index.js';
import { defineDevice } from '../../sdk/model/index.js';
import { SimulatedCalibrator } from '../../hil/instruments/sim-calibrator.js';
import { SimulatedPowerSupply } from '../../hil/instruments/sim-supply.js';
import { defineTestPlan, type PhaseSpec, type TestPlanSpec } from '../../hil/plan/index.js';
import type { MeasurementRecord, RunRecord } from '../../hil/record/record.js';
import { createEmulatedTarget, methodWaits, runTestPlan } from '../../hil/run/index.js';
import { resolveDevice } from '../../sdk/runtime/device-source.js';

const DEVICE = 'examples/env-node';

async function run(phases: PhaseSpec[], extra: Partial<TestPlanSpec> = {}, instruments: (clock: never) => Record<string, unknown> = () => ({}), seed = 1): Promise<RunRecord> {
  const plan = defineTestPlan({ id: 'steps', name: 'steps', version: '1', device: DEVICE, phases, ...extra });
  const target = createEmulatedTarget({ device: DEVICE, seed });
  const connected = Object.fromEntries(Object.entries(instruments(target.clock as never)).map(([role, instrument]) => [role, { instrument, connection: 'simulated' }]));
  return runTestPlan(plan, { target, seed, instruments: connected as never });
}

function byId(record: RunRecord): Map<string, MeasurementRecord> {
  return new Map(record.phases.flatMap((phase) => phase.measurements.map((m) => [m.id, m] as const)));
}

describe('method steps', () => {
  it('take the waits from the channel: env-node temperature has 9 samples of filter memory', async () => {
    const { model } = await resolveDevice(DEVICE);
    expect(methodWaits(model.channel('temperature')!)).toEqual({ periodMs: 1000, memory: 9, settleMs: 90_000, intervalMs: 9000 });
    // The part's IIR filter is counted for every channel it feeds (the BME280 does not filter humidity: a safe excess).
    expect(methodWaits(model.channel('humidity')!)).toEqual({ periodMs: 1000, memory: 5, settleMs: 50_000, intervalMs: 5000 });
  });

  it('with a calibrator as source and reference, its certificate is a type B input of every point', async () => {
    const record = await run(
      [
        {
          id: 'accuracy',
          setup: [{ kind: 'drive', input: 'temperature', instrument: 'calibrator', quantity: 'temperature' }],
          steps: [{ kind: 'accuracy', channel: 'temperature', source: { instrument: 'calibrator', quantity: 'temperature' }, reference: { instrument: 'calibrator', quantity: 'temperature' }, points: [-30, 0, 25, 50, 80], readings: 5 }],
        },
      ],
      { instruments: { calibrator: ['temperature'] } },
      (clock) => ({ calibrator: new SimulatedCalibrator({ clock, seed: 1 }) }),
    );
    expect(record.phases[0]!.outcome).toBe('pass');
    for (const m of record.phases[0]!.measurements) {
      expect(m.reference!.source).toBe('instrument calibrator');
      const certificate = m.uncertainty!.budget.find((c) => c.name === 'reference certificate');
      expect(certificate, m.id).toMatchObject({ type: 'B', distribution: 'normal', sensitivity: -1 });
      expect(certificate!.standardUncertainty).toBeGreaterThan(0);
    }
  });

  it('supply variation: the change under the supply limits and a 30 % dip, each with U; the emulated node does not feel its supply', async () => {
    const record = await run(
      [{ id: 'supply', steps: [{ kind: 'supply-variation', channel: 'temperature', point: 25, supply: 'supply', nominal: 5, conditions: [4.5, 5.5], dip: { depthPercent: 30, durationMs: 10_000 }, readings: 5 }] }],
      { instruments: { supply: ['voltage-dc'] } },
      (clock) => ({ supply: new SimulatedPowerSupply({ clock, seed: 1 }) }),
    );
    const found = byId(record);
    expect([...found.keys()]).toEqual(['supply-variation@4.5V', 'supply-variation@5.5V', 'supply-variation@dip30%']);
    for (const m of found.values()) {
      expect(m).toMatchObject({ unit: 'Cel', outcome: 'pass', decisionRule: 'ILAC-G8:09 guard band w = U', limits: { low: -1, high: 1 } });
      // No supply model in the emulated node: the change is its scatter, within U of zero.
      expect(Math.abs(m.value!)).toBeLessThanOrEqual(m.uncertainty!.expanded);
    }
    expect(record.phases[0]!.log.some((entry) => /the target has no input fed by the supply/.test(entry.message))).toBe(true);
  });

  it('supply variation finds a declared supply sensitivity when the emulation feels its supply', async () => {
    // A node whose reading moves 0.2 Cel per volt of supply away from 5 V, the supply an input the supply drives.
    const model = defineDevice({
      id: 'supply-sensitive',
      board: 'raspberry-pi-4',
      identity: { manufacturer: 'test', model: 'supply-sensitive', productCode: 'T-2', hardwareRevision: '1', softwareRevision: '1', serialNumber: { source: 'env' } },
      channels: [
        {
          id: 'temperature',
          quantity: 'temperature',
          unit: 'Cel',
          range: { min: -40, max: 85 },
          resolution: 0.01,
          accuracy: { mpe: 1 },
          sampleRate: 1,
          driver: { part: 'bme280', address: 0x76, options: { oversampling: { temperature: 2, pressure: 1, humidity: 1 } }, output: 'temperature' },
        },
      ],
    });
    const device = {
      model,
      emulation: (board: EmulatedBoard, _random: unknown, inputs: PhysicalInputs) => {
        const air = inputs.input('temperature', constant(22.5), 'Cel');
        const supply = inputs.input('supply-voltage', constant(5), 'V');
        const felt = { valueAt: (t: number) => air.valueAt(t) + 0.2 * (supply.valueAt(t) - 5) };
        board.attachI2c(new Bme280Peripheral({ address: 0x76, temperature: felt, humidity: constant(45), pressure: constant(101_325) }), { bus: 'i2c1' });
      },
    };
    const plan = defineTestPlan({
      id: 'supply',
      name: 'supply',
      version: '1',
      device,
      instruments: { supply: ['voltage-dc'] },
      phases: [{ id: 'supply', steps: [{ kind: 'supply-variation', channel: 'temperature', point: 25, supply: 'supply', supplyInput: 'supply-voltage', nominal: 5, conditions: [4.5, 5.5], dip: { depthPercent: 30, durationMs: 20_000 }, readings: 5 }] }],
    });
    const target = createEmulatedTarget({ device, seed: 1, inject: [{ channel: 'temperature', kind: 'noise', value: 0.01 }] });
    const record = await runTestPlan(plan, { target, seed: 1, instruments: { supply: { instrument: new SimulatedPowerSupply({ clock: target.clock, seed: 1 }), connection: 'simulated' } } });
    const found = byId(record);
    const expected: Record<string, number> = { 'supply-variation@4.5V': -0.1, 'supply-variation@5.5V': 0.1, 'supply-variation@dip30%': -0.3 };
    for (const [id, truth] of Object.entries(expected)) {
      const m = found.get(id)!;
      expect(Math.abs(m.value! - truth), `${id}: ${m.value} vs ${truth}, U = ${m.uncertainty!.expanded}`).toBeLessThanOrEqual(m.uncertainty!.expanded);
    }
  });

  it('resolution, noise and drift of the env-node temperature pass against the model', async () => {
    const record = await run([
      { id: 'resolution', steps: [{ kind: 'resolution', channel: 'temperature', point: 25 }] },
      { id: 'noise', steps: [{ kind: 'noise', channel: 'temperature', point: 25 }] },
      { id: 'drift', steps: [{ kind: 'drift', channel: 'temperature', point: 25, durationMs: 2 * 3600_000 }] },
    ]);
    expect(record.outcome).toBe('pass');
    const found = byId(record);
    expect(found.get('resolution')).toMatchObject({ unit: 'Cel', reference: { value: 0.01 }, limits: { unit: 'Cel' }, decisionRule: 'ILAC-G8:09 simple acceptance' });
    expect(found.get('resolution')!.value).toBeGreaterThan(0);
    expect(found.get('resolution')!.value).toBeLessThanOrEqual(0.01);
    expect(found.get('noise-rms')!.uncertainty!.coverageFactor).toBeGreaterThan(2);
    expect(found.get('noise-peak-to-peak')!.value).toBeGreaterThan(found.get('noise-rms')!.value!);
    expect(found.get('drift')).toMatchObject({ unit: 'Cel/h', limits: { low: -0.5, high: 0.5, unit: 'Cel/h' } });
  });

  it('a device gone silent inside a method aborts the phase with the reason, bounded in target time', async () => {
    const record = await run([
      {
        id: 'silent',
        steps: [
          { kind: 'fault', target: 'i2c1@0x76', fault: 'nak' },
          { kind: 'repeatability', channel: 'temperature', point: 25, readings: 10 },
        ],
      },
    ]);
    expect(record.phases[0]!.outcome).toBe('aborted');
    expect(record.phases[0]!.reason).toMatch(/^repeatability temperature: .*stopped reporting/);
  });

  it('records how the plan counts conditional outcomes', async () => {
    const phases: PhaseSpec[] = [{ id: 'repeatability', steps: [{ kind: 'repeatability', channel: 'temperature', point: 25 }] }];
    expect((await run(phases, { conditionalOutcomes: { pass: 'fail' } })).conditionalOutcomes).toEqual({ pass: 'fail' });
    expect((await run(phases)).conditionalOutcomes).toBeUndefined();
    expect(() => defineTestPlan({ id: 'x', name: 'x', version: '1', device: DEVICE, phases, conditionalOutcomes: { pass: 'maybe' as never } })).toThrow(/^conditionalOutcomes\.pass: expected one of/);
  });
});
