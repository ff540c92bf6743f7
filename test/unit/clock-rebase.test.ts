/**
 * Wall-time steps on a VirtualClock's fake wall clock (`stepWall`): +2 h, −2 h, and one under the
 * threshold (no re-base), for the clocks and for every holder of absolute times: the Sampler, the
 * StreamSampler (part clock), the telemetry batcher, the token bucket, a Device's pipelines
 * (report-by-exception heartbeats, stale values, failures of a FIFO part shown once a window),
 * reconnect back-off timers, OTA health-probe deadlines and the runtime (event, warning,
 * `clock.step` audit record). SystemClock runs the same re-base on a fake `wallNow`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock, VirtualClock, type ClockStep } from '../../sdk/core/clock.js';
import { onClockStep, steadyNow } from '../../sdk/core/wall-clock-watch.js';
import { SeededRandom } from '../../sdk/core/random.js';
import type { Sample } from '../../sdk/core/sample.js';
import type { AcquisitionBatch, SensorClockedAcquisition } from '../../sdk/drivers/contract.js';
import { ReportByException } from '../../sdk/pipeline/report-by-exception.js';
import { Sampler, type SamplingResult } from '../../sdk/sampling/sampler.js';
import { StreamSampler, type StreamStats } from '../../sdk/sampling/stream-sampler.js';
import { ReconnectBackoff } from '../../sdk/transport/mqtt/backoff.js';
import { TelemetryBatcher } from '../../sdk/transport/mqtt/telemetry-batcher.js';
import { TokenBucket } from '../../sdk/transport/mqtt/token-bucket.js';
import { DurableOutbox } from '../../sdk/transport/outbox/index.js';
import { runHealthProbes } from '../../ota/agent/health-probes.js';
import { Runtime, type RuntimeClockStep } from '../../sdk/runtime/runtime.js';
import { Device } from '../../sdk/device/index.js';
import { defineDevice } from '../../sdk/model/index.js';
import { EmulatedBoard, constant, ramp } from '../../boards/emulated/index.js';
import { Ads1115Peripheral } from '../../boards/emulated/parts/index.js';
import probe, { emulation as probeEmulation } from '../support/wall-step.device.js';
import { channelSamples, startDevice, stopDevice } from '../support/run-device.js';

const START = Date.UTC(2026, 2, 1, 8);
const TWO_HOURS = 2 * 3600_000;
/** The three steps every holder is tested with: two that re-base and one under the 1 s threshold. */
const STEPS = [
  { name: '+2 h', ms: TWO_HOURS, rebases: true },
  { name: '−2 h', ms: -TWO_HOURS, rebases: true },
  { name: '+600 ms (under the threshold)', ms: 600, rebases: false },
] as const;

/** What `now()` moved by for a wall step of `ms`. */
const followed = (step: (typeof STEPS)[number]): number => (step.rebases ? step.ms : 0);

