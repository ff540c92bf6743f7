/**
 * A W3C WoT Thing Description 1.1 (https://www.w3.org/TR/wot-thing-description11/) of one device,
 * derived from its model: channels and configurable settings are properties, commands are actions,
 * alarms and the online status are events. Every affordance has forms for the sensorkit MQTT topics
 * (`topics.ts`), written with the vocabulary of the W3C WoT MQTT binding template (`mqv:` terms).
 *
 * The result validates against the TD 1.1 JSON Schema (test/unit/wot.test.ts checks every example).
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../core/errors.js';
import type { DeviceModel } from '../model/define-device.js';
import type { AlarmSpec, ChannelSpec, CommandSpec, PropertySpec, ValueSpec } from '../model/spec.js';
import { SENML_CBOR_TYPE } from './senml.js';
import { topics, type DeviceTopics } from './topics.js';

/** TD 1.1 §5.3.1.1: the context URI of TD 1.1. */
export const TD_CONTEXT = 'https://www.w3.org/2022/wot/td/v1.1';
/** Namespace of the WoT MQTT binding template vocabulary, bound to the `mqv` prefix. */
export const MQTT_BINDING_NAMESPACE = 'https://www.w3.org/2019/wot/mqtt#';
/** Broker of `sensorkit run`'s embedded broker when none is given. */
export const DEFAULT_BROKER_URL = 'mqtt://127.0.0.1:1883';
/** Content type of telemetry by default (RFC 8428 §12.3); see `telemetryContentType`. */
export const SENML_CBOR = SENML_CBOR_TYPE;
/** Content type of the control plane: status, command requests and replies, settings, events. */
export const JSON_CONTENT = 'application/json';
/** Commands also accept a CBOR map (RFC 8949) and then reply in CBOR. */
export const CBOR_CONTENT = 'application/cbor';

/** Security schemes a TD can announce (TD 1.1 §5.3.3). */
export type SecurityHint = 'nosec' | 'basic' | 'psk';

/** Options of {@link thingDescription}. */
export interface ThingDescriptionOptions {
  /** The device id (see `deviceIdFor`); names the topics and the Thing's URN. */
  readonly deviceId: string;
  /**
   * The broker, `mqtt://host[:port]` or `mqtts://host[:port]`; credentials in it never reach the TD.
   * Default {@link DEFAULT_BROKER_URL}.
   */
  readonly brokerUrl?: string;
  /**
   * What clients must present to the broker. Default `nosec`: right for the embedded development
   * broker on 127.0.0.1 only. Production brokers use TLS (`mqtts://`) plus `basic` (user name and
   * password in CONNECT) or `psk` (TLS-PSK, RFC 4279); mutual TLS has no TD 1.1 scheme and is
   * configured out of band.
   */
  readonly security?: SecurityHint;
  /** PSK identity announced with `security: 'psk'`. */
  readonly pskIdentity?: string;
  /** The device's serial number, announced as `schema:serialNumber`. */
  readonly serialNumber?: string;
  /** The media type of telemetry payloads: the transport's encoder's `contentType`. Default {@link SENML_CBOR}. */
  readonly telemetryContentType?: string;
}

/** A TD data schema (TD 1.1 §5.3.2.1), as far as sensorkit uses it. */
export interface DataSchema {
  readonly type?: 'number' | 'integer' | 'boolean' | 'string' | 'object' | 'array' | 'null';
  readonly title?: string;
  readonly description?: string;
  readonly unit?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly default?: unknown;
  readonly readOnly?: boolean;
  readonly properties?: Readonly<Record<string, DataSchema>>;
  readonly required?: readonly string[];
  readonly oneOf?: readonly DataSchema[];
}

