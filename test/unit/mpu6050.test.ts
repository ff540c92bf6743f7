import { describe, expect, it } from 'vitest';
import { Mpu6050Peripheral } from '../../boards/emulated/parts/mpu6050.js';
import type { I2cPeripheral, Signal } from '../../boards/emulated/peripheral.js';
import { SensorError, StateError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { Mpu6050Driver, mpu6050Driver } from '../../sdk/drivers/mpu6050/index.js';
import { i2cRig } from '../support/i2c-rig.js';

const G0 = 9.80665;
const settable = (initial: number): Signal & { set(v: number): void } => {
  let current = initial;
  return { valueAt: () => current, set: (v: number) => (current = v) };
};
const read = (p: I2cPeripheral, register: number, count: number, t: number) => {
  p.write(Uint8Array.of(register), t);
  return [...p.read(count, t)];
};
const word = (bytes: number[], at: number) => (((bytes[at]! << 8) | bytes[at + 1]!) << 16) >> 16;
const T0 = Date.UTC(2026, 0, 1);

function imu(values: { x?: number; y?: number; z?: number; celsius?: number } = {}) {
  const signals = { x: settable(values.x ?? 0), y: settable(values.y ?? 0), z: settable(values.z ?? G0), temperature: settable(values.celsius ?? 25) };
  const peripheral = new Mpu6050Peripheral({ acceleration: { x: signals.x, y: signals.y, z: signals.z }, temperature: signals.temperature });
  return { peripheral, signals };
}

/** The rig these tests run on: an Arduino Uno-like board (bus i2c0). */
const ON_UNO = { board: 'arduino-uno', seed: 3, start: T0 } as const;

describe('Mpu6050Peripheral registers', () => {
  it('answers WHO_AM_I 0x68 on either address and powers up asleep (PWR_MGMT_1 = 0x40)', () => {
    expect(read(imu().peripheral, 0x75, 1, T0)).toEqual([0x68]);
    const other = new Mpu6050Peripheral({ address: 0x69, acceleration: {} });
    expect(read(other, 0x75, 1, T0)).toEqual([0x68]);
    expect(read(other, 0x6b, 1, T0)).toEqual([0x40]);
    expect(() => new Mpu6050Peripheral({ address: 0x6a, acceleration: {} })).toThrow(/0x68 or 0x69, got 0x6a/);
  });

  it('keeps its outputs at 0 while asleep and samples once SLEEP is cleared', () => {
    const { peripheral } = imu({ x: G0 / 2 });
    expect(word(read(peripheral, 0x3b, 2, T0 + 50), 0)).toBe(0);
    peripheral.write(Uint8Array.of(0x6b, 0x01), T0 + 100); // wake, PLL clock
    // DLPF off: 8 kHz gyro rate / (1 + 0) → the first sample 0.125 ms after wake-up.
    expect(word(read(peripheral, 0x3b, 2, T0 + 100.1), 0)).toBe(0);
    expect(word(read(peripheral, 0x3b, 2, T0 + 100.2), 0)).toBe(8192);
  });

  it('auto-increments on burst writes and reads; gyro outputs read 0; TEMP_OUT = (T − 36.53) × 340', () => {
    const { peripheral } = imu({ x: -G0, y: 0.5 * G0, z: G0, celsius: 25 });
    peripheral.write(Uint8Array.of(0x19, 0x00, 0x01, 0x00, 0x08), T0); // SMPLRT_DIV, CONFIG, GYRO_CONFIG, ACCEL_CONFIG
    expect(read(peripheral, 0x19, 4, T0)).toEqual([0x00, 0x01, 0x00, 0x08]);
    peripheral.write(Uint8Array.of(0x6b, 0x00), T0);
    const burst = read(peripheral, 0x3b, 14, T0 + 10);
    expect([word(burst, 0), word(burst, 2), word(burst, 4)]).toEqual([-8192, 4096, 8192]); // ±4 g: 8192 LSB/g
    expect(word(burst, 6)).toBe(-3920);
    expect(burst.slice(8)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('saturates at full scale instead of wrapping', () => {
    const { peripheral } = imu({ x: 3 * G0, y: -3 * G0 });
    peripheral.write(Uint8Array.of(0x6b, 0x00), T0);
    const burst = read(peripheral, 0x3b, 4, T0 + 5);
    expect([word(burst, 0), word(burst, 2)]).toEqual([32767, -32768]);
  });

  it('updates at gyro rate / (1 + SMPLRT_DIV) and flags data ready in INT_STATUS until it is read', () => {
    const { peripheral, signals } = imu({ x: 0 });
    peripheral.write(Uint8Array.of(0x19, 9, 0x01), T0); // DLPF on: 1 kHz / 10 = 100 Hz
    peripheral.write(Uint8Array.of(0x6b, 0x00), T0);
    expect(read(peripheral, 0x3a, 1, T0 + 9.9)).toEqual([0x00]);
    expect(read(peripheral, 0x3a, 1, T0 + 10)).toEqual([0x01]);
    expect(read(peripheral, 0x3a, 1, T0 + 10)).toEqual([0x00]);
    signals.x.set(G0);
    expect(word(read(peripheral, 0x3b, 2, T0 + 19), 0)).toBe(0); // not sampled yet
    expect(word(read(peripheral, 0x3b, 2, T0 + 30), 0)).toBeGreaterThan(0);
  });

  it('delays a step by the DLPF group delay (5 Hz: 19 ms)', () => {
    const { peripheral, signals } = imu({ x: 0 });
    peripheral.write(Uint8Array.of(0x1a, 0x06, 0x00, 0x00), T0); // DLPF_CFG 6, ±2 g
    peripheral.write(Uint8Array.of(0x6b, 0x00), T0);
    read(peripheral, 0x3b, 2, T0 + 100);
    signals.x.set(G0);
    const at = (ms: number) => word(read(peripheral, 0x3b, 2, T0 + 100 + ms), 0) / 16384;
    expect(at(10)).toBeLessThan(0.4);
    expect(at(19)).toBeCloseTo(0.5, 1);
    expect(at(40)).toBeCloseTo(1, 3);
  });

  it('DEVICE_RESET restores the defaults, SLEEP included', () => {
    const { peripheral } = imu();
    peripheral.write(Uint8Array.of(0x1c, 0x18), T0);
    peripheral.write(Uint8Array.of(0x6b, 0x01), T0);
    peripheral.write(Uint8Array.of(0x6b, 0x80), T0 + 1);
    expect(read(peripheral, 0x6b, 1, T0 + 1)).toEqual([0x40]);
    expect(read(peripheral, 0x1c, 1, T0 + 1)).toEqual([0x00]);
  });
});

describe('Mpu6050Driver', () => {
  it('wakes the part, sets range and filter, and reads acceleration and temperature', async () => {
    const { peripheral } = imu({ x: 1.5, y: -2.25, z: G0, celsius: 31.2 });
    const { clock, io } = i2cRig(peripheral, ON_UNO);
    const driver = new Mpu6050Driver(io, { range: 4, dlpfHz: 44 });
    const reading = await clock.runUntilSettled(driver.sample());
    const lsb = G0 / 8192;
    expect(Math.abs(reading.values['acceleration-x'] - 1.5)).toBeLessThanOrEqual(lsb / 2);
    expect(Math.abs(reading.values['acceleration-y'] + 2.25)).toBeLessThanOrEqual(lsb / 2);
    expect(Math.abs(reading.values['acceleration-z'] - G0)).toBeLessThanOrEqual(lsb / 2);
    expect(reading.values.temperature).toBeCloseTo(31.2, 2);
    expect(reading.time - T0).toBeGreaterThanOrEqual(130); // 100 ms reset + 30 ms start-up
    expect(reading.provenance).toEqual({ part: 'mpu6050', source: 'i2c0@0x68', configuration: 'afs=±4g dlpf=44Hz rate=1000Hz' });
    expect(read(peripheral, 0x6b, 1, clock.now())).toEqual([0x01]); // awake on the PLL
    expect(read(peripheral, 0x19, 4, clock.now())).toEqual([0x00, 0x03, 0x00, 0x08]);
  });

  it('applies a new range before the next sample, so no reading mixes scales', async () => {
    const { peripheral } = imu({ x: 3 * G0 });
    const { clock, io } = i2cRig(peripheral, ON_UNO);
    const driver = new Mpu6050Driver(io);
    expect((await clock.runUntilSettled(driver.sample())).values['acceleration-x']).toBeCloseTo((32767 / 16384) * G0, 3); // saturated at ±2 g
    await driver.configure({ range: 8 });
    expect((await clock.runUntilSettled(driver.sample())).values['acceleration-x']).toBeCloseTo(3 * G0, 2);
  });

  it('stays within its stated tolerance on a seeded part with offsets, gain errors and noise', async () => {
    const tolerance = mpu6050Driver.outputs['acceleration-x'].tolerance;
    for (let seed = 1; seed <= 5; seed++) {
      const peripheral = new Mpu6050Peripheral({ acceleration: { x: settable(G0), z: settable(-G0) }, random: new SeededRandom(seed) });
      const { clock, io } = i2cRig(peripheral, ON_UNO);
      const { values } = await clock.runUntilSettled(new Mpu6050Driver(io).sample());
      expect(Math.abs(values['acceleration-x'] - G0)).toBeLessThanOrEqual(tolerance.absolute + tolerance.relative! * G0);
      expect(Math.abs(values['acceleration-z'] + G0)).toBeLessThanOrEqual(tolerance.absolute + tolerance.relative! * G0);
      expect(Math.abs(values.temperature - 25)).toBeLessThanOrEqual(mpu6050Driver.outputs.temperature.tolerance.absolute);
    }
  });

  it('rejects a part that is not an MPU-6050 with SensorError', async () => {
    const mpu9250: I2cPeripheral = { address: 0x68, name: 'MPU-9250', write: () => {}, read: (count) => new Uint8Array(count).fill(0x71) };
    const { clock, io } = i2cRig(mpu9250, ON_UNO);
    await expect(clock.runUntilSettled(new Mpu6050Driver(io).sample())).rejects.toThrow(SensorError);
    await expect(clock.runUntilSettled(new Mpu6050Driver(io).sample())).rejects.toThrow(/WHO_AM_I 0x68 .* got 0x71 \(an MPU-6500\/9250/);
  });

  it('propagates a bus timeout as BusError and rejects with StateError once closed', async () => {
    const { peripheral } = imu();
    const { clock, board, io, i2c } = i2cRig(peripheral, ON_UNO);
    const driver = new Mpu6050Driver(io);
    await clock.runUntilSettled(driver.sample());
    board.faults.inject({ target: 'i2c0@0x68', kind: 'timeout', timeoutMs: 5 });
    await expect(clock.runUntilSettled(driver.sample())).rejects.toThrow(expect.objectContaining({ name: 'BusError', code: 'ERR_BUS_TIMEOUT' }));
    board.faults.clearAll();
    driver.close();
    await expect(driver.sample()).rejects.toThrow(StateError);
    await expect(i2c.read(1)).rejects.toThrow(StateError);
  });

  it('states ranges per option and rejects bad options with their path', () => {
    expect(mpu6050Driver.validateOptions({ range: 16 }, 'o')['acceleration-z'].range).toEqual({ min: -16 * G0, max: 16 * G0 });
    expect(mpu6050Driver.outputs['acceleration-y'].range.max).toBeCloseTo(2 * G0, 9);
    expect(() => mpu6050Driver.validateOptions({ range: 3 }, 'channels[2].driver.options')).toThrow(
      expect.objectContaining({ path: 'channels[2].driver.options.range', reason: 'Expected `range` to be one of 2, 4, 8, 16 g, got 3' }),
    );
    expect(() => mpu6050Driver.validateOptions({ dlpf: 44 }, '')).toThrow(expect.objectContaining({ path: 'dlpf' }));
  });
});
