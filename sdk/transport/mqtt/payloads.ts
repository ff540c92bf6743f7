/**
 * Payloads the transport writes besides telemetry: the retained `status` (a JSON object, content
 * type `application/json`, like the rest of the control plane the Thing Description announces),
 * command replies (in the request's format: JSON, or CBOR for a CBOR request), the retained current
 * value of each setting on `property/<id>` and each alarm transition on `event/<alarm>`. Their CDDL
 * (RFC 8610; it describes JSON as well as CBOR, RFC 8610 Appendix E; `sensorkit model --format cddl`
 * narrows it to one model):
 *
 * ```cddl
 * status = {
 *   state: "online" / "offline",  ; "offline" is the last will (MQTT 5 §3.1.2.5) or a clean stop
 *   dropped: uint,                ; outbox records dropped (oldest first, outbox full) so far
 *   pending: uint,                ; outbox records not yet acknowledged when this was written
 *   protocol: 4 / 5,              ; MQTT protocol level of the connection (3.1.1 = 4)
 *   time: number,                 ; when this was written: seconds since the Unix epoch
 * }
 * command-result = { ok: true, ? result: any } / { ok: false, error: { code: tstr, message: tstr, ? reason: tstr } }
 * property-value = number / bool / tstr   ; a bare JSON value, as written on property/<id>/set
 * alarm-event = {
 *   alarm: tstr, channel: tstr, state: "active" / "cleared",
 *   value: number, limit: number, severity: 1..1000, message: tstr,
 *   time: number,                 ; time of the sample: seconds since the Unix epoch
 * }
 * ```
 * The will is fixed at CONNECT, so an `offline` will carries the counters of connect time.
 */
import { Encoder } from 'cbor-x';
import { ALARM_EVENT_FIELDS } from '../../encoding/wot.js';
import type { AlarmEvent } from '../../pipeline/alarms.js';

/** Content types (MQTT 5 §3.3.2.3.9). */
export const CBOR = 'application/cbor';
export const JSON_TYPE = 'application/json';

/** The `status` message. */
export interface StatusMessage {
  readonly state: 'online' | 'offline';
  readonly dropped: number;
  readonly pending: number;
  readonly protocol: 4 | 5;
  /** Seconds since the Unix epoch. */
  readonly time: number;
}

/** A command's outcome as sent on `cmd/<command>/result`. */
export type CommandResult =
  | { readonly ok: true; readonly result?: unknown }
  /** `reason`: why a signed-request check refused it (`unsigned`, `wrong-role`, …), with code `ERR_REFUSED`. */
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string; readonly reason?: string } };

/**
 * Encodes status and reply payloads with one cbor-x instance per transport (no module state).
 *
 * @example
 * ```ts
 * const payloads = new PayloadWriter()
 * payloads.status({ state: 'online', dropped: 0, pending: 0, protocol: 5, time: 1767225600 }) // {"state":"online",…}
 * ```
 */
export class PayloadWriter {
  readonly #cbor = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false });

  /** The JSON `status` payload. */
  status(message: StatusMessage): Uint8Array {
    const { state, dropped, pending, protocol, time } = message;
    return new TextEncoder().encode(JSON.stringify({ state, dropped, pending, protocol, time }));
  }

  /** The JSON value of a setting, for its retained `property/<id>` topic. */
  property(value: number | boolean | string): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(value));
  }

  /**
   * The JSON object of an alarm transition, for `event/<alarm>`: the fields the Thing Description
   * announces ({@link ALARM_EVENT_FIELDS}), in that order, with the time in seconds.
   */
  alarm(event: AlarmEvent): Uint8Array {
    const fields = ALARM_EVENT_FIELDS.map((field) => [field, field === 'time' ? event.time / 1000 : event[field]] as const);
    return new TextEncoder().encode(JSON.stringify(Object.fromEntries(fields)));
  }

  /**
   * A command reply in the request's format. A result that cannot be encoded (a function, a cycle)
   * becomes an error reply instead of an exception.
   */
  reply(result: CommandResult, format: 'cbor' | 'json'): Uint8Array {
    try {
      return format === 'json' ? new TextEncoder().encode(JSON.stringify(result)) : this.#cbor.encode(result);
    } catch {
      const fallback: CommandResult = { ok: false, error: { code: 'ERR_COMMAND', message: 'the command result cannot be encoded' } };
      return format === 'json' ? new TextEncoder().encode(JSON.stringify(fallback)) : this.#cbor.encode(fallback);
    }
  }
}
