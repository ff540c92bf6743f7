/**
 * MqttTransport against real brokers: Mosquitto (MQTT 5) and aedes (3.1.1 only, so the transport's
 * fallback from 5 to 3.1.1 runs there). An independent mqtt.js client reads what the device sends
 * and decodes telemetry with plain cbor-x as RFC 8428 SenML.
 */
import { createServer, type Socket } from 'node:net';
import { Decoder, Encoder } from 'cbor-x';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { ArgumentError, StorageError } from '../../sdk/core/errors.js';
import { resolveSenml } from '../../sdk/encoding/senml.js';
import { SenmlJsonDecoder, SenmlJsonEncoder } from '../../sdk/encoding/senml-json.js';
import { topics } from '../../sdk/encoding/topics.js';
import { MqttTransport } from '../../sdk/transport/mqtt/index.js';
import type { OutboxEntry, TelemetryEncoder, TelemetryOutbox } from '../../sdk/transport/mqtt/contracts.js';
import type { Sample } from '../../sdk/model/index.js';
import { hasOpenssl, makeCertificates, startBroker, startTcpProxy, type BrokerKind, type TcpProxy, type TestBroker, type TestCertificates } from '../support/brokers.js';
import { PEERS_REQUIRED } from '../support/peers.js';
import { waitFor } from '../support/net.js';
import { json, resolveSenmlCbor, startProbe, subscriber, type Probe, type Received, type Subscriber } from '../fixtures/mqtt-probe.js';
import { trackedCleanups } from '../support/cleanups.js';

const { cleanups, track } = trackedCleanups();

