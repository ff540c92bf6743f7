/**
 * What the MQTT transport needs from its collaborators, as structural types: the durable outbox
 * (`sdk/transport/outbox`) satisfies them, and any `TelemetryEncoder` (`../transport.ts`; the
 * SenML-CBOR and SenML-JSON encoders in `sdk/encoding`) encodes; the transport depends on nothing
 * else of theirs.
 */
/** One record of the outbox: an encoded telemetry batch and its sequence number. */
export interface OutboxEntry {
  /** Strictly increasing per outbox; travels as the `sensorkit-seq` user property. */
  readonly seq: number;
  readonly payload: Uint8Array;
  /** When it was appended, ms since the epoch. */
  readonly appendedAt: number;
}

/** The outbox operations the transport uses (see `DurableOutbox`). */
export interface TelemetryOutbox {
  /**
   * Stores a payload durably; resolves with its record once stored (per the fsync policy).
   * Appends that are carried out settle in call order (one refused at once, e.g. too large, may
   * settle before earlier ones). `written` must be told each record once it may be published
   * (at the latest when its promise resolves; `DurableOutbox` tells it once the record is written,
   * before any fdatasync), in seq order. From then on `pending()` includes it until it is
   * acknowledged or its append rejects: `OutboxDrain.reload` rebuilds the send queue from
   * `pending()` after a reconnect, and a record told before would otherwise not be sent again.
   */
  append(payload: Uint8Array, written: (entry: OutboxEntry) => void): Promise<OutboxEntry>;
  /** The oldest records not yet acknowledged, in seq order (all of them without `limit`). */
  pending(limit?: number): readonly OutboxEntry[] | Promise<readonly OutboxEntry[]>;
  /** Removes a record once the broker acknowledged it (PUBACK). */
  ack(seq: number): Promise<void>;
  /** Counters; `droppedRecords` counts records dropped (oldest first) when the outbox was full. */
  stats(): { readonly pendingRecords: number; readonly pendingBytes: number; readonly droppedRecords: number; readonly droppedBytes: number };
}

export type { TelemetryEncoder } from '../transport.js';
