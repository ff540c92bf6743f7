import { describe, expect, it } from 'vitest';
import { Bme280Peripheral } from '../../boards/emulated/parts/bme280.js';
import type { I2cPeripheral, Signal } from '../../boards/emulated/peripheral.js';
import { ArgumentError, BusError, SensorError, StateError, ValidationError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import {
  compensateHumidity,
  compensateHumidityInt32,
  compensatePressure,
  compensatePressureInt64,
  compensateTemperature,
  compensateTemperatureInt32,
  parseCalibration,
} from '../../sdk/drivers/bme280/compensation.js';
import { Bme280Driver, bme280Driver } from '../../sdk/drivers/bme280/index.js';
import { i2cRig } from '../support/i2c-rig.js';

function value(initial: number): Signal & { set(v: number): void } {
  let current = initial;
  return { valueAt: () => current, set: (v: number) => (current = v) };
}

// The BMP280/BME280 datasheet's worked example (§3.12 of the BMP280 datasheet uses the same words).
const EXAMPLE = {
  T1: 27504, T2: 26435, T3: -1000,
  P1: 36477, P2: -10685, P3: 3024, P4: 2855, P5: 140, P6: -7, P7: 15500, P8: -14600, P9: 6000,
  H1: 75, H2: 362, H3: 0, H4: 313, H5: 50, H6: 30,
};

function part(options: { temperature?: number; humidity?: number; pressure?: number; random?: SeededRandom; chipId?: number } = {}) {
  const signals = { temperature: value(options.temperature ?? 21.5), humidity: value(options.humidity ?? 45), pressure: value(options.pressure ?? 101_325) };
  const peripheral = new Bme280Peripheral({
    ...signals,
    ...(options.random ? { random: options.random } : {}),
    ...(options.chipId !== undefined ? { chipId: options.chipId } : {}),
  });
  return { peripheral, signals };
}

const read = (p: I2cPeripheral, register: number, count: number, t = 0) => {
  p.write(Uint8Array.of(register), t);
  return [...p.read(count, t)];
};
const raw20 = (bytes: number[], at: number) => (bytes[at]! << 12) | (bytes[at + 1]! << 4) | (bytes[at + 2]! >> 4);

describe('BME280 compensation', () => {
  it('reproduces the datasheet example: adc_T 519888 → 25.08 °C, adc_P 415148 → 100 653 Pa', () => {
    const t = compensateTemperature(519_888, EXAMPLE);
    expect(t.celsius).toBeCloseTo(25.08, 2);
    expect(t.tFine).toBe(128_422);
    expect(compensatePressure(415_148, t.tFine, EXAMPLE)).toBeCloseTo(100_653.26, 1);
    expect(compensateTemperatureInt32(519_888, EXAMPLE)).toEqual({ centiCelsius: 2508, tFine: 128_422 });
    expect(Number(compensatePressureInt64(415_148, 128_422, EXAMPLE)) / 256).toBeCloseTo(100_653.25, 1);
  });

  it('integer and double humidity formulas agree within 0.01 %RH, and clamp to 0…100', () => {
    for (const tFine of [-150_000, 0, 128_422, 400_000]) {
      for (let adcH = 20_000; adcH <= 40_000; adcH += 1000) {
        const double = compensateHumidity(adcH, tFine, EXAMPLE);
        expect(Math.abs(compensateHumidityInt32(adcH, tFine, EXAMPLE) / 1024 - double)).toBeLessThan(0.01);
      }
    }
    expect(compensateHumidity(0, 128_422, EXAMPLE)).toBe(0);
    expect(compensateHumidity(65_535, 128_422, EXAMPLE)).toBe(100);
  });

  it('decodes signed 12-bit dig_H4/dig_H5 that share register 0xE5, and a negative dig_H6', () => {
    const block1 = new Uint8Array(26);
    // dig_H2 = -2 (0xFFFE), dig_H3 = 7, dig_H4 = -3 (0xFFD), dig_H5 = -16 (0xFF0), dig_H6 = -5.
    const block2 = Uint8Array.of(0xfe, 0xff, 0x07, 0xff, 0x0d, 0xff, 0xfb);
    const cal = parseCalibration(block1, block2);
    expect([cal.H2, cal.H3, cal.H4, cal.H5, cal.H6]).toEqual([-2, 7, -3, -16, -5]);
    expect(() => parseCalibration(block1.subarray(0, 10), block2)).toThrow(
      expect.objectContaining({ name: 'ArgumentError', code: 'ERR_ARGUMENT', message: 'Expected calibration blocks of 26 and 7 bytes, got 10 and 7' }),
    );
    expect(() => parseCalibration(block1, block2.subarray(0, 3))).toThrow(ArgumentError);
  });
});

describe('Bme280Peripheral registers', () => {
  it('answers chip id 0x60 at 0xD0 and stores its trimming words in the NVM layout of Table 16', () => {
    const { peripheral } = part({ random: new SeededRandom(7) });
    expect(read(peripheral, 0xd0, 1)).toEqual([0x60]);
    const cal = parseCalibration(Uint8Array.from(read(peripheral, 0x88, 26)), Uint8Array.from(read(peripheral, 0xe1, 7)));
    expect(cal).toEqual(peripheral.calibration);
    expect(cal).not.toEqual(EXAMPLE); // seeded per-device trimming
    expect(new Bme280Peripheral({ ...part().signals, address: 0x77 }).address).toBe(0x77);
    expect(() => new Bme280Peripheral({ ...part().signals, address: 0x75 })).toThrow(/0x76 or 0x77, got 0x75/);
  });

  it('auto-increments the register pointer on burst reads and takes writes as register/data pairs', () => {
    const { peripheral } = part();
    peripheral.write(Uint8Array.of(0xf2, 0x03, 0xf5, 0xa0, 0xf4, 0x6c), 0);
    expect(read(peripheral, 0xf2, 4)).toEqual([0x03, 0x00, 0x6c, 0xa0]); // ctrl_hum, status, ctrl_meas, config
  });

  it('soft reset (0xB6 to 0xE0) restores defaults and raises im_update for the 2 ms start-up', () => {
    const { peripheral } = part();
    peripheral.write(Uint8Array.of(0xf2, 0x01, 0xf5, 0x10, 0xf4, 0x24), 0);
    peripheral.write(Uint8Array.of(0xe0, 0x12), 1); // any other word is ignored
    expect(read(peripheral, 0xf4, 1, 1)).toEqual([0x24]);
    peripheral.write(Uint8Array.of(0xe0, 0xb6), 10);
    expect(read(peripheral, 0xf2, 4, 10)).toEqual([0x00, 0x01, 0x00, 0x00]);
    expect(read(peripheral, 0xf3, 1, 12)).toEqual([0x00]);
    expect(read(peripheral, 0xe0, 1, 12)).toEqual([0x00]);
  });

  it('runs a forced conversion for the typical time, sets status.measuring meanwhile, then sleeps', () => {
    const { peripheral } = part({ temperature: 30 });
    expect(raw20(read(peripheral, 0xf7, 8), 3)).toBe(0x80000); // nothing measured yet
    peripheral.write(Uint8Array.of(0xf2, 0x01, 0xf4, 0x25), 100); // x1/x1/x1, forced
    // Appendix B typical: 1 + 2 + (2 + 0.5) + (2 + 0.5) = 8 ms.
    expect(read(peripheral, 0xf3, 1, 107.9)).toEqual([0x08]);
    expect(raw20(read(peripheral, 0xf7, 8, 107.9), 3)).toBe(0x80000);
    expect(read(peripheral, 0xf3, 1, 108)).toEqual([0x00]);
    expect(read(peripheral, 0xf4, 1, 108)).toEqual([0x24]); // back in sleep mode
    const adcT = raw20(read(peripheral, 0xf7, 8, 108), 3);
    expect(compensateTemperature(adcT, peripheral.calibration).celsius).toBeCloseTo(30, 2);
    expect(adcT & 0x0f).toBe(0); // 16-bit resolution at x1
  });

  it('applies ctrl_hum only after a ctrl_meas write (§5.4.3)', () => {
    const { peripheral } = part();
    peripheral.write(Uint8Array.of(0xf4, 0x25), 0); // humidity oversampling still 0: skipped
    expect(read(peripheral, 0xfd, 2, 20)).toEqual([0x80, 0x00]);
    peripheral.write(Uint8Array.of(0xf2, 0x01), 30);
    peripheral.write(Uint8Array.of(0xf4, 0x25), 31);
    expect(read(peripheral, 0xfd, 2, 50)).not.toEqual([0x80, 0x00]);
  });

  it('inverts the compensation: raw words compensate back to the true values within one LSB step', () => {
    const { peripheral, signals } = part({ random: new SeededRandom(3) });
    const cal = peripheral.calibration;
    let t = 0;
    for (const [celsius, percent, pascal] of [[-40, 0, 30_000], [0, 20, 70_000], [25, 50, 101_325], [85, 100, 110_000]] as const) {
      signals.temperature.set(celsius);
      signals.humidity.set(percent);
      signals.pressure.set(pascal);
      peripheral.write(Uint8Array.of(0xf2, 0x05, 0xf4, 0xb5), t); // x16 everywhere: 20-bit words
      t += 200;
      const bytes = read(peripheral, 0xf7, 8, t);
      const { celsius: gotT, tFine } = compensateTemperature(raw20(bytes, 3), cal);
      // Random per-device accuracy errors are at most 0.4 °C, 1.5 %RH, 40 Pa; noise is far smaller.
      expect(Math.abs(gotT - celsius)).toBeLessThan(0.45);
      expect(Math.abs(compensatePressure(raw20(bytes, 0), tFine, cal) - pascal)).toBeLessThan(45);
      expect(Math.abs(compensateHumidity((bytes[6]! << 8) | bytes[7]!, tFine, cal) - percent)).toBeLessThan(1.6);
    }
  });

  it('converts periodically in normal mode, ignores config writes there, and filters with the IIR', () => {
    const { peripheral, signals } = part({ temperature: 20 });
    peripheral.write(Uint8Array.of(0xf5, 0x10), 0); // filter 16, t_sb 0.5 ms
    peripheral.write(Uint8Array.of(0xf2, 0x01, 0xf4, 0x27), 0); // normal mode, 8 ms + 0.5 ms cycle
    peripheral.write(Uint8Array.of(0xf5, 0x00), 1);
    expect(read(peripheral, 0xf5, 1, 1)).toEqual([0x10]);
    const celsius = (t: number) => compensateTemperature(raw20(read(peripheral, 0xf7, 8, t), 3), peripheral.calibration).celsius;
    expect(celsius(8.5)).toBeCloseTo(20, 2);
    signals.temperature.set(30);
    const afterOne = celsius(17);
    expect(afterOne).toBeCloseTo(20 + 10 / 16, 1); // one step of a coefficient-16 filter
    expect(celsius(1000)).toBeCloseTo(30, 1);
  });
});

describe('Bme280Driver', () => {
  it('samples temperature, humidity and pressure after waiting the maximum conversion time', async () => {
    const { peripheral } = part({ temperature: 23.4, humidity: 61, pressure: 98_765, random: new SeededRandom(11) });
    const { clock, io } = i2cRig(peripheral);
    const driver = new Bme280Driver(io, { oversampling: { pressure: 4 } });
    const start = clock.now();
    const reading = await clock.runUntilSettled(driver.sample());
    expect(Math.abs(reading.values.temperature - 23.4)).toBeLessThan(1);
    expect(Math.abs(reading.values.humidity - 61)).toBeLessThan(3);
    expect(Math.abs(reading.values.pressure - 98_765)).toBeLessThan(100);
    // 2 ms start-up after the soft reset, then 1.25 + 2.3 + 9.775 + 2.875 ms.
    expect(reading.time - start).toBeGreaterThanOrEqual(2 + 16.2 - 1e-3);
    expect(reading.provenance).toEqual({ part: 'bme280', source: 'i2c1@0x76', configuration: 'mode=forced osrs_t=x1 osrs_p=x4 osrs_h=x1 filter=off' });
  });

  it('does not resolve before the conversion time has passed on the clock', async () => {
    const { clock, io } = i2cRig(part().peripheral);
    const driver = new Bme280Driver(io);
    await clock.runUntilSettled(driver.sample());
    let done = false;
    void driver.sample().then(() => (done = true));
    await clock.advance(9);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
  });

  it('rejects a part with the wrong chip id with SensorError, naming a BMP280', async () => {
    const { clock, io } = i2cRig(part({ chipId: 0x58 }).peripheral);
    const driver = new Bme280Driver(io);
    await expect(clock.runUntilSettled(driver.sample())).rejects.toThrow(SensorError);
    await expect(clock.runUntilSettled(driver.sample())).rejects.toThrow(/chip id 0x60 .* got 0x58 \(a BMP280/);
  });

  it('propagates a NAK as BusError and recovers once the bus answers again', async () => {
    const { clock, board, io } = i2cRig(part().peripheral);
    const driver = new Bme280Driver(io);
    const fault = board.faults.inject({ target: 'i2c1@0x76', kind: 'nak' });
    await expect(clock.runUntilSettled(driver.sample())).rejects.toThrow(expect.objectContaining({ name: 'BusError', code: 'ERR_I2C_NAK' }));
    fault.clear();
    await expect(clock.runUntilSettled(driver.sample())).resolves.toMatchObject({ values: { temperature: expect.closeTo(21.5, 1) } });
  });

  it('rejects with SensorError when status.measuring never clears', async () => {
    const { peripheral } = part();
    let triggered = false;
    const hung: I2cPeripheral = {
      address: 0x76,
      name: 'hung BME280',
      write: (bytes, t) => {
        if (bytes.includes(0xf4)) triggered = true; // a ctrl_meas write: the conversion never ends
        peripheral.write(bytes, t);
      },
      read: (count, t) => (triggered && count === 1 ? Uint8Array.of(0x08) : peripheral.read(count, t)),
    };
    const { clock, io } = i2cRig(hung);
    await clock.runUntilSettled(new Bme280Driver(io).sample()).then(
      () => expect.unreachable(),
      (error: unknown) => expect(error).toEqual(expect.objectContaining({ name: 'SensorError', message: expect.stringMatching(/conversion still running 19\.3 ms after it started/) })),
    );
  });

  it('rejects with StateError after close, also for a sample in flight, and releases the bus', async () => {
    const { clock, io, i2c } = i2cRig(part().peripheral);
    const driver = new Bme280Driver(io);
    const inFlight = driver.sample();
    driver.close();
    await expect(clock.runUntilSettled(inFlight)).rejects.toThrow(StateError);
    await expect(driver.sample()).rejects.toThrow(StateError);
    await expect(i2c.readRegister(0xd0, 1)).rejects.toThrow(StateError);
  });

  it('validates options with the path of the bad field', async () => {
    const { io, clock } = i2cRig(part().peripheral);
    expect(() => bme280Driver.validateOptions({ filter: 5 }, 'channels[0].driver.options')).toThrow(
      expect.objectContaining({ path: 'channels[0].driver.options.filter', reason: 'Expected `filter` to be one of 0, 2, 4, 8, 16, got 5' }),
    );
    expect(() => new Bme280Driver(io, { oversampling: { presure: 2 } })).toThrow(expect.objectContaining({ path: 'oversampling.presure' }));
    const driver = new Bme280Driver(io);
    await expect(driver.configure({ oversampling: { humidity: 3 } })).rejects.toThrow(
      expect.objectContaining({ name: 'ValidationError', path: 'oversampling.humidity' }),
    );
    expect(() => new Bme280Driver({ clock })).toThrow(ValidationError);
  });

  it('configure keeps other options, and the new settings reach the part and the provenance', async () => {
    const { peripheral } = part();
    const { clock, io } = i2cRig(peripheral);
    const driver = new Bme280Driver(io, { oversampling: { temperature: 2 } });
    await driver.configure({ filter: 4, oversampling: { pressure: 16 } });
    const reading = await clock.runUntilSettled(driver.sample());
    expect(reading.provenance.configuration).toBe('mode=forced osrs_t=x2 osrs_p=x16 osrs_h=x1 filter=4');
    expect(read(peripheral, 0xf5, 1, clock.now())).toEqual([0x08]);
    expect(read(peripheral, 0xf4, 1, clock.now())).toEqual([0x54]); // osrs_t=010, osrs_p=101, sleep again
  });

  it('states the rate its oversampling allows, and samples no slower than that', async () => {
    const x16 = { oversampling: { temperature: 16, pressure: 16, humidity: 16 } };
    // §9.1: t_measure,max = 1.25 + 2.3·16 + (2.3·16 + 0.575) + (2.3·16 + 0.575) = 112.8 ms, plus
    // 188 bus clocks at 400 kHz (0.47 ms); at ×1 it is 9.3 ms.
    expect(bme280Driver.maxRateFor!(x16)).toBeCloseTo(1000 / 113.27, 9);
    expect(bme280Driver.maxRateFor!({ filter: 16 })).toBeCloseTo(1000 / 9.77, 9);
    expect(bme280Driver.maxRateHz).toBe(102);
    expect(bme280Driver.describeRateOptions!({ oversampling: { pressure: 4 }, filter: 16 })).toBe('oversampling t×1 p×4 h×1');
    // From time 0, so timer times are exact to far below a nanosecond.
    const { clock, io } = i2cRig(part().peripheral, { start: 0 });
    const driver = new Bme280Driver(io, x16);
    await clock.runUntilSettled(driver.sample()); // chip id, reset, trimming
    const start = clock.now();
    for (let i = 0; i < 5; i++) await clock.runUntilSettled(driver.sample());
    // The emulated bus takes no time: back to back, each sample takes one maximum measurement time.
    expect(clock.now() - start).toBeCloseTo(5 * 112.8, 9);
  });
});
