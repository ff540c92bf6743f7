/**
 * What the transport stores in the durable outbox: telemetry batches and alarm events share one
 * queue, so that both survive a broker outage or a restart and go out in the order they happened.
 *
 * A record's first byte tells its kind:
 * - `0x80`–`0x9b`: a telemetry batch, stored as the SenML-CBOR pack itself (a pack is a CBOR array,
 *   major type 4, RFC 8428 §6 and RFC 8949 §3.1). Records written before events were queued are
 *   exactly this, so an existing outbox drains unchanged.
 * - `0x01`: an alarm event: `0x01`, the alarm id's length in bytes (u8), the alarm id (UTF-8), then
 *   the JSON event exactly as published on `event/<alarm>` (it carries the sample's time, so a late
 *   publish keeps the original timestamp).
 *
 * Anything else is not ours (e.g. written by a later version): the transport skips it, counted.
 */

/** The kind byte of an alarm event record. */
export const EVENT_RECORD = 0x01;

/** A stored record, decoded. Payloads are views into the record, not copies. */
export type OutboxRecord =
  | { readonly kind: 'telemetry'; readonly payload: Uint8Array }
  | { readonly kind: 'event'; readonly alarm: string; readonly payload: Uint8Array }
  | { readonly kind: 'unknown' };

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The record of an alarm event.
 *
 * @example
 * ```ts
 * outbox.append(eventRecord('v0-high', writer.alarm(event)))
 * ```
 * @throws RangeError when the alarm id is longer than 255 bytes (ids are short identifiers).
 */
export function eventRecord(alarm: string, json: Uint8Array): Uint8Array {
  const id = utf8.encode(alarm);
  if (id.length > 255) throw new RangeError(`Expected an alarm id of at most 255 bytes, got ${id.length}`);
  const record = new Uint8Array(2 + id.length + json.length);
  record[0] = EVENT_RECORD;
  record[1] = id.length;
  record.set(id, 2);
  record.set(json, 2 + id.length);
  return record;
}

/**
 * Decodes a stored record; never throws.
 *
 * @example
 * ```ts
 * const record = decodeRecord(entry.payload)
 * if (record.kind === 'event') publish(topics.event(record.alarm), record.payload)
 * ```
 */
export function decodeRecord(bytes: Uint8Array): OutboxRecord {
  const first = bytes[0];
  if (first !== undefined && first >= 0x80 && first <= 0x9b) return { kind: 'telemetry', payload: bytes };
  if (first === EVENT_RECORD && bytes.length >= 2) {
    const end = 2 + bytes[1]!;
    if (end <= bytes.length) {
      try {
        return { kind: 'event', alarm: fromUtf8.decode(bytes.subarray(2, end)), payload: bytes.subarray(end) };
      } catch {
        // not UTF-8: not ours
      }
    }
  }
  return { kind: 'unknown' };
}
