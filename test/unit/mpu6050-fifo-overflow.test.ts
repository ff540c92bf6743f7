/**
 * The MPU-6050 driver after a FIFO overflow: the part overwrote its oldest bytes one at a time, so
 * the full FIFO starts 1024 mod 6 = 4 bytes before a frame boundary; the driver skips them and
 * returns the newest 170 frames, in order, and the FIFO stays frame-aligned for the next drains.
 * Anything it cannot explain so (a level that is not whole frames without the overflow flag) is
 * discarded with a FIFO reset, as before.
 */
import { describe, expect, it } from 'vitest';
import { Mpu6050Peripheral } from '../../boards/emulated/parts/mpu6050.js';
import { Mpu6050Driver } from '../../sdk/drivers/mpu6050/index.js';
import { i2cRig } from '../support/i2c-rig.js';

const G0 = 9.80665;
const T0 = Date.UTC(2026, 0, 1);
/** z rises 0.001 g per ms: each 1 kHz frame is 0.001 g above the one before. */
const ramp = { valueAt: (t: number) => G0 * ((t - T0) / 1000) };

async function started() {
  const imu = new Mpu6050Peripheral({ acceleration: { z: ramp } });
  const { clock, io } = i2cRig(imu, { start: T0 });
  const driver = new Mpu6050Driver(io, { acquisition: 'fifo', rateHz: 1000, range: 16 });
  const acquisition = driver.acquisition!;
  await clock.runUntilSettled(acquisition.start());
  const drain = () => clock.runUntilSettled(acquisition.drain());
  return { clock, imu, driver, acquisition, drain };
}

const z = (frame: Readonly<Record<string, number>>): number => frame['acceleration-z']! / G0;

describe('Mpu6050Driver FIFO overflow', () => {
  it('returns the newest 170 frames of a full FIFO, in order, and goes on frame-aligned', async () => {
    const { clock, driver, drain } = await started();
    await clock.advance(20);
    const before = await drain();
    expect(before.overflow).toBe(false);
    const lastBefore = z(before.frames.at(-1)!);
    // 400 ms without a drain at 1 kHz: 400 frames into a FIFO of 170.
    await clock.advance(400);
    const late = await drain();
    expect(late.overflow).toBe(true);
    expect(late.frames).toHaveLength(170);
    const values = late.frames.map(z);
    // Whole frames in order, one sample period apart (±1 LSB at ±16 g: 1/2048 g).
    for (let i = 1; i < values.length; i++) expect(values[i]! - values[i - 1]!).toBeCloseTo(0.001, 3);
    // The newest: they end where the part was at the drain, 400 frames after the last good one.
    expect(values.at(-1)! - lastBefore).toBeCloseTo(0.4, 2);
    expect(values[0]! - lastBefore).toBeCloseTo(0.4 - 0.169, 2);
    // Aligned again: the next drain continues exactly where this one ended.
    await clock.advance(10);
    const next = await drain();
    expect(next.overflow).toBe(false);
    expect(next.frames).toHaveLength(10);
    expect(z(next.frames[0]!) - values.at(-1)!).toBeCloseTo(0.001, 3);
    driver.close();
  });

  it('discards and resets a FIFO whose level is not whole frames without the overflow flag', async () => {
    const { clock, imu, driver, drain } = await started();
    await clock.advance(20);
    await drain();
    await clock.advance(10);
    // Pop one byte behind the driver's back: 10 frames less one byte, no overflow flag.
    imu.write(Uint8Array.of(0x74), clock.now());
    imu.read(1, clock.now());
    const odd = await drain();
    expect(odd).toMatchObject({ overflow: true, frames: [] });
    await clock.advance(5);
    expect((await drain()).frames).toHaveLength(5);
    driver.close();
  });
});
