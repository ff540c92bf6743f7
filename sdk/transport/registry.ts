/**
 * Transports by URL scheme, as mqtt.js picks its
 * connection by protocol: the caller names a broker or server by URL and gets the transport that
 * speaks it. `mqtt:` and `mqtts:` are registered; other transports (OPC UA) register their schemes.
 */
import { ArgumentError, ValidationError } from '../core/errors.js';
import { MqttTransport } from './mqtt/mqtt-transport.js';
import type { MqttTransportOptions } from './mqtt/options.js';
import type { Transport } from './transport.js';

export type { Transport, TransportEvents, TransportState, TransportStatus, TelemetryEncoder } from './transport.js';

/** Everything a transport is built from besides its URL (its `encoder` says the payloads' content type). */
export type TransportContext = Omit<MqttTransportOptions, 'url'>;

/** Builds a transport for a URL of its scheme. */
export type TransportFactory = (url: string, context: TransportContext) => Transport;

/**
 * @example
 * ```ts
 * const transport = transports.create('mqtts://broker.example:8883', { deviceId, clock, outbox, encoder, tls: { ca } })
 * transports.register('opc.tcp:', (url, context) => new OpcUaTransport(url, context))
 * ```
 */
export class TransportRegistry {
  readonly #factories = new Map<string, TransportFactory>();

  /** Registers a factory for a scheme written as URL's `protocol` (`'mqtt:'`); replaces an earlier one. */
  register(scheme: string, factory: TransportFactory): this {
    if (!/^[a-z][a-z0-9+.-]*:$/.test(scheme)) throw new ArgumentError(`Expected \`scheme\` to be a URL scheme like "mqtt:", got ${JSON.stringify(scheme)}`);
    this.#factories.set(scheme, factory);
    return this;
  }

  /** Registered schemes, sorted. */
  schemes(): string[] {
    return [...this.#factories.keys()].sort();
  }

  /** The transport for `url`; throws `ValidationError` (path `url`) for a malformed URL or an unknown scheme. */
  create(url: string, context: TransportContext): Transport {
    let scheme: string;
    try {
      scheme = new URL(url).protocol;
    } catch {
      throw new ValidationError('url', `"${url}" is not a URL`);
    }
    const factory = this.#factories.get(scheme);
    if (factory === undefined) throw new ValidationError('url', `no transport for "${scheme}" (${url}); known: ${this.schemes().join(', ')}`);
    return factory(url, context);
  }
}

/** The registry with sensorkit's transports. */
export const transports = new TransportRegistry()
  .register('mqtt:', (url, context) => new MqttTransport({ ...context, url }))
  .register('mqtts:', (url, context) => new MqttTransport({ ...context, url }));

/** `transports.create(url, context)`. */
export function createTransport(url: string, context: TransportContext): Transport {
  return transports.create(url, context);
}
