/**
 * Sensor-clocked acquisition on the emulated MPU-6050: the FIFO at register level, the driver's
 * drains, and the StreamSampler on virtual time (no lost samples over minutes, the part's clock
 * error corrected, overflow, gaps and duplicates counted and flagged).
 */
import { describe, expect, it } from 'vitest';
import { Mpu6050Peripheral } from '../../boards/emulated/parts/mpu6050.js';
import type { I2cPeripheral, Signal } from '../../boards/emulated/peripheral.js';
import type { AcquisitionBatch, SensorClockedAcquisition } from '../../sdk/drivers/contract.js';
import { Mpu6050Driver, mpu6050Driver } from '../../sdk/drivers/mpu6050/index.js';
import { StreamSampler } from '../../sdk/sampling/stream-sampler.js';
import type { SamplingResult } from '../../sdk/sampling/sampler.js';
import { i2cRig } from '../support/i2c-rig.js';

const G0 = 9.80665;
const T0 = Date.UTC(2026, 0, 1);
const read = (p: I2cPeripheral, register: number, count: number, t: number): number[] => {
  p.write(Uint8Array.of(register), t);
  return [...p.read(count, t)];
};
const word = (bytes: readonly number[], at: number): number => (((bytes[at]! << 8) | bytes[at + 1]!) << 16) >> 16;

/** Wraps a peripheral and notes when the driver set the sample clock and reset the FIFO (the truth of each frame's time). */
function spied(peripheral: Mpu6050Peripheral): I2cPeripheral & { clockSetAt: number; fifoResetAt: number } {
  const spy = {
    address: peripheral.address,
    name: peripheral.name,
    clockSetAt: Number.NaN,
    fifoResetAt: Number.NaN,
    read: (count: number, t: number) => peripheral.read(count, t),
    write: (bytes: Uint8Array, t: number) => {
      if (bytes[0] === 0x19) spy.clockSetAt = t;
      if (bytes[0] === 0x6a && (bytes[1]! & 0x04) !== 0) spy.fifoResetAt = t;
      peripheral.write(bytes, t);
    },
  };
  return spy;
}

interface Run {
  readonly results: SamplingResult[];
  readonly sampler: StreamSampler;
  readonly spy: ReturnType<typeof spied>;
  readonly peripheral: Mpu6050Peripheral;
  readonly clock: ReturnType<typeof i2cRig>['clock'];
  readonly board: ReturnType<typeof i2cRig>['board'];
}

/** An MPU-6050 at `rateHz` with its clock `clockPpm` off, drained by a StreamSampler for `seconds` of virtual time. */
async function stream(options: { rateHz: number; clockPpm?: number; seconds: number; drainIntervalMs?: number; signal?: Signal; acquisition?: (a: SensorClockedAcquisition) => SensorClockedAcquisition }): Promise<Run> {
  const peripheral = new Mpu6050Peripheral({ acceleration: { z: options.signal ?? { valueAt: () => G0 } }, clockPpm: options.clockPpm ?? 0 });
  const spy = spied(peripheral);
  const { clock, board, io } = i2cRig(spy, { start: T0, board: 'arduino-uno' });
  const driver = new Mpu6050Driver(io, { acquisition: 'fifo', rateHz: options.rateHz });
  const sampler = new StreamSampler({ clock, ...(options.drainIntervalMs ? { drainIntervalMs: options.drainIntervalMs } : {}) });
  const results: SamplingResult[] = [];
  const acquisition = options.acquisition ? options.acquisition(driver.acquisition!) : driver.acquisition!;
  sampler.add({ id: 'imu', acquisition, onResult: (result) => results.push(result) });
  sampler.start();
  await clock.advance(options.seconds * 1000);
  await sampler.stop();
  return { results, sampler, spy, peripheral, clock, board };
}

