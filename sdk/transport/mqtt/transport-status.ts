/**
 * What an MQTT transport reports beyond the common `TransportStatus`, and how it shares the event
 * loop with sampling while it handles incoming messages.
 */
import type { MqttClient } from 'mqtt';
import type { Clock } from '../../core/clock.js';
import type { CommandStats } from './command-server.js';
import type { PropertyEventStats } from './device-topics.js';
import type { TransportStatus } from '../transport.js';

/**
 * MQTT's own part of a transport's status (`TransportStatus.mqtt`).
 *
 * @example
 * ```ts
 * const legacy = transport.status().mqtt.protocol === 4 // the broker has no MQTT 5
 * ```
 */
export interface MqttStatus {
  /** Protocol level of the current or last connection: 5, or 4 (3.1.1) after a fallback. */
  readonly protocol: 4 | 5;
  /** Packets from the broker above the size limit, each of which closed the connection unread. */
  readonly oversizedPackets: number;
  readonly commands: CommandStats;
  /** Settings written on `property/<id>/set` and alarm events published on `event/<alarm>`. */
  readonly properties: PropertyEventStats;
}

/**
 * What `MqttTransport.status()` reports: the common status with its MQTT part always there. A batch
 * whose fdatasync failed counts in `lost` even when it went out before the failure (see
 * `DurableOutbox.append`): it is no longer kept for a resend, so its delivery is not assured.
 *
 * @example
 * ```ts
 * const { pendingRecords, mqtt } = transport.status()
 * ```
 */
export interface MqttTransportStatus extends TransportStatus {
  readonly mqtt: MqttStatus;
}

/**
 * Longest stretch of incoming-message work before the transport pauses it, ms. Below the clock's
 * precision window (1.5 ms, SystemClock): a sampling deadline that falls due during a slice (plus
 * the parse of the socket read that started it) is still met.
 */
const MESSAGE_SLICE_MS = 0.5;
/**
 * How long message work pauses after a slice, ms: four times the slice, so a flood gets at most a
 * fifth of a core. A process that mostly sleeps is woken on time for its sampling timers; one busy a
 * third of the time (1 ms slices, 2 ms pauses) was woken late by several ms on a loaded 2-core host
 * (the cadence bound of the flood test in mqtt-reliability.test.ts).
 */
const MESSAGE_PAUSE_MS = 2;
/**
 * A message after this long without one starts a new slice, ms. Longer than the gaps between the
 * socket reads of a flood, or those gaps would start slices without pauses.
 */
const QUIET_MS = 10;

/**
 * mqtt.js hands over every packet of a socket read in one macrotask; a flood of requests would hold
 * the event loop, and with it the sampling timers. So message work runs in slices of
 * `MESSAGE_SLICE_MS`, each followed by a pause of `MESSAGE_PAUSE_MS`.
 *
 * A pause, not just a turn of the event loop (`setImmediate`): measured on a 2-core host with the
 * broker and the flooding client busy, a process that never sleeps during a flood is descheduled
 * for 10–20 ms at a time and its sampling ticks come late by that much (the cadence test in
 * mqtt-reliability.test.ts); one that sleeps most of the time is woken on time for its timers. The
 * pause is host time (`setTimeout`), not the device's clock: it shares the host's CPU, and a
 * `VirtualClock` would never end it. A message after `QUIET_MS` without one starts a new slice, so
 * a lone request is never paused.
 */
export function yieldBetweenSlices(client: MqttClient, clock: Clock): void {
  let sliceStart = Number.NEGATIVE_INFINITY;
  let lastMessage = Number.NEGATIVE_INFINITY;
  client.handleMessage = (_packet, done) => {
    const now = clock.now();
    if (now - lastMessage > QUIET_MS) sliceStart = now; // not part of a burst: a new slice
    lastMessage = now;
    if (now - sliceStart < MESSAGE_SLICE_MS) return done();
    setTimeout(() => {
      sliceStart = lastMessage = clock.now();
      done();
    }, MESSAGE_PAUSE_MS);
  };
}
