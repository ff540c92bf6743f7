/**
 * The simulated instruments on a VirtualClock: the DMM's resolution, noise and stated accuracy, the
 * calibrator's certificate and output error, the supply's dips and interruptions, the chamber's ramp
 * and time constant; same seed and same clock give the same readings.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { ArgumentError, NotSupportedError, UnitError } from '../../sdk/core/errors.js';
import {
  InstrumentError,
  SimulatedCalibrator,
  SimulatedChamber,
  SimulatedDmm,
  SimulatedPowerSupply,
  type InstrumentReading,
} from '../../hil/instruments/index.js';

const START = Date.UTC(2026, 0, 1);
const constant = (value: number) => ({ valueAt: () => value });

describe('SimulatedDmm', () => {
  it('reads a connected signal to its resolution, within its stated accuracy, in the SenML unit', async () => {
    const clock = new VirtualClock({ start: START });
    const dmm = new SimulatedDmm({ clock, seed: 1 });
    dmm.connect('current-dc', constant(15), 'mA');
    const reading = await dmm.measure('current-dc');
    expect(reading.unit).toBe('A');
    expect(reading.quantity).toBe('current-dc');
    expect(reading.time).toBe(START);
    // 15 mA is over 120 % of the 10 mA range: the 100 mA range, 6½ digits, 100 nA resolution.
    expect(reading.resolution).toBeCloseTo(1e-7, 15);
    // ±(0.05 % of the reading + 10 counts)
    expect(reading.accuracy).toBeCloseTo(Math.abs(reading.value) * 0.0005 + 10 * 1e-7, 15);
    expect(Math.abs(reading.value - 0.015)).toBeLessThanOrEqual(reading.accuracy!);
    expect(Math.round(reading.value / reading.resolution!) * reading.resolution!).toBeCloseTo(reading.value, 15);
  });

  it('autoranges: the range is the smallest that shows the value (to 120 %), the resolution follows the digits', async () => {
    const clock = new VirtualClock({ start: START });
    const dmm = new SimulatedDmm({ clock, seed: 1, digits: 4.5 });
    expect(dmm.resolutionFor('voltage-dc', 0.05)).toBeCloseTo(1e-5, 15); // 100 mV range
    expect(dmm.resolutionFor('voltage-dc', 1.19)).toBeCloseTo(1e-4, 15); // 1 V range, overrange
    expect(dmm.resolutionFor('voltage-dc', 1.21)).toBeCloseTo(1e-3, 15); // 10 V range
    expect(dmm.resolutionFor('voltage-dc', 2000)).toBeUndefined();
    dmm.connect('voltage-dc', constant(5));
    const reading = await dmm.measure('voltage-dc');
    expect(reading.resolution).toBeCloseTo(1e-3, 15);
    expect(reading.value * 1000).toBeCloseTo(Math.round(reading.value * 1000), 9);
  });

  it('noise has the stated σ in counts', async () => {
    const clock = new VirtualClock({ start: START });
    const dmm = new SimulatedDmm({ clock, seed: 9, noiseCounts: 20 });
    dmm.connect('voltage-dc', constant(5)); // 10 V range: 10 µV counts, σ = 200 µV
    const values: number[] = [];
    for (let i = 0; i < 2000; i++) values.push((await dmm.measure('voltage-dc')).value);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
    expect(mean).toBeCloseTo(5, 4);
    expect(sd).toBeGreaterThan(180e-6);
    expect(sd).toBeLessThan(220e-6);
  });

  it('follows the signal in time on the clock', async () => {
    const clock = new VirtualClock({ start: START });
    const dmm = new SimulatedDmm({ clock, seed: 1, noiseCounts: 0 });
    dmm.connect('voltage-dc', { valueAt: (t) => (t - START) / 1000 });
    await clock.advance(2500);
    expect((await dmm.measure('voltage-dc')).value).toBe(2.5);
  });

  it('an over-range input, an open resistance input and a non-finite signal are overloads', async () => {
    const dmm = new SimulatedDmm({ clock: new VirtualClock(), seed: 1 });
    await expect(dmm.measure('resistance')).rejects.toMatchObject({ reason: 'overload', code: 'ERR_SENSOR', message: 'dmm: measure resistance: open input (overload): nothing is connected' });
    dmm.connect('voltage-dc', constant(1500));
    await expect(dmm.measure('voltage-dc')).rejects.toThrow(/over range: \|1500\| V is above 1200 V/);
    dmm.connect('current-dc', constant(Number.NaN));
    await expect(dmm.measure('current-dc')).rejects.toBeInstanceOf(InstrumentError);
  });

  it('an open voltage input reads about 0; disconnecting restores it', async () => {
    const dmm = new SimulatedDmm({ clock: new VirtualClock(), seed: 1 });
    const disconnect = dmm.connect('voltage-dc', constant(3));
    expect((await dmm.measure('voltage-dc')).value).toBeCloseTo(3, 4);
    disconnect();
    expect(Math.abs((await dmm.measure('voltage-dc')).value)).toBeLessThan(1e-5);
  });

  it('refuses what it cannot do, wrong options, wrong units, and commands after close', async () => {
    const clock = new VirtualClock();
    const dmm = new SimulatedDmm({ clock, seed: 1 });
    await expect(dmm.source('voltage-dc', 1, 'V')).rejects.toBeInstanceOf(NotSupportedError);
    await expect(dmm.measure('temperature')).rejects.toThrow('dmm: SIM-DMM cannot measure temperature (it measures voltage-dc, current-dc, resistance)');
    expect(() => dmm.connect('voltage-dc', constant(1), 'Cel')).toThrow(UnitError);
    expect(() => new SimulatedDmm({ clock, seed: 1, digits: 12 })).toThrow(ArgumentError);
    expect(() => new SimulatedDmm({ clock, seed: 1.5 })).toThrow(ArgumentError);
    expect(() => new SimulatedDmm({ clock, seed: 1, ranges: { 'voltage-dc': [10, 1] } })).toThrow(/ascending/);
    await dmm.close();
    await dmm.close();
    await expect(dmm.measure('voltage-dc')).rejects.toMatchObject({ reason: 'closed', instrument: 'dmm', command: 'measure voltage-dc' });
  });
});

describe('SimulatedCalibrator', () => {
  it('states the set value with the certificate’s expanded uncertainty (k = 2), in its identity and readings', async () => {
    const clock = new VirtualClock({ start: START });
    const reference = new SimulatedCalibrator({ clock, seed: 3, id: 'reference' });
    const identity = await reference.identify();
    expect(identity).toMatchObject({ manufacturer: 'sensorkit', model: 'SIM-CAL', serialNumber: 'SIM-3', simulated: true });
    expect(identity.certificate?.coverageFactor).toBe(2);
    expect(identity.certificate?.uncertainty['voltage-dc']).toEqual({ relative: 10e-6, absolute: 2e-6, unit: 'V' });
    await reference.source('voltage-dc', 10, 'V');
    const reading = await reference.measure('voltage-dc');
    expect(reading.value).toBe(10);
    expect(reading.uncertainty?.coverageFactor).toBe(2);
    expect(reading.uncertainty?.expanded).toBeCloseTo(10 * 10e-6 + 2e-6, 12);
    await reference.source('temperature', 77, 'degF');
    expect((await reference.measure('temperature')).value).toBeCloseTo(25, 9);
    expect((await reference.measure('temperature')).uncertainty?.expanded).toBeCloseTo(0.04, 12);
  });

  it('its physical output deviates from the set value by a seeded error distributed as the certificate says', async () => {
    const clock = new VirtualClock({ start: START });
    const reference = new SimulatedCalibrator({ clock, seed: 5 });
    const output = reference.output('pressure');
    expect(output.unit).toBe('Pa');
    expect(output.valueAt(clock.now())).toBe(0);
    const errors: number[] = [];
    for (let i = 0; i < 400; i++) {
      await reference.source('pressure', 100_000, 'Pa');
      errors.push(output.valueAt(clock.now()) - 100_000);
      await clock.advance(1000);
    }
    const sigma = (100_000 * 50e-6 + 2) / 2; // U / k = 3.5 Pa
    const sd = Math.sqrt(errors.reduce((a, e) => a + e * e, 0) / errors.length);
    expect(sd).toBeGreaterThan(sigma * 0.85);
    expect(sd).toBeLessThan(sigma * 1.15);
    expect(errors.every((e) => Math.abs(e) < 5 * sigma)).toBe(true);
    // The output holds between set points, and each set point's error is fixed.
    expect(output.valueAt(clock.now() + 5000)).toBe(output.valueAt(clock.now()));
  });

  it('with outputError false, the output is the set value; an earlier time reads the earlier set point', async () => {
    const clock = new VirtualClock({ start: START });
    const reference = new SimulatedCalibrator({ clock, seed: 5, outputError: false });
    await reference.source('current-dc', 4, 'mA');
    await clock.advance(1000);
    await reference.source('current-dc', 20, 'mA');
    const output = reference.output('current-dc');
    expect(output.valueAt(START + 500)).toBe(0.004);
    expect(output.valueAt(START + 1000)).toBe(0.02);
  });

  it('refuses a value outside its range with the SCPI error -222, and quantities it lacks', async () => {
    const reference = new SimulatedCalibrator({ clock: new VirtualClock(), seed: 1 });
    await expect(reference.source('voltage-dc', 1000, 'V')).rejects.toMatchObject({ reason: 'instrument-error', instrumentCode: -222, instrumentMessage: 'Data out of range' });
    await expect(reference.source('resistance', 100, 'Ohm')).rejects.toBeInstanceOf(NotSupportedError);
    await expect(reference.source('voltage-dc', Number.NaN, 'V')).rejects.toBeInstanceOf(ArgumentError);
    expect(() => reference.output('resistance')).toThrow(NotSupportedError);
    expect(() => new SimulatedDmm({ clock: new VirtualClock(), seed: 1 }).output('voltage-dc')).toThrow('dmm: SIM-DMM has no voltage-dc output');
  });
});

describe('SimulatedPowerSupply', () => {
  it('dips and interruptions in the manner of IEC 61000-4-29: residual voltage for the duration, then back', async () => {
    const clock = new VirtualClock({ start: START });
    const supply = new SimulatedPowerSupply({ clock, seed: 1 });
    await supply.source('voltage-dc', 24, 'V');
    const output = supply.output();
    const dip = supply.dip({ depthPercent: 30, durationMs: 500 });
    expect(dip).toEqual({ kind: 'dip', start: START, end: START + 500, residualPercent: 70 });
    const interruption = supply.interrupt({ durationMs: 20, atMs: START + 2000 });
    expect(interruption.kind).toBe('interruption');
    expect(output.valueAt(START)).toBeCloseTo(16.8, 12);
    expect(output.valueAt(START + 499)).toBeCloseTo(16.8, 12);
    expect(output.valueAt(START + 500)).toBe(24);
    expect(output.valueAt(START + 2010)).toBe(0);
    expect(output.valueAt(START + 2020)).toBe(24);
    expect(supply.dip({ depthPercent: 100, durationMs: 10 }).kind).toBe('interruption');
    expect(supply.events.map((e) => e.start)).toEqual([START, START, START + 2000]);
  });

  it('a load draws V/R until the current limit holds the current (constant current)', async () => {
    const clock = new VirtualClock({ start: START });
    const supply = new SimulatedPowerSupply({ clock, seed: 1, loadResistance: 10 });
    await supply.source('voltage-dc', 5, 'V');
    await supply.source('current-dc', 2, 'A');
    expect(supply.currentAt(clock.now())).toBeCloseTo(0.5, 12);
    await supply.source('current-dc', 100, 'mA');
    expect(supply.output().valueAt(clock.now())).toBeCloseTo(1, 12);
    const current = await supply.measure('current-dc');
    expect(current.unit).toBe('A');
    expect(Math.abs(current.value - 0.1)).toBeLessThanOrEqual(current.accuracy!);
    const voltage = await supply.measure('voltage-dc');
    expect(Math.abs(voltage.value - 1)).toBeLessThanOrEqual(voltage.accuracy!);
    expect(voltage.resolution).toBe(1e-3);
    expect(supply.output('current-dc')).toMatchObject({ quantity: 'current-dc', unit: 'A' });
    expect(supply.output('current-dc').valueAt(clock.now())).toBeCloseTo(0.1, 12);
    supply.setOutput(false);
    expect(supply.output().valueAt(clock.now())).toBe(0);
    expect(supply.setting).toEqual({ voltage: 5, currentLimit: 0.1, on: false });
  });

  it('refuses bad events and settings', async () => {
    const supply = new SimulatedPowerSupply({ clock: new VirtualClock(), seed: 1 });
    expect(() => supply.dip({ depthPercent: 0, durationMs: 10 })).toThrow(ArgumentError);
    expect(() => supply.dip({ depthPercent: 30, durationMs: -1 })).toThrow(/durationMs/);
    expect(() => supply.interrupt({ durationMs: Number.POSITIVE_INFINITY })).toThrow(ArgumentError);
    await expect(supply.source('voltage-dc', 31, 'V')).rejects.toMatchObject({ instrumentCode: -222 });
    expect(() => new SimulatedPowerSupply({ clock: new VirtualClock(), seed: 1, loadResistance: 0 })).toThrow(ArgumentError);
  });
});

describe('SimulatedChamber', () => {
  it('without a time constant the air follows the ramp at the ramp rate, then holds the set point', async () => {
    const clock = new VirtualClock({ start: START });
    const chamber = new SimulatedChamber({ clock, seed: 1, ambient: 20, rampRate: 2, timeConstantMs: 0 });
    await chamber.source('temperature', 30, 'Cel');
    const air = chamber.air();
    expect(air.unit).toBe('Cel');
    expect(chamber.output('temperature').valueAt(START + 60_000)).toBe(air.valueAt(START + 60_000));
    expect(air.valueAt(START)).toBe(20);
    expect(air.valueAt(START + 60_000)).toBeCloseTo(22, 12);
    expect(air.valueAt(START + 5 * 60_000)).toBeCloseTo(30, 12);
    expect(air.valueAt(START + 60 * 60_000)).toBe(30);
    expect(chamber.setPoint).toBe(30);
  });

  it('a step with time constant τ reaches 63.2 % at τ; a ramp lags by rate·τ', async () => {
    const clock = new VirtualClock({ start: START });
    const step = new SimulatedChamber({ clock, seed: 1, ambient: 20, rampRate: 0, timeConstantMs: 100_000 });
    await step.source('temperature', 30, 'Cel');
    expect(step.airAt(START + 100_000)).toBeCloseTo(20 + 10 * (1 - Math.exp(-1)), 10);
    const ramp = new SimulatedChamber({ clock, seed: 1, ambient: 20, rampRate: 1, timeConstantMs: 60_000 });
    await ramp.source('temperature', 80, 'Cel');
    // After many τ on the ramp, the air is rate·τ = 1 K/min · 1 min behind the ramped set point.
    const t = START + 30 * 60_000;
    expect(ramp.rampedSetPointAt(t)).toBeCloseTo(50, 10);
    expect(ramp.airAt(t)).toBeCloseTo(49, 6);
  });

  it('a new set point mid-ramp continues from where the air is (no jump)', async () => {
    const clock = new VirtualClock({ start: START });
    const chamber = new SimulatedChamber({ clock, seed: 1, ambient: 23, rampRate: 3, timeConstantMs: 90_000 });
    await chamber.source('temperature', 60, 'Cel');
    await clock.advance(5 * 60_000);
    const before = chamber.airAt(clock.now());
    await chamber.source('temperature', -10, 'Cel');
    expect(chamber.airAt(clock.now())).toBeCloseTo(before, 12);
    expect(chamber.airAt(clock.now() + 1000)).toBeGreaterThan(before - 0.1);
    expect(chamber.airAt(clock.now() + 4 * 3600_000)).toBeCloseTo(-10, 6);
  });

  it('measures with its own sensor: noise, resolution and stated accuracy', async () => {
    const clock = new VirtualClock({ start: START });
    const chamber = new SimulatedChamber({ clock, seed: 2, ambient: 23 });
    const reading = await chamber.measure('temperature');
    expect(reading).toMatchObject({ quantity: 'temperature', unit: 'Cel', resolution: 0.01, accuracy: 0.3, time: START });
    expect(Math.abs(reading.value - 23)).toBeLessThan(0.1);
    await expect(chamber.source('temperature', 500, 'Cel')).rejects.toMatchObject({ instrumentCode: -222 });
    await expect(chamber.measure('pressure')).rejects.toBeInstanceOf(NotSupportedError);
    expect(() => chamber.output('pressure')).toThrow(NotSupportedError);
  });

  it('humidity follows its set point as a first-order system; its sensor states ±2 %RH', async () => {
    const clock = new VirtualClock({ start: START });
    const chamber = new SimulatedChamber({ clock, seed: 2, ambientHumidity: 40, humidityTimeConstantMs: 60_000 });
    const humidity = chamber.output('relative-humidity');
    expect(humidity).toMatchObject({ quantity: 'relative-humidity', unit: '%RH' });
    await chamber.source('relative-humidity', 80, '%RH');
    expect(chamber.humiditySetPoint).toBe(80);
    expect(humidity.valueAt(START + 60_000)).toBeCloseTo(40 + 40 * (1 - Math.exp(-1)), 10);
    await clock.advance(30 * 60_000);
    const reading = await chamber.measure('relative-humidity');
    expect(reading).toMatchObject({ unit: '%RH', resolution: 0.1, accuracy: 2 });
    expect(Math.abs(reading.value - 80)).toBeLessThan(0.5);
    // The temperature is untouched.
    expect(chamber.airAt(clock.now())).toBe(23);
    await expect(chamber.source('relative-humidity', 100, '%RH')).rejects.toMatchObject({ instrumentCode: -222 });
  });
});

describe('replay', () => {
  async function session(seed: number): Promise<InstrumentReading[]> {
    const clock = new VirtualClock({ start: START });
    const dmm = new SimulatedDmm({ clock, seed });
    const reference = new SimulatedCalibrator({ clock, seed });
    const supply = new SimulatedPowerSupply({ clock, seed, loadResistance: 100 });
    const chamber = new SimulatedChamber({ clock, seed });
    dmm.connect('voltage-dc', reference.output('voltage-dc'));
    await reference.source('voltage-dc', 1, 'V');
    await supply.source('voltage-dc', 12, 'V');
    await chamber.source('temperature', 40, 'Cel');
    const readings: InstrumentReading[] = [];
    for (let i = 0; i < 20; i++) {
      readings.push(await dmm.measure('voltage-dc'), await supply.measure('current-dc'), await chamber.measure('temperature'), await reference.measure('voltage-dc'));
      await clock.advance(30_000);
    }
    return readings;
  }

  it('same seed and same clock give the same readings; another seed other readings', async () => {
    const a = await session(42);
    const b = await session(42);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(await session(43))).not.toBe(JSON.stringify(a));
  });

  it('instruments of one seed have independent noise streams (by kind and role)', async () => {
    const clock = new VirtualClock({ start: START });
    const one = new SimulatedDmm({ clock, seed: 7, id: 'dmm1', noiseCounts: 100 });
    const two = new SimulatedDmm({ clock, seed: 7, id: 'dmm2', noiseCounts: 100 });
    one.connect('voltage-dc', constant(5));
    two.connect('voltage-dc', constant(5));
    expect((await one.measure('voltage-dc')).value).not.toBe((await two.measure('voltage-dc')).value);
  });
});
