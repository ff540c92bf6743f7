/**
 * The in-process emulated target and the physical inputs of the emulated world: pass-through until
 * a harness sets an input, so samples stay byte for byte those of `sensorkit run` for a seed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { constant, PhysicalInputs, ramp, settable } from '../../boards/emulated/index.js';
import { createEmulatedTarget, type EmulatedTarget } from '../../hil/targets/emulated.js';
import { canInjectFaults } from '../../hil/targets/emulated-faults.js';
import { createTarget } from '../../hil/targets/create-target.js';
import type { Sample } from '../../sdk/core/sample.js';
import { ArgumentError, DeviceFileError, StateError, ValidationError } from '../../sdk/core/errors.js';
import { startDevice, stopDevice } from '../support/run-device.js';

const START = Date.UTC(2026, 10, 25, 8);
const targets: EmulatedTarget[] = [];
afterEach(async () => {
  while (targets.length) await targets.pop()!.close();
});

async function open(device: string, seed = 5): Promise<{ target: EmulatedTarget; samples: Sample[] }> {
  const target = createEmulatedTarget({ device, seed, clockStart: START });
  targets.push(target);
  const samples: Sample[] = [];
  target.onSample((sample) => samples.push(sample));
  await target.open();
  return { target, samples };
}

const of = (samples: readonly Sample[], channel: string) => samples.filter((sample) => sample.channel === channel);
const mean = (samples: readonly Sample[]) => samples.reduce((sum, sample) => sum + sample.value!, 0) / samples.length;

describe('createEmulatedTarget', () => {
  it.each(['examples/env-node', 'examples/pressure-transmitter', 'examples/motor-monitor'])(
    'observes %s exactly as the device runs without a harness (same seed, same samples)',
    async (device) => {
      const { target, samples } = await open(device, 9);
      await target.wait(30_000);
      const plain = await startDevice(device, 9, START);
      await plain.clock.advance(30_000);
      await stopDevice(plain);
      expect(samples.length).toBeGreaterThan(30);
      expect(samples).toEqual(plain.samples);
    },
  );

  it('describes itself and the device, and lists the inputs and faults the emulation declares', async () => {
    const target = createEmulatedTarget({ device: 'examples/pressure-transmitter', seed: 3 });
    targets.push(target);
    expect(target).toMatchObject({ kind: 'emulated', description: 'emulated', observation: 'in-process', virtualTime: true });
    expect(() => target.model).toThrow(StateError);
    const device = await target.open();
    expect(device).toEqual({
      id: 'pressure-transmitter',
      manufacturer: 'sensorkit examples',
      model: 'PT-10 pressure transmitter receiver',
      serialNumber: 'EMU-3',
      hardwareRevision: '1.2',
      softwareRevision: '0.1.0',
    });
    expect(target.model.id).toBe('pressure-transmitter');
    expect(target.clock.now()).toBe(Date.UTC(2026, 0, 1));
    expect(target.inputs()).toEqual([{ name: 'pressure', unit: 'Pa', description: 'process pressure at the transmitter' }]);
    expect(target.faultTargets()).toEqual([{ name: 'transmitter', kinds: ['downscale', 'upscale', 'open'] }]);
    expect(canInjectFaults(target)).toBe(true);
    const env = (await open('examples/env-node')).target;
    expect(env.inputs().map((input) => [input.name, input.unit])).toEqual([
      ['temperature', 'Cel'],
      ['humidity', '%RH'],
      ['pressure', 'Pa'],
    ]);
    const motor = (await open('examples/motor-monitor')).target;
    expect(motor.inputs().map((input) => [input.name, input.unit])).toEqual([
      ['imbalance', 'm/s2'],
      ['winding-temperature', 'Cel'],
    ]);
  });

  it('sets a physical input in any convertible unit: the device measures the new true value', async () => {
    const { target, samples } = await open('examples/env-node');
    await target.stimulate('temperature', 313.15, 'K');
    await target.stimulate('pressure', 950, 'hPa');
    await target.wait(30_000);
    const late = samples.filter((sample) => sample.time >= target.clock.now() - 10_000);
    expect(Math.abs(mean(of(late, 'temperature')) - 40)).toBeLessThan(1);
    expect(Math.abs(mean(of(late, 'pressure')) - 950)).toBeLessThan(1);
    await expect(target.stimulate('dew-point', 5, 'Cel')).rejects.toThrow('inputs.dew-point: no physical input "dew-point" (inputs: temperature, humidity, pressure)');
    await expect(target.stimulate('temperature', 5, 'Pa')).rejects.toThrow('inputs.temperature: Pa does not convert to the input\'s unit Cel');
    await expect(target.stimulate('temperature', 5, 'degC')).rejects.toThrow(ValidationError);
  });

  it('lets a declared error reach the part while the set value stays the truth', async () => {
    const { target, samples } = await open('examples/env-node');
    await target.stimulate('temperature', 25, 'Cel');
    await target.wait(30_000);
    const before = mean(of(samples, 'temperature').slice(-5));
    target.physicalInputs.distort('temperature', (value) => value + 0.5);
    await target.wait(30_000);
    const after = mean(of(samples, 'temperature').slice(-5));
    expect(after - before).toBeCloseTo(0.5, 1);
    expect(target.physicalInputs.valueOf('temperature')).toBe(25);
  });

  it('drives an input from a signal, such as a chamber ramp', async () => {
    const { target, samples } = await open('examples/env-node');
    await target.drive('temperature', ramp({ from: 10, slopePerSecond: 0.1, start: target.clock.now() }), 'Cel');
    await target.wait(100_000);
    const last = of(samples, 'temperature').at(-1)!;
    // 10 + 0.1 °C/s × 100 s, behind a 4-sample moving average and the part's own filter.
    expect(last.value!).toBeGreaterThan(18);
    expect(last.value!).toBeLessThan(21);
  });

  it('switches a declared fault on and off, for a duration, and injects board faults', async () => {
    const { target, samples } = await open('examples/pressure-transmitter');
    await target.wait(5000);
    await target.injectFault('transmitter', 'downscale', 10_000);
    await target.wait(8000);
    expect(of(samples, 'loop-current').at(-1)!.quality).toMatchObject({ level: 'bad', reason: 'sensor_fault' });
    await target.wait(10_000);
    expect(of(samples, 'loop-current').at(-1)!.quality.level).toBe('good');
    await target.injectFault('i2c1@0x48', 'nak');
    await target.wait(5000);
    expect(of(samples, 'pressure').at(-1)!.quality).toMatchObject({ level: 'bad' });
    await target.injectFault('i2c1@0x48', 'clear');
    await target.wait(5000);
    expect(of(samples, 'pressure').at(-1)!.quality.level).toBe('good');
    await target.injectFault('i2c1@0x48', 'dropout', 10_000, { probability: 2 }).then(
      () => expect.unreachable(),
      (error: unknown) => expect((error as Error).message).toBe('fault.probability: Expected `probability` to be a finite number from 0 to 1, got 2'),
    );
    await expect(target.injectFault('transmitter', 'sideways')).rejects.toThrow('faults.transmitter: expected one of downscale, upscale, open or clear, got "sideways"');
    await expect(target.injectFault('i2c1@0x48', 'melt')).rejects.toThrow(ValidationError);
    await expect(target.injectFault('transmitter', 'upscale', -1)).rejects.toThrow('durationMs: expected a number above 0, got -1');
  });

  it('closes within its call while a transfer waits on a timeout fault that outlives the run', async () => {
    const { target } = await open('examples/env-node');
    await target.wait(5_000);
    await target.injectFault('i2c1@0x76', 'timeout');
    await target.wait(2_000); // the sampler's next read is now held by the fault
    await target.close();
    expect(() => target.board).toThrow(StateError);
  });

  it('gives each fixture of a station its own serial number through createTarget', async () => {
    const fixtures = [1, 2].map((index) => createTarget('emulated', { device: 'examples/env-node', seed: 3, serialNumber: `EMU-3-${index}` }) as EmulatedTarget);
    targets.push(...fixtures);
    const devices = await Promise.all(fixtures.map((fixture) => fixture.open()));
    expect(devices.map((device) => device.serialNumber)).toEqual(['EMU-3-1', 'EMU-3-2']);
  });

  it('has a lifecycle: open once, nothing before it, close idempotent', async () => {
    const target = createEmulatedTarget({ device: 'examples/env-node', seed: 1 });
    await expect(target.wait(10)).rejects.toThrow('the emulated target is idle, not open');
    await target.open();
    await expect(target.open()).rejects.toThrow('cannot open an emulated target that is open');
    await target.close();
    await target.close();
    await expect(target.stimulate('temperature', 1, 'Cel')).rejects.toThrow(StateError);
    const missing = createEmulatedTarget({ device: 'examples/none', seed: 1 });
    await expect(missing.open()).rejects.toThrow(DeviceFileError);
    expect(() => createEmulatedTarget({ device: 'examples/env-node', seed: 1.5 })).toThrow('Expected `seed` to be an integer, got 1.5');
  });
});

describe('PhysicalInputs', () => {
  it('passes the own signal through until set, driven or released', () => {
    const inputs = new PhysicalInputs();
    const own = settable(20);
    const signal = inputs.input('temperature', own, 'Cel', 'air');
    expect(signal.valueAt(0)).toBe(20);
    inputs.set('temperature', 300, 'K');
    expect(signal.valueAt(1)).toBeCloseTo(26.85, 9);
    expect(inputs.valueOf('temperature')).toBeCloseTo(26.85, 9);
    inputs.drive('temperature', constant(1), 'K');
    expect(signal.valueAt(2)).toBeCloseTo(-272.15, 9);
    expect(inputs.valueOf('temperature')).toBeUndefined();
    inputs.release('temperature');
    own.set(21);
    expect(signal.valueAt(3)).toBe(21);
    expect(inputs.list()).toEqual([{ name: 'temperature', unit: 'Cel', description: 'air' }]);
    expect(inputs.has('temperature')).toBe(true);
  });

  it('applies a declared error on top of whatever the input follows', () => {
    const inputs = new PhysicalInputs();
    const signal = inputs.input('temperature', constant(20), 'Cel');
    inputs.distort('temperature', (value, timeMs) => value * 1.01 + 0.5 + timeMs / 1000);
    expect(signal.valueAt(0)).toBeCloseTo(20.7, 9);
    inputs.set('temperature', 30, 'Cel');
    expect(signal.valueAt(1000)).toBeCloseTo(31.8, 9);
    expect(inputs.valueOf('temperature')).toBe(30);
    inputs.distort('temperature', undefined);
    expect(signal.valueAt(2000)).toBe(30);
    expect(() => inputs.distort('temperature', 5 as never)).toThrow('inputs.temperature: expected a distortion function (value, timeMs) => value');
  });

  it('does not call a stateful own signal while an input is overridden', () => {
    const inputs = new PhysicalInputs();
    const calls: number[] = [];
    const signal = inputs.input('pressure', { valueAt: (t) => (calls.push(t), 1) }, 'Pa');
    signal.valueAt(1);
    inputs.set('pressure', 2, 'Pa');
    signal.valueAt(2);
    inputs.release('pressure');
    signal.valueAt(3);
    expect(calls).toEqual([1, 3]);
  });

  it('keeps faults a harness may switch', () => {
    const inputs = new PhysicalInputs();
    const applied: (string | undefined)[] = [];
    inputs.fault('transmitter', ['downscale', 'upscale'], (kind) => applied.push(kind));
    inputs.setFault('transmitter', 'upscale');
    expect(inputs.activeFault('transmitter')).toBe('upscale');
    inputs.setFault('transmitter', undefined);
    expect(applied).toEqual(['upscale', undefined]);
    expect(inputs.faults()).toEqual([{ name: 'transmitter', kinds: ['downscale', 'upscale'] }]);
    expect(() => inputs.setFault('valve', 'stuck')).toThrow('faults.valve: no fault "valve" in this emulation (faults: transmitter)');
  });

  it('refuses bad declarations as programming errors', () => {
    const inputs = new PhysicalInputs();
    inputs.input('temperature', constant(1), 'Cel');
    expect(() => inputs.input('temperature', constant(1), 'Cel')).toThrow('input or fault "temperature" is declared twice');
    expect(() => inputs.input('Temp', constant(1), 'Cel')).toThrow(ArgumentError);
    expect(() => inputs.input('humidity', constant(1), '°C')).toThrow('Expected `unit` of input "humidity" to be a unit such as "Cel" or "Pa", got "°C"');
    expect(() => inputs.input('humidity', 5 as never, 'Cel')).toThrow(ArgumentError);
    expect(() => inputs.fault('loop', [], () => undefined)).toThrow(ArgumentError);
    expect(() => inputs.fault('loop', ['clear'], () => undefined)).toThrow(ArgumentError);
    expect(() => inputs.set('temperature', Number.NaN, 'Cel')).toThrow('inputs.temperature: expected a finite number, got NaN');
  });
});
