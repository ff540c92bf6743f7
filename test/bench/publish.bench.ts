/**
 * Publish throughput and end-to-end latency of sensorkit's MqttTransport with the durable outbox
 * (fsync 'never', 'batch' and 'always') against the fair peers, what a user would write instead:
 * - mqtt.js + cbor-x: each batch encoded from its samples at the offer with cbor-x (SenML records
 *   built by hand as Maps with integer labels in RFC 8949 §4.2.1 order: the same bytes as the
 *   transport's encoder, checked at start), published at QoS 1 with the same MQTT 5 properties (content type,
 *   message expiry, a `sensorkit-seq` user property);
 * - the same with mqtt-level-store, the persistent `Store` users add to mqtt.js
 *   (`incomingStore`/`outgoingStore`): each PUBLISH is put into LevelDB before it is sent and
 *   deleted on its PUBACK (LevelDB's default writes: no fsync per put).
 * All to the same broker (Mosquitto when installed, else aedes in process), in the same run.
 * Prints a table and the ratios against the targets; asserts nothing.
 *
 *   node --import ./bin/register-ts.js test/bench/publish.bench.ts [--batches=2000] [--repeats=5] [--warmup=2000] [--rate=200] [--seconds=5]
 *
 * CPU per batch is given twice: the whole process (every thread, the subscriber worker included)
 * and the main thread alone (Linux), where the publisher's own work runs.
 * Each publisher first runs a warm-up pass of `--warmup` batches (not measured: JIT, socket and
 * file caches), then:
 * - throughput, `--repeats` times, interleaved with the other publishers (so a change in the
 *   machine's load colours all alike): `--batches` batches offered at once, time from the first
 *   offer to the last PUBACK (the mqtt.js peers keep 100 in flight, as the transport does); the
 *   median is reported, with the CPU time per batch;
 * - latency: batches offered at `--rate` per second for `--seconds` in all, in `--repeats` rounds
 *   interleaved like the throughput repeats (percentiles over every round), paced by plain timers (not
 *   the SystemClock's precise waits, whose spinning would delay the measurement itself); latency =
 *   receipt at a subscriber − the offer, both read from the same wall clock
 *   (`performance.timeOrigin + performance.now()`). For the transport the offer is the first
 *   `send()` of the batch's samples (batching, encoding and the outbox append are inside the
 *   figure); for the mqtt.js peers it is the encoding of the batch, then `publish()`. The
 *   subscriber runs in a worker thread, so its receipt times do not wait on either publisher's
 *   event loop.
 * Targets: with fsync 'batch', throughput ≥ 0.9× mqtt.js + cbor-x and ≥ 1.5× mqtt.js +
 * mqtt-level-store, p99 ≤ 2× mqtt.js + cbor-x; with fsync 'always', p99 ≤ 2× fsync 'never'.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Encoder, type Options } from 'cbor-x';
import mqtt from 'mqtt';
import { SystemClock } from '../../sdk/core/clock.js';
import { SenmlCborEncoder } from '../../sdk/encoding/senml-cbor.js';
import { GOOD, type Sample } from '../../sdk/core/sample.js';
import { SENML_CBOR_TYPE } from '../../sdk/encoding/senml.js';
import { MqttTransport, SEQ_PROPERTY } from '../../sdk/transport/mqtt/mqtt-transport.js';
import { DurableOutbox, type FsyncPolicy } from '../../sdk/transport/outbox/index.js';
import { startBroker } from '../support/brokers.js';
import { option } from './options.js';

const DEVICE = 'bench-device-1';
const TOPIC = `sensorkit/v1/${DEVICE}/telemetry`;
/** The transport's default message expiry (MqttTransportOptions.messageExpirySeconds). */
const EXPIRY_SECONDS = 3600;
const wallNow = (): number => performance.timeOrigin + performance.now();
const keyOf = (payload: Uint8Array): string => createHash('sha1').update(payload).digest('base64');

