/**
 * The MQTT observer on its own, against the target's aedes broker and against Mosquitto (MQTT 5,
 * persistence on): packs decoded into samples once each, duplicates and refused packs counted,
 * and what is published while it reconnects after a broker restart still delivered (its session
 * and QoS 1 subscription kept by the broker).
 */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../sdk/core/sample.js';
import { SenmlCborEncoder } from '../../sdk/encoding/senml-cbor.js';
import { topics } from '../../sdk/encoding/topics.js';
import { startOwnedBroker, type BrokerControl } from '../../hil/targets/broker-control.js';
import { MqttObserver } from '../../hil/targets/mqtt-observer.js';
import { startBroker } from '../support/brokers.js';
import { trackedCleanups } from '../support/cleanups.js';
import { waitFor } from '../support/net.js';
import { findPeer } from '../support/peers.js';

const { cleanups, track } = trackedCleanups();
const DEVICE = 'env-node-HIL-1';
const T0 = 1_767_225_600_000;
const sample = (channel: string, time: number, value: number, unit: string): Sample => ({ channel, time, value, unit, quality: { level: 'good' } });

async function publisher(url: string, protocol: 4 | 5): Promise<mqtt.MqttClient> {
  const client = await mqtt.connectAsync(url, { protocolVersion: protocol, reconnectPeriod: 0 });
  cleanups.push(() => client.endAsync(true));
  return client;
}

async function suite(broker: BrokerControl, protocol: 4 | 5): Promise<void> {
  const observer = track(await MqttObserver.connect({ url: broker.url, deviceId: DEVICE }));
  const seen: Sample[] = [];
  observer.onSample((s) => seen.push(s));
  const pack = new SenmlCborEncoder().encode(DEVICE, [sample('temperature', T0, 21.5, 'Cel'), sample('pressure', T0 + 10, 1013.25, 'hPa')]);
  const options = protocol === 5 ? { qos: 1 as const, properties: { userProperties: { 'sensorkit-seq': '7' } } } : { qos: 1 as const };
  const client = await publisher(broker.url, protocol);
  await client.publishAsync(topics(DEVICE).telemetry, Buffer.from(pack), options);
  await client.publishAsync(topics(DEVICE).telemetry, Buffer.from(pack), options);
  await client.publishAsync(topics(DEVICE).telemetry, Buffer.from([0xa1, 0x00]), { qos: 1 });
  await waitFor(() => observer.stats().messages === 3, 5000, 'three messages');
  expect(seen).toEqual([sample('temperature', T0, 21.5, 'Cel'), sample('pressure', T0 + 10, 1013.25, 'hPa')]);
  expect(observer.stats()).toMatchObject({ messages: 3, samples: 2, duplicateSamples: 2, duplicateMessages: protocol === 5 ? 1 : 0, decodeErrors: 1, reconnects: 0, protocol });
  expect(observer.stats().lastDecodeError).toMatch(/^wrong-type: /);
  await client.endAsync(true);

  // The broker goes down and comes back; a pack published at once is queued for the observer.
  await broker.stop();
  await broker.restart();
  const late = await publisher(broker.url, protocol);
  await late.publishAsync(topics(DEVICE).telemetry, Buffer.from(new SenmlCborEncoder().encode(DEVICE, [sample('temperature', T0 + 1000, 21.6, 'Cel')])), { qos: 1 });
  await waitFor(() => seen.length === 3, 10_000, 'the pack published while the observer reconnected');
  expect(seen[2]).toEqual(sample('temperature', T0 + 1000, 21.6, 'Cel'));
  expect(observer.stats().reconnects).toBe(1);
}

describe('MqttObserver', () => {
  it('on the target\'s aedes broker (MQTT 3.1.1)', async () => {
    const broker = track(await startOwnedBroker());
    await suite(broker, 4);
  }, 30_000);

  it('on Mosquitto with persistence (MQTT 5: duplicates recognised by their sensorkit-seq too)', async () => {
    if (findPeer('mosquitto') === undefined) throw new Error('Mosquitto is required for this test: apt-get install -y mosquitto');
    const broker = track(await startBroker('mosquitto', { persistence: true }));
    expect(broker.kind).toBe('mosquitto');
    await suite(broker, 5);
  }, 30_000);
});
