/**
 * motor-monitor drains the MPU-6050's FIFO at 1 kHz: every raw sample of every window arrives, and
 * a window that lost samples says so, on the device and in its SenML.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SenmlCborDecoder } from '../../sdk/encoding/senml-cbor-decoder.js';
import { SenmlCborEncoder } from '../../sdk/encoding/senml-cbor.js';
import { resolveSenml } from '../../sdk/encoding/senml.js';
import type { StreamStats } from '../../sdk/sampling/stream-sampler.js';
import { channelSamples, startDevice, stopDevice, type DeviceRun } from '../support/run-device.js';

const runs: DeviceRun[] = [];
afterEach(async () => {
  while (runs.length) await stopDevice(runs.pop()!);
});

async function motor(): Promise<DeviceRun> {
  const run = await startDevice('examples/motor-monitor', 11);
  runs.push(run);
  return run;
}

const IMU = 'mpu6050@i2c0:0x68/1000Hz/x1';

describe('examples/motor-monitor on the FIFO', () => {
  it('loses no sample in 10 minutes of virtual time: every window complete and good', async () => {
    const run = await motor();
    await run.clock.advance(600_000);
    const stats = run.device.samplingStats()[IMU] as StreamStats;
    expect(stats).toMatchObject({ lost: 0, overflows: 0, gaps: 0, duplicates: 0, failures: 0 });
    // 130 ms to reset and wake the part, then 1000 frames a second up to the last drain.
    expect(stats.delivered).toBeGreaterThan(599_870 - 45);
    expect(stats.delivered).toBeLessThanOrEqual(599_870);
    const rms = channelSamples(run, 'vibration-rms');
    expect(rms).toHaveLength(599);
    expect(rms.every((sample) => sample.quality.level === 'good' && !('completeness' in sample))).toBe(true);
  });

  it('flags the window an overflow cut into as uncertain with its completeness, and SenML carries it', async () => {
    const run = await motor();
    await run.clock.advance(10_500);
    // The bus stops answering for 400 ms: the FIFO bridges 170 ms, then overflows.
    run.board.faults.inject({ target: 'i2c0@0x68', kind: 'nak', durationMs: 400 });
    await run.clock.advance(4_500);
    const stats = run.device.samplingStats()[IMU] as StreamStats;
    expect(stats.overflows).toBe(1);
    expect(stats.lost).toBeGreaterThan(200);
    const rms = channelSamples(run, 'vibration-rms');
    const incomplete = rms.filter((sample) => sample.quality.detail?.startsWith('completeness'));
    expect(incomplete).toHaveLength(1);
    const window = incomplete[0]!;
    const received = 1000 - stats.lost;
    expect(window.quality).toEqual({ level: 'uncertain', reason: 'incomplete', detail: `completeness ${(Math.floor(received) / 1000).toFixed(3)} (${received}/1000)` });
    expect(window).toMatchObject({ completeness: { expected: 1000, received } });
    // While data was being lost the bus error shows at once (the pipeline holds the last value as stale), not silence.
    const failed = rms.filter((sample) => sample.quality.reason === 'stale');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.quality.detail).toBe('i2c0@0x68 did not acknowledge (injected nak)');
    // The windows keep their place in the part's time: 14 windows from 0.13 s to 14.13 s, and the failure.
    expect(rms).toHaveLength(14 + 1);
    expect(rms.filter((sample) => sample.quality.level === 'good')).toHaveLength(13);
    // SenML: q "uncertain", qr "incomplete" and cmp = received / expected.
    const payload = new SenmlCborEncoder().encode('motor-monitor', [window]);
    const [record] = resolveSenml(new SenmlCborDecoder().decode(payload));
    expect(record).toMatchObject({ n: 'motor-monitor/vibration-rms', q: 'uncertain', qr: 'incomplete', cmp: received / 1000 });
  });
});