describe('VirtualClock.stepWall', () => {
  it.each(STEPS)('$name: now() follows (or not), pending timers keep their remaining delays, one step event', async (step) => {
    const clock = new VirtualClock({ start: START });
    const events: ClockStep[] = [];
    clock.on('step', (event) => events.push(event));
    const fired: number[] = [];
    clock.schedule(START + 1000, () => fired.push(clock.now()));
    clock.schedule(START + 5000, () => fired.push(clock.now()));
    await clock.advance(400);
    expect(clock.stepWall(step.ms)).toEqual(step.rebases ? { stepMs: step.ms, at: START + 400 + step.ms } : undefined);
    expect(clock.now()).toBe(START + 400 + followed(step));
    expect(clock.wallNow()).toBe(START + 400 + step.ms);
    expect(clock.steppedMs).toBe(followed(step));
    expect(steadyNow(clock)).toBe(START + 400);
    expect(events).toEqual(step.rebases ? [{ stepMs: step.ms, at: START + 400 + step.ms }] : []);
    // Nothing fires at the step; each timer fires after the rest of its delay, on the new base.
    await clock.advance(599);
    expect(fired).toEqual([]);
    await clock.advance(1);
    await clock.advance(4000);
    expect(fired).toEqual([START + 1000 + followed(step), START + 5000 + followed(step)]);
  });

  it('adds a difference under the threshold to the next step', async () => {
    const clock = new VirtualClock({ start: START });
    expect(clock.stepWall(700)).toBeUndefined();
    expect(clock.stepWall(700)).toEqual({ stepMs: 1400, at: START + 1400 });
    expect(clock.wallNow()).toBe(clock.now());
  });

  it('moves the target of a run when a timer steps the wall clock during it', async () => {
    const clock = new VirtualClock({ start: START });
    clock.schedule(START + 100, () => clock.stepWall(-TWO_HOURS));
    const last: number[] = [];
    clock.schedule(START + 900, () => last.push(clock.now()));
    await clock.advance(1000);
    expect(last).toEqual([START + 900 - TWO_HOURS]);
    expect(clock.now()).toBe(START + 1000 - TWO_HOURS);
  });
});