/** mqtt-level-store's manager (a CommonJS package without typings). */
interface LevelStores {
  readonly incoming: unknown;
  readonly outgoing: unknown;
  close(done: (error?: Error) => void): void;
}
const levelStore = createRequire(import.meta.url)('mqtt-level-store') as (dir: string) => LevelStores;

/**
 * What a user writes with cbor-x: each sample a SenML record (RFC 8428 §4) as a Map with integer
 * labels (§6: n 0, u 1, v 2, t 6, bn −2, bt −3), keys in the order of deterministic CBOR (RFC 8949
 * §4.2.1: 0, 1, 2, 6, then −2, −3), the base name and time in the first record. Written for this
 * benchmark's samples (numeric values, good quality), as a user's would be for theirs.
 */
function cborxEncode(encoder: Encoder, device: string, samples: readonly Sample[]): Buffer {
  const base = samples[0]!.time;
  const maps = samples.map((sample, k) => {
    const map = new Map<number, unknown>([
      [0, sample.channel],
      [1, sample.unit],
      [2, sample.value],
      [6, (sample.time - base) / 1000],
    ]);
    if (k === 0) map.set(-2, `${device}/`).set(-3, base / 1000);
    return map;
  });
  return encoder.encode(maps);
}

/**
 * CPU time of this process's main thread so far, ms, from Linux's schedstat (ns resolution): the
 * publisher's own share, without the subscriber worker, V8's helper threads and the thread pool
 * that `process.cpuUsage()` adds in. NaN where there is no /proc.
 */
function mainThreadCpuMs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return Number.NaN;
  }
}

/** Messages from the main thread to the subscriber worker. */
type ToSubscriber = { readonly kind: 'record' } | { readonly kind: 'collect' };

if (!isMainThread) {
  // The subscriber: records the receipt time of each payload while told to.
  const { url, protocol } = workerData as { url: string; protocol: 4 | 5 };
  const client = await mqtt.connectAsync(url, { protocolVersion: protocol, reconnectPeriod: 0 });
  let received = new Map<string, number>();
  let recording = false;
  client.on('message', (_topic, payload) => {
    const at = wallNow();
    if (!recording) return;
    const key = keyOf(payload);
    if (!received.has(key)) received.set(key, at);
  });
  await client.subscribeAsync(TOPIC, { qos: 1 });
  parentPort!.on('message', (message: ToSubscriber) => {
    if (message.kind === 'record') {
      received = new Map();
      recording = true;
      parentPort!.postMessage({ kind: 'recording' });
    } else {
      recording = false;
      parentPort!.postMessage({ kind: 'received', received: [...received] });
    }
  });
  parentPort!.postMessage({ kind: 'ready' });
} else {
  await main();
}

