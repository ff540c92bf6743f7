/**
 * `MqttTransport`: a device's telemetry, status, description, commands, settings and alarm events
 * over MQTT 5 (3.1.1 when the broker has no 5), with every telemetry batch in the durable outbox
 * until its PUBACK. Settings and alarms: see `PropertyEventServer` (device-topics.ts).
 *
 * Telemetry path: 'report' samples → batch → encode (the `encoder`: SenML-CBOR by default, its
 * `contentType` on every PUBLISH) → `outbox.append` → PUBLISH QoS 1
 * → PUBACK → `outbox.ack`. Alarm events take the same path (outbox-records.ts tells them apart).
 * After a reconnect or a restart the outbox drains in seq order before anything newer (see
 * `OutboxDrain`); timestamps travel inside the payload, so late is not wrong.
 * A duplicate (a PUBLISH whose PUBACK was lost with the connection, MQTT 5 §4.3.2) carries the same
 * `sensorkit-seq` user property, so a consumer can recognise it.
 *
 * The transport owns its reconnect policy (mqtt.js's is off): jittered exponential back-off on the
 * injected clock, a fresh client and a clean start per connection, and the outbox as the only
 * session state that matters.
 */
import mqtt, { type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Timer } from '../../core/clock.js';
import { ArgumentError, StateError } from '../../core/errors.js';
import { TypedEmitter } from '../../core/events.js';
import { SeededRandom } from '../../core/random.js';
import { steadyNow } from '../../core/wall-clock-watch.js';
import type { Device } from '../../device/device.js';
import { topics, type DeviceTopics } from '../../encoding/topics.js';
import { thingDescription } from '../../encoding/wot.js';
import type { Sample } from '../../core/sample.js';
import { ReconnectBackoff } from './backoff.js';
import { CommandServer, type CommandReply } from './command-server.js';
import { PropertyEventServer, type DeviceTopicMessage } from './device-topics.js';
import { RequestGuard } from './request-guard.js';
import { requiredRole } from '../../model/roles.js';
import { maxIncomingPacketBytes, mqttClientOptions, parseBrokerUrl, positive, type MqttTransportOptions } from './options.js';
import type { OutboxEntry } from './contracts.js';
import { OutboxDrain } from './outbox-drain.js';
import { decodeRecord, eventRecord, telemetryRecord } from './outbox-records.js';
import { bufferOf, controlOptions, publishAcknowledged, recordOptions } from './publish-options.js';
import { JSON_TYPE, PayloadWriter } from './payloads.js';
import { TelemetryBatcher } from './telemetry-batcher.js';
import { splitSocketReads } from './split-reads.js';
import { splitCredentials } from './credentials.js';
import { yieldBetweenSlices, type MqttTransportStatus } from './transport-status.js';
import type { Transport, TransportEvents, TransportState } from '../transport.js';

export type { MqttStatus, MqttTransportStatus } from './transport-status.js';

const noop = (): void => undefined;
/** Longest wait for the PUBACK of the `offline` status at `stop()`, once the flush time is spent, ms. */
const OFFLINE_WAIT_MS = 1000;

export { SEQ_PROPERTY } from './publish-options.js';

/** Connection states, one union (no flags). */
type Connection =
  | { readonly kind: 'idle' }
  | { readonly kind: 'connecting'; readonly client: MqttClient; readonly protocol: 4 | 5 }
  | { readonly kind: 'connected'; readonly client: MqttClient; readonly protocol: 4 | 5; readonly maxInflight: number }
  | { readonly kind: 'reconnecting'; readonly timer: Timer; readonly at: number }
  | { readonly kind: 'closed' };

// Every connection state is one of the common transport states.
type ConnectionState = Connection['kind'] & TransportState;

/**
 * @example
 * ```ts
 * const outbox = await DurableOutbox.open({ dir: '.sensorkit/outbox/env-node-EMU-1' })
 * const transport = new MqttTransport({ url: 'mqtt://127.0.0.1:1883', deviceId: 'env-node-EMU-1', clock, outbox, encoder: new SenmlCborEncoder() })
 * transport.attach(device)
 * await transport.start()
 * // …
 * await transport.stop({ flushMs: 2000 })
 * ```
 */
