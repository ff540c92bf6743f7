/**
 * The MQTT topic names of a device, in one place. The transport, the
 * model exports (WoT Thing Description, CDDL) and tests all take their topics from here, so a topic
 * is spelled once.
 *
 * The device id is the serial-qualified id of one device, `<model id>-<serial number>` (see
 * {@link deviceIdFor}), e.g. `env-node-EMU-1`: several devices of one model share a broker, each
 * under its own `sensorkit/v1/<deviceId>/…` root, and the SenML base name is `<deviceId>/`.
 */
import { ValidationError } from '../core/errors.js';

/** First segments of every sensorkit topic; `v1` is the version of this topic layout. */
export const TOPIC_ROOT = 'sensorkit/v1';

/** Longest device id, in UTF-8 bytes; keeps every topic far below MQTT's 65,535-byte limit. */
export const MAX_DEVICE_ID_BYTES = 256;

/** The topics of one device. */
export interface DeviceTopics {
  /** The device id the topics were built for. */
  readonly deviceId: string;
  /** `sensorkit/v1/<id>`: the root of the device's topics. */
  readonly root: string;
  /** SenML-CBOR telemetry batches (content type `application/senml+cbor`). */
  readonly telemetry: string;
  /** Retained; `online` on birth, `offline` as the last will. */
  readonly status: string;
  /** Retained; the device description (the WoT Thing Description). */
  readonly model: string;
  /** Requests of one command: `…/cmd/<name>`. */
  command(name: string): string;
  /** Replies to one command: `…/cmd/<name>/result`. */
  commandResult(name: string): string;
  /** Filter matching the requests of every command: `…/cmd/+` (not the replies). */
  readonly commandWildcard: string;
  /** Prefix of update offers and progress: `…/ota` (subtopics below it). */
  readonly ota: string;
  /** Retained current value of one configurable property: `…/property/<name>`. */
  property(name: string): string;
  /** Write requests of one configurable property: `…/property/<name>/set`. */
  propertySet(name: string): string;
  /** Filter matching the write requests of every property: `…/property/+/set`. */
  readonly propertySetWildcard: string;
  /** Occurrences of one event, e.g. an alarm raised or cleared: `…/event/<name>`. */
  event(name: string): string;
}

/**
 * The topics of a device. Throws `ValidationError` when the id cannot be one MQTT topic level:
 * empty, longer than {@link MAX_DEVICE_ID_BYTES}, or containing `/` (a level separator), the
 * wildcards `+` and `#`, NUL or other control characters (MQTT 5.0 §4.7.1, §1.5.4).
 *
 * @example
 * ```ts
 * const t = topics('env-node-EMU-1')
 * t.telemetry                 // 'sensorkit/v1/env-node-EMU-1/telemetry'
 * t.commandResult('zero')     // 'sensorkit/v1/env-node-EMU-1/cmd/zero/result'
 * ```
 */
export function topics(deviceId: string): DeviceTopics {
  checkLevel(deviceId, 'deviceId');
  if (Buffer.byteLength(deviceId, 'utf8') > MAX_DEVICE_ID_BYTES) {
    throw new ValidationError('deviceId', `is longer than ${MAX_DEVICE_ID_BYTES} bytes`);
  }
  const root = `${TOPIC_ROOT}/${deviceId}`;
  const named = (prefix: string, name: string, what: string, suffix = ''): string => {
    checkLevel(name, what);
    return `${root}/${prefix}/${name}${suffix}`;
  };
  return Object.freeze({
    deviceId,
    root,
    telemetry: `${root}/telemetry`,
    status: `${root}/status`,
    model: `${root}/model`,
    command: (name: string) => named('cmd', name, 'command'),
    commandResult: (name: string) => named('cmd', name, 'command', '/result'),
    commandWildcard: `${root}/cmd/+`,
    ota: `${root}/ota`,
    property: (name: string) => named('property', name, 'property'),
    propertySet: (name: string) => named('property', name, 'property', '/set'),
    propertySetWildcard: `${root}/property/+/set`,
    event: (name: string) => named('event', name, 'event'),
  });
}

/**
 * The device id of one device: `<model id>-<serial number>`, with every character outside
 * `[A-Za-z0-9._-]` replaced by `_`, so that it is one MQTT topic level, a SenML name prefix
 * (RFC 8428 §4.5.1 allows `A-Za-z0-9-:./_`) and part of a URN without escaping. Throws
 * `ValidationError` for an empty serial number.
 *
 * @example
 * ```ts
 * deviceIdFor(model, 'EMU-1')      // 'env-node-EMU-1'
 * deviceIdFor(model, 'SN 42/b')    // 'env-node-SN_42_b'
 * ```
 */
export function deviceIdFor(model: { readonly id: string }, serialNumber: string): string {
  if (typeof serialNumber !== 'string' || serialNumber.trim() === '') {
    throw new ValidationError('serialNumber', 'expected a non-empty serial number');
  }
  const deviceId = `${model.id}-${serialNumber}`.replace(/[^A-Za-z0-9._-]/g, '_');
  if (deviceId.length > MAX_DEVICE_ID_BYTES) {
    throw new ValidationError('serialNumber', `the device id "${deviceId.slice(0, 40)}…" is longer than ${MAX_DEVICE_ID_BYTES} characters`);
  }
  return deviceId;
}

// MQTT 5.0 §4.7.1: "/" separates levels, "+" and "#" are wildcards; §1.5.4: no U+0000, and control
// characters U+0001–U+001F and U+007F–U+009F should not appear.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[/+#\u0000-\u001f\u007f-\u009f]/;

function checkLevel(level: string, what: string): void {
  if (typeof level !== 'string' || level === '') throw new ValidationError(what, 'expected a non-empty topic level');
  const bad = FORBIDDEN.exec(level);
  if (bad) {
    const char = bad[0] === '/' || bad[0] === '+' || bad[0] === '#' ? `"${bad[0]}"` : `U+${bad[0].codePointAt(0)!.toString(16).padStart(4, '0').toUpperCase()}`;
    throw new ValidationError(what, `${JSON.stringify(level)} cannot be an MQTT topic level: it contains ${char}`);
  }
}