describe.each<BrokerKind>(['mosquitto', 'aedes'])('MqttTransport against %s', (kind) => {
  let broker: TestBroker;
  let protocol: 4 | 5;
  beforeAll(async () => {
    broker = await startBroker(kind);
    protocol = broker.protocols.includes(5) ? 5 : 4;
  });
  afterAll(() => broker.close());

  async function connected(probe: Probe): Promise<void> {
    await probe.transport.start();
    await waitFor(() => probe.transport.state === 'connected', 10_000, 'the transport to connect');
  }

  it(`publishes a retained online status and the model, and its will says offline when the link dies (protocol ${kind === 'aedes' ? '3.1.1 after a refused 5' : '5'})`, async () => {
    const proxy: TcpProxy = track(await startTcpProxy(broker.port));
    const probe = track(await startProbe(proxy.url));
    const t = topics(probe.deviceId);
    await connected(probe);
    expect(probe.transport.status().mqtt.protocol).toBe(broker.kind === 'aedes' ? 4 : 5);

    // A subscriber that arrives later gets both as retained messages.
    const watcher: Subscriber = track(await subscriber(broker.url, protocol, [t.status, t.model]));
    const online = await watcher.next(t.status);
    expect(online.packet.retain).toBe(true);
    expect(json(online.payload)).toMatchObject({ state: 'online', dropped: 0, protocol: broker.kind === 'aedes' ? 4 : 5 });
    const model = await watcher.next(t.model);
    expect(model.packet.retain).toBe(true);
    const td = json(model.payload);
    expect(JSON.stringify(td)).toContain(t.telemetry);
    expect(Object.keys(td.actions as object)).toEqual(expect.arrayContaining(['set-gain', 'ping']));
    if (protocol === 5) expect(online.packet.properties?.contentType).toBe('application/json');

    // Cut the TCP link (no DISCONNECT): the broker publishes the will, MQTT 5 §3.1.2.5 / 3.1.1 §3.1.2.5.
    proxy.cut();
    const offline = await watcher.next(t.status, (m) => json(m.payload).state === 'offline');
    expect(json(offline.payload)).toMatchObject({ state: 'offline' });
    // …and the transport comes back on its own, saying online again.
    await watcher.next(t.status, (m) => m !== offline && watcher.on(t.status).indexOf(m) > watcher.on(t.status).indexOf(offline) && json(m.payload).state === 'online');
  });

  it('sends every reported sample as RFC 8428 SenML-CBOR with names, units and times, in seq order', async () => {
    const probe = track(await startProbe(broker.url, { channels: 2, rateHz: 20 }));
    const t = topics(probe.deviceId);
    const watcher = track(await subscriber(broker.url, protocol, [t.telemetry]));
    await connected(probe);
    await probe.device.start();
    await waitFor(() => probe.reports.length >= 40, 10_000, '40 reports');
    await probe.close();
    const received = await waitFor(() => {
      const messages = watcher.on(t.telemetry);
      const count = messages.reduce((sum, m) => sum + resolveSenmlCbor(m.payload).length, 0);
      return count >= probe.reports.length ? messages : undefined;
    }, 10_000, 'every sample at the subscriber');

    const records = received.flatMap((m) => resolveSenmlCbor(m.payload));
    expect(records).toHaveLength(probe.reports.length);
    records.forEach((record, i) => {
      const sample: Sample = probe.reports[i]!;
      expect(record.name).toBe(`${probe.deviceId}/${sample.channel}`);
      expect(record.unit).toBe('V');
      expect(record.time).toBeCloseTo(sample.time / 1000, 5);
      expect(record.value).toBeCloseTo(sample.value!, 6);
    });
    if (protocol === 5) {
      const seqs = received.map((m) => Number(m.packet.properties?.userProperties?.['sensorkit-seq']));
      expect(seqs.every(Number.isSafeInteger)).toBe(true);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      for (const m of received) {
        expect(m.packet.properties?.contentType).toBe('application/senml+cbor');
        expect(m.packet.properties?.messageExpiryInterval).toBeGreaterThan(3500);
        expect(m.packet.properties?.messageExpiryInterval).toBeLessThanOrEqual(3600);
      }
    } else {
      // MQTT 3.1.1 has no properties: the payload alone, still SenML-CBOR.
      expect(received.every((m) => m.packet.properties === undefined)).toBe(true);
    }
    expect(probe.outbox.stats().pendingRecords).toBe(0);
  });

  it('labels telemetry with its encoder\'s content type: SenML-JSON packs as application/senml+json, in the PUBLISH and the Thing Description', async () => {
    const probe = track(await startProbe(broker.url, { channels: 1, rateHz: 20, transport: { encoder: new SenmlJsonEncoder() } }));
    const t = topics(probe.deviceId);
    const watcher = track(await subscriber(broker.url, protocol, [t.telemetry, t.model]));
    await connected(probe);
    await probe.device.start();
    const [first] = await waitFor(() => (watcher.on(t.telemetry).length > 0 ? watcher.on(t.telemetry) : undefined), 10_000, 'a telemetry message');
    const records = resolveSenml(new SenmlJsonDecoder().decode(first!.payload));
    expect(records[0]!.n).toBe(`${probe.deviceId}/${probe.reports[0]!.channel}`);
    if (protocol === 5) expect(first!.packet.properties?.contentType).toBe('application/senml+json');
    const td = json((await watcher.next(t.model)).payload) as { properties: Record<string, { forms: { contentType: string }[] }> };
    expect(Object.values(td.properties)[0]!.forms[0]!.contentType).toBe('application/senml+json');
  });

  it('answers commands: a result for good arguments, an error for bad arguments, unknown commands and malformed payloads', async () => {
    // Response Topics are honoured under the device's own cmd/<c>/result and configured prefixes only.
    const probe = track(await startProbe(broker.url, { transport: { commands: { responseTopicPrefixes: ['sensorkit-test/inbox/'] } } }));
    const t = topics(probe.deviceId);
    await connected(probe);
    const requester = track(await subscriber(broker.url, protocol, [`${t.root}/cmd/+/result`]));
    const ask = async (name: string, payload: Buffer | string): Promise<Received> => {
      const before = requester.on(t.commandResult(name)).length;
      await requester.client.publishAsync(t.command(name), payload, { qos: 1 });
      return waitFor(() => requester.on(t.commandResult(name))[before], 10_000, `a reply to ${name}`);
    };
    expect(json((await ask('set-gain', '{"gain":2}')).payload)).toEqual({ ok: true, result: 4 });
    expect(json((await ask('ping', '')).payload)).toEqual({ ok: true, result: 'pong' });

    const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
    const cborReply = await ask('set-gain', Buffer.from(cbor.encode({ gain: 1.5 })));
    expect(new Decoder({ useRecords: false, mapsAsObjects: true }).decode(cborReply.payload)).toEqual({ ok: true, result: 3 });

    const bad = json((await ask('set-gain', '{"gain":20}')).payload);
    expect(bad).toMatchObject({ ok: false, error: { code: 'ERR_VALIDATION' } });
    expect((bad.error as { message: string }).message).toMatch(/gain/);
    expect(json((await ask('set-gain', '{"gain":"high"}')).payload)).toMatchObject({ ok: false, error: { code: 'ERR_VALIDATION' } });
    expect(json((await ask('reboot', '{}')).payload)).toMatchObject({ ok: false, error: { code: 'ERR_VALIDATION', message: expect.stringMatching(/no command "reboot"/) } });
    expect(json((await ask('set-gain', '{"gain":')).payload)).toMatchObject({ ok: false, error: { code: 'ERR_DECODE' } });
    const truncated = await ask('set-gain', Buffer.from([0xa1, 0x64, 0x67]));
    expect(new Decoder({ useRecords: false, mapsAsObjects: true }).decode(truncated.payload)).toMatchObject({ ok: false, error: { code: 'ERR_DECODE' } });

    if (protocol === 5) {
      // MQTT 5 request/response (§4.10): the reply goes to the Response Topic with the Correlation Data.
      const inbox = `sensorkit-test/inbox/${probe.deviceId}`;
      await requester.client.subscribeAsync(inbox, { qos: 1 });
      await requester.client.publishAsync(t.command('ping'), '', { qos: 1, properties: { responseTopic: inbox, correlationData: Buffer.from('req-7') } });
      const reply = await requester.next(inbox);
      expect(json(reply.payload)).toEqual({ ok: true, result: 'pong' });
      expect(reply.packet.properties?.correlationData?.toString()).toBe('req-7');

      // A Response Topic in another device's tree is refused: the request is ignored and counted,
      // nothing is published there. The ping after it is answered, so the refused one was handled.
      const foreign = 'sensorkit/v1/other-device/cmd/reboot';
      await requester.client.subscribeAsync(foreign, { qos: 1 });
      await requester.client.publishAsync(t.command('ping'), '', { qos: 1, properties: { responseTopic: foreign } });
      expect(json((await ask('ping', '')).payload)).toEqual({ ok: true, result: 'pong' });
      expect(requester.on(foreign)).toEqual([]);
      expect(probe.transport.status().mqtt.commands.refusedResponseTopics).toBe(1);
    }
    expect(probe.errors).toEqual([]);
  });
});

