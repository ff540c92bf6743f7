/**
 * Publish throughput and end-to-end latency: MqttTransport with the durable outbox (fsync 'never'
 * and 'always') against raw mqtt.js publishing the same SenML-CBOR payloads at QoS 1 with the same
 * MQTT 5 properties (content type, message expiry, a `sensorkit-seq` user property: what issue 3
 * requires of telemetry), to the same broker (Mosquitto when installed, else aedes in process).
 * Prints a table; asserts nothing.
 *
 *   node --import ./bin/register-ts.js test/bench/publish.bench.ts [--batches=2000] [--repeats=5] [--warmup=2000] [--rate=200] [--seconds=5]
 *
 * CPU per batch is given twice: the whole process (every thread, the subscriber worker included)
 * and the main thread alone (Linux), where the publisher's own work runs.
 * Each publisher first runs a warm-up pass of `--warmup` batches (not measured: JIT, socket and
 * file caches), then:
 * - throughput, `--repeats` times, interleaved with the other publishers (raw, never, always,
 *   raw …, so a change in the machine's load colours all alike): `--batches` batches offered at
 *   once, time from the first offer to the last PUBACK (raw keeps 100 in flight, as the transport
 *   does); the median is reported, with the CPU time per batch;
 * - latency: batches offered at `--rate` per second for `--seconds`, paced by plain timers (not
 *   the SystemClock's precise waits, whose spinning would delay the measurement itself); latency =
 *   receipt at a subscriber − the publish call, both read from the same wall clock
 *   (`performance.timeOrigin + performance.now()`). For the transport the publish call is the
 *   first `send()` of the batch's samples (batching, encoding and the outbox append are inside
 *   the figure); for raw mqtt.js it is `publish()` of the encoded payload. The subscriber runs in
 *   a worker thread, so its receipt times do not wait on either publisher's event loop.
 * Targets (issue 3): throughput with the outbox ≥ 0.8× raw; p99 latency ≤ 2× raw. A last row, not a
 * target, encodes each batch from its samples at the offer (raw mqtt.js above publishes the payloads
 * encoded beforehand), to show how much of the difference is the SenML encoding.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
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

  /** Raw mqtt.js; with `encode`, it encodes each batch from its samples at the offer, as the transport must. */
  async function rawPublisher(encode = false): Promise<Publisher> {
    const ownEncoder = new SenmlCborEncoder();
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: protocol, reconnectPeriod: 0 });
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
        const payload = encode ? Buffer.from(ownEncoder.encode(DEVICE, batches[i]!)) : payloads[i]!;
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
  async function latency(publisher: Publisher, row: Row): Promise<void> {
    await ask({ kind: 'record' });
    const offeredAt = new Map<number, number>();
    const begin = performance.now();
    for (let n = 0; n < LATENCY_BATCHES; n++) {
      const due = begin + (n * 1000) / RATE;
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
    latencies.sort((a, b) => a - b);
    Object.assign(row, { received: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99) });
  }

  const contenders: Array<{ name: string; make: () => Promise<Publisher> }> = [
    { name: `raw mqtt.js QoS 1${protocol === 5 ? ' + properties' : ''}`, make: () => rawPublisher() },
    { name: "MqttTransport + outbox (fsync 'never')", make: () => transportPublisher('never') },
    { name: "MqttTransport + outbox (fsync 'always')", make: () => transportPublisher('always') },
    // Not a target: how much of the gap is SenML encoding, which raw mqtt.js above does not do.
    { name: 'raw mqtt.js, encoding each batch (info)', make: () => rawPublisher(true) },
  ];
  const publishers: Publisher[] = [];
  const rows: Row[] = [];
  for (const { name, make } of contenders) {
    const publisher = await make();
    // Warm-up pass, not measured (JIT, socket buffers, file cache).
    for (let i = 0; i < WARMUP; i++) publisher.offer(i % BATCHES);
    await publisher.drained();
    publishers.push(publisher);
    rows.push({ name, rates: [], cpu: [], mainCpu: [], received: 0, p50: Number.NaN, p99: Number.NaN });
  }
  // Repeats interleaved (raw, never, always, raw, …), so a change in the machine's load during the
  // run colours every publisher alike.
  for (let r = 0; r < REPEATS; r++) for (const [k, publisher] of publishers.entries()) await throughput(publisher, rows[k]!);
  for (const [k, publisher] of publishers.entries()) await latency(publisher, rows[k]!);
  for (const publisher of publishers) await publisher.close();
  await worker.terminate();
  await broker.close();

  const header = ['publisher', 'batches/s', 'samples/s', 'CPU µs/batch', 'main µs/batch', 'repeats (batches/s)', 'received', 'p50 ms', 'p99 ms'];
  const widths = [44, 11, 11, 14, 15, 32, 11, 9, 9];
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('');
  console.log(
    `\nPublish to ${broker.kind} (MQTT ${protocol === 5 ? '5' : '3.1.1'}), ${PER_BATCH} samples per batch (${payloads[0]!.length} bytes); ` +
      `throughput: ${BATCHES} batches × ${REPEATS} repeats after ${WARMUP} warm-up, median; latency: ${RATE}/s for ${SECONDS} s\n`,
  );
  console.log(line(header));
  for (const row of rows) {
    const rate = median(row.rates);
    console.log(line([row.name, rate.toFixed(0), (rate * PER_BATCH).toFixed(0), median(row.cpu).toFixed(0), median(row.mainCpu).toFixed(0), row.rates.map((r) => r.toFixed(0)).join(' '), `${row.received}/${LATENCY_BATCHES}`, row.p50.toFixed(2), row.p99.toFixed(2)]));
  }
  const raw = rows[0]!;
  const ratio = (row: Row): string => (median(row.rates) / median(raw.rates)).toFixed(2);
  const slower = (row: Row): string => (row.p99 / raw.p99).toFixed(2);
  console.log(
    `\nthroughput vs raw: fsync never ${ratio(rows[1]!)}×, fsync always ${ratio(rows[2]!)}× (target ≥ 0.8×); ` +
      `p99 latency vs raw: ${slower(rows[1]!)}×, ${slower(rows[2]!)}× (target ≤ 2×)\n`,
  );
}