describe('SystemClock re-basing on its wall clock', () => {
  it.each(STEPS)('$name: checkWallClock re-bases now(), keeps the timers\' delays and emits step', async (step) => {
    let offset = 0;
    const clock = new SystemClock({ precisionWindowMs: 0, wallNow: () => Date.now() + offset });
    const events: ClockStep[] = [];
    const off = clock.on('step', (event) => events.push(event));
    const scheduledAt = performance.now();
    const fired = new Promise<{ at: number; after: number }>((resolve) => clock.schedule(clock.now() + 150, () => resolve({ at: clock.now(), after: performance.now() - scheduledAt })));
    offset = step.ms;
    const before = clock.now();
    const result = clock.checkWallClock();
    expect(result !== undefined).toBe(step.rebases);
    expect(clock.now() - before).toBeCloseTo(followed(step), -1);
    expect(clock.steppedMs).toBeCloseTo(followed(step), -1);
    expect(events.map((event) => Math.round(event.stepMs / 1000))).toEqual(step.rebases ? [step.ms / 1000] : []);
    const { at, after } = await fired;
    // Not at once (a forward step) and not 2 h late (a backward one): after its 150 ms.
    expect(after).toBeGreaterThanOrEqual(149);
    expect(after).toBeLessThan(1000);
    expect(Math.abs(at - (Date.now() + (step.rebases ? step.ms : 0)))).toBeLessThan(50);
    off();
  });

  it('starts on the wall time and notices a step by itself, before the next timer fires', async () => {
    let offset = 0;
    const clock = new SystemClock({ precisionWindowMs: 0, wallNow: () => Date.now() + offset });
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(5);
    const events: ClockStep[] = [];
    clock.on('step', (event) => events.push(event));
    offset = TWO_HOURS;
    const at = await new Promise<number>((resolve) => clock.schedule(clock.now() + 20, () => resolve(clock.now())));
    expect(events).toHaveLength(1);
    expect(Math.abs(at - (Date.now() + TWO_HOURS))).toBeLessThan(50);
  });

  it('compares on its interval while only a step listener is there (no timers)', async () => {
    let offset = 0;
    const clock = new SystemClock({ stepCheckIntervalMs: 10, wallNow: () => Date.now() + offset });
    const step = new Promise<ClockStep>((resolve) => {
      const off = clock.on('step', (event) => {
        off();
        resolve(event);
      });
    });
    offset = -TWO_HOURS;
    expect(Math.round((await step).stepMs / 1000)).toBe(-TWO_HOURS / 1000);
  });

  it.each(STEPS.filter((step) => step.rebases))('$name with the precise wait on (default window): a step landing inside a timer\'s precise wait re-bases before the next timer, every timer after its delay', async (step) => {
    // Ten timers 20 ms apart; the wall clock steps 0.7 ms before the fifth is due, inside its
    // 1.5 ms precise wait (Atomics.wait on the monotonic counter).
    const t0 = performance.now();
    const stepAt = t0 + 100 - 0.7;
    const clock = new SystemClock({ wallNow: () => Date.now() + (performance.now() >= stepAt ? step.ms : 0) });
    const events: ClockStep[] = [];
    clock.on('step', (event) => events.push(event));
    const start = clock.now();
    const fired = await Promise.all(
      Array.from({ length: 10 }, (_, i) => {
        const delay = 20 * (i + 1);
        return new Promise<{ delay: number; late: number; base: number }>((resolve) =>
          clock.schedule(start + delay, () => resolve({ delay, late: performance.now() - t0 - delay, base: clock.now() - Date.now() })),
        );
      }),
    );
    expect(events).toHaveLength(1);
    expect(Math.round(events[0]!.stepMs / 1000)).toBe(step.ms / 1000);
    for (const { late } of fired) {
      expect(late).toBeGreaterThanOrEqual(-0.05); // never early
      expect(late).toBeLessThan(50); // neither at the step nor 2 h late
    }
    // now() in each callback less the host's unstepped time: before the step the old base (0), from
    // the first timer after it the new one (the step); the fifth, in
    // its precise wait when the wall clock stepped, on either (the step is noticed at the next check).
    const bases = fired.map(({ base }) => Math.round(base / 1000) * 1000 + 0);
    expect(bases.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect([0, step.ms]).toContain(bases[4]);
    expect(bases.slice(5)).toEqual(Array.from({ length: 5 }, () => step.ms));
    expect(clock.steppedMs).toBeCloseTo(step.ms, -2);
  });

  it('keeps the time base of its start with stepThresholdMs Infinity', () => {
    let offset = 0;
    const clock = new SystemClock({ stepThresholdMs: Infinity, wallNow: () => Date.now() + offset });
    offset = TWO_HOURS;
    expect(clock.checkWallClock()).toBeUndefined();
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(50);
  });
});

describe('Sampler across a step', () => {
  it.each(STEPS)('$name: the cadence goes on (no catch-up, no pause), readings after it on the new wall time', async (step) => {
    const clock = new VirtualClock({ start: START });
    const sampler = new Sampler({ clock });
    const results: SamplingResult[] = [];
    sampler.add({ id: 'g', rateHz: 10, read: async () => ({ time: clock.now(), values: { v: 1 }, provenance: { part: 'p', source: 'A0' } }), onResult: (result) => results.push(result) });
    sampler.start();
    await clock.advance(1050);
    clock.stepWall(step.ms);
    await clock.advance(2000);
    await sampler.stop();
    const times = results.map((result) => (result.ok ? result.reading.time : Number.NaN));
    expect(times).toHaveLength(31);
    const gaps = times.slice(1).map((time, i) => time - times[i]!);
    expect(gaps.filter((gap) => gap !== 100)).toEqual(step.rebases ? [100 + step.ms] : []);
    expect(times.at(-1)).toBe(START + 3000 + followed(step));
    expect(results.every((result) => result.ok && result.missedBefore === undefined)).toBe(true);
    expect(sampler.stats().g).toEqual({ ticks: 31, failures: 0, overruns: 0 });
  });

  it('puts a read in flight across a step on the new base', async () => {
    const clock = new VirtualClock({ start: START });
    const sampler = new Sampler({ clock });
    const results: SamplingResult[] = [];
    sampler.add({
      id: 'slow',
      rateHz: 1,
      // Takes its conversion at the tick, answers 50 ms later (a conversion wait), a step in between.
      read: async () => {
        const time = clock.now();
        await new Promise<void>((resolve) => clock.schedule(clock.now() + 50, resolve));
        return { time, values: { v: 1 }, provenance: { part: 'p', source: 'A0' } };
      },
      onResult: (result) => results.push(result),
    });
    sampler.start();
    await clock.advance(1020);
    clock.stepWall(TWO_HOURS);
    await clock.advance(1040);
    await sampler.stop();
    expect(results.map((result) => [result.scheduledTime - START, result.ok && result.reading.time - START])).toEqual([
      [0, 0],
      [1000 + TWO_HOURS, 1000 + TWO_HOURS],
      [2000 + TWO_HOURS, 2000 + TWO_HOURS],
    ]);
  });
});

/** A part sampling on its own clock into a FIFO, on steady time (a wall step does not touch a crystal). */
function fifoPart(clock: VirtualClock, rateHz: number): SensorClockedAcquisition<'x'> {
  let startedAt = 0;
  let read = 0;
  return {
    mode: 'fifo',
    outputRateHz: rateHz,
    capacityFrames: 1024,
    async start() {
      startedAt = steadyNow(clock);
      read = 0;
    },
    async drain(): Promise<AcquisitionBatch<'x'>> {
      const produced = Math.floor(((steadyNow(clock) - startedAt) * rateHz) / 1000);
      const frames = Array.from({ length: produced - read }, (_, i) => ({ x: read + i }));
      read = produced;
      return { time: clock.now(), frames, overflow: false, provenance: { part: 'fifo-part', source: 'i2c0@0x68' } };
    },
    async stop() {},
  };
}

describe('StreamSampler across a step', () => {
  it.each(STEPS)('$name: every frame, stamped on the new wall time after the step, no drift, no gap', async (step) => {
    const clock = new VirtualClock({ start: START });
    const sampler = new StreamSampler({ clock });
    const frames: { time: number; index: number; quality: unknown }[] = [];
    sampler.add({ id: 'imu', acquisition: fifoPart(clock, 1000), onResult: (result) => result.ok && frames.push({ time: result.reading.time, index: result.reading.values.x!, quality: result.quality }) });
    sampler.start();
    await clock.advance(20_000);
    clock.stepWall(step.ms);
    await clock.advance(20_000);
    await sampler.stop();
    const stats = sampler.stats().imu!;
    expect(stats).toMatchObject({ lost: 0, overflows: 0, gaps: 0, duplicates: 0 });
    expect(Math.abs(stats.driftPpm)).toBeLessThan(5);
    expect(frames.map((frame) => frame.index)).toEqual(Array.from({ length: frames.length }, (_, i) => i));
    expect(frames.every((frame) => frame.quality === undefined)).toBe(true);
    // Frame k was taken at k + 1 ms of steady time (the first frame once the first period ran):
    // on the host's wall time, that moved by the step for the frames taken after it.
    const late = frames.filter((frame) => frame.index >= 25_000 && frame.index < 39_000);
    for (const frame of late) expect(Math.abs(frame.time - (START + frame.index + 0.5 + followed(step)))).toBeLessThan(0.6);
  });
});

describe('emulated parts across a step, through a Device (a part\'s oscillator does not see wall time)', () => {
  it.each(STEPS)('$name: motor-monitor\'s MPU-6050 FIFO: every frame delivered, no loss, overflow or gap; every window good', async (step) => {
    const run = await startDevice('examples/motor-monitor', 1, START);
    try {
      await run.clock.advance(20_000);
      run.clock.stepWall(step.ms);
      await run.clock.advance(20_000);
      const stats = run.device.samplingStats()['mpu6050@i2c0:0x68/1000Hz/x1'] as StreamStats;
      expect(stats).toMatchObject({ lost: 0, overflows: 0, gaps: 0, duplicates: 0, failures: 0 });
      // 40 s at 1 kHz, less the frames still in the FIFO after the last drain.
      expect(stats.delivered).toBeGreaterThan(39_800);
      expect(stats.delivered).toBeLessThanOrEqual(40_000);
      expect(Math.abs(stats.driftPpm)).toBeLessThan(5);
      const windows = channelSamples(run, 'vibration-rms');
      expect(windows.length).toBeGreaterThanOrEqual(39);
      expect(windows.every((sample) => sample.quality.level === 'good')).toBe(true);
      // The windows after the step are stamped on the new wall time, one second apart.
      const late = windows.slice(-15);
      expect(late[0]!.time - START - followed(step)).toBeGreaterThan(25_000);
      expect(late.slice(1).map((sample, i) => Math.round(sample.time - late[i]!.time))).toEqual(late.slice(1).map(() => 1000));
    } finally {
      await stopDevice(run);
    }
  });

  it.each(STEPS)('$name: env-node\'s BME280, stepped during a forced conversion: every reading good, one a second', async (step) => {
    const run = await startDevice('examples/env-node', 1, START);
    try {
      await run.clock.advance(5_010); // the 5 s conversion takes 18.5 ms
      run.clock.stepWall(step.ms);
      await run.clock.advance(10_000);
      const readings = channelSamples(run, 'temperature');
      expect(readings.every((sample) => sample.quality.level === 'good')).toBe(true);
      // Each conversion ends 18.5 ms after its tick (the first, with the part's set-up, at 20.5 ms),
      // the one in flight across the step and those after it on the new wall time.
      const steady = readings.map((sample, i) => sample.time - START - (i >= 5 ? followed(step) : 0));
      expect(steady).toEqual([20.5, ...Array.from({ length: 14 }, (_, i) => (i + 1) * 1000 + 18.5)]);
    } finally {
      await stopDevice(run);
    }
  });

  it.each(STEPS)('$name: an ADS1115 converting continuously, counted on its ALERT/RDY line: every conversion once', async (step) => {
    const clock = new VirtualClock({ start: START });
    const board = new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 2 });
    const adc = new Ads1115Peripheral({ inputs: [{ valueAt: (t) => 1 + 0.5 * Math.sin(t / 50) }] });
    board.attachI2c(adc).attachPulseTrain('D2', adc.readyLine(clock));
    const model = defineDevice({
      id: 'ready-probe',
      board: 'arduino-uno',
      identity: { manufacturer: 'sensorkit tests', model: 'RDY probe', productCode: 'RP-1', hardwareRevision: '1', softwareRevision: '1', serialNumber: 'RP-1' },
      channels: [
        {
          id: 'bridge',
          quantity: 'voltage',
          unit: 'V',
          range: { min: -2.048, max: 2.048 },
          resolution: 0.0001,
          accuracy: { mpe: 0.01 },
          sampleRate: 860,
          driver: { part: 'ads1115', address: 0x48, ready: 'D2', options: { acquisition: 'continuous', dataRate: 860, fullScaleVolts: 2.048 } },
        },
      ],
    });
    const device = new Device(model, { board });
    await device.start();
    await clock.advance(10_000);
    clock.stepWall(step.ms);
    await clock.advance(10_000);
    const stats = device.samplingStats()['ads1115@i2c0:0x48/860Hz/x1'] as StreamStats;
    await device.stop();
    await board.close();
    expect(stats).toMatchObject({ lost: 0, gaps: 0, duplicates: 0, overflows: 0, failures: 0 });
    expect(stats.delivered).toBeGreaterThan(20 * 860 - 5);
    expect(stats.delivered).toBeLessThanOrEqual(20 * 860);
  });
});