describe('MqttTransport over TLS (Mosquitto; aedes on tls.Server when Mosquitto is absent)', () => {
  // Certificates are made now with openssl (node:crypto cannot issue X.509 certificates).
  const openssl = hasOpenssl();
  let certificates: TestCertificates;
  beforeAll(() => {
    if (openssl) certificates = makeCertificates();
  });

  async function tlsProbe(broker: TestBroker, tls: { cert?: string; key?: string; ca?: string }): Promise<Probe> {
    const probe = track(await startProbe(broker.url.replace('127.0.0.1', 'localhost'), { transport: { tls: { servername: 'localhost', ...tls } } }));
    await probe.transport.start();
    return probe;
  }

  it('connects with the CA and server name checked, and refuses a broker it cannot verify', async () => {
    if (!openssl) return expect(PEERS_REQUIRED).toBe(false); // openssl missing: recorded in the report
    const broker = track(await startBroker('mosquitto', { tls: { certificates } }));
    const good = await tlsProbe(broker, { ca: certificates.ca });
    await waitFor(() => good.transport.state === 'connected', 10_000, 'a TLS connection');
    const watcher = track(await subscriber(broker.url.replace('127.0.0.1', 'localhost'), broker.protocols.includes(5) ? 5 : 4, [topics(good.deviceId).status], { ca: certificates.ca, servername: 'localhost' }));
    expect(json((await watcher.next(topics(good.deviceId).status)).payload).state).toBe('online');

    // Without the CA the broker's certificate does not verify (rejectUnauthorized defaults to true).
    const untrusting = await tlsProbe(broker, {});
    await waitFor(() => untrusting.errors.find((error) => /self.signed|unable to (get|verify)|certificate/i.test(error.message)), 10_000, 'a certificate error');
    expect(untrusting.transport.state).not.toBe('connected');
  });

  it('does mutual TLS: a client certificate of the CA connects, a stranger\'s is refused', async () => {
    if (!openssl) return expect(PEERS_REQUIRED).toBe(false);
    const broker = track(await startBroker('mosquitto', { tls: { certificates, requireClientCert: true } }));
    const device = await tlsProbe(broker, { ca: certificates.ca, cert: certificates.clientCert, key: certificates.clientKey });
    await waitFor(() => device.transport.state === 'connected', 10_000, 'an mTLS connection');

    const stranger = await tlsProbe(broker, { ca: certificates.ca, cert: certificates.strangerCert, key: certificates.strangerKey });
    const anonymous = await tlsProbe(broker, { ca: certificates.ca });
    await waitFor(() => stranger.errors.length > 0 && anonymous.errors.length > 0, 10_000, 'both refused');
    expect(stranger.transport.state).not.toBe('connected');
    expect(anonymous.transport.state).not.toBe('connected');
  });
});

