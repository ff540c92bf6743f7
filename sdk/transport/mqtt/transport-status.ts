/**
 * What an MQTT transport reports (its status and events), and how it shares the event loop with
 * sampling while it handles incoming messages.
 */
import type { MqttClient } from 'mqtt';
import type { Clock } from '../../core/clock.js';
import type { CommandStats } from './command-server.js';
import type { PropertyEventStats } from './device-topics.js';
import type { TransportState } from './mqtt-transport.js';

/** What `status()` reports, e.g. for the live table's footer. */
export interface TransportStatus {
  readonly state: TransportState;
  /** Protocol level of the current or last connection: 5, or 4 (3.1.1) after a fallback. */
  readonly protocol: 4 | 5;
  readonly pendingRecords: number;
  readonly droppedRecords: number;
  /** Telemetry PUBLISHes sent and acknowledged since start. */
  readonly published: number;
  readonly acknowledged: number;
  /** Batches that could not be encoded or stored. */
  readonly lost: number;
  readonly commands: CommandStats;
  /** Settings written on `property/<id>/set` and alarm events published on `event/<alarm>`. */
  readonly properties: PropertyEventStats;
}

/** Events of {@link MqttTransport}. */
export interface TransportEvents {
  state: [state: TransportState];
  /** A problem the transport recovers from (a refused connection, a refused PUBLISH, a disk error). */
  error: [error: Error];
}

/** Longest stretch of incoming-message work before the transport yields to the event loop, ms. */
const MESSAGE_SLICE_MS = 1;

/**
 * mqtt.js hands over every packet of a socket read in one macrotask; a flood of requests would hold
 * the event loop, and with it the sampling timers. After each slice of work, yield.
 */
export function yieldBetweenSlices(client: MqttClient, clock: Clock): void {
  let sliceStart = clock.now();
  client.handleMessage = (_packet, done) => {
    if (clock.now() - sliceStart < MESSAGE_SLICE_MS) return done();
    // Yield to timers and I/O (not a timing decision, so not the clock's business).
    setImmediate(() => {
      sliceStart = clock.now();
      done();
    });
  };
}