describe('TelemetryBatcher across a step', () => {
  it.each(STEPS)('$name: a batch closes maxDelayMs after its first sample, not at the step nor 2 h later', async (step) => {
    const clock = new VirtualClock({ start: START });
    const closed: number[] = [];
    const batcher = new TelemetryBatcher({ clock, maxSamples: 100, maxDelayMs: 1000 }, () => closed.push(steadyNow(clock)));
    const sample: Sample = { channel: 'v', time: clock.now(), value: 1, unit: 'V', quality: { level: 'good' } };
    batcher.add(sample);
    await clock.advance(300);
    clock.stepWall(step.ms);
    batcher.add(sample);
    await clock.advance(699);
    expect(closed).toEqual([]);
    await clock.advance(1);
    expect(closed).toEqual([START + 1000]);
    expect(batcher.size).toBe(0);
  });
});

describe('TokenBucket across a step', () => {
  it.each(STEPS)('$name: tokens accrue on elapsed time only: a step neither fills nor stalls the bucket', async (step) => {
    const clock = new VirtualClock({ start: START });
    const bucket = new TokenBucket({ clock, ratePerSecond: 10, burst: 5 });
    for (let i = 0; i < 5; i++) expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    clock.stepWall(step.ms);
    expect(bucket.take()).toBe(false); // a step forward is no time passing
    await clock.advance(100);
    expect(bucket.take()).toBe(true); // nor is a step back time running backwards
    expect(bucket.take()).toBe(false);
  });
});

