import { describe, expect, it } from 'vitest';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { Ads1115Peripheral } from '../../boards/emulated/parts/ads1115.js';
import { currentLoopTransmitter } from '../../boards/emulated/parts/current-loop.js';
import type { Signal } from '../../boards/emulated/peripheral.js';
import { VirtualClock } from '../../sdk/core/clock.js';
import { SensorError, StateError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { ads1115MaxRateHz } from '../../sdk/drivers/ads1115/index.js';
import { CurrentLoopDriver, currentLoopDriver } from '../../sdk/drivers/current-loop/index.js';
import { i2cRig } from '../support/i2c-rig.js';

const settable = (initial: number): Signal & { set(v: number): void } => {
  let current = initial;
  return { valueAt: () => current, set: (v: number) => (current = v) };
};
const SPAN = { rangeMin: 0, rangeMax: 1_000_000, shuntOhms: 250 };

/** A pressure transmitter (0…10 bar as Pa) on a 250 Ω shunt read by an ADS1115 at 5 V. */
function rig(random?: SeededRandom) {
  const pressure = settable(250_000);
  const loop = currentLoopTransmitter(pressure, SPAN);
  const adc = new Ads1115Peripheral({ inputs: [loop], vdd: 5, ...(random ? { random } : {}) });
  return { ...i2cRig(adc, { seed: 4 }), pressure, loop };
}

describe('currentLoopTransmitter', () => {
  it('maps the span to 4…20 mA across the shunt and holds NE 43 limits beyond it', () => {
    const value = settable(0);
    const loop = currentLoopTransmitter(value, SPAN);
    expect(loop.valueAt(0)).toBeCloseTo(1, 12); // 4 mA × 250 Ω
    value.set(500_000);
    expect(loop.valueAt(1)).toBeCloseTo(3, 12); // 12 mA
    value.set(1_000_000);
    expect(loop.valueAt(2)).toBeCloseTo(5, 12); // 20 mA
    expect(loop.currentFor(2_000_000)).toBe(20.5);
    expect(loop.currentFor(-1_000_000)).toBe(3.8);
    expect(currentLoopTransmitter(value, { rangeMin: 100, rangeMax: 0, shuntOhms: 100 }).currentFor(100)).toBe(4); // reverse acting
  });

  it('models a broken wire (0 mA), a dead transmitter (NaN) and the NE 43 failure currents', () => {
    const value = settable(500_000);
    const loop = currentLoopTransmitter(value, SPAN);
    loop.setFault('open');
    expect(loop.valueAt(0)).toBe(0);
    loop.setFault('downscale');
    expect(loop.valueAt(1)).toBeCloseTo(0.875, 12); // 3.5 mA
    loop.setFault('upscale');
    expect(loop.valueAt(2)).toBeCloseTo(5.375, 12); // 21.5 mA
    loop.setFault(undefined);
    expect(loop.fault).toBeUndefined();
    value.set(Number.NaN);
    expect(loop.valueAt(3)).toBe(0);
  });

  it('feeds a board analog pin as well as an ADC', async () => {
    const board = new EmulatedBoard({ definition: 'arduino-uno', clock: new VirtualClock(), seed: 1 });
    board.attachAnalog('A0', currentLoopTransmitter(settable(12), { rangeMin: 4, rangeMax: 20, shuntOhms: 250 }));
    expect(await board.openAnalogInput({ pin: 'A0' }).read()).toBe(614); // 3 V of 5 V on 10 bits
  });

  it('rejects bad options with precise messages', () => {
    expect(() => currentLoopTransmitter(settable(0), { ...SPAN, shuntOhms: 0 })).toThrow(/`shuntOhms` to be a finite number above 0, got 0/);
    expect(() => currentLoopTransmitter(settable(0), { ...SPAN, rangeMax: 0 })).toThrow(/`rangeMax` to differ from `rangeMin`/);
  });
});

describe('CurrentLoopDriver', () => {
  it('returns the process value and the loop current, with provenance', async () => {
    const { clock, io } = rig();
    const driver = new CurrentLoopDriver(io, { rangeMin: 0, rangeMax: 1_000_000, unit: 'Pa' });
    const reading = await clock.runUntilSettled(driver.sample());
    expect(reading.values.current).toBeCloseTo(8, 3);
    expect(reading.values.value).toBeCloseTo(250_000, -2);
    expect(reading.provenance).toEqual({
      part: 'current-loop',
      source: 'i2c1@0x48',
      configuration: 'adc=AIN0-GND fsr=±6.144V dr=128SPS shunt=250Ohm span=0..1000000Pa',
    });
  });

  it('returns values slightly beyond the span (NE 43 measuring band) for the pipeline to flag', async () => {
    const { clock, io, pressure } = rig();
    const driver = new CurrentLoopDriver(io, { rangeMin: 0, rangeMax: 1_000_000, unit: 'Pa' });
    pressure.set(1_200_000); // the transmitter holds 20.5 mA
    const high = await clock.runUntilSettled(driver.sample());
    expect(high.values.current).toBeCloseTo(20.5, 2);
    expect(high.values.value).toBeCloseTo(1_031_250, -3);
    pressure.set(-100_000); // 3.8 mA
    expect((await clock.runUntilSettled(driver.sample())).values.value).toBeCloseTo(-12_500, -3);
  });

  it.each([
    [3.6, /at or below 3\.6 mA/],
    [21, /at or above 21 mA/],
  ])('treats exactly %s mA as a NAMUR NE 43 failure signal, not a value', async (milliamps, reason) => {
    // An ideal ADS1115 reads 0.9 V / 5.25 V across 250 Ω exactly (whole LSBs at ±4.096 V full scale).
    const adc = new Ads1115Peripheral({ inputs: [{ valueAt: () => (milliamps / 1000) * 250 }], vdd: 5 });
    const { clock, io } = i2cRig(adc, { seed: 4 });
    const driver = new CurrentLoopDriver(io, { rangeMin: 0, rangeMax: 1_000_000, unit: 'Pa' });
    await expect(clock.runUntilSettled(driver.sample())).rejects.toThrow(reason);
  });

  it('rejects an open loop and NE 43 failure currents with SensorError, and recovers', async () => {
    const { clock, io, loop } = rig(new SeededRandom(9));
    const driver = new CurrentLoopDriver(io, { rangeMin: 0, rangeMax: 1_000_000, unit: 'Pa' });
    loop.setFault('open');
    await expect(clock.runUntilSettled(driver.sample())).rejects.toThrow(new SensorError('loop current 0.00 mA: open loop (NAMUR NE 43)'));
    loop.setFault('downscale');
    await expect(clock.runUntilSettled(driver.sample())).rejects.toThrow(/loop current 3\.5\d mA: at or below 3\.6 mA, transmitter failure signal \(NAMUR NE 43\)/);
    loop.setFault('upscale'); // 21.5 mA × 250 Ω = 5.375 V, clamped at VDD + 0.3 V = 5.3 V: 21.2 mA
    await expect(clock.runUntilSettled(driver.sample())).rejects.toThrow(/loop current 21\.2\d mA: at or above 21 mA, transmitter failure signal or short circuit/);
    loop.setFault(undefined);
    await expect(clock.runUntilSettled(driver.sample())).resolves.toMatchObject({ values: { current: expect.closeTo(8, 1) } });
  });

  it('propagates a NAK as BusError and rejects with StateError once closed', async () => {
    const { clock, board, io, i2c } = rig();
    const driver = new CurrentLoopDriver(io, { rangeMin: 0, rangeMax: 100, unit: 'Cel' });
    board.faults.inject({ target: 'i2c1@0x48', kind: 'nak', durationMs: 1 });
    await expect(clock.runUntilSettled(driver.sample())).rejects.toThrow(expect.objectContaining({ name: 'BusError', code: 'ERR_I2C_NAK' }));
    driver.close();
    await expect(driver.sample()).rejects.toThrow(StateError);
    await expect(i2c.read(2)).rejects.toThrow(StateError);
  });

  it('validateOptions returns the span, unit and tolerance; configure changes the span', async () => {
    const outputs = currentLoopDriver.validateOptions({ rangeMin: -50, rangeMax: 150, unit: 'Cel', shuntOhms: 150 }, 'o');
    expect(outputs.value).toMatchObject({ unit: 'Cel', quantity: 'temperature', range: { min: -50, max: 150 } });
    // ±4.096 V range (21 mA × 150 Ω = 3.15 V): ADC 4.5 LSB / 150 Ω, 0.25 % + 0.1 % shunt at 20.5 mA.
    const milliamps = ((4.5 * 4.096) / 32768 / 150) * 1000 + 0.0035 * 20.5;
    expect(outputs.value.tolerance.absolute).toBeCloseTo((200 / 16) * milliamps, 9);
    expect(outputs.current).toMatchObject({ unit: 'mA', range: { min: 4, max: 20 } });

    const { clock, io, pressure } = rig();
    const driver = new CurrentLoopDriver(io, { rangeMin: 0, rangeMax: 1_000_000, unit: 'Pa' });
    await driver.configure({ rangeMax: 10, unit: 'm' });
    pressure.set(500_000); // 12 mA
    const reading = await clock.runUntilSettled(driver.sample());
    expect(reading.values.value).toBeCloseTo(5, 2);
    await expect(driver.configure({ unit: 'kPa' })).rejects.toThrow(expect.objectContaining({ path: 'unit' }));
  });

  it('rejects bad options with the path of the field', () => {
    const base = { rangeMin: 0, rangeMax: 10, unit: 'Pa' };
    const path = 'channels[3].driver.options';
    expect(() => currentLoopDriver.validateOptions({ rangeMin: 0, rangeMax: 10 }, path)).toThrow(expect.objectContaining({ path: `${path}.unit` }));
    expect(() => currentLoopDriver.validateOptions({ ...base, unit: '°C' }, path)).toThrow(
      expect.objectContaining({ path: `${path}.unit`, reason: 'unknown unit "°C"; did you mean "Cel"?' }),
    );
    expect(() => currentLoopDriver.validateOptions({ ...base, rangeMax: 0 }, path)).toThrow(expect.objectContaining({ path: `${path}.rangeMax` }));
    expect(() => currentLoopDriver.validateOptions({ ...base, fullScaleVolts: 4.096 }, path)).toThrow(
      expect.objectContaining({ path: `${path}.fullScaleVolts`, reason: expect.stringMatching(/5\.250 V, beyond the ±4\.096 V full scale/) }),
    );
    expect(() => currentLoopDriver.validateOptions({ ...base, shuntOhms: 500 }, path)).toThrow(expect.objectContaining({ path: `${path}.shuntOhms` }));
    expect(() => currentLoopDriver.validateOptions({ ...base, supplyVolts: 3.3 }, path)).toThrow(
      expect.objectContaining({ path: `${path}.shuntOhms`, reason: expect.stringMatching(/above the ADS1115's 3\.3 V supply/) }),
    );
    expect(() => currentLoopDriver.validateOptions({ ...base, adcChannel: 4 }, path)).toThrow(expect.objectContaining({ path: `${path}.adcChannel` }));
    expect(() => currentLoopDriver.validateOptions({ ...base, channel: 1 }, path)).toThrow(expect.objectContaining({ path: `${path}.channel` }));
    expect(currentLoopDriver.validateOptions({ ...base, shuntOhms: 150, supplyVolts: 3.3 }, path).value.range).toEqual({ min: 0, max: 10 });
  });

  it('states the rate of its ADS1115 at the configured data rate', () => {
    const loop = { ...SPAN, unit: 'Pa' };
    for (const dataRate of [8, 64, 128, 860] as const) {
      expect(currentLoopDriver.maxRateFor!({ ...loop, dataRate })).toBe(ads1115MaxRateHz(dataRate));
    }
    expect(currentLoopDriver.maxRateFor!(loop)).toBe(ads1115MaxRateHz(128));
    expect(currentLoopDriver.describeRateOptions!({ ...loop, dataRate: 64 })).toBe('dataRate 64 SPS');
    expect(currentLoopDriver.maxRateHz).toBe(Math.floor(ads1115MaxRateHz(860)));
  });
});