/** A form (TD 1.1 §5.3.4.2) with MQTT binding terms. */
export interface MqttForm {
  readonly op: string;
  readonly href: string;
  readonly contentType: string;
  readonly 'mqv:controlPacket': 'publish' | 'subscribe' | 'unsubscribe';
  readonly 'mqv:topic'?: string;
  readonly 'mqv:filter'?: string;
  readonly 'mqv:qos'?: '0' | '1' | '2';
  readonly 'mqv:retain'?: boolean;
  readonly response?: { readonly contentType: string };
  readonly additionalResponses?: readonly { readonly success: boolean; readonly contentType: string; readonly schema: string }[];
}

/** An interaction affordance: a data schema (for properties) plus forms and the affordance's own terms. */
export type Affordance = DataSchema & {
  readonly forms: readonly MqttForm[];
  readonly observable?: boolean;
  readonly input?: DataSchema;
  readonly output?: DataSchema;
  readonly data?: DataSchema;
  readonly safe?: boolean;
  readonly idempotent?: boolean;
};

/** The Thing Description document (TD 1.1 §5.3.1.1), serialisable with `JSON.stringify`. */
export interface ThingDescription {
  readonly '@context': readonly [typeof TD_CONTEXT, Readonly<Record<string, string>>];
  readonly '@type': 'Thing';
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly version: { readonly instance: string };
  readonly support?: string;
  readonly securityDefinitions: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly security: readonly [string];
  readonly schemaDefinitions: Readonly<Record<string, DataSchema>>;
  readonly properties: Readonly<Record<string, Affordance>>;
  readonly actions: Readonly<Record<string, Affordance>>;
  readonly events: Readonly<Record<string, Affordance>>;
  readonly [term: `schema:${string}`]: unknown;
}

/**
 * The W3C WoT Thing Description 1.1 of one device.
 *
 * - `id` is a name-based UUID URN (RFC 9562 §5.5) of the device's topic root, stable across
 *   brokers and exports; the model carries no IANA enterprise number for an RFC 9039 `urn:dev:`.
 * - Properties: one per channel (read-only, observable; `unit` is the SenML unit, `minimum` and
 *   `maximum` the measuring range — a reading outside it arrives flagged `out_of_range`), observed
 *   on the telemetry topic, where its value is the `v` of the SenML record named
 *   `<deviceId>/<channel>`; one per configurable setting, read from its retained `property/<id>`
 *   topic and, when writable, written on `property/<id>/set`.
 * - Actions: one per command, invoked on `cmd/<id>`, replied to on `cmd/<id>/result`.
 * - Events: one per alarm on `event/<alarm id>`, and `status` (retained: online or offline, and the
 *   outbox counters).
 *
 * Throws `ValidationError` for a bad device id or broker URL, or when a setting has the id of a
 * channel (or an alarm is called `status`): a TD has one namespace per affordance kind.
 *
 * @example
 * ```ts
 * const td = thingDescription(model, { deviceId: deviceIdFor(model, 'EMU-1') })
 * td.properties.temperature?.unit          // 'Cel'
 * td.properties.temperature?.forms[0]?.href // 'mqtt://127.0.0.1:1883/sensorkit/v1/env-node-EMU-1/telemetry'
 * JSON.stringify(td, null, 2)             // what `sensorkit model --format wot` prints
 * ```
 */