/** One voltage channel at 1 Hz on a constant 2.5 V: reported on its 60 s heartbeat only (deadband 1 V). */
const heartbeatProbe = defineDevice({
  id: 'heartbeat-probe',
  board: 'arduino-uno',
  identity: { manufacturer: 'sensorkit tests', model: 'Heartbeat probe', productCode: 'HB-1', hardwareRevision: '1', softwareRevision: '1', serialNumber: 'HB-0001' },
  channels: [
    {
      id: 'v0',
      quantity: 'voltage',
      unit: 'V',
      range: { min: 0, max: 5 },
      resolution: 0.01,
      accuracy: { mpe: 0.2 },
      sampleRate: 1,
      driver: { part: 'analog-voltage', output: 'voltage', pin: 'A0', options: { referenceTolerance: 0 } },
      reporting: { deadband: 1, heartbeat: 60 },
    },
  ],
});

describe('report-by-exception heartbeats of a Device across a step', () => {
  it.each(STEPS)('$name: the device re-bases its pipelines; the heartbeat comes 60 s after the last report', async (step) => {
    const clock = new VirtualClock({ start: START });
    const board = new EmulatedBoard({ definition: heartbeatProbe.board, clock, seed: 1 });
    board.attachAnalog('A0', constant(2.5));
    const device = new Device(heartbeatProbe, { board });
    const reportedAt: number[] = [];
    device.on('report', () => reportedAt.push(steadyNow(clock) - START));
    await device.start();
    await clock.advance(30_500);
    clock.stepWall(step.ms);
    await clock.advance(100_000);
    await device.stop();
    await board.close();
    expect(reportedAt).toEqual([0, 60_000, 120_000]);
  });

  it('without a re-base, a sample older than the last report (a step back) is reported: the heartbeat starts again', () => {
    const rbe = new ReportByException({ deadband: 1, heartbeatMs: 60_000 });
    const at = (time: number): Sample => ({ channel: 't', time, value: 20, unit: 'Cel', quality: { level: 'good' } });
    expect(rbe.decide(at(START))).toBe(true);
    expect(rbe.decide(at(START + 30_000))).toBe(false);
    expect(rbe.decide(at(START + 31_000 - TWO_HOURS))).toBe(true);
    expect(rbe.decide(at(START + 32_000 - TWO_HOURS))).toBe(false);
    expect(rbe.decide(at(START + 91_000 - TWO_HOURS))).toBe(true);
  });
});

