/**
 * The runtime-backed HIL target on the emulated board: the device runs as `sensorkit run` runs it
 * (runtime, outbox, transport, OPC UA server, system clock) and the harness sees it only through
 * its MQTT telemetry or its OPC UA variables; stimulus reaches the emulation's physical inputs.
 */
import { connect, createServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../sdk/core/sample.js';
import { communicationsOf } from '../../hil/targets/communications.js';
import { canInjectFaults } from '../../hil/targets/emulated-faults.js';
import { defineTestPlan } from '../../hil/plan/index.js';
import { runTestPlan } from '../../hil/run/index.js';
import { RuntimeTarget } from '../../hil/targets/runtime-target.js';
import { parseTargetSpec } from '../../hil/targets/target-spec.js';
import { trackedCleanups } from '../support/cleanups.js';
import { freePort, waitFor } from '../support/net.js';

const { cleanups, track } = trackedCleanups();
const warnings: string[] = [];

function envNode(observation: 'mqtt' | 'opcua' | 'in-process', extra: { opcua?: false } = {}): RuntimeTarget {
  return track(new RuntimeTarget({ spec: parseTargetSpec('emulated'), device: 'examples/env-node', seed: 7, observation, warn: (m) => warnings.push(m), ...extra }));
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('RuntimeTarget on the emulated board', () => {
  it('observed over MQTT: decoded SenML-CBOR samples of every channel, the identity, a stimulus on the true temperature', async () => {
    const target = envNode('mqtt', { opcua: false });
    const samples: Sample[] = [];
    target.onSample((sample) => samples.push(sample));
    const device = await target.open();
    expect(device).toEqual({ id: 'env-node', manufacturer: 'sensorkit examples', model: 'EN-1 environmental node', serialNumber: 'EMU-7', hardwareRevision: '1.0', softwareRevision: '0.1.0' });
    expect(target.virtualTime).toBe(false);
    expect(target.model.id).toBe('env-node');
    expect(target.inputs().map((input) => `${input.name}:${input.unit}`)).toEqual(['temperature:Cel', 'humidity:%RH', 'pressure:Pa']);
    await waitFor(() => ['temperature', 'humidity', 'pressure'].every((channel) => samples.some((s) => s.channel === channel)), 15_000, 'a sample of each channel');
    const pressure = samples.find((s) => s.channel === 'pressure')!;
    expect(pressure.unit).toBe('hPa');
    expect(pressure.value).toBeGreaterThan(1000);
    expect(pressure.quality).toEqual({ level: 'good' });

    await target.stimulate('temperature', 303.15, 'K');
    const stimulatedAt = target.clock.now();
    // The BME280's IIR filter and the channel's moving average follow a step in ~10 samples (1 Hz).
    await waitFor(() => samples.some((s) => s.channel === 'temperature' && s.time > stimulatedAt && s.value! > 28), 25_000, 'the temperature on its way to 30 Cel');

    const comms = communicationsOf(target)!;
    expect(comms.deviceId).toBe('env-node-EMU-7');
    expect(comms.canInterruptBroker).toBe(true);
    expect(comms.opcuaEndpointUrl).toBeUndefined();
    const port = Number(new URL(comms.brokerUrl).port);
    expect(await listening(port)).toBe(true);
    await target.close();
    await target.close();
    expect(await listening(port)).toBe(false);
  }, 50_000);

  it('observed over OPC UA: data changes of the channel variables with their units and source times', async () => {
    const target = envNode('opcua');
    const samples: Sample[] = [];
    target.onSample((sample) => samples.push(sample));
    await target.open();
    expect(communicationsOf(target)!.opcuaEndpointUrl).toMatch(/^opc\.tcp:\/\/127\.0\.0\.1:\d+/);
    await target.stimulate('humidity', 60, '%RH');
    const stimulatedAt = target.clock.now();
    await waitFor(() => samples.some((s) => s.channel === 'humidity' && s.time > stimulatedAt && Math.abs(s.value! - 60) < 1), 20_000, 'the humidity at 60 %RH over OPC UA');
    const units = new Map(samples.map((s) => [s.channel, s.unit]));
    expect(Object.fromEntries(units)).toEqual({ temperature: 'Cel', humidity: '%RH', pressure: 'hPa' });
    const times = samples.filter((s) => s.channel === 'temperature').map((s) => s.time);
    expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
    expect(Math.abs(times.at(-1)! - target.clock.now())).toBeLessThan(5000);
  }, 60_000);

  it('observed in process: every sample the device takes, before any network; a stimulus in a unit that does not convert is refused', async () => {
    const target = envNode('in-process', { opcua: false });
    const samples: Sample[] = [];
    target.onSample((sample) => samples.push(sample));
    await target.open();
    await waitFor(() => samples.filter((s) => s.channel === 'temperature').length >= 3, 10_000, 'three temperatures');
    // Once a second, deadband or not.
    const times = samples.filter((s) => s.channel === 'temperature').map((s) => s.time);
    expect(times[2]! - times[1]!).toBeGreaterThan(900);
    expect(times[2]! - times[1]!).toBeLessThan(1100);
    await expect(target.stimulate('temperature', 3, 'Pa')).rejects.toThrow('inputs.temperature: Pa does not convert to the input\'s unit Cel');
    await expect(target.stimulate('wind', 3, 'm/s')).rejects.toThrow('no physical input "wind" (inputs: temperature, humidity, pressure)');
    await expect(target.wait(-1)).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
  }, 30_000);

  it('injects faults on the emulated board: an I2C NAK makes the samples bad until it is cleared; a declared fault of the emulation', async () => {
    const target = envNode('in-process', { opcua: false });
    const samples: Sample[] = [];
    target.onSample((sample) => samples.push(sample));
    await target.open();
    expect(canInjectFaults(target)).toBe(true);
    expect(target.faultTargets!()).toEqual([]);
    await waitFor(() => samples.some((s) => s.quality.level === 'good'), 10_000, 'a good sample');
    await target.injectFault!('i2c1@0x76', 'nak');
    const injectedAt = target.clock.now();
    await waitFor(() => samples.some((s) => s.time > injectedAt && s.channel === 'pressure' && s.quality.level === 'bad' && s.quality.reason === 'sensor_fault'), 10_000, 'a bad pressure');
    await target.injectFault!('i2c1@0x76', 'clear');
    const clearedAt = target.clock.now();
    await waitFor(() => samples.some((s) => s.time > clearedAt + 100 && s.channel === 'pressure' && s.quality.level === 'good'), 10_000, 'a good pressure again');
    await expect(target.injectFault!('i2c1@0x76', 'nak', -1)).rejects.toThrow('durationMs: expected a number above 0, got -1');

    const transmitter = track(new RuntimeTarget({ spec: parseTargetSpec('emulated'), device: 'examples/pressure-transmitter', seed: 2, observation: 'in-process', opcua: false, warn: (m) => warnings.push(m) }));
    await transmitter.open();
    expect(transmitter.faultTargets!()).toEqual([{ name: 'transmitter', kinds: ['downscale', 'upscale', 'open'] }]);
    await expect(transmitter.injectFault!('transmitter', 'sideways')).rejects.toThrow('faults.transmitter: expected one of downscale, upscale, open or clear, got "sideways"');
  }, 40_000);

  it('a timeout fault that outlives the run: the phase is aborted, the target closes and the record is returned', async () => {
    const target = envNode('in-process', { opcua: false });
    const plan = defineTestPlan({
      id: 'silent-runtime',
      name: 'silent',
      version: '1',
      device: 'examples/env-node',
      phases: [
        {
          id: 'silent',
          steps: [
            { kind: 'measure', id: 'before', channel: 'temperature' },
            { kind: 'fault', target: 'i2c1@0x76', fault: 'timeout' },
            { kind: 'measure', id: 'during', channel: 'temperature', samples: 3, timeoutMs: 3_000 },
          ],
        },
      ],
    });
    const started = performance.now();
    const record = await runTestPlan(plan, { target, seed: 7, closeTimeoutMs: 5_000 });
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(record.phases[0]).toMatchObject({ outcome: 'aborted' });
    expect(record.phases[0]!.reason).toMatch(/^measure during: the device stopped reporting/);
    expect(record.phases[0]!.log.map((entry) => entry.message)).not.toContain(expect.stringMatching(/did not close/));
  }, 30_000);

  it('a broker outage: down for its minimum, on until a condition holds, never past its maximum; the broker listens again after it', async () => {
    const target = envNode('in-process', { opcua: false });
    await target.open();
    const comms = communicationsOf(target)!;
    const port = Number(new URL(comms.brokerUrl).port);
    let down = false;
    const probing = (async () => {
      await target.wait(100);
      down = !(await listening(port));
    })();
    const first = await comms.outage(300);
    await probing;
    expect(down).toBe(true);
    expect(first.restartedAt - first.stoppedAt).toBeGreaterThanOrEqual(300);
    expect(await listening(port)).toBe(true);
    const since = target.clock.now();
    const until = await comms.outage(100, { until: () => target.clock.now() - since > 800, maxMs: 5000 });
    expect(until.restartedAt - until.stoppedAt).toBeGreaterThanOrEqual(800);
    expect(until.restartedAt - until.stoppedAt).toBeLessThan(2000);
    const capped = await comms.outage(100, { until: () => false, maxMs: 600 });
    expect(capped.restartedAt - capped.stoppedAt).toBeGreaterThanOrEqual(600);
    expect(capped.restartedAt - capped.stoppedAt).toBeLessThan(1500);
    expect(await listening(port)).toBe(true);
  }, 30_000);

  it('a broker that does not answer is a TimeoutError from open(), one line naming it', async () => {
    const port = await freePort();
    const target = track(new RuntimeTarget({ spec: parseTargetSpec('emulated'), device: 'examples/env-node', seed: 1, observation: 'mqtt', opcua: false, mqtt: { url: `mqtt://127.0.0.1:${port}` }, warn: (m) => warnings.push(m) }));
    const error = (await target.open().catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'ERR_TIMEOUT', message: `the broker at mqtt://127.0.0.1:${port} did not answer within 10000 ms` });
    expect(target.runtime).toBeUndefined();
    expect(communicationsOf(target)!.canInterruptBroker).toBe(false);
    await expect(target.wait(0)).resolves.toBeUndefined();
  }, 20_000);

  it('a broker with credentials: the device and the observer log in with them; a wrong password is refused at once', async () => {
    const broker = await Aedes.createBroker({
      authenticate: (_client, username, password, done) => done(null, username === 'bench' && password?.toString() === 'calibrated-2026'),
    });
    const server = createServer((socket) => broker.handle(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => broker.close(() => resolve())));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const target = track(new RuntimeTarget({ spec: parseTargetSpec('emulated'), device: 'examples/env-node', seed: 1, observation: 'mqtt', opcua: false, mqtt: { url, username: 'bench', password: 'calibrated-2026' } }));
    const samples: Sample[] = [];
    target.onSample((sample) => samples.push(sample));
    await target.open();
    await waitFor(() => samples.length >= 3, 10_000, 'three samples through the broker with credentials');
    await target.close();

    const refused = track(new RuntimeTarget({ spec: parseTargetSpec('emulated'), device: 'examples/env-node', seed: 1, observation: 'mqtt', opcua: false, mqtt: { url, username: 'bench', password: 'wrong' } }));
    const started = Date.now();
    const error = (await refused.open().catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'ERR_STATE', message: expect.stringMatching(new RegExp(`^the broker at ${url} refused the connection: .*(Bad username or password|Not authorized)`)) });
    expect(Date.now() - started).toBeLessThan(5000);
  }, 30_000);

  it('several targets at once (a station with several fixtures): each its own broker, OPC UA port and samples', async () => {
    const targets = [3, 4].map((seed) => track(new RuntimeTarget({ spec: parseTargetSpec('emulated'), device: 'examples/env-node', seed, observation: 'mqtt', warn: (m) => warnings.push(m) })));
    const samples = targets.map((target) => {
      const seen: Sample[] = [];
      target.onSample((sample) => seen.push(sample));
      return seen;
    });
    const devices = await Promise.all(targets.map((target) => target.open()));
    expect(devices.map((device) => device.serialNumber)).toEqual(['EMU-3', 'EMU-4']);
    const comms = targets.map((target) => communicationsOf(target)!);
    expect(new Set(comms.map((c) => c.brokerUrl)).size).toBe(2);
    expect(new Set(comms.map((c) => c.opcuaEndpointUrl)).size).toBe(2);
    await targets[0]!.stimulate('temperature', 35, 'Cel');
    const at = targets[0]!.clock.now();
    await waitFor(() => samples[0]!.some((s) => s.channel === 'temperature' && s.time > at && s.value! > 30), 25_000, 'the first fixture warming');
    expect(samples[1]!.filter((s) => s.channel === 'temperature' && s.time > at).every((s) => s.value! < 26)).toBe(true);
  }, 60_000);

  it('a device file that does not exist is a one-line error from open(), and nothing is left running', async () => {
    const target = track(new RuntimeTarget({ spec: parseTargetSpec('emulated'), device: 'examples/nope', seed: 1, observation: 'mqtt' }));
    const error = (await target.open().catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'ERR_DEVICE_FILE' });
    expect(error.message).not.toContain('\n');
    await expect(target.open()).rejects.toMatchObject({ code: 'ERR_STATE' });
  });
});
