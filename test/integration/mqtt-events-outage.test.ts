/**
 * Alarm events survive a broker outage (issue 3): they go through the durable outbox beside the
 * telemetry, so every transition the device raised while the broker was down is published after it
 * comes back, in order, with the time of the sample that caused it. Against a real broker
 * (Mosquitto, stopped and restarted as in the outage test; aedes when Mosquitto is absent and not
 * required).
 */
import { describe, expect, it } from 'vitest';
import { topics } from '../../sdk/encoding/topics.js';
import type { AlarmEvent } from '../../sdk/pipeline/alarms.js';
import { startBroker } from '../support/brokers.js';
import { waitFor } from '../support/net.js';
import { json, persistentSubscriber, startProbe, type ProbeExtras, type Received } from '../fixtures/mqtt-probe.js';
import { trackedCleanups } from '../support/cleanups.js';

const { cleanups, track } = trackedCleanups();

/** v0 is a 2.5 ± 1 V sine of 1 s period (see `probeEmulation`): it crosses 3 V twice a second. */
const EXTRAS: ProbeExtras = { alarms: [{ id: 'v0-high', channel: 'v0', kind: 'high', limit: 3, hysteresis: 0.1, severity: 700, message: 'v0 high' }] };

/** First occurrences, told apart by `sensorkit-seq` (MQTT 5) or by the bytes (3.1.1: each event's time differs). */
function firstOccurrences(messages: readonly Received[]): Received[] {
  const seen = new Set<string>();
  return messages.filter((message) => {
    const seq = message.packet.properties?.userProperties?.['sensorkit-seq'];
    const key = typeof seq === 'string' ? `seq:${seq}` : `bytes:${message.payload.toString('base64')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

describe('alarm events during a broker outage', () => {
  it('publishes every transition raised while the broker was down, after it is back, in order, with the original times', async () => {
    const broker = track(await startBroker('mosquitto', { persistence: true }));
    const protocol = broker.protocols.includes(5) ? 5 : 4;
    const probe = track(await startProbe(broker.url, { channels: 2, rateHz: 50, extras: EXTRAS, transport: { reconnect: { minMs: 100, maxMs: 500 } } }));
    const t = topics(probe.deviceId);
    const raised: AlarmEvent[] = [];
    probe.device.on('alarm', (event) => raised.push(event));
    // A persistent session (MQTT 5 §3.1.2.11.2; 3.1.1 Clean Session flag 0), so what the broker accepts
    // while this consumer is reconnecting is kept for it.
    const consumer = track(await persistentSubscriber(broker.url, protocol, [t.event('v0-high')], `events-${probe.deviceId}`));
    await probe.transport.start();
    await waitFor(() => probe.transport.state === 'connected', 10_000, 'the transport to connect');
    await probe.device.start();
    await waitFor(() => consumer.on(t.event('v0-high')).length >= 2, 10_000, 'events before the outage');

    await broker.stop();
    const before = raised.length;
    // The outage lasts until the device has raised four transitions (about two seconds of sine).
    await waitFor(() => raised.length >= before + 4, 10_000, 'transitions during the outage');
    expect(probe.transport.state).not.toBe('connected');
    const duringOutage = raised.slice(before);
    expect(probe.transport.status().mqtt.properties.eventsDropped).toBe(0);
    await broker.restart();

    await waitFor(() => probe.transport.state === 'connected', 10_000, 'the transport to reconnect');
    await probe.device.stop();
    const expected = raised.length;
    await waitFor(() => probe.outbox.stats().pendingRecords === 0, 10_000, 'the outbox to drain');
    const received = await waitFor(() => {
      const unique = firstOccurrences(consumer.on(t.event('v0-high')));
      return unique.length >= expected ? unique : undefined;
    }, 10_000, `all ${expected} events at the consumer`);

    // Exactly what the device raised, in order, each with its sample's time (seconds).
    const wire = received.map((message) => json(message.payload));
    expect(wire.map((event) => [event.state, event.time])).toEqual(raised.map((event) => [event.state, event.time / 1000]));
    expect(wire.map((event) => event.value)).toEqual(raised.map((event) => event.value));
    // The outage's transitions among them, published after the restart although raised before it.
    const times = new Set(wire.map((event) => event.time));
    for (const event of duringOutage) expect(times.has(event.time / 1000)).toBe(true);
    if (protocol === 5) {
      for (const message of received) expect(message.packet.properties?.contentType).toBe('application/json');
      const seqs = received.map((message) => Number(message.packet.properties!.userProperties!['sensorkit-seq']));
      expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!)).toBe(true);
    }
    expect(probe.transport.status().mqtt.properties).toMatchObject({ events: expected, eventsDropped: 0 });
    console.log(`events: ${expected} raised (${duringOutage.length} during the outage), all received in order, broker ${broker.kind}`);
  }, 60_000);
});
