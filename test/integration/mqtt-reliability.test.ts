/**
 * Reliability of the MQTT transport against a real broker (Mosquitto; aedes when it is absent and
 * not required), from issue 3:
 * - the broker stopped for 30 s while the device samples 10 channels at 100 Hz, then restarted:
 *   every sample arrives, in order; a duplicate only as a repeated `sensorkit-seq` (or, on 3.1.1,
 *   a byte-identical payload);
 * - 10,000 malformed command requests: each is answered or ignored, the device stays up and its
 *   sampling keeps its cadence (nine in ten intervals within half a period; the tail is printed).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { topics } from '../../sdk/encoding/topics.js';
import { startBroker } from '../support/brokers.js';
import { waitFor } from '../support/net.js';
import { standInForAnotherMachine } from '../support/stand-in.js';
import { persistentSubscriber, resolveSenmlCbor, startProbe, subscriber, type Received } from '../fixtures/mqtt-probe.js';
import { trackedCleanups } from '../support/cleanups.js';

const { cleanups, track } = trackedCleanups();

const OUTAGE_MS = 30_000;
/** Normal sampling measured before and after the flood, each, ms. */
const NORMAL_MS = 4000;
const REGISTER = new URL('../../bin/register-ts.js', import.meta.url).href;
const FLOOD = fileURLToPath(new URL('../fixtures/mqtt-flood.ts', import.meta.url));

