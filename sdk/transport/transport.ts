/**
 * The contract every transport keeps, whatever it speaks: its state, its status, its events, and the
 * encoder it sends telemetry with. The CLI, the runtime and applications use transports through it
 * only (see `registry.ts`), so another transport or another encoding fits without edits elsewhere.
 */
import type { Sample } from '../core/sample.js';
import type { Device } from '../device/device.js';
import type { MqttStatus } from './mqtt/transport-status.js';

/**
 * A transport's connection state, one union (no flags): not started, connecting, connected, waiting
 * to reconnect after a loss, or stopped for good.
 *
 * @example
 * ```ts
 * const up = (state: TransportState) => state === 'connected'
 * ```
 */
export type TransportState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/**
 * What `status()` reports, e.g. for the live table's footer: the figures every transport has, and
 * the details of one kind of transport in a part of its own.
 *
 * @example
 * ```ts
 * const s = transport.status()
 * console.log(`${s.state} · pending ${s.pendingRecords} · dropped ${s.droppedRecords}${s.mqtt?.protocol === 4 ? ' · MQTT 3.1.1' : ''}`)
 * ```
 */
export interface TransportStatus {
  readonly state: TransportState;
  /** Telemetry records stored and not yet acknowledged. */
  readonly pendingRecords: number;
  /** Records dropped (oldest first) because the store was full. */
  readonly droppedRecords: number;
  /** Telemetry messages sent and acknowledged since start. */
  readonly published: number;
  readonly acknowledged: number;
  /**
   * Batches that could not be encoded or stored, and stored records the transport cannot read: their
   * delivery is not assured. The count errs on the safe side.
   */
  readonly lost: number;
  /** MQTT's own figures (protocol level, commands, settings and events); only from an MQTT transport. */
  readonly mqtt?: MqttStatus;
}

/**
 * Events of every transport.
 *
 * @example
 * ```ts
 * transport.on('error', (error) => console.warn(error.message))
 * ```
 */
export interface TransportEvents {
  state: [state: TransportState];
  /** A problem the transport recovers from (a refused connection, a refused message, a disk error). */
  error: [error: Error];
}

/**
 * What every transport offers to the CLI, the runtime and applications.
 *
 * @example
 * ```ts
 * const transport: Transport = createTransport('mqtt://127.0.0.1:1883', { deviceId, clock, outbox, encoder: new SenmlCborEncoder() })
 * const detach = transport.attach(device)
 * await transport.start()
 * ```
 */
export interface Transport {
  readonly url: string;
  readonly state: TransportState;
  /** Sends the device's reports and serves its commands; returns a function that detaches. */
  attach(device: Device): () => void;
  start(): Promise<void>;
  /** Flushes within `flushMs` what can be flushed, then disconnects. */
  stop(options?: { flushMs?: number }): Promise<void>;
  status(): TransportStatus;
  /** Listens to `state` changes and recoverable `error`s; returns a function that stops listening. */
  on<K extends keyof TransportEvents>(event: K, listener: (...args: TransportEvents[K]) => void): () => void;
}

/**
 * Encodes a batch of samples of one device, and says what it produced: the transport labels the
 * payload with `contentType` (MQTT 5 content type, the Thing Description's forms).
 *
 * @example
 * ```ts
 * const encoder: TelemetryEncoder = new SenmlCborEncoder() // contentType 'application/senml+cbor'
 * const payload = encoder.encode('env-node-EMU-1', samples)
 * ```
 */
export interface TelemetryEncoder {
  /** The media type of what `encode` returns, e.g. `application/senml+cbor` (RFC 8428 §12.3). */
  readonly contentType: string;
  encode(deviceId: string, samples: readonly Sample[]): Uint8Array;
}