describe('stale values of a Device across a step', () => {
  it.each(STEPS)('$name: a BME280 failing after the step repeats its last value as stale for staleAfter (3 s), then reads bad', async (step) => {
    const run = await startDevice('examples/env-node', 1, START);
    try {
      await run.clock.advance(5_500);
      run.clock.stepWall(step.ms);
      run.board.faults.inject({ target: 'i2c1@0x76', kind: 'nak', durationMs: 60_000 });
      const from = run.samples.length;
      await run.clock.advance(30_000);
      const qualities = channelSamples({ ...run, samples: run.samples.slice(from) }, 'temperature').map((sample) => `${sample.quality.level}:${sample.quality.reason ?? ''}`);
      expect(qualities).toHaveLength(30);
      // Last good reading at 5 s; failed reads at 6, 7, 8 s are within staleAfter of it (its
      // conversion ended after the tick), the 9 s one is not: as on a clock that never stepped.
      expect(qualities.slice(0, 3)).toEqual(['uncertain:stale', 'uncertain:stale', 'uncertain:stale']);
      expect(new Set(qualities.slice(3))).toEqual(new Set(['bad:sensor_fault']));
    } finally {
      await stopDevice(run);
    }
  });

  it.each(STEPS)('$name: a FIFO part that stops answering shows its failure once a window (1 s), before and after the step', async (step) => {
    const run = await startDevice('examples/motor-monitor', 1, START);
    try {
      await run.clock.advance(5_000);
      run.board.faults.inject({ target: 'i2c0@0x68', kind: 'nak', durationMs: 60_000 });
      await run.clock.advance(10_000);
      run.clock.stepWall(step.ms);
      const from = run.samples.length;
      await run.clock.advance(10_000);
      const failures = channelSamples({ ...run, samples: run.samples.slice(from) }, 'vibration-rms');
      expect(failures.map((sample) => sample.quality.level)).toEqual(Array.from({ length: 10 }, () => 'bad'));
    } finally {
      await stopDevice(run);
    }
  });
});