async function main(): Promise<void> {
  const BATCHES = option('batches', 2000);
  const REPEATS = option('repeats', 5);
  const WARMUP = option('warmup', 2000);
  const RATE = option('rate', 200);
  const SECONDS = option('seconds', 5);
  const PER_BATCH = 100;
  const LATENCY_BATCHES = Math.round(RATE * SECONDS);

  const start = Date.UTC(2026, 0, 1);
  // One string per channel id, shared by its samples, as a device's samples share their model's
  // channel ids (a string built per sample costs the encoder a hash of each, ~40 % of its time).
  const channels = Array.from({ length: 10 }, (_, k) => `c${k}`);
  /** Batch i: 10 channels × 10 samples at 1 kHz, distinct times so every payload is unique. */
  const batch = (i: number): Sample[] =>
    Array.from({ length: PER_BATCH }, (_, k) => ({ channel: channels[k % 10]!, time: start + i * 100 + k, value: 20 + Math.sin(i + k) * 5, unit: 'Cel', quality: GOOD }));
  // Throughput batches first, then the latency batches (distinct payloads, so a late duplicate of a
  // throughput batch cannot count as a latency receipt).
  const batches = Array.from({ length: BATCHES + LATENCY_BATCHES }, (_, i) => batch(i));
  const encoder = new SenmlCborEncoder();
  const payloads = batches.map((samples) => Buffer.from(encoder.encode(DEVICE, samples)));
  const indexOf = new Map(payloads.map((payload, i) => [keyOf(payload), i]));

  const broker = await startBroker('mosquitto');
  const protocol = broker.protocols.includes(5) ? 5 : 4;

  const worker = new Worker(new URL(import.meta.url), { workerData: { url: broker.url, protocol } });
  const replies: Array<(message: { kind: string; received?: Array<[string, number]> }) => void> = [];
  worker.on('message', (message: { kind: string }) => replies.shift()?.(message));
  worker.on('error', (error) => {
    console.error('subscriber failed:', error);
    process.exit(1);
  });
  const ask = (message: ToSubscriber | undefined): Promise<{ kind: string; received?: Array<[string, number]> }> =>
    new Promise((resolve) => {
      replies.push(resolve);
      if (message) worker.postMessage(message);
    });
  await ask(undefined); // ready

  interface Publisher {
    /** Offers batch i for publishing. */
    offer(i: number): void;
    /** Resolves when everything offered is acknowledged. */
    drained(): Promise<void>;
    close(): Promise<void>;
  }

  // useTag259ForMaps is a cbor-x option its typings omit; off, Maps are plain CBOR maps.
  const cborx = (): Encoder => new Encoder({ useRecords: false, variableMapSize: true, useTag259ForMaps: false } as Options);
  const identical = [0, 1, BATCHES].every((i) => Buffer.compare(cborxEncode(cborx(), DEVICE, batches[i]!), payloads[i]!) === 0);

  /**
   * mqtt.js encoding each batch from its samples with cbor-x at the offer (as the transport must
   * encode); with `durable`, mqtt.js keeps every PUBLISH in mqtt-level-store until its PUBACK.
   */
  async function mqttPublisher(durable: boolean): Promise<Publisher> {
    const ownEncoder = cborx();
    const dir = durable ? mkdtempSync(join(tmpdir(), 'sensorkit-bench-level-')) : undefined;
    const stores = dir === undefined ? undefined : levelStore(dir);
    const client = await mqtt.connectAsync(broker.url, {
      protocolVersion: protocol,
      reconnectPeriod: 0,
      clientId: durable ? 'bench-level-store' : 'bench-cborx',
      ...(stores ? { incomingStore: stores.incoming as never, outgoingStore: stores.outgoing as never } : {}),
    });
    let inflight = 0;
    let waiting: number[] = [];
    let head = 0;
    let acked = 0;
    let offered = 0;
    let seq = 0;
    let wake: (() => void) | undefined;
    const pump = (): void => {
      while (inflight < 100 && head < waiting.length) {
        const i = waiting[head++]!;
        inflight++;
        // The same options the transport sends telemetry with (MQTT 5 §3.3.2.3.9, .3, .7).
        const options = protocol === 5 ? { qos: 1 as const, retain: false, properties: { contentType: SENML_CBOR_TYPE, messageExpiryInterval: EXPIRY_SECONDS, userProperties: { [SEQ_PROPERTY]: String(++seq) } } } : { qos: 1 as const, retain: false };
        const payload = cborxEncode(ownEncoder, DEVICE, batches[i]!);
        client.publish(TOPIC, payload, options, () => {
          inflight--;
          acked++;
          pump();
          if (acked === offered) wake?.();
        });
      }
      if (head === waiting.length) {
        waiting = [];
        head = 0;
      }
    };
    return {
      offer(i) {
        offered++;
        waiting.push(i);
        pump();
      },
      drained: () => (acked === offered ? Promise.resolve() : new Promise<void>((resolve) => (wake = resolve))),
      async close() {
        waiting = [];
        await client.endAsync();
        if (stores) await new Promise<void>((resolve) => stores.close(() => resolve()));
        if (dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  async function transportPublisher(fsync: FsyncPolicy): Promise<Publisher> {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-bench-outbox-'));
    const clock = new SystemClock(); // as `sensorkit run` builds it
    const outbox = await DurableOutbox.open({ dir, fsync, clock, maxBytes: 1 << 30, segmentBytes: 16 << 20 });
    // A client id of its own: two transports alive at once must not take over each other's session.
    const transport = new MqttTransport({ url: broker.url, deviceId: DEVICE, clientId: `bench-${fsync}`, clock, outbox, encoder: new SenmlCborEncoder(), batch: { maxSamples: PER_BATCH, maxDelayMs: 1000 } });
    await transport.start();
    await new Promise<void>((resolve) => {
      const off = transport.on('state', (state) => state === 'connected' && (off(), resolve()));
    });
    let offered = 0;
    return {
      offer(i) {
        offered++; // one batch: PER_BATCH samples close it
        for (const sample of batches[i]!) transport.send(sample);
      },
      async drained() {
        while (transport.status().acknowledged < offered) await new Promise((r) => setTimeout(r, 1));
      },
      async close() {
        await transport.stop();
        await outbox.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  function percentile(sorted: readonly number[], p: number): number {
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
  }
  const median = (values: readonly number[]): number => percentile([...values].sort((a, b) => a - b), 50);
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  interface Row {
    name: string;
    /** Batches per second of each repeat. */
    rates: number[];
    /** Process CPU time (user + system, all threads) per batch of each repeat, µs. */
    cpu: number[];
    /** The main thread's CPU time per batch of each repeat, µs (Linux; NaN elsewhere). */
    mainCpu: number[];
    received: number;
    /** Latencies of every round so far, ms, sorted. */
    latencies: number[];
    p50: number;
    p99: number;
  }

  /** One throughput repeat: `BATCHES` offered at once, until the last PUBACK. */
  async function throughput(publisher: Publisher, row: Row): Promise<void> {
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuMs();
    const t0 = performance.now();
    for (let i = 0; i < BATCHES; i++) publisher.offer(i);
    await publisher.drained();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    row.rates.push(BATCHES / seconds);
    row.cpu.push((cpu.user + cpu.system) / BATCHES);
    row.mainCpu.push(((mainThreadCpuMs() - main0) * 1000) / BATCHES);
    await sleep(200); // let the subscriber catch up, so it does not load the next run
  }

  /** Paced offers; latency from each publish call to its receipt at the subscriber. */
  async function latency(publisher: Publisher, row: Row, from: number, to: number): Promise<void> {
    await ask({ kind: 'record' });
    const offeredAt = new Map<number, number>();
    const begin = performance.now();
    for (let n = from; n < to; n++) {
      const due = begin + ((n - from) * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const i = BATCHES + n;
      offeredAt.set(i, wallNow());
      publisher.offer(i);
    }
    await publisher.drained();
    await sleep(500); // the last receipts
    const { received = [] } = await ask({ kind: 'collect' });
    const latencies: number[] = [];
    for (const [key, at] of received) {
      const i = indexOf.get(key);
      const sent = i === undefined ? undefined : offeredAt.get(i);
      if (sent !== undefined) latencies.push(at - sent);
    }
    row.latencies.push(...latencies);
    row.latencies.sort((a, b) => a - b);
    Object.assign(row, { received: row.latencies.length, p50: percentile(row.latencies, 50), p99: percentile(row.latencies, 99) });
  }

  const contenders: Array<{ name: string; make: () => Promise<Publisher> }> = [
    { name: 'mqtt.js + cbor-x', make: () => mqttPublisher(false) },
    { name: 'mqtt.js + cbor-x + mqtt-level-store', make: () => mqttPublisher(true) },
    { name: "MqttTransport + outbox, fsync 'never'", make: () => transportPublisher('never') },
    { name: "MqttTransport + outbox, fsync 'batch'", make: () => transportPublisher('batch') },
    { name: "MqttTransport + outbox, fsync 'always'", make: () => transportPublisher('always') },
  ];
  const publishers: Publisher[] = [];
  const rows: Row[] = [];
  for (const { name, make } of contenders) {
    const publisher = await make();
    // Warm-up pass, not measured (JIT, socket buffers, file cache).
    for (let i = 0; i < WARMUP; i++) publisher.offer(i % BATCHES);
    await publisher.drained();
    publishers.push(publisher);
    rows.push({ name, rates: [], cpu: [], mainCpu: [], received: 0, latencies: [], p50: Number.NaN, p99: Number.NaN });
  }
  // Repeats interleaved (raw, never, always, raw, …), so a change in the machine's load during the
  // run colours every publisher alike.
  for (let r = 0; r < REPEATS; r++) for (const [k, publisher] of publishers.entries()) await throughput(publisher, rows[k]!);
  // Latency in `--repeats` rounds, interleaved the same way; the percentiles are over all rounds.
  for (let r = 0; r < REPEATS; r++) {
    const from = Math.round((r * LATENCY_BATCHES) / REPEATS);
    const to = Math.round(((r + 1) * LATENCY_BATCHES) / REPEATS);
    for (const [k, publisher] of publishers.entries()) await latency(publisher, rows[k]!, from, to);
  }
  for (const publisher of publishers) await publisher.close();
  await worker.terminate();
  await broker.close();

  const header = ['publisher', 'batches/s', 'samples/s', 'CPU µs/batch', 'main µs/batch', 'repeats (batches/s)', 'received', 'p50 ms', 'p99 ms'];
  const widths = [44, 11, 11, 14, 15, 32, 11, 9, 9];
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('');
  console.log(
    `\nPublish to ${broker.kind} (MQTT ${protocol === 5 ? '5' : '3.1.1'}), ${PER_BATCH} samples per batch (${payloads[0]!.length} bytes); ` +
      `throughput: ${BATCHES} batches × ${REPEATS} repeats after ${WARMUP} warm-up, median; latency: ${RATE}/s for ${SECONDS} s; ` +
      `cbor-x bytes ${identical ? 'identical to' : 'DIFFER from'} the transport's\n`,
  );
  console.log(line(header));
  for (const row of rows) {
    const rate = median(row.rates);
    console.log(line([row.name, rate.toFixed(0), (rate * PER_BATCH).toFixed(0), median(row.cpu).toFixed(0), median(row.mainCpu).toFixed(0), row.rates.map((r) => r.toFixed(0)).join(' '), `${row.received}/${LATENCY_BATCHES}`, row.p50.toFixed(2), row.p99.toFixed(2)]));
  }
  const [cborxRow, levelRow, never, batched, always] = rows as [Row, Row, Row, Row, Row];
  const rate = (row: Row): number => median(row.rates);
  const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');
  const checks: Array<[string, number, string, boolean]> = [
    ["throughput, fsync 'batch' / mqtt.js + cbor-x", rate(batched) / rate(cborxRow), '≥ 0.9', rate(batched) / rate(cborxRow) >= 0.9],
    ["p99, fsync 'batch' / mqtt.js + cbor-x", batched.p99 / cborxRow.p99, '≤ 2', batched.p99 / cborxRow.p99 <= 2],
    ["throughput, fsync 'batch' / mqtt.js + mqtt-level-store", rate(batched) / rate(levelRow), '≥ 1.5', rate(batched) / rate(levelRow) >= 1.5],
    ["p99, fsync 'always' / fsync 'never'", always.p99 / never.p99, '≤ 2', always.p99 / never.p99 <= 2],
    ["(info) throughput, fsync 'always' / mqtt.js + cbor-x", rate(always) / rate(cborxRow), '', true],
    ["(info) throughput, fsync 'never' / mqtt.js + cbor-x", rate(never) / rate(cborxRow), '', true],
  ];
  console.log('');
  for (const [name, value, target, met] of checks) console.log(`${name.padEnd(58)}${value.toFixed(2).padStart(6)}×  ${target ? `target ${target}: ${verdict(met)}` : ''}`);
  console.log('');
}
