/**
 * What the transport stores in the durable outbox: telemetry batches and alarm events share one
 * queue, so that both survive a broker outage or a restart and go out in the order they happened.
 *
 * A record's first byte tells its kind:
 * - `0x80`–`0x9b`: a SenML-CBOR telemetry batch (`application/senml+cbor`), stored as the pack
 *   itself (a pack is a CBOR array, major type 4, RFC 8428 §6 and RFC 8949 §3.1). Records written
 *   before events were queued are exactly this, so an existing outbox drains unchanged.
 * - `0x01`: an alarm event: `0x01`, the alarm id's length in bytes (u8), the alarm id (UTF-8), then
 *   the JSON event exactly as published on `event/<alarm>` (it carries the sample's time, so a late
 *   publish keeps the original timestamp).
 * - `0x02`: a telemetry batch of another encoding: `0x02`, its content type's length in bytes (u8),
 *   the content type (ASCII, RFC 6838 §4.2), then the payload. The content type travels with the
 *   record, so a record written before a restart with another encoder goes out labelled as written.
 *
 * Anything else is not ours (e.g. written by a later version): the transport skips it, counted.
 */
import { ArgumentError } from '../../core/errors.js';
import { SENML_CBOR_TYPE } from '../../encoding/senml.js';

/** The kind byte of an alarm event record. */
export const EVENT_RECORD = 0x01;
/** The kind byte of a telemetry record with its content type. */
export const TYPED_TELEMETRY_RECORD = 0x02;

/** A stored record, decoded. Payloads are views into the record, not copies. */
export type OutboxRecord =
  | { readonly kind: 'telemetry'; readonly contentType: string; readonly payload: Uint8Array }
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
 * @throws ArgumentError when the alarm id is longer than 255 bytes (ids are short identifiers).
 */
export function eventRecord(alarm: string, json: Uint8Array): Uint8Array {
  const id = utf8.encode(alarm);
  if (id.length > 255) throw new ArgumentError(`Expected \`alarm\` to be at most 255 bytes in UTF-8, got ${id.length}`);
  const record = new Uint8Array(2 + id.length + json.length);
  record[0] = EVENT_RECORD;
  record[1] = id.length;
  record.set(id, 2);
  record.set(json, 2 + id.length);
  return record;
}

/**
 * The record of a telemetry batch: a SenML-CBOR pack as it is (no copy), any other payload with
 * its content type.
 *
 * @example
 * ```ts
 * outbox.append(telemetryRecord(encoder.contentType, encoder.encode(deviceId, batch)))
 * ```
 * @throws ArgumentError when the content type is not 1 to 255 ASCII characters.
 */
export function telemetryRecord(contentType: string, payload: Uint8Array): Uint8Array {
  const first = payload[0];
  if (contentType === SENML_CBOR_TYPE && first !== undefined && first >= 0x80 && first <= 0x9b) return payload;
  if (!/^[\x21-\x7e]{1,255}$/.test(contentType)) throw new ArgumentError(`Expected \`contentType\` to be 1 to 255 printable ASCII characters, got ${JSON.stringify(contentType)}`);
  const record = new Uint8Array(2 + contentType.length + payload.length);
  record[0] = TYPED_TELEMETRY_RECORD;
  record[1] = contentType.length;
  for (let i = 0; i < contentType.length; i++) record[2 + i] = contentType.charCodeAt(i);
  record.set(payload, 2 + contentType.length);
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
  if (first !== undefined && first >= 0x80 && first <= 0x9b) return { kind: 'telemetry', contentType: SENML_CBOR_TYPE, payload: bytes };
  if (first === TYPED_TELEMETRY_RECORD && bytes.length >= 2) {
    const end = 2 + bytes[1]!;
    if (bytes[1]! > 0 && end <= bytes.length) return { kind: 'telemetry', contentType: String.fromCharCode(...bytes.subarray(2, end)), payload: bytes.subarray(end) };
  }
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
