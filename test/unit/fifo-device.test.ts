/**
 * A device whose accelerometer is drained from its FIFO: per-sample channels get every frame
 * stamped on the part's clock; a channel that would not take every frame is refused at start.
 */
import { describe, expect, it } from 'vitest';
import { EmulatedBoard } from '../../boards/emulated/index.js';
import { Mpu6050Peripheral } from '../../boards/emulated/parts/index.js';
import { VirtualClock } from '../../sdk/core/index.js';
import { Device } from '../../sdk/device/index.js';
import { defineDevice, type ChannelSpec, type Sample } from '../../sdk/model/index.js';
import type { StreamStats } from '../../sdk/sampling/index.js';

const T0 = Date.UTC(2026, 0, 1);
const IDENTITY = { manufacturer: 'ACME', model: 'V-1', productCode: 'V1', hardwareRevision: '1', softwareRevision: '0.1.0', serialNumber: 'SN-1' };

function accelChannel(overrides: Partial<ChannelSpec>): ChannelSpec {
  return {
    id: 'az',
    quantity: 'acceleration',
    unit: 'm/s2',
    range: { min: -39, max: 39 },
    resolution: 0.01,
    accuracy: { mpe: 1 },
    sampleRate: 1000,
    driver: { part: 'mpu6050', output: 'acceleration-z', address: 0x68, options: { range: 4, acquisition: 'fifo', rateHz: 1000 } },
    ...overrides,
  } as ChannelSpec;
}

async function running(channel: ChannelSpec, clockPpm = 0): Promise<{ device: Device; clock: VirtualClock; board: EmulatedBoard; samples: Sample[] }> {
  const model = defineDevice({ id: 'vib', board: 'arduino-uno', identity: IDENTITY, channels: [channel] });
  const clock = new VirtualClock({ start: T0 });
  const board = new EmulatedBoard({ definition: model.board, clock, seed: 1 });
  board.attachI2c(new Mpu6050Peripheral({ acceleration: { z: { valueAt: (t) => (Math.floor(t - T0) % 10) - 5 } }, clockPpm }));
  const device = new Device(model, { board });
  const samples: Sample[] = [];
  device.on('sample', (sample) => samples.push(sample));
  await device.start();
  return { device, clock, board, samples };
}

describe('Device with a FIFO-drained MPU-6050', () => {
  it('gives a per-sample channel every frame at the part rate, stamped on its clock, all good', async () => {
    const { device, clock, board, samples } = await running(accelChannel({}), 500);
    await clock.advance(20_000);
    const stats = device.samplingStats()['mpu6050@i2c0:0x68/1000Hz/x1'] as StreamStats;
    expect(stats).toMatchObject({ lost: 0, overflows: 0, gaps: 0 });
    expect(stats.driftPpm).toBeGreaterThan(490);
    expect(stats.driftPpm).toBeLessThan(510);
    expect(samples).toHaveLength(stats.delivered);
    expect(samples.every((s) => s.quality.level === 'good')).toBe(true);
    expect(samples[0]!.provenance).toEqual({ part: 'mpu6050', source: 'i2c0@0x68', configuration: 'afs=±4g dlpf=260Hz rate=1000Hz fifo' });
    // The part runs 500 ppm fast: its frames are 0.9995 ms apart on the host clock, not 1 ms.
    const last = samples.length - 1;
    expect((samples[last]!.time - samples[last - 10_000]!.time) / 10_000).toBeCloseTo(1 / 1.0005, 5);
    await device.stop();
    await board.close();
  });

  it('refuses at start a channel that would not take every frame of the FIFO', async () => {
    const model = defineDevice({ id: 'vib', board: 'arduino-uno', identity: IDENTITY, channels: [accelChannel({ sampleRate: 500 })] });
    const clock = new VirtualClock({ start: T0 });
    const board = new EmulatedBoard({ definition: model.board, clock, seed: 1 });
    board.attachI2c(new Mpu6050Peripheral({ acceleration: {} }));
    const device = new Device(model, { board });
    await expect(device.start()).rejects.toThrow(
      expect.objectContaining({
        name: 'ValidationError',
        message:
          'channels.az.sampleRate: mpu6050@i2c0:0x68 samples on its own clock at 1000 Hz (fifo); the channel must take every sample (raw rate 1000 Hz, no oversampling), not 500 Hz ×1',
      }),
    );
    expect(device.state).toBe('failed');
    await board.close();
  });
});