export class MqttTransport extends TypedEmitter<TransportEvents> implements Transport {
  /** The broker URL without credentials (a password in the given URL is used only to connect). */
  readonly url: string;
  readonly deviceId: string;
  readonly topics: DeviceTopics;
  readonly #options: MqttTransportOptions;
  readonly #backoff: ReconnectBackoff;
  readonly #batcher: TelemetryBatcher;
  readonly #drain: OutboxDrain;
  readonly #writer = new PayloadWriter();
  readonly #maxInflight: number;
  readonly #expiry: number;
  #connection: Connection = { kind: 'idle' };
  #protocol: 4 | 5 = 5;
  #stopping = false;
  #appends: Promise<void> = Promise.resolve();
  #commands: CommandServer | undefined;
  #propertyEvents: PropertyEventServer | undefined;
  #description: Uint8Array | undefined;
  #published = 0;
  #acknowledged = 0;
  #lost = 0;
  /** Seqs of batches whose append is still settling, and whether the broker acknowledged them meanwhile. */
  readonly #settling = new Map<number, boolean>();
  /**
   * Batches the outbox failed to store after they were handed on to be published (under fsync
   * `always` a record is published before its fdatasync): the outbox no longer holds them for a
   * resend, so each is lost unless its PUBACK comes before the send queue is dropped.
   */
  readonly #unstored = new Set<number>();
  #oversized = 0;
  #idleWaiters: (() => void)[] = [];
  #pumpQueued = false;

  constructor(options: MqttTransportOptions) {
    super();
    const url = parseBrokerUrl(options.url);
    // A password in the URL is used to connect, never shown: `url` (the banner, the Thing
    // Description's forms, errors) is the URL without its userinfo. Explicit options win.
    const fromUrl = splitCredentials(url);
    const username = options.username ?? fromUrl.username;
    const password = options.password ?? fromUrl.password;
    this.url = url.username === '' && url.password === '' ? options.url : fromUrl.url;
    this.topics = topics(options.deviceId);
    this.deviceId = options.deviceId;
    this.#options = { ...options, url: this.url, ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }) };
    this.#maxInflight = positive('maxInflight', options.maxInflight, 100, true);
    this.#expiry = positive('messageExpirySeconds', options.messageExpirySeconds, 3600, true);
    positive('keepaliveSeconds', options.keepaliveSeconds, 30, true);
    positive('connectTimeoutMs', options.connectTimeoutMs, 10_000);
    if (options.tls && url.protocol !== 'mqtts:') throw new ArgumentError(`Expected an mqtts:// URL with \`tls\`, got ${this.url}`);
    this.#backoff = new ReconnectBackoff(options.reconnect ?? {}, options.random ?? new SeededRandom(Math.floor(options.clock.now()) | 0));
    this.#batcher = new TelemetryBatcher({ clock: options.clock, ...options.batch }, (batch) => this.#store(batch));
    this.#drain = new OutboxDrain(options.outbox, (error) => this.#fail(error));
  }

  /** Current connection state. */
  get state(): ConnectionState {
    return this.#connection.kind;
  }

  /** Counters and state. */
  status(): MqttTransportStatus {
    const stats = this.#options.outbox.stats();
    return {
      state: this.#connection.kind,
      pendingRecords: stats.pendingRecords,
      droppedRecords: stats.droppedRecords,
      published: this.#published,
      acknowledged: this.#acknowledged,
      lost: this.#lost,
      mqtt: {
        protocol: this.#protocol,
        oversizedPackets: this.#oversized,
        commands: this.#commands?.stats() ?? { received: 0, answered: 0, ignored: 0, refusedResponseTopics: 0, failed: 0 },
        properties: this.#propertyEvents?.stats() ?? { events: 0, eventsDropped: 0, writes: 0, applied: 0, rejected: 0, ignored: 0 },
      },
    };
  }