export function thingDescription(model: DeviceModel, options: ThingDescriptionOptions): ThingDescription {
  const t = topics(options.deviceId);
  const mqtt = new MqttForms(brokerBase(options.brokerUrl ?? DEFAULT_BROKER_URL));
  const identity = model.identity;

  const properties: Record<string, Affordance> = {};
  for (const channel of model.channels) properties[channel.id] = channelProperty(channel, t, mqtt, options.telemetryContentType ?? SENML_CBOR);
  model.properties.forEach((setting, i) => {
    if (Object.hasOwn(properties, setting.id)) {
      throw new ValidationError(`properties[${i}].id`, `"${setting.id}" is also a channel id; a Thing Description has one namespace of properties`);
    }
    properties[setting.id] = settingProperty(setting, t, mqtt);
  });
  const actions: Record<string, Affordance> = {};
  for (const command of model.commands) actions[command.id] = commandAction(command, t, mqtt);
  const events: Record<string, Affordance> = { status: statusEvent(t, mqtt) };
  model.alarms.forEach((alarm, i) => {
    if (alarm.id === 'status') throw new ValidationError(`alarms[${i}].id`, '"status" is the name of the online-status event');
    events[alarm.id] = alarmEvent(alarm, model.channel(alarm.channel)!, t, mqtt);
  });

  const { name, scheme } = securityScheme(options);
  return {
    '@context': [TD_CONTEXT, { mqv: MQTT_BINDING_NAMESPACE, schema: 'https://schema.org/' }],
    '@type': 'Thing',
    id: `urn:uuid:${nameUuid(t.root)}`,
    title: identity.model,
    ...(model.spec.description === undefined ? {} : { description: model.spec.description }),
    // TD 1.1 VersionInfo: `instance` is the version of this Thing's software.
    version: { instance: identity.softwareRevision },
    ...(identity.manufacturerUri === undefined ? {} : { support: identity.manufacturerUri }),
    // Identification (cf. OPC UA DI) as schema.org Product terms: a TD 1.1 context extension.
    'schema:manufacturer': { 'schema:name': identity.manufacturer },
    'schema:productID': identity.productCode,
    ...(options.serialNumber === undefined ? {} : { 'schema:serialNumber': options.serialNumber }),
    securityDefinitions: { [name]: scheme },
    security: [name],
    schemaDefinitions: { commandError: COMMAND_ERROR },
    properties,
    actions,
    events,
  };
}

