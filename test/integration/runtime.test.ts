/**
 * The runtime library through its public interface: a device on the emulated board on virtual
 * time, on a board kind of the test's own (`registerBoard`), with MQTT to the embedded broker, with
 * OPC UA; and partial starts (a failing device setup, an OPC UA port in use) that stop whatever
 * had started.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { VirtualClock } from '../../sdk/core/clock.js';
import { DeviceFileError, ValidationError } from '../../sdk/core/errors.js';
import type { Sample } from '../../sdk/core/sample.js';
import { topics } from '../../sdk/encoding/topics.js';
import { Runtime, registerBoard, startRuntime } from '../../sdk/runtime/index.js';
import { resolveSenmlCbor, subscriber } from '../fixtures/mqtt-probe.js';
import { tryConnect } from '../support/net.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENV_NODE = `${ROOT}examples/env-node`;
const START = Date.UTC(2026, 10, 25, 8);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-runtime-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Whether anything listens on 127.0.0.1:port. */
async function listening(port: number): Promise<boolean> {
  const socket = await tryConnect(port);
  socket?.destroy();
  return socket !== undefined;
}

/**
 * A board kind of this test's own, `test-rig:SEED`: an emulated board that counts how often it is
 * opened and closed, wired by the device's emulation like the built-in one.
 */
const rig = { opened: 0, closed: 0 };
registerBoard({
  name: 'test-rig',
  usage: 'test-rig:SEED',
  summary: 'an emulated board that counts its closes',
  check(args) {
    if (args === undefined || !/^\d+$/.test(args)) throw new ValidationError('test-rig:SEED', 'SEED must be digits');
  },
  async open(args, context) {
    const board = new EmulatedBoard({ definition: context.definition, clock: context.clock, seed: Number(args) });
    rig.opened++;
    const close = board.close.bind(board);
    board.close = async () => {
      rig.closed++;
      await close();
    };
    try {
      await context.emulate(board);
    } catch (error) {
      await board.close();
      throw error;
    }
    return { board, description: `the test rig, seed ${args}` };
  },
});

