/**
 * A device's MQTT side: the broker (an embedded one on 127.0.0.1 unless a URL is given), the
 * durable outbox and the transport, opened together and closed in reverse order.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Clock } from '../core/clock.js';
import { ValidationError } from '../core/errors.js';
import type { Device } from '../device/device.js';
import { SenmlCborEncoder } from '../encoding/senml-cbor.js';
import { deviceIdFor } from '../encoding/topics.js';
import type { EmbeddedBroker } from '../transport/mqtt/embedded-broker.js';
import { splitCredentials } from '../transport/mqtt/credentials.js';
import type { MqttTlsOptions } from '../transport/mqtt/options.js';
import type { SignedRequestOptions } from '../transport/mqtt/request-guard.js';
import type { AuditSink } from '../../security/audit/event.js';
import { DurableOutbox } from '../transport/outbox/index.js';
import { createTransport, type Transport } from '../transport/registry.js';
import type { MqttConfig } from './config.js';

/** An opened MQTT side; the transport is attached to the device but not started. */
export interface MqttSide {
  readonly transport: Transport;
  /** The embedded broker, when no URL was given. */
  readonly broker: EmbeddedBroker | undefined;
  /** The durable outbox of telemetry. */
  readonly outbox: DurableOutbox;
  /** Flushes within `flushMs` what can be flushed, disconnects, closes the outbox and the broker. */
  close(flushMs: number): Promise<void>;
}

/** What the security side gives the MQTT side. */
export interface MqttSecurity {
  /** Client certificate and key (PEM) from the device identity, for mutual TLS (`mqtt.tls.identity`). */
  readonly identityTls?: { readonly cert: string; readonly key: string };
  /** Signed commands and setting writes: the authorizer, and whether unsigned ones are refused. */
  readonly signedRequests?: SignedRequestOptions;
  /** Where refused and signed requests are recorded. */
  readonly audit?: AuditSink;
}

/**
 * Opens the MQTT side of `device`. A failure closes what was opened before it throws; an unreadable
 * TLS or password file is a `ValidationError` naming its setting (`mqtt.tls.ca`, `mqtt.passwordFile`).
 *
 * @example
 * ```ts
 * const mqtt = await openMqttSide(device, clock, { url: 'mqtt://127.0.0.1:1883' }, undefined)
 * await mqtt.transport.start()
 * ```
 */
export async function openMqttSide(device: Device, clock: Clock, config: MqttConfig, outboxDir: string | undefined, security: MqttSecurity = {}): Promise<MqttSide> {
  const files = readTlsFiles(config.tls);
  const tls = security.identityTls ? { ...files, ...security.identityTls } : files;
  const credentials = mqttCredentials(config);
  const deviceId = deviceIdFor(device.model, device.serialNumber);
  // Loaded only when used: a device publishing to a real broker never loads aedes.
  const broker = config.url === undefined ? await (await import('../transport/mqtt/embedded-broker.js')).startEmbeddedBroker() : undefined;
  let outbox: DurableOutbox | undefined;
  try {
    outbox = await DurableOutbox.open({ dir: resolve(outboxDir ?? join('.sensorkit', 'outbox', deviceId)), clock });
    const transport = createTransport(config.url ?? broker!.url, { deviceId, clock, outbox, encoder: new SenmlCborEncoder(), ...credentials, ...(tls ? { tls } : {}), ...(config.responseTopicPrefixes ? { commands: { responseTopicPrefixes: config.responseTopicPrefixes } } : {}), ...(config.batch ? { batch: config.batch } : {}), ...(security.signedRequests ? { signedRequests: security.signedRequests } : {}), ...(security.audit ? { audit: security.audit } : {}) });
    transport.attach(device);
    const opened = outbox;
    return {
      transport,
      broker,
      outbox,
      async close(flushMs) {
        try {
          await transport.stop({ flushMs });
        } finally {
          await opened.close();
          await broker?.close();
        }
      },
    };
  } catch (error) {
    await outbox?.close();
    await broker?.close();
    if (error instanceof ValidationError && error.path === 'url') throw new ValidationError('mqtt.url', error.reason, { cause: error });
    throw error;
  }
}

/** The environment variable of the broker password, when no `mqtt.passwordFile` is given. */
export const MQTT_PASSWORD_ENV = 'SENSORKIT_MQTT_PASSWORD';

/**
 * The user name and password the device presents at the broker: the settings' (see
 * `mqttCredentials`), else the URL's. Undefined fields: none.
 *
 * @example
 * ```ts
 * effectiveMqttCredentials({ url: 'mqtt://admin:admin@broker' }) // { username: 'admin', password: 'admin' }
 * ```
 */
export function effectiveMqttCredentials(config: MqttConfig): { username: string | undefined; password: string | undefined } {
  const given = mqttCredentials(config);
  let fromUrl: { username?: string; password?: string } = {};
  try {
    if (config.url !== undefined) fromUrl = splitCredentials(new URL(config.url));
  } catch {
    // A URL that does not parse is reported by the transport, naming mqtt.url.
  }
  return { username: given.username ?? fromUrl.username, password: given.password ?? fromUrl.password };
}

/**
 * The credentials of `config`: `username`, and the password from `passwordFile`, else from
 * `$SENSORKIT_MQTT_PASSWORD`; what is not given here comes from the URL, if it holds it.
 */
function mqttCredentials(config: MqttConfig): { username?: string; password?: string } {
  let password: string | undefined;
  if (config.passwordFile !== undefined) {
    try {
      password = readFileSync(config.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new ValidationError('mqtt.passwordFile', `cannot read ${config.passwordFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
    if (password === '') throw new ValidationError('mqtt.passwordFile', `${config.passwordFile} is empty`);
  } else {
    const fromEnv = process.env[MQTT_PASSWORD_ENV];
    if (fromEnv !== undefined && fromEnv !== '' && config.url !== undefined) password = fromEnv;
  }
  return { ...(config.username === undefined ? {} : { username: config.username }), ...(password === undefined ? {} : { password }) };
}

/** Reads the PEM files of `mqtt.tls`. */
function readTlsFiles(files: MqttConfig['tls']): MqttTlsOptions | undefined {
  if (files === undefined) return undefined;
  const read = (name: 'ca' | 'cert' | 'key'): Partial<MqttTlsOptions> => {
    const file = files[name];
    if (file === undefined) return {};
    try {
      return { [name]: readFileSync(file, 'utf8') };
    } catch (error) {
      throw new ValidationError(`mqtt.tls.${name}`, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
  };
  const tls = { ...read('ca'), ...read('cert'), ...read('key') };
  return Object.keys(tls).length === 0 ? undefined : tls;
}
