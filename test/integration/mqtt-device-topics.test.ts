/**
 * The settings and alarm events the Thing Description announces, served by MqttTransport against
 * Mosquitto (MQTT 5) and aedes (3.1.1): retained `property/<id>`, writes on `property/<id>/set`,
 * and `event/<alarm>` for each alarm transition. An independent mqtt.js client checks the wire.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../sdk/encoding/topics.js';
import { ALARM_EVENT_FIELDS } from '../../sdk/encoding/wot.js';
import { startBroker, type BrokerKind, type TestBroker } from '../support/brokers.js';
import { waitFor } from '../support/net.js';
import { json, startProbe, subscriber, type Probe, type ProbeExtras, type Received } from '../fixtures/mqtt-probe.js';
import { trackedCleanups } from '../support/cleanups.js';

const { cleanups, track } = trackedCleanups();

/** v0 is a 2.5 ± 1 V sine of 1 s period (see `probeEmulation`): it crosses 3 V twice a second. */
const EXTRAS: ProbeExtras = {
  properties: [
    { id: 'threshold', type: 'number', unit: 'V', range: { min: 0, max: 5 }, default: 3 },
    { id: 'label', type: 'string', default: 'line 1', writable: false },
  ],
  alarms: [{ id: 'v0-high', channel: 'v0', kind: 'high', limit: 3, hysteresis: 0.1, severity: 700, message: 'v0 high' }],
};

/** A setting's value: a bare JSON scalar, not an object. */
const value = (message: Received): unknown => JSON.parse(message.payload.toString('utf8'));

describe.each<BrokerKind>(['mosquitto', 'aedes'])('settings and alarm events against %s', (kind) => {
  let broker: TestBroker;
  let protocol: 4 | 5;
  beforeAll(async () => {
    broker = await startBroker(kind);
    protocol = broker.protocols.includes(5) ? 5 : 4;
  });
  afterAll(() => broker.close());

  async function connectedProbe(): Promise<Probe> {
    const probe = track(await startProbe(broker.url, { extras: EXTRAS, rateHz: 20 }));
    await probe.transport.start();
    await waitFor(() => probe.transport.state === 'connected', 10_000, 'the transport to connect');
    return probe;
  }

  it('publishes an alarm crossing as an active then a cleared event, JSON as the TD describes, not retained', async () => {
    const probe = await connectedProbe();
    const t = topics(probe.deviceId);
    const watcher = track(await subscriber(broker.url, protocol, [t.event('v0-high')]));
    await probe.device.start();
    const active = await watcher.next(t.event('v0-high'), (m) => json(m.payload).state === 'active');
    const cleared = await watcher.next(t.event('v0-high'), (m) => json(m.payload).state === 'cleared');

    const events = watcher.on(t.event('v0-high'));
    expect(events.indexOf(active)).toBeLessThan(events.indexOf(cleared));
    for (const message of [active, cleared]) {
      const event = json(message.payload);
      expect(Object.keys(event)).toEqual([...ALARM_EVENT_FIELDS]);
      expect(event).toMatchObject({ alarm: 'v0-high', channel: 'v0', limit: 3, severity: 700, message: 'v0 high' });
      expect(message.packet.retain).toBe(false);
      expect(message.packet.qos).toBe(1);
      // time is in seconds since the epoch (not ms): within a minute of now.
      expect(Math.abs((event.time as number) - Date.now() / 1000)).toBeLessThan(60);
      if (protocol === 5) expect(message.packet.properties?.contentType).toBe('application/json');
    }
    expect(json(active.payload).value as number).toBeGreaterThan(3);
    expect(json(cleared.payload).value as number).toBeLessThan(2.9);
    expect(probe.transport.status().mqtt.properties.events).toBeGreaterThanOrEqual(2);

    // Not retained: a subscriber arriving later gets no old event.
    const late = track(await subscriber(broker.url, protocol, [t.event('v0-high')]));
    await probe.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(late.on(t.event('v0-high'))).toEqual([]);
    expect(probe.errors).toEqual([]);
  });

  it('publishes every setting retained at connect, applies a valid write and republishes, ignores bad writes', async () => {
    const probe = await connectedProbe();
    const t = topics(probe.deviceId);
    // A subscriber that arrives after the connect reads both values as retained messages.
    const watcher = track(await subscriber(broker.url, protocol, [t.property('threshold'), t.property('label')]));
    const threshold = await watcher.next(t.property('threshold'));
    expect(threshold.packet.retain).toBe(true);
    expect(value(threshold)).toBe(3);
    expect(value(await watcher.next(t.property('label')))).toBe('line 1');
    if (protocol === 5) expect(threshold.packet.properties?.contentType).toBe('application/json');

    await watcher.client.publishAsync(t.propertySet('threshold'), '4.25', { qos: 1 });
    const changed = await watcher.next(t.property('threshold'), (m) => value(m) === 4.25);
    // Live delivery of a retained publication has the RETAIN flag cleared (MQTT 5 §3.3.1.3).
    expect(changed.packet.retain).toBe(false);
    expect(probe.device.readProperty('threshold')).toBe(4.25);

    // Out of range, wrong type, malformed, read-only, unknown: no change, no crash, counted.
    const before = watcher.on(t.property('threshold')).length;
    for (const [topic, payload] of [
      [t.propertySet('threshold'), '7'],
      [t.propertySet('threshold'), '"high"'],
      [t.propertySet('threshold'), '{"value":'],
      [t.propertySet('label'), '"line 2"'],
      [t.propertySet('gain'), '1'],
    ] as const) {
      await watcher.client.publishAsync(topic, payload, { qos: 1 });
    }
    await waitFor(() => probe.transport.status().mqtt.properties.rejected >= 5 || undefined, 10_000, 'five rejected writes');
    expect(probe.transport.status().mqtt.properties).toMatchObject({ writes: 6, applied: 1, rejected: 5 });
    expect(probe.device.readProperty('threshold')).toBe(4.25);
    expect(probe.device.readProperty('label')).toBe('line 1');
    expect(watcher.on(t.property('threshold'))).toHaveLength(before);
    expect(probe.transport.state).toBe('connected');

    // The latest value is what a newcomer reads, retained.
    const newcomer = track(await subscriber(broker.url, protocol, [t.property('threshold')]));
    const retained = await newcomer.next(t.property('threshold'));
    expect(retained.packet.retain).toBe(true);
    expect(value(retained)).toBe(4.25);
    expect(probe.errors).toEqual([]);
  });
});
