import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedBoard } from '../../boards/emulated/index.js';
import { StateError, ValidationError, VirtualClock } from '../../sdk/core/index.js';
import { Device } from '../../sdk/device/index.js';
import { channelSamples, startDevice, stopDevice, type DeviceRun } from '../support/run-device.js';

const ENV_NODE = 'examples/env-node';
const runs: DeviceRun[] = [];
afterEach(async () => {
  while (runs.length) await stopDevice(runs.pop()!);
});

async function run(path: string, seed: number, seconds: number): Promise<DeviceRun> {
  const started = await startDevice(path, seed);
  runs.push(started);
  await started.clock.advance(seconds * 1000);
  return started;
}

describe('Device on a virtual clock', () => {
  it('gives identical samples, byte for byte, for the same seed, and different ones for another seed', async () => {
    const a = await run(ENV_NODE, 5, 120.5);
    const b = await run(ENV_NODE, 5, 120.5);
    const c = await run(ENV_NODE, 6, 120.5);
    expect(a.samples.length).toBe(3 * 121);
    expect(JSON.stringify(b.samples)).toBe(JSON.stringify(a.samples));
    expect(JSON.stringify(c.samples)).not.toBe(JSON.stringify(a.samples));
  });

  it('samples each channel at its rate, on the clock, with the source time of the read', async () => {
    const { samples, clock } = await run(ENV_NODE, 1, 10.5);
    const start = clock.now() - 10_500;
    const times = samples.filter((s) => s.channel === 'pressure').map((s) => s.time);
    expect(times).toHaveLength(11);
    // Forced mode: each reading is taken when its conversion completes, within 30 ms of its tick,
    // and the ticks stay on the 1 s grid (no cumulative drift).
    times.forEach((time, k) => {
      expect(time - (start + k * 1000)).toBeGreaterThanOrEqual(0);
      expect(time - (start + k * 1000)).toBeLessThan(30);
    });
  });

  it('reports a sensor fault once, keeps running, and clears it once the part answers again', async () => {
    const device = await run(ENV_NODE, 2, 5);
    const fault = device.board.faults.inject({ target: 'i2c1@0x76', kind: 'nak', durationMs: 10_000 });
    await device.clock.advance(20_000);
    expect(fault.active).toBe(false);
    const temperature = channelSamples(device, 'temperature');
    const qualities = temperature.map((s) => (s.quality.reason ? `${s.quality.level}:${s.quality.reason}` : s.quality.level));
    expect(qualities.slice(0, 5)).toEqual(['good', 'good', 'good', 'good', 'good']);
    expect(qualities).toContain('uncertain:stale');
    expect(qualities).toContain('bad:sensor_fault');
    expect(qualities.at(-1)).toBe('good');
    expect(temperature.filter((s) => s.quality.level === 'bad').every((s) => s.value === null)).toBe(true);
    const temperatureFaults = device.faults.filter((f) => f.channel === 'temperature').map((f) => f.state);
    expect(temperatureFaults).toEqual(['raised', 'cleared']);
    expect(device.device.state).toBe('running');
  });

  it('stops at once while a read waits for its conversion, without the clock moving, and emits nothing after', async () => {
    const device = await run(ENV_NODE, 3, 2.005); // the BME280 conversion started at 2 s is still running
    const before = device.samples.length;
    const now = device.clock.now();
    await device.device.stop();
    expect(device.device.state).toBe('stopped');
    expect(device.clock.now()).toBe(now);
    await device.clock.advance(5_000);
    expect(device.samples.length).toBe(before);
    expect(device.faults).toEqual([]);
  });

  it('checks property writes and command arguments against the model', async () => {
    const motor = await run('examples/motor-monitor', 1, 0);
    const { device } = motor;
    expect(device.readProperty('rated-speed')).toBe(3000);
    device.writeProperty('rated-speed', 1500);
    expect(device.readProperty('rated-speed')).toBe(1500);
    expect(() => device.writeProperty('rated-speed', 20_000)).toThrow(/properties.rated-speed: 20000 is outside 0 … 10000 1\/min/);
    expect(() => device.writeProperty('rated-speed', 'fast')).toThrow(ValidationError);
    expect(() => device.writeProperty('nope', 1)).toThrow(/no property "nope"/);
    await expect(device.invoke('acknowledge', { all: true })).rejects.toThrow(/commands.acknowledge.all: unknown argument/);
    await expect(device.invoke('reboot')).rejects.toThrow(/no command "reboot"/);
  });

  it('refuses a board of another definition, a second start, and an unknown calibration channel', async () => {
    const { module } = await run(ENV_NODE, 1, 0);
    const clock = new VirtualClock();
    const uno = new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 1 });
    expect(() => new Device(module.model, { board: uno, serialNumber: 'X' })).toThrow(/declared for raspberry-pi-4, but the board is arduino-uno/);
    const pi = new EmulatedBoard({ definition: 'raspberry-pi-4', clock, seed: 1 });
    const serial = process.env.SENSORKIT_SERIAL;
    delete process.env.SENSORKIT_SERIAL;
    try {
      expect(() => new Device(module.model, { board: pi })).toThrow(/SENSORKIT_SERIAL/);
    } finally {
      if (serial !== undefined) process.env.SENSORKIT_SERIAL = serial;
    }
    expect(
      () => new Device(module.model, { board: pi, serialNumber: 'X', calibrations: { nope: { id: 'c', method: 'offset', offset: 1 } } }),
    ).toThrow(/calibrations.nope: no channel "nope"/);
    const device = new Device(module.model, { board: pi, serialNumber: 'X' });
    await device.start();
    await expect(device.start()).rejects.toThrow(StateError);
    await device.stop();
    expect(device.state).toBe('stopped');
    await uno.close();
    await pi.close();
  });
});