/** The first occurrence of each message, told apart by `sensorkit-seq` (MQTT 5) or by its bytes (3.1.1). */
function firstOccurrences(messages: readonly Received[]): { unique: Received[]; duplicates: number } {
  const seen = new Map<string, Buffer>();
  const unique: Received[] = [];
  let duplicates = 0;
  for (const message of messages) {
    const seq = message.packet.properties?.userProperties?.['sensorkit-seq'];
    const key = typeof seq === 'string' ? `seq:${seq}` : `bytes:${message.payload.toString('base64')}`;
    const earlier = seen.get(key);
    if (earlier) {
      // A protocol-allowed duplicate (MQTT 5 §4.3.2) must be the same message, byte for byte.
      expect(message.payload.equals(earlier)).toBe(true);
      duplicates++;
      continue;
    }
    seen.set(key, message.payload);
    unique.push(message);
  }
  return { unique, duplicates };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

describe('MQTT reliability', () => {
  it(`loses no sample and keeps order while the broker is down for ${OUTAGE_MS / 1000} s (10 channels at 100 Hz)`, async () => {
    const broker = track(await startBroker('mosquitto', { persistence: true }));
    const protocol = broker.protocols.includes(5) ? 5 : 4;
    const probe = track(await startProbe(broker.url, { channels: 10, rateHz: 100, transport: { reconnect: { minMs: 200, maxMs: 2000 } } }));
    const t = topics(probe.deviceId);
    // A consumer with a persistent session (MQTT 5 §3.1.2.11.2; 3.1.1 Clean Session flag 0): what the
    // broker accepts while the consumer is reconnecting is kept for it.
    const consumer = track(await persistentSubscriber(broker.url, protocol, [t.telemetry], `consumer-${probe.deviceId}`));
    await probe.transport.start();
    await waitFor(() => probe.transport.state === 'connected', 10_000, 'the transport to connect');
    await probe.device.start();
    await waitFor(() => consumer.on(t.telemetry).length >= 20, 10_000, 'telemetry before the outage');

    await broker.stop();
    const before = probe.reports.length;
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS)); // the outage itself, not a wait for something
    expect(probe.transport.state).not.toBe('connected');
    expect(probe.reports.length - before).toBeGreaterThan(OUTAGE_MS * 0.9); // ~1000 samples/s went on
    expect(probe.outbox.stats().pendingRecords).toBeGreaterThan(250);
    await broker.restart();

    await waitFor(() => probe.transport.state === 'connected', 10_000, 'the transport to reconnect');
    await waitFor(() => probe.outbox.stats().pendingRecords < 5, 20_000, 'the outbox to drain');
    await probe.close(10_000);
    expect(probe.outbox.stats().pendingRecords).toBe(0);
    expect(probe.device.state).toBe('stopped');

    const expected = probe.reports.length;
    const { unique, duplicates } = await waitFor(() => {
      const result = firstOccurrences(consumer.on(t.telemetry));
      return result.unique.reduce((sum, m) => sum + resolveSenmlCbor(m.payload).length, 0) >= expected ? result : undefined;
    }, 20_000, `all ${expected} samples at the consumer`);
    const records = unique.flatMap((m) => resolveSenmlCbor(m.payload));
    expect(records).toHaveLength(expected);
    records.forEach((record, i) => {
      const sample = probe.reports[i]!;
      if (record.name !== `${probe.deviceId}/${sample.channel}` || Math.abs(record.time - sample.time / 1000) > 1e-5) {
        throw new Error(`record ${i} is ${record.name} at ${record.time}, expected ${sample.channel} at ${sample.time / 1000}`);
      }
    });
    if (protocol === 5) {
      const seqs = unique.map((m) => Number(m.packet.properties!.userProperties!['sensorkit-seq']));
      expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!)).toBe(true);
    }
    console.log(`outage: ${expected} samples in ${unique.length} messages, ${duplicates} duplicate(s) recognised, broker ${broker.kind}`);
  }, 90_000);

  it('answers or ignores 10,000 malformed command requests, stays up and keeps its sampling cadence', async () => {
    // The broker and the attacker stand for other machines; on this shared host they yield the CPU
    // to the device (nice 19, and the last CPU only), so what is measured is the flood's cost to
    // the device, not theirs.
    const broker = track(await startBroker('mosquitto', { unlimitedQueues: true, standIn: true }));
    const protocol = broker.protocols.includes(5) ? 5 : 4;
    const probe = track(await startProbe(broker.url, { channels: 10, rateHz: 100 }));
    const t = topics(probe.deviceId);
    const times: number[] = [];
    probe.device.on('sample', (sample) => {
      if (sample.channel === 'v0') times.push(sample.time);
    });
    await probe.transport.start();
    await waitFor(() => probe.transport.state === 'connected', 10_000, 'the transport to connect');
    await probe.device.start();
    await waitFor(() => times.length >= 500, 10_000, '5 s of samples before the flood');
    const attackerStart = probe.clock.now();

    // The attacker is another process, so that producing the flood costs this process nothing.
    const attacker = spawn(process.execPath, ['--import', REGISTER, FLOOD, broker.url, t.root, '10000', '419'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (attacker.pid !== undefined) standInForAnotherMachine(attacker.pid);
    cleanups.push(() => void attacker.kill());
    const exited = once(attacker, 'exit') as Promise<[number | null]>;
    await waitFor(() => probe.transport.status().mqtt.commands.received > 0, 15_000, 'the flood to start');
    const floodStart = probe.clock.now() - 25; // the first request arrived within the last poll (20 ms)
    const cpuAtStart = process.cpuUsage();
    const [code] = await exited;
    expect(code).toBe(0);
    await waitFor(() => probe.transport.status().mqtt.commands.received >= 10_001, 20_000, 'the flood to reach the device').catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(probe.transport.status())}`);
    });
    const floodEnd = probe.clock.now() + 100; // and the slice still running
    const cpu = process.cpuUsage(cpuAtStart);
    await waitFor(() => times.length > 0 && times[times.length - 1]! > floodEnd + NORMAL_MS, 10_000, 'samples after the flood');

    /** |Δt − 10 ms| of the sampling intervals that lie within [from, to]. */
    const deviation = (from: number, to: number): number[] => {
      const out: number[] = [];
      for (let i = 1; i < times.length; i++) if (times[i - 1]! >= from && times[i]! <= to) out.push(Math.abs(times[i]! - times[i - 1]! - 10));
      return out;
    };
    // Normal: the seconds before the attacker started (its own start-up loads the host) and after
    // the flood, in the same run, so the bound follows the host's load at the time.
    const normal = [...deviation(attackerStart - NORMAL_MS, attackerStart), ...deviation(floodEnd, floodEnd + NORMAL_MS)];
    const flooded = deviation(floodStart, floodEnd);
    // What the design guarantees, with margins the host's noise cannot cross: sampling goes on at
    // its rate through the flood (no more than 10 % of the ticks missing) and 95 % of the intervals
    // stay within half a period (5 ms) of 10 ms, so the samples stay in their own periods. The worst
    // few percent are the garbage collector: while the flood is parsed (mqtt.js allocates ~25 MB/s)
    // young-generation collections take 5–14 ms where they take 1–3 normally. How the flood's
    // percentiles compare with the normal ones of the same run is printed, not asserted: two
    // percentiles of one noisy run cross now and then (flood p90 0.03–1.75 ms against a normal p99
    // of 0.2–3.0 ms).
    const halfPeriod = 5;
    const beyondNormal = flooded.filter((deviation) => deviation > percentile(normal, 100)).length;
    const stats = probe.transport.status().mqtt.commands;
    const show = (values: number[]): string => [50, 90, 99, 100].map((p) => percentile(values, p).toFixed(2)).join('/');
    console.log(
      `flood: ${stats.received} requests in ${(floodEnd - floodStart).toFixed(0)} ms (this process: ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU), ` +
        `${stats.answered} answered, ${stats.ignored} ignored; ` +
        `cadence |Δt − 10 ms| p50/p90/p99/max normal ${show(normal)} ms (${normal.length} intervals), ` +
        `flood ${show(flooded)} ms (${flooded.length} intervals), p95 ${percentile(flooded, 95).toFixed(2)} ms, ${beyondNormal} beyond the normal max`,
    );
    expect(probe.device.state).toBe('running');
    expect(probe.transport.state).toBe('connected');
    expect(stats.answered + stats.ignored).toBe(stats.received);
    // Replies are rate-limited: a burst of 100 plus 50/s.
    expect(stats.answered).toBeLessThanOrEqual(100 + Math.ceil(((floodEnd - floodStart) / 1000) * 50) + 5);
    // Sampling went on at its rate through the flood: no more than 10 % of the ticks missing.
    expect(flooded.length).toBeGreaterThan(((floodEnd - floodStart) / 10) * 0.9);
    expect(percentile(flooded, 95), "the flood's p95 against half a period").toBeLessThanOrEqual(halfPeriod);

    // And it still answers once the bucket has refilled.
    const requester = track(await subscriber(broker.url, protocol, [t.commandResult('ping')]));
    const answered = requester.on(t.commandResult('ping')).length;
    await waitFor(async () => {
      await requester.client.publishAsync(t.command('ping'), '', { qos: 1 });
      return waitFor(() => requester.on(t.commandResult('ping')).length > answered, 500, 'a pong').catch(() => false);
    }, 5000, 'a reply after the flood');
  }, 60_000);
});