describe('startRuntime on the emulated board, MQTT and OPC UA off', () => {
  it('delivers readings on virtual time, reports its status, and stop() releases every timer', async () => {
    const clock = new VirtualClock({ start: START });
    const warnings: string[] = [];
    const runtime = await startRuntime({ device: ENV_NODE, seed: 3, serialNumber: 'RT-3', mqtt: false, opcua: false, clock }, { warn: (message) => warnings.push(message) });
    const reports: Sample[] = [];
    runtime.device.on('report', (sample) => reports.push(sample));
    await runtime.ready;
    expect(runtime.status()).toEqual({ state: 'running', board: 'the emulated Raspberry Pi 4 Model B, seed 3', device: 'running', mqtt: undefined, outbox: undefined, opcua: { state: 'off' } });
    expect(runtime.transport).toBeUndefined();
    expect(runtime.device.serialNumber).toBe('RT-3');

    await clock.advance(10_000);
    expect(new Set(reports.map((sample) => sample.channel))).toEqual(new Set(['temperature', 'humidity', 'pressure']));
    expect(reports.filter((sample) => sample.channel === 'temperature').length).toBeGreaterThanOrEqual(1);
    expect(reports.every((sample) => sample.quality.level === 'good')).toBe(true);
    expect(clock.pending).toBeGreaterThan(0);

    const stopping = runtime.stop();
    expect(runtime.stop()).toBe(stopping);
    await stopping;
    expect(runtime.status()).toMatchObject({ state: 'stopped', device: 'stopped', opcua: { state: 'off' } });
    // Sampler, drivers and board timers are all gone; the wall-clock watch is not started on a clock given.
    expect(clock.pending).toBe(0);
    const count = reports.length;
    await clock.advance(5_000);
    expect(reports).toHaveLength(count);
    expect(warnings).toEqual([]);
  });

  it('stops in order when stop() comes while it starts', async () => {
    const clock = new VirtualClock({ start: START });
    const runtime = await Runtime.open({ device: ENV_NODE, mqtt: false, opcua: false, clock });
    const starting = runtime.start();
    const stopping = runtime.stop();
    await starting;
    await stopping;
    // The stop came before sampling began: the device never started, and nothing was left running.
    expect(runtime.status()).toMatchObject({ state: 'stopped', device: 'idle' });
    await expect(runtime.ready).rejects.toThrow('the runtime stopped before it was ready');
    expect(clock.pending).toBe(0);
  });

  it('runs a device on a board kind registered by the application, and closes it at stop', async () => {
    const before = { ...rig };
    const clock = new VirtualClock({ start: START });
    const runtime = await startRuntime({ device: ENV_NODE, board: 'test-rig:8', mqtt: false, opcua: false, clock });
    expect(runtime.boardDescription).toBe('the test rig, seed 8');
    const samples: Sample[] = [];
    runtime.device.on('sample', (sample) => samples.push(sample));
    await clock.advance(3_000);
    expect(samples.length).toBeGreaterThanOrEqual(6);
    await runtime.stop();
    expect(rig).toEqual({ opened: before.opened + 1, closed: before.closed + 1 });
  });

  it('refuses a bad setting before it opens anything, naming its path', async () => {
    const before = { ...rig };
    const error = await Runtime.open({ device: ENV_NODE, board: 'test-rig:x', opcua: { prot: 1 } } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe('board test-rig:SEED: SEED must be digits');
    expect(rig).toEqual(before);
    const typo = await Runtime.open({ device: ENV_NODE, mqtt: false, opcua: { prot: 1 } } as never).catch((e: unknown) => e);
    expect((typo as Error).message).toBe('opcua.prot: unknown field; did you mean "port"?');
    const flush = await Runtime.open({ device: ENV_NODE, mqtt: false, opcua: false, flushMs: -1 }).catch((e: unknown) => e);
    expect(flush).toMatchObject({ code: 'ERR_ARGUMENT', message: 'Expected `flushMs` to be a number from 0 and up, got -1' });
  });

  it('closes the board it opened when the device file\'s setup() fails', async () => {
    const before = { ...rig };
    const error = await Runtime.open({ device: `${ROOT}test/fixtures/devices/setup-throws.ts`, board: 'test-rig:1', mqtt: false, opcua: false, clock: new VirtualClock() }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeviceFileError);
    expect((error as Error).message).toMatch(/setup-throws\.ts: setup\(\) failed: /);
    expect(rig).toEqual({ opened: before.opened + 1, closed: before.closed + 1 });
  });
});

describe('startRuntime with MQTT', () => {
  it('publishes telemetry through the embedded broker and its outbox, and stops the broker at stop', async () => {
    const outbox = tempDir();
    const runtime = await Runtime.open({ device: ENV_NODE, seed: 21, outbox: { dir: outbox }, opcua: false });
    cleanups.push(() => runtime.stop());
    expect(runtime.broker).toBeDefined();
    const broker = runtime.broker!;
    expect(runtime.transport?.url).toBe(broker.url);
    const t = topics('env-node-EMU-21');
    const watcher = await subscriber(broker.url, 4, [t.telemetry, t.status]);
    cleanups.push(() => watcher.close());
    await runtime.start();
    await runtime.ready;
    const telemetry = await watcher.next(t.telemetry, () => true, 15_000);
    expect(resolveSenmlCbor(telemetry.payload).map((record) => record.name)).toEqual(expect.arrayContaining([`${t.deviceId}/temperature`]));
    expect(runtime.status().mqtt).toMatchObject({ state: 'connected' });
    expect(readdirSync(outbox).length).toBeGreaterThan(0);

    await runtime.stop();
    expect(runtime.status()).toMatchObject({ state: 'stopped', device: 'stopped', mqtt: { state: 'closed' } });
    expect(await listening(broker.port)).toBe(false);
  }, 30_000);

  it('batches telemetry as mqtt.batch says: one sample per message with maxSamples 1', async () => {
    const runtime = await Runtime.open({ device: ENV_NODE, seed: 22, outbox: { dir: tempDir() }, opcua: false, mqtt: { batch: { maxSamples: 1, maxDelayMs: 50 } } });
    cleanups.push(() => runtime.stop());
    const t = topics('env-node-EMU-22');
    const watcher = await subscriber(runtime.broker!.url, 4, [t.telemetry]);
    cleanups.push(() => watcher.close());
    await runtime.start();
    // env-node reports its three channels together at start: three messages of one record each.
    const seen = new Set<unknown>();
    const packs = [];
    for (let i = 0; i < 3; i++) {
      const message = await watcher.next(t.telemetry, (candidate) => !seen.has(candidate), 15_000);
      seen.add(message);
      packs.push(resolveSenmlCbor(message.payload));
    }
    expect(packs.map((records) => records.length)).toEqual([1, 1, 1]);
    await runtime.stop();
  }, 30_000);
});

describe('startRuntime with OPC UA', () => {
  it('is ready once the server serves, with its endpoint in the status; stop() stops it', async () => {
    const dir = tempDir();
    const runtime = await startRuntime({ device: ENV_NODE, mqtt: false, opcua: { port: 0, pki: join(dir, 'pki'), users: join(dir, 'users.json') } }, { warn: () => undefined, log: () => undefined });
    cleanups.push(() => runtime.stop());
    const opcua = runtime.status().opcua;
    expect(opcua).toMatchObject({ state: 'serving', profile: 'dev', endpointUrl: expect.stringMatching(/^opc\.tcp:\/\/127\.0\.0\.1:\d+$/) });
    const port = Number(/:(\d+)$/.exec((opcua as { endpointUrl: string }).endpointUrl)![1]);
    expect(await listening(port)).toBe(true);
    await runtime.stop();
    expect(runtime.status().opcua).toEqual({ state: 'stopped' });
    expect(await listening(port)).toBe(false);
  }, 60_000);

  it('stops everything that started when the OPC UA port is in use', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => blocker.close(resolve)));
    const port = (blocker.address() as { port: number }).port;
    const dir = tempDir();
    const before = { ...rig };
    const options = { device: ENV_NODE, board: 'test-rig:2', outbox: { dir: join(dir, 'outbox') }, opcua: { port, pki: join(dir, 'pki'), users: join(dir, 'users.json') } };
    const hooks = { warn: () => undefined, log: () => undefined };

    const runtime = await Runtime.open(options, hooks);
    const broker = runtime.broker!;
    await runtime.start();
    const failure = await runtime.ready.catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as ValidationError).path).toBe('opcua.port');
    expect((failure as ValidationError).reason).toBe(`${port} is already in use on 127.0.0.1 (another OPC UA server?); choose another port or stop the other server`);
    // It stopped itself: stop() is the same orderly stop, already under way or done.
    await runtime.stop();
    expect(runtime.status()).toMatchObject({ state: 'stopped', device: 'stopped', mqtt: { state: 'closed' }, opcua: { state: 'failed' } });
    expect(await listening(broker.port)).toBe(false);
    expect(rig).toEqual({ opened: before.opened + 1, closed: before.closed + 1 });

    // startRuntime, which waits for `ready`, rejects with the same error after stopping.
    const error = await startRuntime(options, hooks).catch((e: unknown) => e);
    expect((error as ValidationError).path).toBe('opcua.port');
    expect(rig).toEqual({ opened: before.opened + 2, closed: before.closed + 2 });
  }, 90_000);
});