  /**
   * Sends the device's reported samples, serves its commands and settings, publishes its alarm
   * events and its description (a WoT Thing Description) retained on `model`. Returns a function
   * that detaches again.
   */
  attach(device: Device): () => void {
    const td = thingDescription(device.model, { deviceId: this.deviceId, brokerUrl: this.url, serialNumber: device.serialNumber, telemetryContentType: this.#options.encoder.contentType, ...(this.#options.username ? { security: 'basic' as const } : {}) });
    this.#description = new TextEncoder().encode(JSON.stringify(td));
    const signed = this.#options.signedRequests;
    // With an audit sink and no signed requests, the guard still records every command and write (as `unsigned`).
    const guard =
      signed === undefined && this.#options.audit === undefined
        ? undefined
        : new RequestGuard({ signed, clock: this.#options.clock, deviceId: this.deviceId, requiredRole: (action) => requiredRole(device.model, action), ...(this.#options.audit ? { audit: this.#options.audit } : {}) });
    this.#commands = new CommandServer({
      clock: this.#options.clock,
      target: device,
      prefix: this.topics.commandWildcard.slice(0, -1),
      deviceRoot: `${this.topics.root}/`,
      writer: this.#writer,
      publish: (reply) => this.#reply(reply),
      onFailure: (error) => this.#fail(error),
      ...(this.#options.commands ? { limits: this.#options.commands } : {}),
      ...(guard ? { guard } : {}),
    });
    const propertyEvents = new PropertyEventServer({
      device,
      topics: this.topics,
      writer: this.#writer,
      publish: (message) => this.#publishJson(message),
      storeEvent: (alarm, payload) => this.#append(eventRecord(alarm, payload)),
      clock: this.#options.clock,
      ...(this.#options.settings ? { limits: this.#options.settings } : {}),
      ...(guard ? { guard, reply: (reply: CommandReply) => this.#reply(reply) } : {}),
    });
    this.#propertyEvents = propertyEvents;
    const off = device.on('report', (sample) => this.send(sample));
    return () => {
      off();
      propertyEvents.detach();
      this.#commands = undefined;
      this.#propertyEvents = undefined;
    };
  }

  /** Queues one sample for telemetry (what `attach` does for each reported sample). */
  send(sample: Sample): void {
    this.#batcher.add(sample);
  }

  /** Connects (and keeps reconnecting); resolves at once, the state tells how it goes. */
  async start(): Promise<void> {
    if (this.#connection.kind !== 'idle') return;
    this.#connect();
  }

  /**
   * Closes the open batch, waits up to `flushMs` for the outbox to drain, publishes `offline` and
   * disconnects. What is not acknowledged by then stays in the outbox for the next start.
   */
  async stop(options: { flushMs?: number } = {}): Promise<void> {
    if (this.#stopping || this.#connection.kind === 'closed') return;
    this.#stopping = true;
    const clock = this.#options.clock;
    let expired = false;
    const flushMs = options.flushMs ?? 2000;
    // The flush's end on steady time, so a wall-time step during it neither shortens nor lengthens
    // the offline wait (the timer keeps its delay across a step by itself).
    const steadyDeadline = steadyNow(clock) + flushMs;
    const timer = clock.schedule(clock.now() + flushMs, () => {
      expired = true;
      this.#wakeIdle();
    });
    this.#batcher.flush();
    await this.#appends;
    while (!expired && this.#connection.kind === 'connected' && !this.#drain.idle) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    timer.cancel();
    await this.#drain.settled();
    const connection = this.#connection;
    if (connection.kind === 'reconnecting') connection.timer.cancel();
    // A clean DISCONNECT does not fire the will (MQTT 5 §3.1.2.5), so say `offline` ourselves: on
    // a connection the broker accepted (a CONNACK, even if the SUBACK is still to come).
    const open = connection.kind === 'connected' || (connection.kind === 'connecting' && connection.client.connected);
    const offlineAcked = open && (await this.#publishOffline(connection.client, connection.protocol, Math.max(steadyDeadline - steadyNow(clock), OFFLINE_WAIT_MS)));
    this.#setState({ kind: 'closed' });
    // Gracefully (DISCONNECT once nothing is in flight) only when the broker is answering: mqtt.js
    // waits for every PUBACK and SUBACK before it disconnects, which a broker that went silent
    // never sends (a shutdown was held 41–46 s, until the keep-alive gave up). A connection still
    // waiting for its CONNACK is closed at once: nothing of ours is in flight on it.
    if (connection.kind === 'connected' || connection.kind === 'connecting') await this.#dispose(connection.client, expired || !offlineAcked);
    // Not acknowledged by now, and not in the outbox for the next start.
    this.#dropUnstored();
  }

  /** Publishes the retained `offline` status; true once acknowledged, false after `waitMs` or a lost connection. */
  #publishOffline(client: MqttClient, protocol: 4 | 5, waitMs: number): Promise<boolean> {
    const offline = Buffer.from(this.#statusPayload('offline'));
    return publishAcknowledged(client, this.#options.clock, waitMs, this.topics.status, offline, controlOptions(protocol, JSON_TYPE, true));
  }

  #connect(): void {
    const options = this.#options;
    const protocol = this.#protocol;
    const clientOptions = mqttClientOptions(options, protocol, { topic: this.topics.status, payload: this.#statusPayload('offline') });
    const client = mqtt.connect(options.url, { ...clientOptions, manualConnect: true });
    // A packet above what the device reads closes the connection before its body is read (a
    // 250 MB PUBLISH otherwise stalls sampling while mqtt.js buffers and parses it); the close
    // handler reconnects.
    splitSocketReads(client, { maxPacketBytes: maxIncomingPacketBytes(options), onTooLarge: (error) => this.#tooLarge(error) });
    client.connect();
    this.#setState({ kind: 'connecting', client, protocol });
    let refusedProtocol = false;
    client.on('connect', (connack) => void this.#connected(client, protocol, connack));
    client.on('error', (error: Error & { code?: unknown }) => {
      // Refused for the protocol level: 0x84 Unsupported Protocol Version (MQTT 5 §3.2.2.2), or a
      // 3.1.1 broker's return code 1 (MQTT 3.1.1 §3.2.2.3) read as a v5 CONNACK. Retry with 3.1.1.
      if (protocol === 5 && this.#current(client) && (error.code === 0x84 || error.code === 1)) {
        refusedProtocol = true;
        return;
      }
      this.#fail(error);
      // A malformed packet from the broker (mqtt-packet's parse errors carry no code): the stream is
      // no longer known to be at a packet boundary, so the rest of it could be misread as packets
      // (a PUBACK that was never sent). Close it at once, as MQTT 5 §4.13 requires: destroyed with
      // the error, so that split-reads.ts feeds no further piece (mqtt.js ignores a stream error
      // without a code, so it is not reported twice); the close handler reconnects, and the
      // outbox sends again what was not acknowledged.
      if (error.code === undefined && this.#current(client) && !client.stream.destroyed) client.stream.destroy(error);
    });
    client.on('close', () => {
      if (!this.#current(client) || this.#stopping) return;
      void this.#dispose(client, true);
      this.#drain.reset();
      this.#dropUnstored();
      if (refusedProtocol) {
        this.#protocol = 4;
        this.#connect();
        return;
      }
      const at = options.clock.now() + this.#backoff.next();
      this.#setState({ kind: 'reconnecting', at, timer: options.clock.schedule(at, () => this.#connect()) });
    });
    client.on('message', (topic, payload, packet) => this.#message(topic, payload, packet));
    yieldBetweenSlices(client, options.clock);
  }

  async #connected(client: MqttClient, protocol: 4 | 5, connack: IConnackPacket): Promise<void> {
    if (!this.#current(client)) return;
    this.#backoff.reset();
    const retained = controlOptions(protocol, JSON_TYPE, true);
    client.publish(this.topics.status, Buffer.from(this.#statusPayload('online')), retained);
    if (this.#description) client.publish(this.topics.model, Buffer.from(this.#description), retained);
    // Retained setting values (MQTT 5 §3.3.1.3): a clean start may follow a change made offline.
    for (const message of this.#propertyEvents?.retained() ?? []) this.#publishJson(message, client, protocol);
    const filters = [...(this.#commands ? [this.topics.commandWildcard] : []), ...(this.#propertyEvents?.filters ?? [])];
    if (filters.length > 0) {
      // `connected` once the SUBACK is in: from then on, a request reaches the device. QoS 0
      // (MQTT 5 §3.8.3.1): every connection starts clean, so the broker keeps nothing for us across
      // connections and QoS 1 would add nothing over TCP but a PUBACK per request, which a flood
      // of requests would make us write thousands of times.
      try {
        await client.subscribeAsync(filters, { qos: 0 });
      } catch {
        return; // the connection went away; its close handler retries
      }
      if (!this.#current(client)) return;
    }
    // The broker's Receive Maximum bounds our QoS 1 PUBLISHes in flight (MQTT 5 §3.2.2.3.3).
    const receiveMaximum = connack.properties?.receiveMaximum ?? 65_535;
    this.#setState({ kind: 'connected', client, protocol, maxInflight: Math.max(1, Math.min(this.#maxInflight, receiveMaximum - 2)) });
    // The queue is rebuilt from the outbox: a batch it failed to store meanwhile is not in it.
    this.#dropUnstored();
    try {
      await this.#drain.reload();
    } catch (error) {
      this.#fail(error);
      client.end(true); // the close handler schedules a retry
      return;
    }
    this.#pump();
  }

  /**
   * Publishes queued telemetry while the connection has room in flight. A PUBACK refills its slot
   * at once (see `#pumpSoon`), rather than waiting for several slots to free: a broker with
   * Nagle's algorithm on (Mosquitto's default) holds its next PUBACK until our TCP ACK, which the
   * kernel delays (up to 40 ms) while we send nothing: measured, 400 batches/s instead of 6,000.
   */
  #pump(): void {
    const connection = this.#connection;
    if (connection.kind !== 'connected') return;
    const { client, protocol, maxInflight } = connection;
    for (let entry = this.#drain.next(maxInflight); entry; entry = this.#drain.next(maxInflight)) {
      const { seq } = entry;
      const record = decodeRecord(entry.payload);
      if (record.kind === 'unknown') {
        this.#lost++; // not a record of ours (a later version's?): nothing to publish
        this.#drain.acked(seq);
        continue;
      }
      const event = record.kind === 'event';
      if (!event) this.#published++;
      const topic = event ? this.topics.event(record.alarm) : this.topics.telemetry;
      const options = event ? recordOptions(protocol, seq, JSON_TYPE) : recordOptions(protocol, seq, record.contentType, this.#expiry);
      client.publish(topic, bufferOf(record.payload), options, (error) => {
        if (!this.#current(client)) return;
        if (error) {
          // A PUBACK with a failure reason (MQTT 5 §3.4.2.1) or a lost connection: the record stays
          // in the outbox and is sent again, in order, on a new connection.
          this.#fail(error);
          client.end(true);
          return;
        }
        if (!event) {
          this.#acknowledged++;
          if (this.#settling.has(seq)) this.#settling.set(seq, true);
          this.#unstored.delete(seq);
        }
        this.#drain.acked(seq);
        if (this.#drain.idle) this.#wakeIdle();
        this.#pumpSoon();
      });
    }
    if (this.#drain.idle) this.#wakeIdle();
  }

  /**
   * Refills the window once the PUBACKs at hand are all handled, not once per PUBACK: mqtt.js
   * handles the packets of one socket read in successive `process.nextTick`s and microtasks run
   * only after them, so the PUBLISHes that refill the slots freed by one read go out together,
   * corked into ONE writev(2) instead of one each. Modest against Mosquitto, which mostly sends one
   * PUBACK per TCP segment (measured: ~0.75 writev per PUBLISH under load).
   */
  #pumpSoon(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(this.#pumpQueuedTask);
  }

  readonly #pumpQueuedTask = (): void => {
    this.#pumpQueued = false;
    this.#pump();
  };

  /** Encodes and stores a closed batch. */
  #store(batch: readonly Sample[]): void {
    let payload: Uint8Array;
    try {
      const encoder = this.#options.encoder;
      payload = telemetryRecord(encoder.contentType, encoder.encode(this.deviceId, batch));
    } catch (error) {
      this.#lost++;
      this.#fail(error);
      return;
    }
    let seq: number | undefined;
    const written = (entry: OutboxEntry): void => {
      seq = entry.seq;
      this.#settling.set(entry.seq, false);
      this.#queueWritten(entry);
    };
    this.#append(payload, written).then(
      () => {
        if (seq !== undefined) this.#settling.delete(seq);
      },
      (error: unknown) => {
        this.#unstoredBatch(seq);
        this.#fail(error);
      },
    );
  }

  /**
   * A batch's append rejected. Never written: it was never published, lost. Written: it may be
   * published from the send queue still; acknowledged already, it was delivered; otherwise it is
   * lost unless its PUBACK comes before the queue is dropped (`#dropUnstored`).
   */
  #unstoredBatch(seq: number | undefined): void {
    if (seq === undefined) {
      this.#lost++;
      return;
    }
    const acknowledged = this.#settling.get(seq) === true;
    this.#settling.delete(seq);
    if (acknowledged) return;
    if (this.#connection.kind === 'closed') this.#lost++;
    else this.#unstored.add(seq);
  }

  /** The send queue is dropped (link gone, reload, stop): unstored batches not acknowledged are lost. */
  #dropUnstored(): void {
    this.#lost += this.#unstored.size;
    this.#unstored.clear();
  }

  /**
   * Appends a record to the outbox; rejects when it cannot be stored. The outbox tells each
   * record as soon as it is written, in seq order (`#queueWritten`), and it is published then.
   */
  #append(record: Uint8Array, written: (entry: OutboxEntry) => void = this.#queueWritten): Promise<void> {
    const appended = this.#options.outbox.append(record, written);
    // `stop` waits for every append so far. Chained, not just the last: an append the outbox
    // refuses at once (too large, closed) settles before the earlier ones still being written.
    const settled = appended.then(noop, noop);
    this.#appends = this.#appends.then(() => settled);
    return appended.then(noop);
  }

  /** A record is in the outbox: queue it (in seq order) and publish it when there is room. */
  readonly #queueWritten = (entry: OutboxEntry): void => {
    this.#drain.appended(entry);
    this.#pumpSoon();
  };

  #message(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const properties = packet.properties;
    if (this.#propertyEvents?.handles(topic)) {
      return this.#propertyEvents.handle(topic, payload, {
        ...(properties?.correlationData === undefined ? {} : { correlationData: properties.correlationData }),
        ...(properties?.contentType === undefined ? {} : { contentType: properties.contentType }),
      });
    }
    this.#commands?.handle({
      topic,
      payload,
      ...(properties?.responseTopic === undefined ? {} : { responseTopic: properties.responseTopic }),
      ...(properties?.correlationData === undefined ? {} : { correlationData: properties.correlationData }),
      ...(properties?.contentType === undefined ? {} : { contentType: properties.contentType }),
    });
  }

  /**
   * Publishes one event record (an audit record for a plant's SIEM) on
   * `sensorkit/v1/<deviceId>/<suffix>` at QoS 1, not retained, with its MQTT 5 content type. Events
   * are not kept for a later connection: returns false, and sends nothing, while disconnected (the
   * audit log on the device keeps every record).
   *
   * @example
   * ```ts
   * transport.publishEvent('audit', Buffer.from(JSON.stringify(record)), 'application/json')
   * ```
   */
  publishEvent(suffix: 'audit', payload: Uint8Array, contentType: string): boolean {
    const connection = this.#connection;
    if (connection.kind !== 'connected' && !(connection.kind === 'connecting' && connection.client.connected)) return false;
    connection.client.publish(`${this.topics.root}/${suffix}`, Buffer.from(payload), controlOptions(connection.protocol, contentType, false));
    return true;
  }

  #reply(reply: CommandReply): void {
    const connection = this.#connection;
    if (connection.kind !== 'connected') return;
    const properties = connection.protocol === 5 ? { contentType: reply.contentType, ...(reply.correlationData ? { correlationData: Buffer.from(reply.correlationData) } : {}) } : undefined;
    connection.client.publish(reply.topic, Buffer.from(reply.payload), { qos: 1, ...(properties ? { properties } : {}) });
  }

  /**
   * Publishes a JSON setting value or event at QoS 1 on `client`, or on the current connection once
   * the broker has accepted it; false when there is none (nothing is queued for a later one).
   */
  #publishJson(message: DeviceTopicMessage, client?: MqttClient, protocol?: 4 | 5): boolean {
    const connection = this.#connection;
    if (client === undefined && (connection.kind === 'connected' || (connection.kind === 'connecting' && connection.client.connected))) {
      ({ client, protocol } = connection);
    }
    if (client === undefined || protocol === undefined) return false;
    client.publish(message.topic, Buffer.from(message.payload), controlOptions(protocol, JSON_TYPE, message.retain));
    return true;
  }

  #statusPayload(state: 'online' | 'offline'): Uint8Array {
    const stats = this.#options.outbox.stats();
    return this.#writer.status({ state, dropped: stats.droppedRecords, pending: stats.pendingRecords, protocol: this.#protocol, time: this.#options.clock.now() / 1000 });
  }

  #current(client: MqttClient): boolean {
    const connection = this.#connection;
    return (connection.kind === 'connecting' || connection.kind === 'connected') && connection.client === client;
  }

  #dispose(client: MqttClient, force: boolean): Promise<void> {
    client.removeAllListeners('message');
    return new Promise((resolve) => {
      // A graceful end waits until nothing is in flight (mqtt.js's `outgoingEmpty`), which a broker
      // that falls silent right now never brings: after OFFLINE_WAIT_MS of host time (a virtual
      // clock would never get there) the socket is destroyed instead.
      const backstop = force
        ? undefined
        : setTimeout(() => {
            client.stream?.destroy();
            resolve();
          }, OFFLINE_WAIT_MS);
      client.end(force, {}, () => {
        clearTimeout(backstop);
        resolve();
      });
    });
  }

  #setState(connection: Connection): void {
    const changed = connection.kind !== this.#connection.kind;
    this.#connection = connection;
    if (connection.kind !== 'connected') this.#wakeIdle();
    if (changed) this.emit('state', connection.kind);
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  #tooLarge(error: Error): void {
    this.#oversized++;
    this.#fail(error);
  }

  #fail(error: unknown): void {
    this.emit('error', error instanceof Error ? error : new StateError(`a collaborator threw a non-Error: ${String(error)}`));
  }
}
