/**
 * Options of the MQTT transport, their defaults and their checks (a precise `ArgumentError` or
 * `ValidationError` at construction, never a surprise at the first reconnect).
 */
import type { IClientOptions } from 'mqtt';
import type { Clock } from '../../core/clock.js';
import { ArgumentError, ValidationError } from '../../core/errors.js';
import type { SeededRandom } from '../../core/random.js';
import type { BackoffOptions } from './backoff.js';
import type { AuditSink } from '../../../security/audit/event.js';
import type { CommandLimits } from './command-server.js';
import type { SignedRequestOptions } from './request-guard.js';
import type { SettingLimits } from './device-topics.js';
import { JSON_TYPE } from './payloads.js';
import { redactCredentials } from './credentials.js';
import type { TelemetryEncoder, TelemetryOutbox } from './contracts.js';
import type { BatchOptions } from './telemetry-batcher.js';

/** TLS material for `mqtts://` (PEM text or bytes). */
export interface MqttTlsOptions {
  /** Trust anchors for the broker's certificate; default: Node's bundled CAs. */
  readonly ca?: string | Uint8Array;
  /** Client certificate, for mutual TLS. */
  readonly cert?: string | Uint8Array;
  /** Private key of `cert`. */
  readonly key?: string | Uint8Array;
  /** Server name to send (SNI) and to check the certificate against; default: the URL's host. */
  readonly servername?: string;
  /** Reject a broker certificate that does not verify. Default true; turn off only in a lab. */
  readonly rejectUnauthorized?: boolean;
}

/** Options of {@link MqttTransport}. */
export interface MqttTransportOptions {
  /**
   * `mqtt://host[:port]` or `mqtts://host[:port]` (default ports 1883 and 8883). A
   * `user:password@` in it is used to connect and never shown; `username` and `password` win.
   */
  readonly url: string;
  /** The device id (`deviceIdFor(model, serial)`): names the topics and the SenML base name. */
  readonly deviceId: string;
  /** Clock of batching, back-off and rate limits. */
  readonly clock: Clock;
  /** Where every telemetry batch is stored before it is published. */
  readonly outbox: TelemetryOutbox;
  /** Encodes batches (SenML-CBOR). */
  readonly encoder: TelemetryEncoder;
  readonly tls?: MqttTlsOptions;
  readonly username?: string;
  readonly password?: string;
  /** Default `sensorkit-<deviceId>`. */
  readonly clientId?: string;
  /** Batch bounds; default 100 samples or 1000 ms. */
  readonly batch?: BatchOptions;
  /** Reconnect back-off; default 500 ms doubling to 30 s, jitter 0.5. */
  readonly reconnect?: BackoffOptions;
  /** Source of the back-off jitter (seed it in tests). Default: seeded from the clock. */
  readonly random?: SeededRandom;
  /** MQTT 5 Message Expiry Interval of telemetry, s (§3.3.2.3.3). Default 3600. */
  readonly messageExpirySeconds?: number;
  /** Telemetry publishes awaiting PUBACK at most (fewer if the broker's Receive Maximum is lower). Default 100. */
  readonly maxInflight?: number;
  /** Limits of command handling. */
  readonly commands?: CommandLimits;
  /** Limits of setting writes (`property/<id>/set`). */
  readonly settings?: SettingLimits;
  /**
   * Signed requests (COSE_Sign1 by trusted operator keys with roles; see request-guard.ts): with
   * `required` (the production profile) every `cmd/<command>` and `property/<id>/set` must be one.
   * Default: none, every well-formed request runs (development).
   */
  readonly signedRequests?: SignedRequestOptions;
  /** Where refused requests and signed actions are recorded (an `AuditLog`). */
  readonly audit?: AuditSink;
  /** Keep-alive, s (MQTT 5 §3.1.2.10). Default 30. */
  readonly keepaliveSeconds?: number;
  /** Give up a connection attempt after this long, ms. Default 10 000. */
  readonly connectTimeoutMs?: number;
}

