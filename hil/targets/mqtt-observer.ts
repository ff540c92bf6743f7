/**
 * Observes a device as a black box through its MQTT telemetry: subscribes to
 * `sensorkit/v1/<deviceId>/telemetry`, decodes each SenML-CBOR pack strictly (RFC 8428 §6) into
 * samples, and hands each sample to the listeners once.
 *
 * The subscription is QoS 1 in a persistent session (MQTT 3.1.1 §3.1.2.4 CleanSession 0; MQTT 5
 * §3.1.2.4 Clean Start 0 with a Session Expiry Interval), so a broker that keeps sessions across a
 * restart (aedes in this process, Mosquitto with `persistence true`) queues what the device
 * publishes while the observer reconnects. A sample is identified by its channel and time: one
 * delivered again (a PUBLISH whose PUBACK was lost, MQTT 5 §4.3.2) is counted, not handed on twice.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { ArgumentError, DecodeError, StateError, TimeoutError } from '../../sdk/core/errors.js';
import type { Sample } from '../../sdk/core/sample.js';
import { SenmlCborDecoder } from '../../sdk/encoding/senml-cbor.js';
import { packToSamples } from '../../sdk/encoding/senml.js';
import { topics, type DeviceTopics } from '../../sdk/encoding/topics.js';
import { tlsOptions, type MqttTlsOptions } from '../../sdk/transport/mqtt/options.js';
import { SEQ_PROPERTY } from '../../sdk/transport/mqtt/publish-options.js';
import type { SampleListener } from './target.js';

/** Options of {@link MqttObserver.connect}. */
export interface MqttObserverOptions {
  /** `mqtt://host:port` of the broker the device publishes to. */
  readonly url: string;
  /** The device id, `<model id>-<serial number>` (see `deviceIdFor`). */
  readonly deviceId: string;
  readonly username?: string;
  readonly password?: string;
  /** With `mqtts://`: trust anchors and, for mutual TLS, the client certificate and key (PEM). */
  readonly tls?: MqttTlsOptions;
  /** Client id of the persistent session. Default `sensorkit-hil-<random>`. */
  readonly clientId?: string;
  /** Longest wait for the first CONNACK and SUBACK, ms. Default 10,000. */
  readonly connectTimeoutMs?: number;
  /** Delay between reconnect attempts after a lost connection, ms. Default 100. */
  readonly reconnectMs?: number;
}

/** Counters of an {@link MqttObserver}. */
export interface MqttObserverStats {
  /** Telemetry PUBLISH packets received. */
  readonly messages: number;
  /** Samples handed to the listeners (each channel and time once). */
  readonly samples: number;
  /** Samples received again with a channel and time already seen. */
  readonly duplicateSamples: number;
  /** Packets received again with a `sensorkit-seq` already seen (MQTT 5 only). */
  readonly duplicateMessages: number;
  /** Packs refused by the strict decoder. */
  readonly decodeErrors: number;
  /** The last refusal, one line. */
  readonly lastDecodeError?: string;
  /** Connections made after the first. */
  readonly reconnects: number;
  /** MQTT protocol level in use: 5, or 4 (3.1.1) when the broker has no 5. */
  readonly protocol: 4 | 5;
}

/** A command reply received on `cmd/<command>/result`. */
export interface CommandReplyMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
}

/**
 * A subscriber to one device's telemetry.
 *
 * @example
 * ```ts
 * const observer = await MqttObserver.connect({ url: 'mqtt://127.0.0.1:1883', deviceId: 'env-node-EMU-1' })
 * observer.onSample((sample) => console.log(sample.channel, sample.value, sample.unit))
 * // …
 * await observer.close()
 * ```
 */