/** True sample time of frame j since the FIFO reset: the part's period on its own clock. */
function truth(run: Run, rateHz: number, clockPpm: number): (j: number) => number {
  const period = 1000 / rateHz / (1 + clockPpm * 1e-6);
  const first = Math.floor((run.spy.fifoResetAt - run.spy.clockSetAt) / period) + 1;
  return (j) => run.spy.clockSetAt + (first + j) * period;
}

const okResults = (run: Run) => run.results.filter((r): r is SamplingResult & { ok: true } => r.ok);

describe('Mpu6050Peripheral FIFO', () => {
  it('queues a 6-byte accelerometer frame per sample, pops them from FIFO_R_W in order, and empties on FIFO_RESET', () => {
    let g = 0;
    const imu = new Mpu6050Peripheral({ acceleration: { z: { valueAt: () => (g += 0) + 0.5 * G0 } } });
    imu.write(Uint8Array.of(0x6b, 0x00), T0); // wake; DLPF off, SMPLRT_DIV 7 below: 1 kHz
    imu.write(Uint8Array.of(0x19, 0x07), T0);
    imu.write(Uint8Array.of(0x23, 0x08), T0); // ACCEL_FIFO_EN
    imu.write(Uint8Array.of(0x6a, 0x44), T0); // FIFO_EN | FIFO_RESET
    const count = word(read(imu, 0x72, 2, T0 + 10.5), 0);
    expect(count).toBe(60);
    const data = read(imu, 0x74, 12, T0 + 10.5);
    expect([word(data, 4), word(data, 10)]).toEqual([8192, 8192]); // 0.5 g at ±2 g
    expect(word(read(imu, 0x72, 2, T0 + 10.5), 0)).toBe(48);
    imu.write(Uint8Array.of(0x6a, 0x44), T0 + 10.5);
    expect(read(imu, 0x72, 2, T0 + 10.5)).toEqual([0, 0]);
  });

  it('overwrites its oldest bytes when full and sets FIFO_OFLOW_INT until INT_STATUS is read', () => {
    const imu = new Mpu6050Peripheral({ acceleration: {} });
    imu.write(Uint8Array.of(0x6b, 0x00), T0);
    imu.write(Uint8Array.of(0x19, 0x07), T0);
    imu.write(Uint8Array.of(0x23, 0x08), T0);
    imu.write(Uint8Array.of(0x6a, 0x44), T0);
    expect(read(imu, 0x3a, 1, T0 + 170.5)[0]! & 0x10).toBe(0); // 170 frames = 1020 bytes
    expect(word(read(imu, 0x72, 2, T0 + 171.5), 0)).toBe(1024);
    expect(read(imu, 0x3a, 1, T0 + 171.5)[0]! & 0x10).toBe(0x10);
    expect(read(imu, 0x3a, 1, T0 + 171.5)[0]! & 0x10).toBe(0);
  });

  it('samples on its own clock: +1000 ppm gives one extra frame a second', () => {
    const imu = new Mpu6050Peripheral({ acceleration: {}, clockPpm: 1000 });
    imu.write(Uint8Array.of(0x6b, 0x00), T0);
    imu.write(Uint8Array.of(0x19, 0x07), T0);
    imu.write(Uint8Array.of(0x23, 0x08), T0);
    imu.write(Uint8Array.of(0x6a, 0x44), T0);
    let frames = 0;
    for (let t = 50; t <= 3050; t += 50) {
      frames += word(read(imu, 0x72, 2, T0 + t), 0) / 6;
      read(imu, 0x74, word(read(imu, 0x72, 2, T0 + t), 0), T0 + t);
    }
    expect(frames).toBe(3053); // ⌊3050 ms × 1.001 kHz⌋
    expect(() => new Mpu6050Peripheral({ acceleration: {}, clockPpm: 20_000 })).toThrow(/clockPpm/);
  });
});

