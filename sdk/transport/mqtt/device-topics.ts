/**
 * Serves the settings and alarms that the Thing Description (`wot.ts`) and the CDDL (`cddl.ts`)
 * announce:
 *
 * - `property/<id>`: the current value of each setting as JSON, retained (MQTT 5 §3.3.1.3), so a
 *   late subscriber reads it at once; published at every connect and at every change.
 * - `property/<id>/set`: a write request, a bare JSON value, applied through `device.writeProperty`
 *   (which checks type, range and writability). Neither the TD nor the CDDL announce a reply, so a
 *   refused request (malformed JSON, unknown or read-only setting, a value the model refuses) is
 *   ignored and counted in `rejected`; the retained value then still says what is in force. Each
 *   request first spends a token of a bucket (as commands do): a flood of writes costs a counter
 *   increment each beyond it (`ignored`), not a decode, a write and a retained republish each.
 * - With a `guard` (signed requests, see request-guard.ts), a write must be a COSE_Sign1 by a
 *   trusted operator whose role suffices (default engineer): a refused one is answered on
 *   `property/<id>/set/result` (`{ ok: false, error: { code: 'ERR_REFUSED', reason, message } }`),
 *   recorded in the audit sink and never applied; a granted one is answered there too.
 * - `event/<alarm>`: each alarm transition as JSON, QoS 1, not retained: an event happened once.
 *   Each goes through `storeEvent` (the transport's durable outbox, beside the telemetry), so a
 *   transition during a broker outage or before a restart is published once connected, in order,
 *   with the time of its sample; one that cannot be stored (a disk error) is counted in `eventsDropped`.
 */
import { SystemClock, type Clock } from '../../core/clock.js';
import { ArgumentError, ValidationError } from '../../core/errors.js';
import type { Device } from '../../device/device.js';
import type { DeviceTopics } from '../../encoding/topics.js';
import type { CommandReply } from './command-server.js';
import { JSON_TYPE, type CommandResult, type PayloadWriter } from './payloads.js';
import type { RequestGuard } from './request-guard.js';
import { TokenBucket } from './token-bucket.js';

/** What the server needs of a device: a `Device` satisfies it. */
export type PropertyEventDevice = Pick<Device, 'model' | 'readProperty' | 'writeProperty' | 'on'>;

/** A JSON message to publish at QoS 1. */
export interface DeviceTopicMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly retain: boolean;
}

/** Counters of {@link PropertyEventServer}. */
export interface PropertyEventStats {
  /** Alarm transitions stored for `event/<alarm>` (published from the outbox once connected). */
  readonly events: number;
  /** Alarm transitions that could not be stored (a disk error): lost. */
  readonly eventsDropped: number;
  /** Write requests received on `property/+/set`. */
  readonly writes: number;
  /** Write requests applied to the device. */
  readonly applied: number;
  /** Write requests refused: malformed, too large, unknown or read-only setting, or a refused value. */
  readonly rejected: number;
  /** Write requests dropped unread by the rate limit. */
  readonly ignored: number;
}

/** Limits of setting writes; every field has a default. */
export interface SettingLimits {
  /** Largest write request accepted, bytes. Default 1024. */
  readonly maxBytes?: number;
  /** Write requests read per second, sustained. Default 50. */
  readonly writesPerSecond?: number;
  /** Write requests read in a burst. Default 100. */
  readonly writeBurst?: number;
}

/** Options of {@link PropertyEventServer}. */
export interface PropertyEventServerOptions {
  readonly device: PropertyEventDevice;
  readonly topics: DeviceTopics;
  readonly writer: PayloadWriter;
  /** Publishes one message; returns false when there is no connection to publish on. */
  readonly publish: (message: DeviceTopicMessage) => boolean;
  /** Stores an alarm event durably for publishing on `event/<alarm>`; rejects when it cannot. */
  readonly storeEvent: (alarm: string, payload: Uint8Array) => Promise<unknown>;
  /** Clock of the rate limit. Default: the system clock. */
  readonly clock?: Clock;
  /** Size and rate limits of write requests. */
  readonly limits?: SettingLimits;
  /** The signed-request check; without it every well-formed write is applied (development). */
  readonly guard?: RequestGuard;
  /** Publishes the reply to a signed (or refused) write, on `property/<id>/set/result`. */
  readonly reply?: (reply: CommandReply) => void;
}

/** MQTT 5 properties of a write request that a reply uses. */
export interface WriteRequestProperties {
  readonly contentType?: string;
  readonly correlationData?: Uint8Array;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * @example
 * ```ts
 * const server = new PropertyEventServer({ device, topics: topics(deviceId), writer, publish, storeEvent })
 * await client.subscribeAsync(server.filters, { qos: 1 })
 * for (const message of server.retained()) publish(message) // at every connect
 * client.on('message', (topic, payload) => server.handles(topic) && server.handle(topic, payload))
 * ```
 */
export class PropertyEventServer {
  readonly #device: PropertyEventDevice;
  readonly #topics: DeviceTopics;
  readonly #writer: PayloadWriter;
  readonly #publish: (message: DeviceTopicMessage) => boolean;
  readonly #maxBytes: number;
  readonly #prefix: string;
  readonly #off: (() => void)[];
  readonly #bucket: TokenBucket;
  readonly #guard: RequestGuard | undefined;
  readonly #reply: (reply: CommandReply) => void;
  #events = 0;
  #eventsDropped = 0;
  #writes = 0;
  #applied = 0;
  #rejected = 0;
  #ignored = 0;