describe('emulated analog signals across a step, through a Device', () => {
  it.each(STEPS)('$name: a ramp on A0 (0.1 V/s) goes on from where it was: no jump by the step', async (step) => {
    const clock = new VirtualClock({ start: START });
    const board = new EmulatedBoard({ definition: heartbeatProbe.board, clock, seed: 1 });
    board.attachAnalog('A0', ramp({ from: 1, slopePerSecond: 0.1, start: START }));
    const device = new Device(heartbeatProbe, { board });
    const volts: number[] = [];
    device.on('sample', (sample) => volts.push(sample.value as number));
    await device.start();
    await clock.advance(10_500);
    clock.stepWall(step.ms);
    await clock.advance(10_000);
    await device.stop();
    await board.close();
    // 1 V + 0.1 V/s at each second, to the 10-bit ADC's 4.9 mV.
    expect(volts).toHaveLength(21);
    volts.forEach((value, second) => expect(Math.abs(value - (1 + 0.1 * second))).toBeLessThan(0.006));
  });
});

describe('reconnect back-off timers across a step', () => {
  it.each(STEPS)('$name: the retry comes after its drawn delay', async (step) => {
    const clock = new VirtualClock({ start: START });
    const backoff = new ReconnectBackoff({ minMs: 4000, maxMs: 4000, jitter: 0 }, new SeededRandom(1));
    const retries: number[] = [];
    // As the MQTT transport arms it: at = now + next().
    clock.schedule(clock.now() + backoff.next(), () => retries.push(steadyNow(clock) - START));
    await clock.advance(1000);
    clock.stepWall(step.ms);
    await clock.advance(2999);
    expect(retries).toEqual([]);
    await clock.advance(1);
    expect(retries).toEqual([4000]);
  });
});

describe('OTA health probes across a step', () => {
  it.each(STEPS)('$name: the trial\'s deadline is its timeout after the start', async (step) => {
    const clock = new VirtualClock({ start: START });
    let settledAt: number | undefined;
    const healthy = runHealthProbes([() => new Promise<boolean>(() => undefined)], 30_000, clock).then((ok) => {
      settledAt = steadyNow(clock) - START;
      return ok;
    });
    await clock.advance(10_000);
    clock.stepWall(step.ms);
    await clock.advance(19_999);
    expect(settledAt).toBeUndefined();
    await clock.advance(1);
    expect(await healthy).toBe(false);
    expect(settledAt).toBe(30_000);
  });
});

