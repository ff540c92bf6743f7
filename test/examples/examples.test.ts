/**
 * Each example device runs on the emulated board, on virtual time, and measures what its emulated
 * world holds, within the accuracy it declares.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { channelSamples, startDevice, stopDevice, type DeviceRun } from '../support/run-device.js';

const runs: DeviceRun[] = [];
afterEach(async () => {
  while (runs.length) await stopDevice(runs.pop()!);
});

async function run(path: string, seconds: number, start?: number): Promise<DeviceRun> {
  const started = await startDevice(path, 11, start);
  runs.push(started);
  await started.clock.advance(seconds * 1000);
  return started;
}

function values(run: DeviceRun, channel: string): number[] {
  return channelSamples(run, channel).map((sample) => sample.value!);
}

describe('examples/env-node', () => {
  it('measures room temperature, humidity and pressure in their SenML units, all good', async () => {
    const env = await run('examples/env-node', 60);
    for (const channel of ['temperature', 'humidity', 'pressure']) {
      const samples = channelSamples(env, channel);
      expect(samples.length).toBe(60);
      expect(samples.every((s) => s.quality.level === 'good')).toBe(true);
    }
    // The emulated room: 22.5 ± 1.5 °C, 45 ± 5 %RH, 1013.25 hPa; the part's accuracy: ±1 °C, ±3 %RH, ±1 hPa.
    for (const t of values(env, 'temperature')) expect(t).toSatisfy((v: number) => v > 21 - 1 && v < 24 + 1);
    for (const h of values(env, 'humidity')) expect(h).toSatisfy((v: number) => v > 40 - 3 && v < 50 + 3);
    for (const p of values(env, 'pressure')) expect(Math.abs(p - 1013.25)).toBeLessThan(1 + 0.1);
    expect(channelSamples(env, 'pressure')[0]?.unit).toBe('hPa');
    expect(channelSamples(env, 'temperature')[0]?.provenance).toEqual(expect.objectContaining({ part: 'bme280', source: 'i2c1@0x76' }));
    // Report-by-exception: the 0.05 hPa deadband suppresses most pressure samples.
    const reported = env.reports.filter((s) => s.channel === 'pressure').length;
    expect(reported).toBeGreaterThan(0);
    expect(reported).toBeLessThan(60);
    expect(env.alarms).toEqual([]);
  });
});

describe('examples/motor-monitor', () => {
  it('reports vibration RMS, peak and crest factor from a 1 kHz window, and raises the vibration alarm once', async () => {
    const motor = await run('examples/motor-monitor', 100);
    const t0 = motor.clock.now() - 100_000;
    const rms = channelSamples(motor, 'vibration-rms');
    // The part needs 130 ms to reset and wake (MPU-6050 register map §4.28): 99 full windows.
    expect(rms.length).toBe(99);
    // A window ending at t covers the second before it: running-speed amplitude A = 2 + 0.05·t m/s2
    // at its middle, plus a 0.6 m/s2 second harmonic and 0.05 m/s2 noise: RMS = √(A²/2 + 0.6²/2 + 0.05²).
    // The part: ±3 % sensitivity, ±0.8 m/s2 zero-g offset (removed with the window mean).
    for (const sample of rms) {
      const amplitude = 2 + 0.05 * ((sample.time - t0) / 1000 - 0.5);
      const expected = Math.sqrt(amplitude ** 2 / 2 + 0.18 + 0.0025);
      expect(Math.abs(sample.value! - expected)).toBeLessThan(0.03 * expected + 0.02);
    }
    const crest = values(motor, 'crest-factor');
    for (const c of crest) expect(c).toSatisfy((v: number) => v > 1.3 && v < 2.2);
    const peak = values(motor, 'vibration-peak');
    peak.forEach((p, k) => expect(p).toBeGreaterThanOrEqual(rms[k]!.value!));

    // The alarm limit 4.5 m/s2 is crossed when A ≈ 6.3 m/s2, at t ≈ 87 s; exactly one activation.
    const alarms = motor.alarms.filter((a) => a.alarm === 'vibration-high');
    expect(alarms.map((a) => a.state)).toEqual(['active']);
    expect((alarms[0]!.time - t0) / 1000).toBeGreaterThan(84);
    expect((alarms[0]!.time - t0) / 1000).toBeLessThan(90);
  });

  it('follows the winding warming up within the thermistor channel accuracy', async () => {
    const motor = await run('examples/motor-monitor', 61);
    const winding = channelSamples(motor, 'winding-temperature');
    const at60 = winding.at(-1)!;
    // First-order warm-up from 25 to 95 °C with τ = 120 s: 95 − 70·e^(−0.5) = 52.5 °C at 60 s.
    expect(Math.abs(at60.value! - (95 - 70 * Math.exp(-0.5)))).toBeLessThan(2);
    expect(at60.provenance).toEqual(expect.objectContaining({ part: 'thermistor', source: 'A0' }));
  });
});

describe('examples/pressure-transmitter', () => {
  it('applies the calibration record and reports its id and uncertainty on every pressure sample', async () => {
    const pt = await run('examples/pressure-transmitter', 61);
    const pressure = channelSamples(pt, 'pressure');
    expect(pressure.length).toBe(610);
    for (const sample of pressure) {
      expect(sample.calibrationId).toBe('CAL-PT10-2026-0117');
      expect(sample.uncertainty).toBe(1500);
      expect(sample.quality.level).toBe('good');
    }
    // The process swings 400 ± 80 kPa over 60 s: its mean over one period is 400 kPa.
    const lastPeriod = pressure.slice(-600).map((s) => s.value!);
    const mean = lastPeriod.reduce((a, b) => a + b, 0) / lastPeriod.length;
    expect(Math.abs(mean - 400_000)).toBeLessThan(2_000);
    expect(Math.max(...lastPeriod)).toBeGreaterThan(470_000);
    expect(Math.min(...lastPeriod)).toBeLessThan(330_000);
    // 4 mA + 16 mA × p / 1 MPa at 400 kPa is 10.4 mA.
    const current = values(pt, 'loop-current');
    const meanCurrent = current.slice(-60).reduce((a, b) => a + b, 0) / 60;
    expect(meanCurrent).toBeCloseTo(4 + 16 * 0.4, 1);
  });

  it('marks samples uncertain once the calibration is past its validity date', async () => {
    const pt = await run('examples/pressure-transmitter', 2, Date.UTC(2028, 0, 1));
    const pressure = channelSamples(pt, 'pressure');
    expect(pressure.length).toBeGreaterThan(0);
    expect(pressure.every((s) => s.quality.level === 'uncertain' && s.quality.reason === 'calibration_expired')).toBe(true);
  });

  it('turns a dead ADC into bad samples and one fault per channel, and keeps running', async () => {
    const pt = await run('examples/pressure-transmitter', 2);
    pt.board.faults.inject({ target: 'i2c1@0x48', kind: 'nak' });
    await pt.clock.advance(5_000);
    expect(channelSamples(pt, 'pressure').at(-1)?.quality).toEqual(expect.objectContaining({ level: 'bad', reason: 'sensor_fault' }));
    expect(pt.faults.map((f) => `${f.channel}:${f.state}`)).toEqual(['pressure:raised', 'loop-current:raised']);
    expect(pt.device.state).toBe('running');
  });
});