  constructor(options: PropertyEventServerOptions) {
    this.#device = options.device;
    this.#topics = options.topics;
    this.#writer = options.writer;
    this.#publish = options.publish;
    const limits = options.limits ?? {};
    this.#maxBytes = limits.maxBytes ?? 1024;
    if (!(Number.isInteger(this.#maxBytes) && this.#maxBytes >= 1)) {
      throw new ArgumentError(`Expected \`settings.maxBytes\` to be an integer from 1 and up, got ${String(limits.maxBytes)}`);
    }
    this.#bucket = new TokenBucket({ clock: options.clock ?? new SystemClock(), ratePerSecond: limits.writesPerSecond ?? 50, burst: limits.writeBurst ?? 100 });
    this.#prefix = `${options.topics.root}/property/`;
    this.#guard = options.guard;
    this.#reply = options.reply ?? (() => undefined);
    this.#off = [
      options.device.on('property', (id, value) => void this.#publish(this.#propertyMessage(id, value))),
      options.device.on('alarm', (event) => {
        options.storeEvent(event.alarm, this.#writer.alarm(event)).then(
          () => this.#events++,
          () => this.#eventsDropped++,
        );
      }),
    ];
  }

  /** Topic filters to subscribe: `property/+/set` when the model has a writable setting. */
  get filters(): string[] {
    return this.#device.model.properties.some((setting) => setting.writable !== false) ? [this.#topics.propertySetWildcard] : [];
  }

  /** The retained current value of every setting, to publish at each connect. */
  retained(): DeviceTopicMessage[] {
    return this.#device.model.properties.map((setting) => this.#propertyMessage(setting.id, this.#device.readProperty(setting.id)));
  }

  /** Whether `topic` is a write request, `…/property/<id>/set`. */
  handles(topic: string): boolean {
    return this.#settingOf(topic) !== undefined;
  }

  /**
   * Applies one write request; never throws. A valid value reaches the device, whose `property`
   * event republishes the retained value.
   */
  handle(topic: string, payload: Uint8Array, properties: WriteRequestProperties = {}): void {
    this.#writes++;
    if (!this.#bucket.take()) {
      this.#ignored++;
      return;
    }
    const id = this.#settingOf(topic);
    // An unsigned write let through (development) is recorded with its outcome, as `unsigned`.
    let unsigned: { readonly kind: 'setting'; readonly id: string } | undefined;
    if (this.#guard !== undefined && id !== undefined) {
      const action = { kind: 'setting', id } as const;
      const outcome = this.#guard.check(payload, properties.contentType, action, this.#maxBytes);
      if (outcome.kind === 'unsigned') unsigned = action;
      if (outcome.kind === 'ignored') {
        this.#ignored++;
        return;
      }
      const answer = (result: CommandResult): void => this.#answer(id, result, properties);
      if (outcome.kind === 'refused') {
        this.#rejected++;
        return answer({ ok: false, error: { code: 'ERR_REFUSED', reason: outcome.reason, message: `${outcome.reason}: ${outcome.message}` } });
      }
      if (outcome.kind === 'granted') {
        try {
          this.#device.writeProperty(id, outcome.args.value);
          this.#applied++;
          this.#guard.done(action, outcome.operator, 'success', { value: outcome.args.value });
          answer({ ok: true });
        } catch (error) {
          this.#rejected++;
          // A ValidationError is about the value (unknown, read-only, out of range) and is told as it is.
          const message = error instanceof ValidationError ? error.message : 'the setting could not be written';
          this.#guard.done(action, outcome.operator, 'failure', { value: outcome.args.value, message });
          answer({ ok: false, error: { code: 'ERR_VALIDATION', message } });
        }
        return;
      }
    }
    const value = id === undefined || payload.byteLength > this.#maxBytes ? undefined : parseValue(payload);
    if (id === undefined || value === undefined) {
      this.#rejected++;
      if (unsigned) this.#guard!.unsigned(unsigned, 'failure', { message: payload.byteLength > this.#maxBytes ? `above the limit of ${this.#maxBytes} bytes` : 'not a value' });
      return;
    }
    try {
      this.#device.writeProperty(id, value);
      this.#applied++;
      if (unsigned) this.#guard!.unsigned(unsigned, 'success', { value });
    } catch (error) {
      this.#rejected++; // ValidationError: unknown, read-only or out of range; no reply is announced
      if (unsigned) this.#guard!.unsigned(unsigned, 'failure', { value, message: error instanceof ValidationError ? error.message : 'the setting could not be written' });
    }
  }

  /** Counters so far. */
  stats(): PropertyEventStats {
    return { events: this.#events, eventsDropped: this.#eventsDropped, writes: this.#writes, applied: this.#applied, rejected: this.#rejected, ignored: this.#ignored };
  }

  /** Stops listening to the device. */
  detach(): void {
    for (const off of this.#off) off();
  }

  #answer(id: string, result: CommandResult, properties: WriteRequestProperties): void {
    try {
      this.#reply({
        topic: `${this.#prefix}${id}/set/result`,
        payload: this.#writer.reply(result, 'json'),
        contentType: JSON_TYPE,
        ...(properties.correlationData === undefined ? {} : { correlationData: properties.correlationData }),
      });
    } catch {
      // No connection to reply on: the requester times out.
    }
  }

  #propertyMessage(id: string, value: number | boolean | string): DeviceTopicMessage {
    return { topic: this.#topics.property(id), payload: this.#writer.property(value), retain: true };
  }

  #settingOf(topic: string): string | undefined {
    if (!topic.startsWith(this.#prefix) || !topic.endsWith('/set')) return undefined;
    const id = topic.slice(this.#prefix.length, -'/set'.length);
    return id === '' || id.includes('/') ? undefined : id;
  }
}

/** A JSON scalar (RFC 8259) — what a setting can hold — or undefined for anything else. */
function parseValue(payload: Uint8Array): number | boolean | string | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(payload));
    return typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