/** Parses and checks the broker URL; throws `ValidationError` naming `url`. */
export function parseBrokerUrl(url: string): URL {
  // Errors echo the URL with its password replaced: error lines end up in logs.
  const shown = redactCredentials(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError('url', `"${shown}" is not a URL; expected mqtt://host[:port] or mqtts://host[:port]`);
  }
  if (parsed.protocol !== 'mqtt:' && parsed.protocol !== 'mqtts:') {
    throw new ValidationError('url', `unsupported scheme "${parsed.protocol}" in "${shown}"; expected mqtt: or mqtts:`);
  }
  if (parsed.hostname === '') throw new ValidationError('url', `"${shown}" has no host`);
  return parsed;
}

/** Checks a positive number option. */
export function positive(name: string, value: number | undefined, fallback: number, integer = false): number {
  const resolved = value ?? fallback;
  if (!(Number.isFinite(resolved) && resolved > 0 && (!integer || Number.isInteger(resolved)))) {
    throw new ArgumentError(`Expected \`${name}\` to be ${integer ? 'an integer' : 'a number'} above 0, got ${String(value)}`);
  }
  return resolved;
}

/** The mqtt.js (node:tls) connect options of {@link MqttTlsOptions}; certificates are always verified unless told otherwise. */
export function tlsOptions(tls: MqttTlsOptions): Partial<IClientOptions> {
  const pem = (value: string | Uint8Array): string | Buffer => (typeof value === 'string' ? value : Buffer.from(value));
  return {
    ...(tls.ca === undefined ? {} : { ca: pem(tls.ca) }),
    ...(tls.cert === undefined ? {} : { cert: pem(tls.cert) }),
    ...(tls.key === undefined ? {} : { key: pem(tls.key) }),
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
  };
}

const noop = (): void => undefined;

/**
 * Room for what comes with a request's payload, bytes: the fixed header, the topic name (the
 * device's own topics are well under 256 bytes) and MQTT 5 properties (a Response Topic,
 * Correlation Data, a Content Type, a few User Properties).
 */
const PACKET_OVERHEAD_BYTES = 8192;

/**
 * The largest packet the device accepts from the broker, bytes: the largest request it would
 * read (a command, `commands.maxBytes`, default 4096; a setting, `settings.maxBytes`, default 1024) plus room for its topic
 * and properties. Declared at CONNECT (MQTT 5 §3.1.2.11.4) and enforced on the socket.
 *
 * @example
 * ```ts
 * maxIncomingPacketBytes({ commands: { maxBytes: 4096 } }) // 12288
 * ```
 */
export function maxIncomingPacketBytes(options: Pick<MqttTransportOptions, 'commands' | 'settings'>): number {
  return Math.max(options.commands?.maxBytes ?? 4096, options.settings?.maxBytes ?? 1024) + PACKET_OVERHEAD_BYTES;
}

/**
 * The mqtt.js options of one connection: a clean start, no reconnect of mqtt.js's own (the
 * transport has its back-off), the retained `will`, the Maximum Packet Size (MQTT 5), credentials
 * and TLS.
 *
 * @example
 * ```ts
 * mqtt.connect(options.url, { ...mqttClientOptions(options, 5, { topic: topics.status, payload }), manualConnect: true })
 * ```
 */
export function mqttClientOptions(options: MqttTransportOptions, protocol: 4 | 5, will: { readonly topic: string; readonly payload: Uint8Array }): IClientOptions {
  return {
    protocolVersion: protocol,
    clientId: options.clientId ?? `sensorkit-${options.deviceId}`,
    clean: true,
    reconnectPeriod: 0,
    keepalive: options.keepaliveSeconds ?? 30,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    resubscribe: false,
    // mqtt.js logs through `debug` about 15 times per PUBLISH and PUBACK; even switched off, each
    // call builds its argument list. A no-op logger, unless DEBUG is set to read those logs.
    ...(process.env.DEBUG ? {} : { log: noop }),
    // mqtt-packet's cache of all 65,536 two-byte packet ids is 6 MB of heap; a device publishing a
    // few messages a second does not need it (see test/bench/memory.bench.ts).
    writeCache: false,
    // MQTT 5 §3.1.3.2: the will, retained, so that a new subscriber learns the device is gone.
    will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true, ...(protocol === 5 ? { properties: { contentType: JSON_TYPE } } : {}) },
    // MQTT 5 §3.1.2.11.4: the broker sends no packet above this size (it discards it for us).
    ...(protocol === 5 ? { properties: { maximumPacketSize: maxIncomingPacketBytes(options) } } : {}),
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.tls ? tlsOptions(options.tls) : {}),
  };
}