/** The `ok: false` reply to a command: bad arguments, an unknown command, or a failing handler. */
const COMMAND_ERROR: DataSchema = {
  type: 'object',
  properties: {
    ok: { type: 'boolean', const: false },
    error: {
      type: 'object',
      properties: { code: { type: 'string', description: 'sensorkit error code, e.g. ERR_VALIDATION' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['ok', 'error'],
};

function channelProperty(channel: ChannelSpec, t: DeviceTopics, mqtt: MqttForms, contentType: string): Affordance {
  return {
    title: channel.quantity,
    description: `${channel.description ?? channel.quantity}. Value of the SenML record "${t.deviceId}/${channel.id}" in the telemetry pack; ${channel.sampleRate} Hz, resolution ${channel.resolution} ${channel.unit}, maximum permissible error ±${channel.accuracy.mpe} ${channel.unit}.`,
    type: channel.dataType === 'integer' ? 'integer' : 'number',
    unit: channel.unit,
    minimum: channel.range.min,
    maximum: channel.range.max,
    readOnly: true,
    observable: true,
    forms: mqtt.observe(['observeproperty', 'unobserveproperty'], t.telemetry, contentType, false),
  };
}

function settingProperty(setting: PropertySpec, t: DeviceTopics, mqtt: MqttForms): Affordance {
  const writable = setting.writable !== false;
  const read = mqtt.observe(['readproperty', 'observeproperty', 'unobserveproperty'], t.property(setting.id), JSON_CONTENT, true);
  return {
    ...valueSchema(setting),
    default: setting.default,
    readOnly: !writable,
    observable: true,
    forms: writable ? [...read, mqtt.publish('writeproperty', t.propertySet(setting.id), false)] : read,
  };
}

function commandAction(command: CommandSpec, t: DeviceTopics, mqtt: MqttForms): Affordance {
  const args = command.arguments ?? [];
  const input: DataSchema = {
    type: 'object',
    properties: Object.fromEntries(args.map((argument) => [argument.name, valueSchema(argument)])),
    required: args.filter((argument) => argument.required !== false).map((argument) => argument.name),
  };
  const output: DataSchema = {
    type: 'object',
    properties: { ok: { type: 'boolean', const: true }, ...(command.result ? { result: valueSchema(command.result) } : {}) },
    required: ['ok'],
  };
  const invoke = (contentType: string): MqttForm => ({
    ...mqtt.publish('invokeaction', t.command(command.id), false, contentType),
    response: { contentType },
    additionalResponses: [{ success: false, contentType, schema: 'commandError' }],
  });
  return {
    ...(command.description === undefined ? {} : { title: command.description }),
    description: `${command.description ? `${command.description}. ` : ''}Publish the arguments as a JSON object or CBOR map on ${t.command(command.id)}; the reply (ok true with the result, or ok false with the error) arrives on ${t.commandResult(command.id)}, or on the MQTT 5 Response Topic of the request with its Correlation Data.`,
    input,
    output,
    safe: false,
    idempotent: false,
    // The device answers in the request's format: JSON, or CBOR (RFC 8949) for a CBOR map.
    forms: [invoke(JSON_CONTENT), invoke(CBOR_CONTENT)],
  };
}

function alarmEvent(alarm: AlarmSpec, channel: ChannelSpec, t: DeviceTopics, mqtt: MqttForms): Affordance {
  const limit = `${alarm.kind === 'high' ? 'above' : 'below'} ${alarm.limit} ${channel.unit}`;
  return {
    title: alarm.message ?? `${channel.id} ${limit}`,
    description: `Raised when ${channel.id} goes ${limit}, cleared once back past ${alarm.limit} ${alarm.kind === 'high' ? '−' : '+'} ${alarm.hysteresis ?? 0} ${channel.unit}; severity ${alarm.severity} of 1000.`,
    data: {
      type: 'object',
      properties: {
        alarm: { type: 'string', const: alarm.id },
        channel: { type: 'string', const: channel.id },
        state: { type: 'string', enum: ['active', 'cleared'] },
        value: { type: 'number', unit: channel.unit, description: 'The value that caused the transition' },
        limit: { type: 'number', unit: channel.unit, const: alarm.limit },
        severity: { type: 'integer', minimum: 1, maximum: 1000, const: alarm.severity },
        message: { type: 'string' },
        time: { type: 'number', unit: 's', description: 'Time of the sample, seconds since the Unix epoch' },
      },
      required: [...ALARM_EVENT_FIELDS],
    },
    forms: mqtt.observe(['subscribeevent', 'unsubscribeevent'], t.event(alarm.id), JSON_CONTENT, false),
  };
}

/** Fields of an alarm event's JSON object (the same in the CDDL export). */
export const ALARM_EVENT_FIELDS = ['alarm', 'channel', 'state', 'value', 'limit', 'severity', 'message', 'time'] as const;

function statusEvent(t: DeviceTopics, mqtt: MqttForms): Affordance {
  return {
    title: 'online status',
    description: 'Retained. "online" on connect; "offline" as the MQTT last will (with the counters of connect time) or on a clean stop.',
    data: {
      type: 'object',
      properties: {
        state: { type: 'string', enum: ['online', 'offline'] },
        dropped: { type: 'integer', minimum: 0, description: 'Telemetry records dropped so far (oldest first) because the outbox was full' },
        pending: { type: 'integer', minimum: 0, description: 'Telemetry records not yet acknowledged by the broker' },
        protocol: { type: 'integer', enum: [4, 5], description: 'MQTT protocol level of the connection (3.1.1 is 4)' },
        time: { type: 'number', unit: 's', description: 'When this was written, seconds since the Unix epoch' },
      },
      required: [...STATUS_FIELDS],
    },
    forms: mqtt.observe(['subscribeevent', 'unsubscribeevent'], t.status, JSON_CONTENT, true),
  };
}

/** Fields of the `status` JSON object (the same in the CDDL export and the MQTT transport). */
export const STATUS_FIELDS = ['state', 'dropped', 'pending', 'protocol', 'time'] as const;

/** A property, argument or result value as a TD data schema (TD 1.1 §5.3.2). */
function valueSchema(value: ValueSpec): DataSchema {
  return {
    type: value.type,
    ...(value.description === undefined ? {} : { description: value.description }),
    ...(value.unit === undefined ? {} : { unit: value.unit }),
    ...(value.range === undefined ? {} : { minimum: value.range.min, maximum: value.range.max }),
    ...(value.enum === undefined ? {} : { enum: value.enum }),
  };
}

/**
 * Forms for one broker. The MQTT binding puts the broker in `href` and the topic in `mqv:topic`
 * (publish) or `mqv:filter` (subscribe); the topic is also the href's path, for clients that read
 * topics from URLs.
 */
class MqttForms {
  readonly #base: string;

  constructor(base: string) {
    this.#base = base;
  }

  /** A subscribe form for `ops[0]` (and `ops[1]` for reads), and an unsubscribe form for the last op. */
  observe(ops: readonly string[], topic: string, contentType: string, retained: boolean): MqttForm[] {
    const common = { href: `${this.#base}/${topic}`, contentType, 'mqv:filter': topic } as const;
    const subscribe = ops.slice(0, -1);
    const unsubscribe = ops[ops.length - 1]!;
    return [
      ...subscribe.map((op): MqttForm => ({ op, ...common, 'mqv:controlPacket': 'subscribe', 'mqv:qos': '1', ...(retained ? { 'mqv:retain': true } : {}) })),
      { op: unsubscribe, ...common, 'mqv:controlPacket': 'unsubscribe' },
    ];
  }

  publish(op: string, topic: string, retain: boolean, contentType = JSON_CONTENT): MqttForm {
    return { op, href: `${this.#base}/${topic}`, contentType, 'mqv:controlPacket': 'publish', 'mqv:topic': topic, 'mqv:qos': '1', 'mqv:retain': retain };
  }
}

/**
 * `mqtt://host:port` of a broker URL (default ports 1883 and 8883); `ValidationError` otherwise.
 * User name and password in the URL are dropped: a Thing Description is public.
 */
function brokerBase(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError('brokerUrl', `${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'mqtt:' && parsed.protocol !== 'mqtts:') {
    throw new ValidationError('brokerUrl', `expected an mqtt:// or mqtts:// URL, got ${JSON.stringify(url)}`);
  }
  if (parsed.hostname === '') throw new ValidationError('brokerUrl', `${JSON.stringify(url)} has no host`);
  const port = parsed.port === '' ? (parsed.protocol === 'mqtt:' ? '1883' : '8883') : parsed.port;
  return `${parsed.protocol}//${parsed.hostname}:${port}`;
}

function securityScheme(options: ThingDescriptionOptions): { name: string; scheme: Record<string, string> } {
  switch (options.security ?? 'nosec') {
    case 'nosec':
      return { name: 'nosec_sc', scheme: { scheme: 'nosec', description: 'No client authentication: only for the embedded development broker on 127.0.0.1' } };
    case 'basic':
      return { name: 'basic_sc', scheme: { scheme: 'basic', in: 'auto', description: 'User name and password in the MQTT CONNECT packet; use mqtts:// (TLS)' } };
    case 'psk':
      return { name: 'psk_sc', scheme: { scheme: 'psk', ...(options.pskIdentity === undefined ? {} : { identity: options.pskIdentity }), description: 'TLS with a pre-shared key (RFC 4279)' } };
    default:
      throw new ValidationError('security', `expected "nosec", "basic" or "psk", got ${JSON.stringify(options.security)}`);
  }
}

/** RFC 9562 §5.5: a version-5 (SHA-1, name-based) UUID of `name` in the URL namespace. */
function nameUuid(name: string): string {
  const urlNamespace = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');
  const hash = createHash('sha1').update(urlNamespace).update(`mqtt://${name}`).digest().subarray(0, 16);
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
