/**
 * Publish throughput and end-to-end latency: MqttTransport with the durable outbox (fsync 'never'
 * and 'always') against raw mqtt.js publishing the same SenML-CBOR payloads at QoS 1, to the same
 * broker (Mosquitto when installed, else aedes in process), same data. Prints a table; asserts nothing.
 *
 *   node --import ./bin/register-ts.js test/bench/publish.bench.ts [--batches=2000] [--rate=200] [--seconds=5]
 *
 * Throughput: every batch offered at once; time from the first offer to the last PUBACK (raw keeps
 * 100 in flight, as the transport does). Latency: batches offered at `--rate` per second for
 * `--seconds`; latency = subscriber receive time − offer time (for the transport, the offer is the
 * `send()` of the batch's last sample: encoding and the outbox append are inside the figure).
 * Targets (issue 3): throughput with the outbox ≥ 0.8× raw; p99 latency ≤ 2× raw.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { SystemClock } from '../../sdk/core/clock.js';
import { SenmlCborEncoder } from '../../sdk/encoding/senml-cbor.js';
import { GOOD, type Sample } from '../../sdk/model/sample.js';
import { MqttTransport } from '../../sdk/transport/mqtt/mqtt-transport.js';
import { DurableOutbox, type FsyncPolicy } from '../../sdk/transport/outbox/index.js';
import { startBroker } from '../support/brokers.js';
import { option } from './options.js';

const BATCHES = option('batches', 2000);
const RATE = option('rate', 200);
const SECONDS = option('seconds', 5);
const PER_BATCH = 100;
const DEVICE = 'bench-device-1';
const TOPIC = `sensorkit/v1/${DEVICE}/telemetry`;

const clock = new SystemClock();
const start = Date.UTC(2026, 0, 1);
/** Batch i: 10 channels × 10 samples at 1 kHz, distinct times so every payload is unique. */
function batch(i: number): Sample[] {
  return Array.from({ length: PER_BATCH }, (_, k) => ({ channel: `c${k % 10}`, time: start + i * 100 + k, value: 20 + Math.sin(i + k) * 5, unit: 'Cel', quality: GOOD }));
}
const batches = Array.from({ length: Math.max(BATCHES, RATE * SECONDS) }, (_, i) => batch(i));
const encoder = new SenmlCborEncoder();
const payloads = batches.map((samples) => Buffer.from(encoder.encode(DEVICE, samples)));
const indexOf = new Map(payloads.map((payload, i) => [payload.toString('base64'), i]));

const broker = await startBroker('mosquitto');
const protocol = broker.protocols.includes(5) ? 5 : 4;

/** A subscriber that records when each payload arrives. */
async function listen(): Promise<{ received: Map<number, number>; client: MqttClient }> {
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: protocol, reconnectPeriod: 0 });
  const received = new Map<number, number>();
  client.on('message', (_topic, payload) => {
    const i = indexOf.get(payload.toString('base64'));
    if (i !== undefined && !received.has(i)) received.set(i, clock.now());
  });
  await client.subscribeAsync(TOPIC, { qos: 1 });
  return { received, client };
}

interface Publisher {
  /** Offers batch i; resolves when the broker acknowledged it (raw) or at once (transport). */
  offer(i: number): void;
  /** Resolves when everything offered is acknowledged. */
  drained(): Promise<void>;
  close(): Promise<void>;
}

async function rawPublisher(): Promise<Publisher> {
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: protocol, reconnectPeriod: 0 });
  let inflight = 0;
  let waiting: number[] = [];
  let acked = 0;
  let offered = 0;
  let wake: (() => void) | undefined;
  const pump = (): void => {
    while (inflight < 100 && waiting.length) {
      const i = waiting.shift()!;
      inflight++;
      client.publish(TOPIC, payloads[i]!, { qos: 1 }, () => {
        inflight--;
        acked++;
        pump();
        if (acked === offered) wake?.();
      });
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
  const outbox = await DurableOutbox.open({ dir, fsync, maxBytes: 1 << 30, segmentBytes: 16 << 20 });
  const transport = new MqttTransport({ url: broker.url, deviceId: DEVICE, clock, outbox, encoder: new SenmlCborEncoder(), batch: { maxSamples: PER_BATCH, maxDelayMs: 1000 } });
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

async function measure(name: string, make: () => Promise<Publisher>): Promise<string[]> {
  // Throughput: everything at once.
  let publisher = await make();
  const t0 = clock.now();
  for (let i = 0; i < BATCHES; i++) publisher.offer(i);
  await publisher.drained();
  const seconds = (clock.now() - t0) / 1000;
  await publisher.close();
  // Latency: paced offers, a fresh publisher and subscriber.
  const { received, client } = await listen();
  publisher = await make();
  const offeredAt = new Map<number, number>();
  const count = RATE * SECONDS;
  const begin = clock.now();
  for (let i = 0; i < count; i++) {
    const due = begin + (i * 1000) / RATE;
    if (due > clock.now()) await new Promise<void>((resolve) => clock.schedule(due, resolve));
    offeredAt.set(i, clock.now());
    publisher.offer(i);
  }
  await publisher.drained();
  const deadline = clock.now() + 5000;
  while (received.size < count && clock.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await publisher.close();
  await client.endAsync();
  const latencies = [...received].map(([i, at]) => at - offeredAt.get(i)!).sort((a, b) => a - b);
  return [
    name,
    (BATCHES / seconds).toFixed(0),
    ((BATCHES * PER_BATCH) / seconds).toFixed(0),
    `${received.size}/${count}`,
    percentile(latencies, 50).toFixed(2),
    percentile(latencies, 99).toFixed(2),
  ];
}

const rows = [
  await measure('raw mqtt.js QoS 1', rawPublisher),
  await measure("MqttTransport + outbox (fsync 'never')", () => transportPublisher('never')),
  await measure("MqttTransport + outbox (fsync 'always')", () => transportPublisher('always')),
];
await broker.close();

const header = ['publisher', 'batches/s', 'samples/s', 'received', 'p50 ms', 'p99 ms'];
const widths = [42, 11, 12, 12, 9, 9];
const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('');
console.log(`\nPublish to ${broker.kind} (MQTT ${protocol === 5 ? '5' : '3.1.1'}), ${PER_BATCH} samples per batch (${payloads[0]!.length} bytes), ${BATCHES} batches for throughput, ${RATE}/s for ${SECONDS} s for latency\n`);
console.log(line(header));
for (const row of rows) console.log(line(row));
const raw = Number(rows[0]![2]);
console.log(`\nthroughput vs raw: fsync never ${(Number(rows[1]![2]) / raw).toFixed(2)}×, fsync always ${(Number(rows[2]![2]) / raw).toFixed(2)}× (target ≥ 0.8×); p99 latency vs raw: ${(Number(rows[1]![5]) / Number(rows[0]![5])).toFixed(2)}×, ${(Number(rows[2]![5]) / Number(rows[0]![5])).toFixed(2)}× (target ≤ 2×)\n`);
