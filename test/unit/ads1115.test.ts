import { describe, expect, it } from 'vitest';
import { Ads1115Peripheral } from '../../boards/emulated/parts/ads1115.js';
import type { I2cPeripheral, Signal } from '../../boards/emulated/peripheral.js';
import { SensorError, StateError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { Ads1115Converter, Ads1115Driver, ads1115Driver, ads1115MaxRateHz, ads1115Tolerance } from '../../sdk/drivers/ads1115/index.js';
import { i2cRig } from '../support/i2c-rig.js';

const volts = (initial: number): Signal & { set(v: number): void } => {
  let current = initial;
  return { valueAt: () => current, set: (v: number) => (current = v) };
};

/** Writes a 16-bit register (pointer, MSB, LSB). */
const put = (p: I2cPeripheral, pointer: number, word: number, t: number) => p.write(Uint8Array.of(pointer, word >> 8, word & 0xff), t);
/** Reads a 16-bit register. */
const get = (p: I2cPeripheral, pointer: number, t: number) => {
  p.write(Uint8Array.of(pointer), t);
  const [msb, lsb] = p.read(2, t);
  return (msb! << 8) | lsb!;
};
const signed = (word: number) => (word << 16) >> 16;

describe('Ads1115Peripheral registers', () => {
  it('powers up with the datasheet reset values and reads registers MSB first', () => {
    const adc = new Ads1115Peripheral({ inputs: [] });
    expect(get(adc, 0x01, 0).toString(16)).toBe('8583');
    expect(get(adc, 0x02, 0).toString(16)).toBe('8000');
    expect(get(adc, 0x03, 0).toString(16)).toBe('7fff');
    put(adc, 0x02, 0x1234, 0);
    expect(get(adc, 0x02, 0)).toBe(0x1234);
    put(adc, 0x00, 0x5555, 0); // the conversion register is read-only
    expect(get(adc, 0x00, 0)).toBe(0);
    expect(() => new Ads1115Peripheral({ inputs: [], address: 0x4c })).toThrow(/0x48, 0x49, 0x4A or 0x4B, got 76/);
  });

  it('runs a single-shot conversion for 1/DR on the clock; OS reads 0 meanwhile; OS=1 while busy is ignored', () => {
    const adc = new Ads1115Peripheral({ inputs: [volts(1)] });
    put(adc, 0x01, 0xc583, 100); // OS, AIN0−GND, ±2.048 V, single-shot, 128 SPS
    expect(get(adc, 0x01, 100) & 0x8000).toBe(0);
    put(adc, 0x01, 0xc583, 104); // no restart while converting
    expect(get(adc, 0x01, 100 + 1000 / 128) & 0x8000).toBe(0); // still in the 25 µs wake-up
    expect(get(adc, 0x01, 100 + 1000 / 128 + 0.03) & 0x8000).toBe(0x8000);
    expect(get(adc, 0x00, 108)).toBe(16000); // 1 V / 2.048 V × 32768
  });

  it('converts differential pairs in two’s complement and clips at full scale', () => {
    const ain0 = volts(0.5);
    const adc = new Ads1115Peripheral({ inputs: [ain0, volts(1.5)], vdd: 5 });
    put(adc, 0x01, 0x8583, 0); // AIN0−AIN1, ±2.048 V
    expect(signed(get(adc, 0x00, 10))).toBe(-16000);
    ain0.set(4);
    put(adc, 0x01, 0x8583, 20);
    expect(get(adc, 0x00, 30)).toBe(0x7fff);
    ain0.set(0);
    put(adc, 0x01, 0x8983, 40); // ±0.512 V: −1.5 V is far below −FS
    expect(get(adc, 0x00, 50)).toBe(0x8000);
  });

  it('clamps inputs to the supply rail plus 0.3 V, whatever the PGA range', () => {
    const adc = new Ads1115Peripheral({ inputs: [volts(5)], vdd: 3.3 });
    put(adc, 0x01, 0xc183, 0); // AIN0−GND, ±6.144 V
    expect(get(adc, 0x00, 10)).toBe(Math.round((3.6 / 6.144) * 32768));
  });

  it('converts continuously at the data rate once MODE is cleared, with OS reading 0', () => {
    const ain2 = volts(0.25);
    const adc = new Ads1115Peripheral({ inputs: [undefined, undefined, ain2] });
    put(adc, 0x01, 0x66e3, 0); // AIN2−GND, ±1.024 V, continuous, 860 SPS
    const period = 1000 / 860;
    expect(get(adc, 0x00, period)).toBe(0); // first result not yet due (wake-up)
    expect(get(adc, 0x00, period + 0.03)).toBe(8000);
    ain2.set(0.5);
    expect(get(adc, 0x00, 2 * period + 0.03)).toBe(16000);
    expect(get(adc, 0x01, 3) & 0x8000).toBe(0);
  });

  it('keeps seeded per-device offset and gain within the datasheet limits', () => {
    for (let seed = 0; seed < 20; seed++) {
      const adc = new Ads1115Peripheral({ inputs: [volts(1.5)], random: new SeededRandom(seed) });
      put(adc, 0x01, 0xc583, 0);
      const code = signed(get(adc, 0x00, 10));
      expect(Math.abs(code - 24000)).toBeLessThanOrEqual(24000 * 0.0015 + 3 + 1);
    }
  });
});

describe('Ads1115Driver', () => {
  it('reads a single-ended input after the worst-case conversion time, with provenance', async () => {
    const { clock, io } = i2cRig(new Ads1115Peripheral({ inputs: [undefined, volts(1.2345)] }), { seed: 2 });
    const driver = new Ads1115Driver(io, { channel: 1, fullScaleVolts: 4.096, dataRate: 250 });
    const start = clock.now();
    const reading = await clock.runUntilSettled(driver.sample());
    expect(reading.values.voltage).toBeCloseTo(1.2345, 3);
    expect(reading.time - start).toBeGreaterThanOrEqual(1000 / 225);
    expect(reading.provenance).toEqual({ part: 'ads1115', source: 'i2c1@0x48', configuration: 'mux=AIN1-GND fsr=±4.096V dr=250SPS mode=single-shot' });
  });

  it('reads negative differential voltages and follows configure()', async () => {
    const { clock, io } = i2cRig(new Ads1115Peripheral({ inputs: [volts(1), volts(1.2), volts(2), volts(1.9)], address: 0x48 }), { seed: 2 });
    const driver = new Ads1115Driver(io, { channel: 'diff01', fullScaleVolts: 0.256 });
    expect((await clock.runUntilSettled(driver.sample())).values.voltage).toBeCloseTo(-0.2, 4);
    await driver.configure({ channel: 'diff23' });
    const reading = await clock.runUntilSettled(driver.sample());
    expect(reading.values.voltage).toBeCloseTo(0.1, 4);
    expect(reading.provenance.configuration).toBe('mux=AIN2-AIN3 fsr=±0.256V dr=128SPS mode=single-shot');
  });

  it('states ranges and tolerances from the options, and rejects bad options with their path', () => {
    expect(ads1115Driver.outputs.voltage.range).toEqual({ min: 0, max: 2.048 });
    expect(ads1115Driver.validateOptions({ fullScaleVolts: 6.144, supplyVolts: 5 }, 'o').voltage.range).toEqual({ min: 0, max: 5 });
    expect(ads1115Driver.validateOptions({ channel: 'diff13', fullScaleVolts: 0.512 }, 'o').voltage.range).toEqual({ min: -0.512, max: 0.512 });
    expect(ads1115Tolerance(2.048)).toEqual({ absolute: 4.5 * (2.048 / 32768), relative: 0.0015 });
    expect(() => ads1115Driver.validateOptions({ dataRate: 900 }, 'channels[1].driver.options')).toThrow(
      expect.objectContaining({
        path: 'channels[1].driver.options.dataRate',
        reason: 'Expected `dataRate` to be one of 8, 16, 32, 64, 128, 250, 475, 860 SPS, got 900',
      }),
    );
    expect(() => ads1115Driver.validateOptions({ channel: 'diff12' }, '')).toThrow(expect.objectContaining({ path: 'channel' }));
    expect(() => ads1115Driver.validateOptions({ supplyVolts: 12 }, '')).toThrow(expect.objectContaining({ path: 'supplyVolts' }));
    expect(() => ads1115Driver.validateOptions({ gain: 2 }, 'x')).toThrow(expect.objectContaining({ path: 'x.gain' }));
  });

  it('propagates a NAK as BusError, and rejects with StateError once closed', async () => {
    const { clock, board, io, i2c } = i2cRig(new Ads1115Peripheral({ inputs: [volts(1)], address: 0x49 }), { seed: 2 });
    const driver = new Ads1115Driver(io);
    board.faults.inject({ target: 'i2c1@0x49', kind: 'nak', durationMs: 5 });
    await expect(clock.runUntilSettled(driver.sample())).rejects.toThrow(expect.objectContaining({ name: 'BusError', code: 'ERR_I2C_NAK' }));
    await clock.advance(5);
    await expect(clock.runUntilSettled(driver.sample())).resolves.toMatchObject({ values: { voltage: expect.closeTo(1, 3) } });
    driver.close();
    await expect(driver.sample()).rejects.toThrow(StateError);
    await expect(i2c.read(2)).rejects.toThrow(StateError);
  });

  it('rejects with SensorError when the part never reports the conversion done', async () => {
    const hung: I2cPeripheral = { address: 0x48, name: 'hung ADS1115', write: () => {}, read: (count) => new Uint8Array(count) };
    const { clock, i2c } = i2cRig(hung, { seed: 2 });
    const converter = new Ads1115Converter(i2c, clock);
    await expect(clock.runUntilSettled(converter.convert({ channel: 0, fullScaleVolts: 2.048, dataRate: 860 }))).rejects.toThrow(SensorError);
  });

  it('states the rate its data rate allows, below the data rate since the part may run 10 % slow', async () => {
    for (const dataRate of [8, 16, 32, 64, 128, 250, 475, 860] as const) {
      const rate = ads1115Driver.maxRateFor!({ dataRate });
      expect(rate).toBe(ads1115MaxRateHz(dataRate));
      // §7.6 worst case: 1 / (0.9 · DR), plus 0.1 ms wake-up and 134 bus clocks at 400 kHz.
      expect(rate).toBeCloseTo(1000 / (1000 / (0.9 * dataRate) + 0.1 + 0.335), 9);
    }
    expect(ads1115Driver.maxRateFor!({})).toBeCloseTo(109.7, 1);
    expect(ads1115Driver.maxRateHz).toBe(579);
    expect(ads1115Driver.describeRateOptions!({ channel: 2 })).toBe('dataRate 128 SPS');
    // From time 0, so timer times are exact to far below a nanosecond.
    const { clock, io } = i2cRig(new Ads1115Peripheral({ inputs: [volts(1)] }), { seed: 2, start: 0 });
    const driver = new Ads1115Driver(io, { dataRate: 860 });
    const start = clock.now();
    for (let i = 0; i < 10; i++) await clock.runUntilSettled(driver.sample());
    // The emulated bus takes no time: back to back, each sample takes the worst-case conversion and wake-up.
    expect(clock.now() - start).toBeCloseTo(10 * (1000 / 774 + 0.1), 9);
  });
});
