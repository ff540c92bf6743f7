/**
 * Simulated instruments in the emulated world, on the target's clock: a climatic chamber's air
 * drives env-node's temperature input and the device follows it; a calibrator is the reference of a
 * test plan's measurement, its output driving the same input.
 */
import { describe, expect, it } from 'vitest';
import { connectInstrument, SimulatedChamber } from '../../hil/instruments/index.js';
import { defineTestPlan } from '../../hil/plan/index.js';
import { runTestPlan } from '../../hil/run/index.js';
import { createEmulatedTarget } from '../../hil/targets/emulated.js';
import type { Sample } from '../../sdk/core/sample.js';
import { trackedCleanups } from '../support/cleanups.js';

const { track } = trackedCleanups();

describe('simulated instruments driving an emulated target', () => {
  it('env-node follows a climatic chamber’s air through its ramp and time constant', async () => {
    const target = track(createEmulatedTarget({ device: 'examples/env-node', seed: 3 }));
    await target.open();
    const chamber = new SimulatedChamber({ clock: target.clock, seed: 3, ambient: 22, rampRate: 2, timeConstantMs: 60_000 });
    await target.drive('temperature', chamber.air(), chamber.air().unit);
    const samples: Sample[] = [];
    target.onSample((sample) => {
      if (sample.channel === 'temperature' && sample.quality.level === 'good') samples.push(sample);
    });
    await chamber.source('temperature', 40, 'Cel');
    await target.wait(5 * 60_000);
    // Mid-ramp: the ramped set point is at 32 Cel, the air one rate·τ (2 K) behind and still catching up.
    const midRamp = samples.at(-1)!;
    expect(chamber.rampedSetPointAt(midRamp.time)).toBeCloseTo(32, 0);
    expect(Math.abs((midRamp.value as number) - chamber.airAt(midRamp.time))).toBeLessThan(0.5);
    await target.wait(25 * 60_000);
    const reading = await chamber.measure('temperature');
    const last = samples.slice(-5).map((s) => s.value as number);
    const mean = last.reduce((a, b) => a + b, 0) / last.length;
    expect(Math.abs(reading.value - 40)).toBeLessThan(0.1);
    expect(Math.abs(mean - reading.value)).toBeLessThan(1);
  }, 60_000);

  it('a plan measures the device against a simulated calibrator driving its input', async () => {
    const target = createEmulatedTarget({ device: 'examples/env-node', seed: 5 });
    const reference = await connectInstrument('sim:calibrator', { clock: target.clock, seed: 5, role: 'reference' });
    const plan = defineTestPlan({
      id: 'calibrator-reference',
      name: 'calibrator as the reference',
      version: '1.0.0',
      device: 'examples/env-node',
      instruments: { reference: ['temperature'] },
      phases: [
        {
          id: 'point',
          steps: [
            { name: 'the block feeds the sensor', run: (ctx) => ctx.target.drive('temperature', ctx.instruments.reference!.output!('temperature'), 'Cel') },
            { kind: 'source', instrument: 'reference', quantity: 'temperature', value: 35, unit: 'Cel' },
            { kind: 'settle', channel: 'temperature', tolerance: 0.05, unit: 'Cel', windowMs: 10_000, timeoutMs: 300_000 },
            { kind: 'measure', id: 'temperature@35Cel', channel: 'temperature', samples: 5, reference: { instrument: 'reference', quantity: 'temperature' }, limits: { tolerance: 'mpe' } },
          ],
        },
      ],
    });
    const record = await runTestPlan(plan, { target, seed: 5, instruments: { reference } });
    await reference.instrument.close();
    expect(record.instruments).toMatchObject([
      { id: 'reference', connection: 'sim:calibrator', manufacturer: 'sensorkit', model: 'SIM-CAL', serialNumber: 'SIM-5', firmware: '1.0', simulated: true, certificate: { id: 'SK-CAL-SIM-5', coverageFactor: 2 } },
    ]);
    const measurement = record.phases[0]!.measurements[0]!;
    expect(measurement.reference).toMatchObject({ value: 35, unit: 'Cel', source: 'instrument reference' });
    expect(measurement.outcome).toBe('pass');
    expect(Math.abs((measurement.value as number) - 35)).toBeLessThan(1);
  }, 60_000);
});