describe('Mpu6050Driver FIFO acquisition', () => {
  it('configures the rate divider and FIFO, and drains whole frames in the outputs units', async () => {
    const imu = new Mpu6050Peripheral({ acceleration: { x: { valueAt: () => -G0 }, z: { valueAt: () => G0 } } });
    const { clock, io } = i2cRig(imu, { start: T0 });
    const driver = new Mpu6050Driver(io, { acquisition: 'fifo', rateHz: 4000, range: 4 });
    expect(driver.acquisition).toMatchObject({ mode: 'fifo', outputRateHz: 4000, capacityFrames: 170 });
    await clock.runUntilSettled(driver.acquisition!.start());
    await clock.advance(10);
    const batch = await clock.runUntilSettled(driver.acquisition!.drain());
    expect(batch.overflow).toBe(false);
    expect(batch.frames.length).toBe(40);
    expect(batch.frames[0]!['acceleration-x']).toBeCloseTo(-G0, 2);
    expect(batch.frames[39]!['acceleration-z']).toBeCloseTo(G0, 2);
    expect(batch.provenance.configuration).toBe('afs=±4g dlpf=260Hz rate=4000Hz fifo');
    // Drained too late: the overflow is reported with the newest 170 whole frames the full FIFO holds.
    await clock.advance(50);
    const late = await clock.runUntilSettled(driver.acquisition!.drain());
    expect(late.overflow).toBe(true);
    expect(late.frames).toHaveLength(170);
    await clock.advance(1);
    expect((await clock.runUntilSettled(driver.acquisition!.drain())).frames.length).toBe(4);
    await clock.runUntilSettled(driver.acquisition!.stop());
    driver.close();
  });

  it('is off by default and validates the FIFO rate against the DLPF', () => {
    const { io } = i2cRig(new Mpu6050Peripheral({ acceleration: {} }));
    expect(new Mpu6050Driver(io).acquisition).toBeUndefined();
    expect(mpu6050Driver.acquisitionFor!({ acquisition: 'fifo' })).toBe('fifo');
    expect(mpu6050Driver.acquisitionFor!({})).toBeUndefined();
    expect(mpu6050Driver.maxRateFor!({ acquisition: 'fifo', rateHz: 4000 })).toBe(4000);
    expect(() => mpu6050Driver.validateOptions({ acquisition: 'fifo', rateHz: 3000 }, 'o')).toThrow(/o\.rateHz.*8000 Hz \/ n/);
    expect(() => mpu6050Driver.validateOptions({ acquisition: 'fifo', rateHz: 2000, dlpfHz: 44 }, 'o')).toThrow(/1000 Hz \/ n/);
    expect(() => mpu6050Driver.validateOptions({ rateHz: 1000 }, 'o')).toThrow(/needs `acquisition: 'fifo'`/);
  });
});

