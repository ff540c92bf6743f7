/** Update progress over MQTT: the agent's publish function on a real client, through a real broker. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { startUpdateServer, type UpdateServer } from '../../ota/server/file-server.js';
import { mqttChunkSource, serveChunksOverMqtt } from '../../ota/agent/mqtt-chunks.js';
import type { ChunkSource } from '../../ota/agent/chunked-download.js';
import { UpdateError } from '../../ota/errors.js';
import { SystemClock } from '../../sdk/core/clock.js';
import { startBroker, type TestBroker } from '../support/brokers.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';
import { makeDevice, publishImage } from '../support/ota-device.js';
import { waitFor } from '../support/net.js';

const key = makeKey();
const image = makeImage(1024 * 1024, 4);
let dir: string;
let server: UpdateServer;
let broker: TestBroker;
const clients: MqttClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-mqtt-'));
  await publishImage(dir, 'firmware.bin', image, envelopeFor(image, 2, key));
  server = await startUpdateServer({ dir });
  broker = await startBroker('mosquitto');
});
afterAll(async () => {
  for (const client of clients) await client.endAsync();
  await broker.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

it('publishes progress and status on sensorkit/v1/<deviceId>/ota/…', async () => {
  const watcher = await connectAsync(broker.url, { protocolVersion: broker.protocols.includes(5) ? 5 : 4 });
  const deviceClient = await connectAsync(broker.url, { protocolVersion: 4 });
  clients.push(watcher, deviceClient);
  const seen: { topic: string; body: { state: string; received?: number; total?: number; sequence?: number } }[] = [];
  watcher.on('message', (topic, payload) => {
    if (/\/ota\/(status|progress)$/.test(topic)) seen.push({ topic, body: JSON.parse(payload.toString()) as (typeof seen)[number]['body'] });
  });
  await watcher.subscribeAsync('sensorkit/v1/en-1-SN1/ota/#', { qos: 1 });

  const device = await makeDevice(key, { publish: async (topic, payload) => void (await deviceClient.publishAsync(topic, payload, { qos: 1 })) });
  try {
    await device.agent.update({ envelope: envelopeFor(image, 2, key), baseUrl: server.url });
    await waitFor(() => seen.some((m) => m.body.state === 'confirmed'), 10_000, 'the confirmed status over MQTT');
    const progress = seen.filter((m) => m.topic === 'sensorkit/v1/en-1-SN1/ota/progress');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)!.body).toMatchObject({ state: 'downloading', received: image.length, total: image.length, sequence: 2 });
    const statuses = seen.filter((m) => m.topic === 'sensorkit/v1/en-1-SN1/ota/status').map((m) => m.body.state);
    expect(statuses).toEqual(['verifying', 'staged', 'trial', 'confirmed']);
  } finally {
    await watcher.unsubscribeAsync('sensorkit/v1/en-1-SN1/ota/#');
    await device.cleanup();
  }
});

it('fetches the image in chunks over MQTT, and resumes after the server stops answering', async () => {
  const serverClient = await connectAsync(broker.url, { protocolVersion: 4 });
  const deviceClient = await connectAsync(broker.url, { protocolVersion: 4 });
  clients.push(serverClient, deviceClient);
  let stop = await serveChunksOverMqtt(serverClient, dir);
  const source = await mqttChunkSource(deviceClient, { deviceId: 'en-1-SN1', clock: new SystemClock(), timeoutMs: 500 });
  const offsets: number[] = [];
  const logged: ChunkSource = { read: (file, offset, length) => (offsets.push(offset), source.read(file, offset, length)) };
  const device = await makeDevice(key);
  try {
    let stopping: Promise<void> | undefined;
    const off = device.agent.on('status', (s) => {
      if (s.state === 'downloading' && s.received! >= image.length / 4 && stopping === undefined) stopping = stop();
    });
    const error = await device.agent.update({ envelope: envelopeFor(image, 2, key), chunks: logged }).catch((e: unknown) => e);
    off();
    await stopping;
    expect(error).toBeInstanceOf(UpdateError);
    expect((error as UpdateError).reason).toBe('download-failed');
    expect((error as UpdateError).message).toMatch(/no answer for firmware\.bin@\d+ within 500 ms/);
    const firstAttempt = offsets.length;
    stop = await serveChunksOverMqtt(serverClient, dir);
    const result = await device.agent.update({ envelope: envelopeFor(image, 2, key), chunks: logged });
    expect(result).toMatchObject({ sequence: 2, trial: 'confirmed' });
    expect(offsets[firstAttempt]).toBeGreaterThanOrEqual(image.length / 4);
    expect(offsets.slice(firstAttempt)).not.toContain(0);
  } finally {
    await stop();
    await source.close();
    await device.cleanup();
  }
});

it('serves chunks only from inside its directory: no traversal, no symlink out of it', async () => {
  const outside = await mkdtemp(join(tmpdir(), 'sensorkit-ota-mqtt-outside-'));
  await writeFile(join(outside, 'secret.txt'), 'not for devices');
  await symlink(join(outside, 'secret.txt'), join(dir, 'escape.bin'));
  const serverClient = await connectAsync(broker.url, { protocolVersion: 4 });
  const deviceClient = await connectAsync(broker.url, { protocolVersion: 4 });
  clients.push(serverClient, deviceClient);
  const stop = await serveChunksOverMqtt(serverClient, dir);
  const source = await mqttChunkSource(deviceClient, { deviceId: 'en-1-SN2', clock: new SystemClock(), timeoutMs: 400 });
  try {
    expect(Buffer.from(await source.read('firmware.bin', 0, 16))).toEqual(image.subarray(0, 16));
    for (const file of ['escape.bin', `../${outside.split('/').at(-1)}/secret.txt`, 'firmware.bin\0']) {
      const error = await source.read(file, 0, 16).catch((e: unknown) => e);
      expect(error, file).toBeInstanceOf(UpdateError);
      expect((error as UpdateError).message).toMatch(/no answer/);
    }
  } finally {
    await stop();
    await source.close();
    await rm(join(dir, 'escape.bin'), { force: true });
    await rm(outside, { recursive: true, force: true });
  }
});