describe('the durable outbox across a step back', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('orders, acknowledges and recovers by sequence number: records appended after −2 h stay after the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-clock-outbox-'));
    dirs.push(dir);
    const clock = new VirtualClock({ start: START });
    let outbox = await DurableOutbox.open({ dir, clock, fsync: 'always' });
    const payload = (i: number): Uint8Array => Uint8Array.of(i);
    for (let i = 0; i < 3; i++) await outbox.append(payload(i));
    clock.stepWall(-TWO_HOURS);
    for (let i = 3; i < 6; i++) await outbox.append(payload(i));
    const before = outbox.pending();
    expect(before.map((entry) => entry.payload[0])).toEqual([0, 1, 2, 3, 4, 5]);
    // The times say what the wall clock said: the later records are 2 h "older".
    expect(before[3]!.appendedAt).toBeLessThan(before[2]!.appendedAt);
    await outbox.ack(before[1]!.seq);
    await outbox.ack(before[4]!.seq);
    await outbox.close();
    outbox = await DurableOutbox.open({ dir, clock, fsync: 'always' });
    expect(outbox.pending().map((entry) => entry.payload[0])).toEqual([0, 2, 3, 5]);
    await outbox.close();
  });
});

describe('Runtime on a stepping clock', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('turns each followed step into an event, a warning and a clock.step audit record; readings follow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-clock-rebase-'));
    dirs.push(dir);
    const clock = new VirtualClock({ start: START });
    const warnings: string[] = [];
    const auditFile = join(dir, 'audit.log');
    const runtime = await Runtime.open(
      { device: { model: probe, emulation: probeEmulation }, clock, mqtt: false, opcua: false, security: { auditLog: { file: auditFile } } },
      { warn: (message) => warnings.push(message) },
    );
    const events: RuntimeClockStep[] = [];
    runtime.on('clockStep', (event) => events.push(event));
    const times: number[] = [];
    runtime.device.on('report', (sample) => times.push(sample.time));
    await runtime.start();
    await clock.advance(1000);
    clock.stepWall(TWO_HOURS);
    await clock.advance(1000);
    clock.stepWall(-TWO_HOURS);
    clock.stepWall(300); // under the threshold: nothing
    await clock.advance(1000);
    await runtime.stop();
    expect(events).toEqual([
      { stepMs: TWO_HOURS, at: START + 1000 + TWO_HOURS, followed: true },
      { stepMs: -TWO_HOURS, at: START + 2000, followed: true },
    ]);
    expect(warnings).toEqual([
      `the system clock stepped by +2 h 0 min (NTP setting the time?); timestamps follow it from ${new Date(START + 1000 + TWO_HOURS).toISOString()}`,
      `the system clock stepped by −2 h 0 min (NTP setting the time?); timestamps follow it from ${new Date(START + 2000).toISOString()}; readings after it are earlier than those before it`,
    ]);
    // 20 Hz for 3 s, every 50 ms on the wall time of its moment.
    const steady = times.map((time) => (time >= START + TWO_HOURS ? time - TWO_HOURS : time));
    expect(steady.slice(1).map((time, i) => time - steady[i]!)).toEqual(Array.from({ length: steady.length - 1 }, () => 50));
    expect(times.filter((time) => time >= START + TWO_HOURS)).toHaveLength(20);
    const records = readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { category: string; event: string; time: string; data?: unknown });
    expect(records.filter((record) => record.event === 'clock.step')).toEqual([
      expect.objectContaining({ category: 'clock', time: new Date(START + 1000 + TWO_HOURS).toISOString(), data: { stepMs: TWO_HOURS, at: new Date(START + 1000 + TWO_HOURS).toISOString(), followed: true } }),
      expect.objectContaining({ category: 'clock', time: new Date(START + 2000).toISOString(), data: { stepMs: -TWO_HOURS, at: new Date(START + 2000).toISOString(), followed: true } }),
    ]);
  });
});