describe('StreamSampler on the emulated MPU-6050', () => {
  for (const rateHz of [1000, 4000]) {
    it(`delivers every sample at ${rateHz / 1000} kHz for 5 minutes of virtual time, stamped on the host clock`, async () => {
      const run = await stream({ rateHz, seconds: 300 });
      const ok = okResults(run);
      const stats = run.sampler.stats().imu!;
      expect(stats).toMatchObject({ lost: 0, overflows: 0, gaps: 0, duplicates: 0, failures: 0 });
      expect(run.results.every((r) => r.ok && r.missedBefore === undefined && r.quality === undefined)).toBe(true);
      // Every frame the part took up to the last drain arrived: the last one is at most one drain interval old.
      const at = truth(run, rateHz, 0);
      expect(ok.length).toBe(stats.delivered);
      expect(run.clock.now() - at(ok.length - 1)).toBeLessThan(run.sampler.drainIntervalMs + 1000 / rateHz);
      expect(run.clock.now() - at(ok.length)).toBeGreaterThan(-(1000 / rateHz)); // nothing beyond
      // From the first drain within half a frame period (one count's quantisation); once the fit has
      // a few seconds of drains, within a tenth.
      const period = 1000 / rateHz;
      let worst = 0;
      let worstSettled = 0;
      ok.forEach((r, j) => {
        const error = Math.abs(r.reading.time - at(j));
        worst = Math.max(worst, error);
        if (r.reading.time - T0 > 10_000) worstSettled = Math.max(worstSettled, error);
      });
      expect(worst).toBeLessThan(0.5 * period);
      expect(worstSettled).toBeLessThan(0.1 * period);
    });
  }

  it('measures and corrects a part clock 200 ppm fast: timestamps within 0.05 ms of the true sample times after 10 s', async () => {
    const run = await stream({ rateHz: 1000, clockPpm: 200, seconds: 300 });
    const ok = okResults(run);
    const at = truth(run, 1000, 200);
    let worst = 0;
    let worstSettled = 0;
    ok.forEach((r, j) => {
      const error = Math.abs(r.reading.time - at(j));
      worst = Math.max(worst, error);
      if (r.reading.time - T0 > 10_000) worstSettled = Math.max(worstSettled, error);
    });
    expect(worst).toBeLessThan(0.25);
    expect(worstSettled).toBeLessThan(0.05);
    expect(run.sampler.stats().imu!.driftPpm).toBeGreaterThan(195);
    expect(run.sampler.stats().imu!.driftPpm).toBeLessThan(205);
    // What a nominal 1 kHz time base would be off by at the end: 60 ms.
    const j = ok.length - 1;
    expect(Math.abs(ok[0]!.reading.time + j - at(j))).toBeGreaterThan(55);
    expect(run.sampler.stats().imu!.lost).toBe(0);
  });

  it('counts and flags an overflow when the host drains too late, and estimates the samples lost', async () => {
    // A bus outage of 400 ms: the FIFO bridges 170 ms at 1 kHz, then overflows.
    const peripheral = new Mpu6050Peripheral({ acceleration: {} });
    const { clock, board, io } = i2cRig(peripheral, { start: T0, board: 'arduino-uno' });
    const driver = new Mpu6050Driver(io, { acquisition: 'fifo' });
    const sampler = new StreamSampler({ clock });
    const results: SamplingResult[] = [];
    sampler.add({ id: 'imu', acquisition: driver.acquisition!, onResult: (r) => results.push(r) });
    sampler.start();
    await clock.advance(5000);
    board.faults.inject({ target: 'i2c0@0x68', kind: 'nak', durationMs: 400 });
    await clock.advance(5000);
    await sampler.stop();
    const stats = sampler.stats().imu!;
    expect(stats.overflows).toBe(1);
    // Lost: what the part took between the last drain before the outage and the first after it
    // (400 ms to 400 ms + one drain interval), less the 170 frames the full FIFO still held.
    expect(stats.lost).toBeGreaterThanOrEqual(400 - 170 - 1);
    expect(stats.lost).toBeLessThanOrEqual(400 + Math.ceil(sampler.drainIntervalMs) - 170 + 1);
    const failures = results.filter((r) => !r.ok);
    // Failures are handed on once the outage outlasts the FIFO (data is being lost), not before.
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((r) => !r.ok && r.time - T0 >= 5000 + 170)).toBe(true);
    const flagged = results.filter((r) => r.ok && r.missedBefore !== undefined);
    expect(flagged).toHaveLength(1);
    const first = flagged[0]!;
    expect(first.ok && first.missedBefore).toBe(stats.lost);
    expect(first.ok && first.quality).toEqual({ level: 'uncertain', reason: 'incomplete', detail: `FIFO overflow: ~${stats.lost} samples lost before this one` });
    // Delivered and lost together: every frame the part took from 130 ms (its start) to the last drain, ±1.
    expect(stats.delivered + stats.lost).toBeGreaterThanOrEqual(9870 - Math.ceil(sampler.drainIntervalMs) - 1);
    expect(stats.delivered + stats.lost).toBeLessThanOrEqual(9870 + 1);
  });

  it('counts every sample lost when every drain comes too late, the first one included', async () => {
    const run = await stream({ rateHz: 1000, seconds: 10, drainIntervalMs: 250 });
    const stats = run.sampler.stats().imu!;
    // The first drain, 120 ms after the FIFO started, finds 120 frames; every later one an overflow
    // that still brings the newest 170 frames the full FIFO holds.
    expect(stats.overflows).toBe(stats.drains - 1);
    expect(stats.delivered).toBe(120 + 170 * stats.overflows);
    // Up to the last drain at 10 000 ms every other frame is counted lost (±1 per overflow).
    expect(Math.abs(stats.lost - (10_000 - 130 - stats.delivered))).toBeLessThanOrEqual(stats.overflows);
    // Every 400 ms: even the first drain overflows; the loss is counted from the FIFO's start.
    const never = (await stream({ rateHz: 1000, seconds: 10, drainIntervalMs: 400 })).sampler.stats().imu!;
    expect(never.overflows).toBe(never.drains);
    expect(never.delivered).toBe(170 * never.overflows);
    expect(Math.abs(never.lost - (10_000 - 130 - never.delivered))).toBeLessThanOrEqual(never.overflows);
  });

  it('delivers the frames a full FIFO still holds after an overflow, each stamped when the part took it', async () => {
    // z rises 0.001 g per ms: a frame's value says when the part took it.
    const ramp = { valueAt: (t: number) => G0 * ((t - T0) / 1000) };
    const peripheral = new Mpu6050Peripheral({ acceleration: { z: ramp } });
    const { clock, board, io } = i2cRig(peripheral, { start: T0, board: 'arduino-uno' });
    const driver = new Mpu6050Driver(io, { acquisition: 'fifo', rateHz: 1000, range: 16 });
    const sampler = new StreamSampler({ clock });
    const results: SamplingResult[] = [];
    sampler.add({ id: 'imu', acquisition: driver.acquisition!, onResult: (r) => results.push(r) });
    sampler.start();
    await clock.advance(5000);
    board.faults.inject({ target: 'i2c0@0x68', kind: 'nak', durationMs: 220 });
    await clock.advance(3000);
    await sampler.stop();
    const stats = sampler.stats().imu!;
    expect(stats).toMatchObject({ overflows: 1, gaps: 0, duplicates: 0 });
    // A 220 ms stall (and at most one drain interval more) at 1 kHz, less the 170 frames read back.
    expect(stats.lost).toBeGreaterThanOrEqual(220 - 170 - 1);
    expect(stats.lost).toBeLessThanOrEqual(220 + Math.ceil(sampler.drainIntervalMs) - 170 + 1);
    const ok = okResults({ results } as Run);
    expect(ok).toHaveLength(stats.delivered);
    const at = ok.findIndex((r) => r.missedBefore !== undefined);
    expect(ok[at]!.missedBefore).toBe(stats.lost);
    expect(ok[at]!.quality).toEqual({ level: 'uncertain', reason: 'incomplete', detail: `FIFO overflow: ~${stats.lost} samples lost before this one` });
    // The first frame after the loss, the 170 read back from the full FIFO and the ones after: each
    // stamped within a frame period of when it was taken (one LSB at ±16 g is 0.5 ms of the ramp).
    const taken = (r: (typeof ok)[number]): number => T0 + (r.reading.values['acceleration-z']! / G0) * 1000;
    for (const r of ok.slice(at, at + 400)) expect(Math.abs(r.reading.time - taken(r))).toBeLessThan(1.5);
    // Frames before and after the loss are one period apart, except across the loss itself.
    expect(ok[at]!.reading.time - ok[at - 1]!.reading.time).toBeCloseTo(1 + stats.lost, 0);
    expect(ok[at + 169]!.reading.time - ok[at]!.reading.time).toBeCloseTo(169, 0);
  });

  it('delivers the frames of a drain in flight when stopped: every frame the driver handed over arrives', async () => {
    const peripheral = new Mpu6050Peripheral({ acceleration: {} });
    const { clock, io } = i2cRig(peripheral, { start: T0 });
    const inner = new Mpu6050Driver(io, { acquisition: 'fifo' }).acquisition!;
    let drains = 0;
    let handed = 0;
    let last = 0;
    let stopping: Promise<void> | undefined;
    const sampler = new StreamSampler({ clock });
    const stoppedMidDrain: SensorClockedAcquisition = {
      mode: inner.mode,
      outputRateHz: inner.outputRateHz,
      capacityFrames: inner.capacityFrames,
      start: () => inner.start(),
      stop: () => inner.stop(),
      drain: async (): Promise<AcquisitionBatch> => {
        if (++drains === 50) stopping = sampler.stop(); // stop() while this drain reads the FIFO
        const batch = await inner.drain();
        handed += batch.frames.length;
        last = batch.frames.length;
        return batch;
      },
    };
    const results: SamplingResult[] = [];
    sampler.add({ id: 'imu', acquisition: stoppedMidDrain, onResult: (r) => results.push(r) });
    sampler.start();
    await clock.advance(5000);
    await clock.runUntilSettled(stopping!);
    expect(drains).toBe(50);
    expect(last).toBeGreaterThan(30);
    expect(results).toHaveLength(handed);
    expect(sampler.stats().imu).toMatchObject({ delivered: handed, lost: 0, gaps: 0 });
  });

  it('bridges a bus outage shorter than the FIFO without losing a sample', async () => {
    const peripheral = new Mpu6050Peripheral({ acceleration: {} });
    const { clock, board, io } = i2cRig(peripheral, { start: T0, board: 'arduino-uno' });
    const driver = new Mpu6050Driver(io, { acquisition: 'fifo' });
    const sampler = new StreamSampler({ clock });
    const results: SamplingResult[] = [];
    sampler.add({ id: 'imu', acquisition: driver.acquisition!, onResult: (r) => results.push(r) });
    sampler.start();
    await clock.advance(2000);
    board.faults.inject({ target: 'i2c0@0x68', kind: 'nak', durationMs: 100 });
    await clock.advance(2000);
    await sampler.stop();
    expect(sampler.stats().imu).toMatchObject({ lost: 0, overflows: 0, gaps: 0 });
    expect(sampler.stats().imu!.failures).toBeGreaterThan(0);
    expect(results.every((r) => r.ok && r.quality === undefined)).toBe(true);
  });

  it('detects a gap when the part lost frames without saying so (its FIFO reset behind the host)', async () => {
    const peripheral = new Mpu6050Peripheral({ acceleration: {} });
    const { clock, io } = i2cRig(peripheral, { start: T0 });
    const driver = new Mpu6050Driver(io, { acquisition: 'fifo' });
    const sampler = new StreamSampler({ clock, drainIntervalMs: 50 });
    const results: SamplingResult[] = [];
    sampler.add({ id: 'imu', acquisition: driver.acquisition!, onResult: (r) => results.push(r) });
    sampler.start();
    await clock.advance(3030);
    peripheral.write(Uint8Array.of(0x6a, 0x44), clock.now()); // FIFO reset, 30 ms after a drain
    await clock.advance(1000);
    await sampler.stop();
    const stats = sampler.stats().imu!;
    expect(stats.gaps).toBe(1);
    expect(stats.lost).toBeGreaterThanOrEqual(29);
    expect(stats.lost).toBeLessThanOrEqual(31);
    const flagged = results.filter((r) => r.ok && r.missedBefore !== undefined);
    expect(flagged).toHaveLength(1);
    expect(flagged[0]!.ok && flagged[0]!.quality).toEqual({ level: 'uncertain', reason: 'incomplete', detail: `gap: ${stats.lost} samples the part's clock produced never arrived` });
  });

  it('takes a late drain time for what it is: no false gap, no frame dropped (4 kHz, every 7th time stamp 1.5 ms late)', async () => {
    // The thread preempted between the FIFO level read and the clock read: the drain's time is late
    // by 6 frame periods, the frames are all there.
    let drains = 0;
    const late = (inner: SensorClockedAcquisition): SensorClockedAcquisition => ({
      mode: inner.mode,
      outputRateHz: inner.outputRateHz,
      capacityFrames: inner.capacityFrames,
      start: () => inner.start(),
      stop: () => inner.stop(),
      drain: async (): Promise<AcquisitionBatch> => {
        const batch = await inner.drain();
        return ++drains % 7 === 0 ? { ...batch, time: batch.time + 1.5 } : batch;
      },
    });
    const run = await stream({ rateHz: 4000, seconds: 20, acquisition: late });
    const stats = run.sampler.stats().imu!;
    expect(drains).toBeGreaterThan(1000);
    expect(stats).toMatchObject({ lost: 0, gaps: 0, duplicates: 0, overflows: 0 });
    const ok = okResults(run);
    expect(run.results.every((r) => r.ok && r.missedBefore === undefined && r.quality === undefined)).toBe(true);
    // Every frame the part took up to the last drain arrived, in order, stamped on time.
    const at = truth(run, 4000, 0);
    expect(ok.length).toBe(stats.delivered);
    expect(run.clock.now() - at(ok.length - 1)).toBeLessThan(run.sampler.drainIntervalMs + 0.25);
    expect(run.clock.now() - at(ok.length)).toBeGreaterThan(-0.25);
    let worst = 0;
    let worstSettled = 0;
    ok.forEach((r, j) => {
      const error = Math.abs(r.reading.time - at(j));
      worst = Math.max(worst, error);
      if (r.reading.time - T0 > 10_000) worstSettled = Math.max(worstSettled, error);
    });
    // Until the part's rate is measured (the first few hundred ms) no count is checked and a late
    // time moves the first fit; after that a late time is not fitted at all.
    expect(worst).toBeLessThan(0.5);
    expect(worstSettled).toBeLessThan(0.05);
  });

  it('counts a real gap once the next drain confirms it, even when that drain is stamped late', async () => {
    let drains = 0;
    let lateFrom = Number.POSITIVE_INFINITY;
    const late = (inner: SensorClockedAcquisition): SensorClockedAcquisition => ({
      mode: inner.mode,
      outputRateHz: inner.outputRateHz,
      capacityFrames: inner.capacityFrames,
      start: () => inner.start(),
      stop: () => inner.stop(),
      drain: async (): Promise<AcquisitionBatch> => {
        const batch = await inner.drain();
        return ++drains === lateFrom ? { ...batch, time: batch.time + 4 } : batch;
      },
    });
    const peripheral = new Mpu6050Peripheral({ acceleration: {} });
    const { clock, io } = i2cRig(peripheral, { start: T0 });
    const driver = new Mpu6050Driver(io, { acquisition: 'fifo' });
    const sampler = new StreamSampler({ clock, drainIntervalMs: 50 });
    const results: SamplingResult[] = [];
    sampler.add({ id: 'imu', acquisition: late(driver.acquisition!), onResult: (r) => results.push(r) });
    sampler.start();
    await clock.advance(3030);
    peripheral.write(Uint8Array.of(0x6a, 0x44), clock.now()); // FIFO reset, 30 ms after a drain
    lateFrom = drains + 2; // the drain after the one that first finds the gap is 4 ms late
    await clock.advance(1000);
    await sampler.stop();
    const stats = sampler.stats().imu!;
    expect(stats).toMatchObject({ gaps: 1, duplicates: 0 });
    expect(stats.lost).toBeGreaterThanOrEqual(29);
    expect(stats.lost).toBeLessThanOrEqual(31);
    const flagged = results.filter((r) => r.ok && r.missedBefore !== undefined);
    expect(flagged).toHaveLength(1);
    // The flag is on the first frame after the reset, stamped where the part took it (frames 1 ms apart).
    const ok = okResults({ results } as Run);
    const i = ok.indexOf(flagged[0] as (typeof ok)[number]);
    expect(ok[i]!.reading.time - ok[i - 1]!.reading.time).toBeCloseTo(1 + stats.lost, 0);
    expect(ok[i]!.reading.time - T0).toBeGreaterThan(3030);
    expect(ok[i]!.reading.time - T0).toBeLessThan(3032);
  });

  it('keeps every frame of a FIFO that brings more than the part clock allows, and re-anchors (an overflow stamped late)', async () => {
    const ramp = { valueAt: (t: number) => G0 * ((t - T0) / 1000) };
    const peripheral = new Mpu6050Peripheral({ acceleration: { z: ramp } });
    const { clock, board, io } = i2cRig(peripheral, { start: T0, board: 'arduino-uno' });
    const driver = new Mpu6050Driver(io, { acquisition: 'fifo', rateHz: 1000, range: 16 });
    const inner = driver.acquisition!;
    const lateOverflow: SensorClockedAcquisition = {
      mode: inner.mode,
      outputRateHz: inner.outputRateHz,
      capacityFrames: inner.capacityFrames,
      start: () => inner.start(),
      stop: () => inner.stop(),
      drain: async (): Promise<AcquisitionBatch> => {
        const batch = await inner.drain();
        return batch.overflow ? { ...batch, time: batch.time + 5 } : batch;
      },
    };
    const sampler = new StreamSampler({ clock });
    const results: SamplingResult[] = [];
    sampler.add({ id: 'imu', acquisition: lateOverflow, onResult: (r) => results.push(r) });
    sampler.start();
    await clock.advance(5000);
    board.faults.inject({ target: 'i2c0@0x68', kind: 'nak', durationMs: 300 });
    await clock.advance(3000);
    await sampler.stop();
    const stats = sampler.stats().imu!;
    expect(stats).toMatchObject({ overflows: 1, duplicates: 0 });
    const ok = okResults({ results } as Run);
    expect(ok).toHaveLength(stats.delivered);
    // Every frame the part took after the loss arrived: the values rise one frame (0.001 g) at a time.
    const taken = (r: (typeof ok)[number]): number => T0 + (r.reading.values['acceleration-z']! / G0) * 1000;
    const at = ok.findIndex((r) => r.missedBefore !== undefined);
    for (let i = at + 1; i < ok.length; i++) expect(taken(ok[i]!) - taken(ok[i - 1]!)).toBeCloseTo(1, 0);
    // The loss estimated at the late-stamped overflow was 5 frames too many; the surplus of the next
    // drain takes them back: lost is what the values say is missing (±1, the estimate's rounding).
    const missing = Math.round(taken(ok[at]!) - taken(ok[at - 1]!)) - 1;
    expect(Math.abs(stats.lost - missing)).toBeLessThanOrEqual(1);
    // Re-anchored: from the second drain after the loss on, stamped within a frame period of when taken.
    for (const r of ok.slice(at + 170 + Math.ceil(sampler.drainIntervalMs) + 1)) expect(Math.abs(r.reading.time - taken(r))).toBeLessThan(1.5);
  });

  it('rejects bad options and groups', () => {
    const { clock } = i2cRig(new Mpu6050Peripheral({ acceleration: {} }));
    expect(() => new StreamSampler({ clock, drainIntervalMs: 0 })).toThrow(/drainIntervalMs/);
    const sampler = new StreamSampler({ clock });
    expect(() => sampler.add({ id: '', acquisition: {} as SensorClockedAcquisition, onResult: () => {} })).toThrow(/id/);
    expect(() => sampler.add({ id: 'x', acquisition: {} as SensorClockedAcquisition, onResult: () => {} })).toThrow(/acquisition/);
  });
});
