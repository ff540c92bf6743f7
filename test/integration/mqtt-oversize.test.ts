/**
 * One oversized message must not stall sampling or fill the heap: the device states a Maximum
 * Packet Size at CONNECT (MQTT 5 §3.1.2.11.4), so an MQTT 5 broker does not send it; and under
 * 3.1.1 a packet that declares more than the limit (its Remaining Length, §2.2.3) closes the
 * connection before its body is read, and the device connects again.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { topics } from '../../sdk/encoding/topics.js';
import { maxIncomingPacketBytes } from '../../sdk/transport/mqtt/options.js';
import { startBroker } from '../support/brokers.js';
import { standInForAnotherMachine } from '../support/stand-in.js';
import { waitFor } from '../support/net.js';
import { startProbe, subscriber, type Probe, type ProbeExtras } from '../fixtures/mqtt-probe.js';
import { trackedCleanups } from '../support/cleanups.js';

const { cleanups, track } = trackedCleanups();

const REGISTER = new URL('../../bin/register-ts.js', import.meta.url).href;
const BIG_PUBLISH = fileURLToPath(new URL('../fixtures/mqtt-big-publish.ts', import.meta.url));
const MEBIBYTES = 50;
const PERIOD_MS = 10;
const EXTRAS: ProbeExtras = { properties: [{ id: 'threshold', type: 'number', unit: 'V', range: { min: 0, max: 5 }, default: 3 }] };

/** Sampling times of channel v0, and the largest gap between them after `from`. */
function cadence(probe: Probe): { times: number[]; largestGapAfter(from: number): number } {
  const times: number[] = [];
  probe.device.on('sample', (sample) => {
    if (sample.channel === 'v0') times.push(sample.time);
  });
  return {
    times,
    largestGapAfter(from) {
      let largest = 0;
      for (let i = 1; i < times.length; i++) if (times[i]! >= from) largest = Math.max(largest, times[i]! - times[i - 1]!);
      return largest;
    },
  };
}