describe('MqttTransport and its outbox (no broker)', () => {
  it('stop() waits for every append so far, also when a later one is refused at once', async () => {
    // An outbox refuses an append at once (too large, closed) while earlier ones are still being
    // written: the transport must not take that refusal as "every append has settled".
    let storeFirst!: (entry: OutboxEntry) => void;
    const calls: Array<(entry: OutboxEntry) => void> = [];
    const outbox: TelemetryOutbox = {
      append: (payload, written) => {
        calls.push(written);
        if (calls.length === 1) return new Promise<OutboxEntry>((resolve) => (storeFirst = resolve));
        return Promise.reject(new ArgumentError(`Expected \`payload\` to be at most 10 bytes, got ${payload.length}`));
      },
      pending: () => [],
      ack: () => Promise.resolve(),
      stats: () => ({ pendingRecords: 0, pendingBytes: 0, droppedRecords: 0, droppedBytes: 0 }),
    };
    const encoder: TelemetryEncoder = { contentType: 'application/octet-stream', encode: (_deviceId, batch) => new Uint8Array(batch.length * 20) };
    const transport = new MqttTransport({ url: 'mqtt://127.0.0.1:1', deviceId: 'outbox-order', clock: new VirtualClock(), outbox, encoder, batch: { maxSamples: 1 } });
    const errors: Error[] = [];
    transport.on('error', (error) => errors.push(error));
    const sample = {} as Sample;
    transport.send(sample);
    transport.send(sample);
    let stopped = false;
    const stopping = transport.stop({ flushMs: 0 }).then(() => (stopped = true));
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toHaveLength(2);
    expect(errors.map((error) => error.name)).toEqual(['ArgumentError']);
    expect(stopped).toBe(false);
    storeFirst({ seq: 1, payload: new Uint8Array(20), appendedAt: 0 });
    await stopping;
    expect(transport.state).toBe('closed');
  });

  it('counts a batch it cannot encode or store as lost, one whose fdatasync failed after it was written too, and goes on', async () => {
    // Batches of one sample: value 1 cannot be encoded; value 2 is written, then its fdatasync fails
    // (DurableOutbox.append tells `written`, then rejects): it may have gone out, but it is no
    // longer kept for a resend, so it counts as lost (TransportStatus.lost).
    let seq = 0;
    const written: number[] = [];
    const outbox: TelemetryOutbox = {
      append: (payload, tell) => {
        const entry = { seq: ++seq, payload, appendedAt: 0 };
        tell(entry);
        const value = payload[payload.length - 1]!; // the encoder's one byte, after the record's header
        written.push(value);
        if (value === 2) return Promise.reject(new StorageError('/outbox/00000001.seg', 'write and fdatasync failed: EIO: i/o error'));
        return Promise.resolve(entry);
      },
      pending: () => [],
      ack: () => Promise.resolve(),
      stats: () => ({ pendingRecords: 0, pendingBytes: 0, droppedRecords: 0, droppedBytes: 0 }),
    };
    const encoder: TelemetryEncoder = {
      contentType: 'application/octet-stream',
      encode: (_deviceId, batch) => {
        if (batch[0]!.value === 1) throw new ArgumentError('Expected `samples[0].time` to be a finite number, got NaN');
        return new Uint8Array([batch[0]!.value!]);
      },
    };
    const transport = new MqttTransport({ url: 'mqtt://127.0.0.1:1', deviceId: 'lost-count', clock: new VirtualClock(), outbox, encoder, batch: { maxSamples: 1 } });
    const errors: Error[] = [];
    transport.on('error', (error) => errors.push(error));
    for (const value of [0, 1, 2, 3]) transport.send({ value } as Sample);
    await transport.stop({ flushMs: 0 });
    expect(written).toEqual([0, 2, 3]);
    expect(errors.map((error) => error.name)).toEqual(['ArgumentError', 'StorageError']);
    expect(transport.status().lost).toBe(2);
  });

  it('closes the connection on a malformed packet from the broker and reconnects (MQTT 5 §4.13); stops though the broker never answers', async () => {
    // A broker stand-in: answers CONNECT with a v5 CONNACK, then sends a packet of the reserved
    // type 0 followed by a well-formed PINGRESP. After a malformed packet the stream is no longer
    // known to be at a packet boundary: the client must close, not read on.
    const connections: Socket[] = [];
    const server = createServer((socket) => {
      connections.push(socket);
      let reads = 0;
      socket.on('data', () => {
        reads++;
        if (reads === 1) socket.write(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00])); // CONNACK, success, no properties
        // Once the client has published its `online` status, on the first connection only.
        if (reads === 2 && connections.length === 1) socket.write(Buffer.from([0x00, 0x00, 0xd0, 0x00]));
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;
    const outbox: TelemetryOutbox = {
      append: () => new Promise<OutboxEntry>(() => undefined),
      pending: () => [],
      ack: () => Promise.resolve(),
      stats: () => ({ pendingRecords: 0, pendingBytes: 0, droppedRecords: 0, droppedBytes: 0 }),
    };
    const encoder: TelemetryEncoder = { contentType: 'application/octet-stream', encode: () => new Uint8Array(1) };
    const { SystemClock } = await import('../../sdk/core/clock.js');
    const transport = new MqttTransport({ url: `mqtt://127.0.0.1:${port}`, deviceId: 'malformed', clock: new SystemClock(), outbox, encoder, reconnect: { minMs: 20, maxMs: 50 } });
    const errors: Error[] = [];
    const states: string[] = [];
    transport.on('error', (error) => errors.push(error));
    transport.on('state', (state) => states.push(state));
    cleanups.push(() => {
      for (const socket of connections) socket.destroy();
      return transport.stop({ flushMs: 0 });
    });
    await transport.start();
    const first = await waitFor(() => connections[0], 5000, 'the first connection');
    await waitFor(() => first.closed || first.readableEnded, 5000, 'the client to close the first connection');
    await waitFor(() => connections.length >= 2 && transport.state === 'connected', 5000, 'a new connection');
    expect(errors.map((error) => error.message)).toContain('Not supported');
    expect(states).toEqual(['connecting', 'connected', 'reconnecting', 'connecting', 'connected']);
    // This broker never acknowledges the `offline` status: stop() still ends, within a second.
    const stopping = Date.now();
    await transport.stop({ flushMs: 0 });
    expect(transport.state).toBe('closed');
    expect(Date.now() - stopping).toBeLessThan(3000);
  });
});