export class MqttObserver {
  readonly deviceId: string;
  readonly topics: DeviceTopics;
  readonly #client: MqttClient;
  readonly #protocol: 4 | 5;
  readonly #decoder = new SenmlCborDecoder();
  readonly #listeners = new Set<SampleListener>();
  readonly #seen = new Set<string>();
  readonly #seqs = new Set<string>();
  readonly #replyWaiters = new Set<(message: CommandReplyMessage) => boolean>();
  #messages = 0;
  #samples = 0;
  #duplicateSamples = 0;
  #duplicateMessages = 0;
  #decodeErrors = 0;
  #lastDecodeError: string | undefined;
  #reconnects = -1;
  #closing: Promise<void> | undefined;

  private constructor(client: MqttClient, protocol: 4 | 5, deviceTopics: DeviceTopics) {
    this.#client = client;
    this.#protocol = protocol;
    this.topics = deviceTopics;
    this.deviceId = deviceTopics.deviceId;
    client.on('connect', () => this.#reconnects++);
    client.on('message', (topic, payload, packet) => this.#message(topic, payload, packet));
  }

  /**
   * Connects (MQTT 5, else 3.1.1 when the broker refuses 5), subscribes to the telemetry with QoS 1
   * and resolves once the broker acknowledged the subscription. Throws `TimeoutError` when the
   * broker does not answer within `connectTimeoutMs`, `ArgumentError` for a bad URL.
   */
  static async connect(options: MqttObserverOptions): Promise<MqttObserver> {
    const deviceTopics = topics(options.deviceId);
    if (!/^mqtts?:\/\//.test(options.url)) throw new ArgumentError(`Expected \`url\` to be mqtt:// or mqtts://, got ${JSON.stringify(options.url)}`);
    const clientId = options.clientId ?? `sensorkit-hil-${randomBytes(6).toString('hex')}`;
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    let client = await connectClient(options, clientId, 5, timeoutMs);
    let protocol: 4 | 5 = 5;
    if (client === 'unsupported') {
      client = await connectClient(options, clientId, 4, timeoutMs);
      protocol = 4;
    }
    if (client === 'unsupported') throw new StateError(`the broker at ${options.url} refused MQTT 5 and 3.1.1`);
    const observer = new MqttObserver(client, protocol, deviceTopics);
    observer.#reconnects = 0;
    try {
      await withTimeout(client.subscribeAsync(deviceTopics.telemetry, { qos: 1 }), timeoutMs, `the broker at ${options.url} did not acknowledge the subscription within ${timeoutMs} ms`);
    } catch (error) {
      await observer.close();
      throw error;
    }
    return observer;
  }

  /** Subscribes to observed samples; returns the unsubscribe function. */
  onSample(listener: SampleListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** The counters so far. */
  stats(): MqttObserverStats {
    return {
      messages: this.#messages,
      samples: this.#samples,
      duplicateSamples: this.#duplicateSamples,
      duplicateMessages: this.#duplicateMessages,
      decodeErrors: this.#decodeErrors,
      ...(this.#lastDecodeError === undefined ? {} : { lastDecodeError: this.#lastDecodeError }),
      reconnects: Math.max(0, this.#reconnects),
      protocol: this.#protocol,
    };
  }

  /**
   * Publishes `payload` on the device's `cmd/<command>` topic (QoS 1) and resolves with the first
   * reply on `cmd/<command>/result`; rejects with `TimeoutError` after `timeoutMs` without one.
   *
   * @example
   * ```ts
   * const reply = await observer.command('zero', new TextEncoder().encode('{}'), 5000)
   * ```
   */
  async command(command: string, payload: Uint8Array, timeoutMs: number): Promise<CommandReplyMessage> {
    const resultTopic = this.topics.commandResult(command);
    await this.#client.subscribeAsync(resultTopic, { qos: 1 });
    let waiter: ((message: CommandReplyMessage) => boolean) | undefined;
    const reply = new Promise<CommandReplyMessage>((resolve) => {
      waiter = (message) => {
        if (message.topic !== resultTopic) return false;
        resolve(message);
        return true;
      };
      this.#replyWaiters.add(waiter);
    });
    try {
      await this.#client.publishAsync(this.topics.command(command), Buffer.from(payload), { qos: 1 });
      return await withTimeout(reply, timeoutMs, `no reply on ${resultTopic} within ${timeoutMs} ms`);
    } finally {
      this.#replyWaiters.delete(waiter!);
      await this.#client.unsubscribeAsync(resultTopic).catch(() => undefined);
    }
  }

  /** Unsubscribes (so a persistent session queues nothing more) and disconnects. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#listeners.clear();
      if (this.#client.connected) await withTimeout(this.#client.unsubscribeAsync(this.topics.telemetry), 2000, 'unsubscribe').catch(() => undefined);
      await this.#client.endAsync(true).catch(() => undefined);
    })();
    return this.#closing;
  }

  #message(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (topic !== this.topics.telemetry) {
      const message = { topic, payload: new Uint8Array(payload) };
      for (const waiter of this.#replyWaiters) if (waiter(message)) break;
      return;
    }
    this.#messages++;
    const seq = packet.properties?.userProperties?.[SEQ_PROPERTY];
    if (typeof seq === 'string') {
      if (this.#seqs.has(seq)) this.#duplicateMessages++;
      this.#seqs.add(seq);
    }
    let samples: Sample[];
    try {
      samples = packToSamples(this.#decoder.decode(payload), this.deviceId);
    } catch (error) {
      this.#decodeErrors++;
      this.#lastDecodeError = error instanceof DecodeError ? error.message : String(error);
      return;
    }
    for (const sample of samples) {
      const key = `${sample.channel}@${sample.time}`;
      if (this.#seen.has(key)) {
        this.#duplicateSamples++;
        continue;
      }
      this.#seen.add(key);
      this.#samples++;
      for (const listener of this.#listeners) listener(sample);
    }
  }
}

/**
 * CONNACK codes that retrying will not change: 3.1.1 §3.2.2.3 4 bad user name or password, 5 not
 * authorized; MQTT 5 §3.2.2.2 0x86 bad user name or password, 0x87 not authorized, 0x8C bad
 * authentication method.
 */
const REFUSED: ReadonlySet<string> = new Set(['4:4', '4:5', '5:134', '5:135', '5:140']);

/** Connects one client; `'unsupported'` when the broker refuses the protocol level. */
function connectClient(options: MqttObserverOptions, clientId: string, protocol: 4 | 5, timeoutMs: number): Promise<MqttClient | 'unsupported'> {
  const clientOptions: IClientOptions = {
    protocolVersion: protocol,
    clientId,
    clean: false,
    reconnectPeriod: options.reconnectMs ?? 100,
    connectTimeout: timeoutMs,
    keepalive: 30,
    resubscribe: true,
    ...(protocol === 5 ? { properties: { sessionExpiryInterval: 600 } } : {}),
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.tls === undefined ? {} : tlsOptions(options.tls)),
  };
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(options.url, clientOptions);
    const timer = setTimeout(() => {
      void client.endAsync(true).catch(() => undefined);
      reject(new TimeoutError(`the broker at ${options.url} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const settle = (): void => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
    };
    const onConnect = (): void => {
      settle();
      resolve(client);
    };
    const onError = (error: Error & { code?: number }): void => {
      // 0x84 Unsupported Protocol Version (MQTT 5 §3.2.2.2), 1 in a 3.1.1 CONNACK.
      if (protocol === 5 && (error.code === 0x84 || error.code === 1)) {
        settle();
        void client.endAsync(true).catch(() => undefined);
        resolve('unsupported');
      } else if (error.code !== undefined && REFUSED.has(`${protocol}:${error.code}`)) {
        settle();
        void client.endAsync(true).catch(() => undefined);
        reject(new StateError(`the broker at ${options.url} refused the connection: ${error.message}`));
      }
    };
    client.on('connect', onConnect);
    client.on('error', onError);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