describe('an oversized MQTT message', () => {
  it.each(['cmd/set-gain', 'property/threshold/set'])(`of ${MEBIBYTES} MiB on %s through Mosquitto leaves sampling, memory and the connection as they were`, async (suffix) => {
    const broker = track(await startBroker('mosquitto', { standIn: true }));
    const protocol = broker.protocols.includes(5) ? 5 : 4;
    const probe = track(await startProbe(broker.url, { channels: 2, rateHz: 1000 / PERIOD_MS, extras: EXTRAS }));
    const t = topics(probe.deviceId);
    const samples = cadence(probe);
    await probe.transport.start();
    await waitFor(() => probe.transport.state === 'connected', 10_000, 'the transport to connect');
    await probe.device.start();
    await waitFor(() => samples.times.length >= 100, 10_000, '1 s of samples');
    const memoryBefore = process.memoryUsage();
    const from = probe.clock.now();

    // The sender and the broker stand for other machines (nice 19, the last CPU): what is measured
    // is the message's cost to the device, not the cost of building and relaying 50 MiB here.
    const sender = spawn(process.execPath, ['--import', REGISTER, BIG_PUBLISH, broker.url, `${t.root}/${suffix}`, String(MEBIBYTES)], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (sender.pid !== undefined) standInForAnotherMachine(sender.pid);
    cleanups.push(() => void sender.kill());
    const [code] = (await once(sender, 'exit')) as [number | null];
    expect(code).toBe(0);
    // The broker has it; give it time to reach the device (or to be dropped for it), then compare.
    const sentAt = probe.clock.now();
    await waitFor(() => samples.times.at(-1)! > sentAt + 1000, 10_000, '1 s of samples after the message');
    const memoryAfter = process.memoryUsage();

    const gap = samples.largestGapAfter(from);
    const growth = Math.max(memoryAfter.rss - memoryBefore.rss, memoryAfter.heapUsed + memoryAfter.external - memoryBefore.heapUsed - memoryBefore.external);
    console.log(`oversized (${broker.kind}, MQTT ${protocol === 5 ? '5' : '3.1.1'}, ${suffix}): largest sampling gap ${gap.toFixed(1)} ms, memory growth ${(growth / 2 ** 20).toFixed(1)} MiB, ${JSON.stringify(probe.transport.status().mqtt)}`);
    // The device never read the message: an MQTT 5 broker discarded it for the device's Maximum
    // Packet Size, or (3.1.1) the connection closed at its header.
    const { commands, properties, oversizedPackets } = probe.transport.status().mqtt;
    expect(protocol === 5 ? commands.received + properties.writes : oversizedPackets).toBe(protocol === 5 ? 0 : 1);
    // Measured with the limit: growth 2.3–3.1 MiB, largest gap 13–24 ms (up to 170 ms with other
    // test files running beside this one); without it: 25–93 MiB and 557–564 ms. aedes (when
    // Mosquitto is absent and not required) runs in this process and buffers the whole message
    // itself, so there these figures are the broker's, not the device's: not asserted.
    if (broker.kind === 'mosquitto') {
      expect(growth, 'memory growth, bytes').toBeLessThan((MEBIBYTES * 2 ** 20) / 5);
      expect(gap, 'the largest sampling gap, ms').toBeLessThan(30 * PERIOD_MS);
    }
    expect(probe.device.state).toBe('running');
    await waitFor(() => probe.transport.state === 'connected', 10_000, 'the transport to be connected');
    // It still serves its commands.
    const requester = track(await subscriber(broker.url, protocol, [t.commandResult('ping')]));
    await waitFor(async () => {
      await requester.client.publishAsync(t.command('ping'), '', { qos: 1 });
      return waitFor(() => requester.on(t.commandResult('ping')).length > 0, 500, 'a pong').catch(() => false);
    }, 5000, 'a reply after the message');
  }, 60_000);

  it('under MQTT 3.1.1, closes the connection at a packet that declares more than the limit, before its body is read, and connects again', async () => {
    const broker = track(await silentBodyBroker(MEBIBYTES * 2 ** 20));
    const probe = track(await startProbe(`mqtt://127.0.0.1:${broker.port}`, { channels: 2, rateHz: 1000 / PERIOD_MS, transport: { reconnect: { minMs: 50, maxMs: 100 } } }));
    const samples = cadence(probe);
    await probe.device.start();
    const from = probe.clock.now();
    await probe.transport.start();
    await waitFor(() => broker.connections.length >= 2 && probe.transport.state === 'connected', 10_000, 'a second connection');
    await waitFor(() => samples.times.at(-1)! > probe.clock.now() - PERIOD_MS * 2 && samples.times.length >= 50, 10_000, 'samples');
    const first = broker.connections[0]!;
    console.log(`oversized (fake 3.1.1 broker): declared ${MEBIBYTES} MiB, the device read ${first.bodyWritten} bytes of it before closing; largest sampling gap ${samples.largestGapAfter(from).toFixed(1)} ms; ${JSON.stringify(probe.transport.status().mqtt)}`);
    expect(first.closedByDevice).toBe(true);
    // Only what the kernel's socket buffers took before the device closed (3.75 MiB here; their
    // limits vary by host): far less than the message.
    expect(first.bodyWritten).toBeLessThan((MEBIBYTES * 2 ** 20) / 2);
    expect(probe.transport.status().mqtt.oversizedPackets).toBeGreaterThanOrEqual(1);
    expect(probe.errors.map((error) => error.message)).toContain(`the broker sent a packet of ${first.declared} bytes, above the limit of ${maxIncomingPacketBytes({})}; connection closed before reading it`);
    // 10–15 ms measured; the bound leaves room for other test files running beside this one.
    expect(samples.largestGapAfter(from)).toBeLessThan(30 * PERIOD_MS);
  }, 30_000);
});

interface FakeConnection {
  declared: number;
  bodyWritten: number;
  closedByDevice: boolean;
}

/**
 * A 3.1.1-only broker (it refuses MQTT 5 with return code 1, as Mosquitto 1.x does) that answers
 * CONNECT and SUBSCRIBE; on the first connection, after the SUBACK it sends the head of a PUBLISH
 * declaring `bodyBytes` and then writes the body in 64 KiB pieces while the device keeps reading.
 */
async function silentBodyBroker(bodyBytes: number): Promise<{ port: number; connections: FakeConnection[]; close(): Promise<void> }> {
  const connections: FakeConnection[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    socket.on('data', (chunk) => parser.parse(chunk));
    parser.on('packet', (packet) => {
      if (packet.cmd === 'connect') {
        if (packet.protocolVersion === 5) return void socket.end(mqttPacket.generate({ cmd: 'connack', returnCode: 1, sessionPresent: false }));
        socket.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
      } else if (packet.cmd === 'subscribe') {
        socket.write(mqttPacket.generate({ cmd: 'suback', messageId: packet.messageId ?? 0, granted: packet.subscriptions.map(() => 0) }));
        const connection: FakeConnection = { declared: 0, bodyWritten: 0, closedByDevice: false };
        connections.push(connection);
        if (connections.length > 1) return;
        const topic = packet.subscriptions[0]!.topic.replace('+', 'set-gain');
        // The head of an empty PUBLISH (its topic under 126 bytes: a one-byte Remaining Length),
        // sent with the Remaining Length of the whole message: the topic's length and name, the body.
        const head = mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.alloc(0), qos: 0, dup: false, retain: false });
        const remaining = 2 + Buffer.byteLength(topic) + bodyBytes;
        const lengthBytes: number[] = [];
        for (let rest = remaining; ; ) {
          const byte = rest % 128;
          rest = Math.floor(rest / 128);
          lengthBytes.push(rest > 0 ? byte | 0x80 : byte);
          if (rest === 0) break;
        }
        connection.declared = 1 + lengthBytes.length + remaining;
        socket.write(Buffer.concat([Buffer.from([head[0]!, ...lengthBytes]), head.subarray(2)]));
        socket.on('close', () => (connection.closedByDevice = connection.bodyWritten < bodyBytes));
        const piece = Buffer.alloc(64 * 1024, 0x20);
        const pump = (): void => {
          while (!socket.destroyed && connection.bodyWritten < bodyBytes) {
            connection.bodyWritten += piece.length;
            if (!socket.write(piece)) return void socket.once('drain', pump);
          }
        };
        pump();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    connections,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
