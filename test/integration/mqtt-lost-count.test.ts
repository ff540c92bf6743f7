/**
 * `TransportStatus.lost` when the outbox fails to store a batch that was already handed on to be
 * published: under fsync `always` a record is told `written` (and may be published) before its
 * fdatasync, and its append may reject afterwards. Such a batch is lost only if the broker never
 * acknowledges it: acknowledged before or after the failure, it was delivered; dropped with the
 * connection before its PUBACK, or still queued at stop, it was not (the outbox no longer holds it
 * for a resend).
 */
import { connect, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom, SystemClock } from '../../sdk/core/index.js';
import { StorageError } from '../../sdk/core/errors.js';
import type { Sample } from '../../sdk/model/index.js';
import { MqttTransport } from '../../sdk/transport/mqtt/index.js';
import type { OutboxEntry, TelemetryEncoder, TelemetryOutbox } from '../../sdk/transport/mqtt/contracts.js';
import { startBroker, type TestBroker } from '../support/brokers.js';
import { trackedCleanups } from '../support/cleanups.js';
import { waitFor } from '../support/net.js';

const { cleanups, track } = trackedCleanups();

/** An outbox whose appends the test settles: each record is told `written` at once (as under fsync `always`). */
class HeldOutbox implements TelemetryOutbox {
  readonly #settle = new Map<number, { resolve(entry: OutboxEntry): void; reject(error: Error): void; entry: OutboxEntry }>();
  #seq = 0;
  readonly acked: number[] = [];

  append(payload: Uint8Array, written: (entry: OutboxEntry) => void): Promise<OutboxEntry> {
    const entry = { seq: ++this.#seq, payload, appendedAt: 0 };
    written(entry);
    return new Promise((resolve, reject) => this.#settle.set(entry.seq, { resolve, reject, entry }));
  }

  /** Fails the append of `seq`, as a failed fdatasync does. */
  fail(seq: number): void {
    const held = this.#settle.get(seq)!;
    this.#settle.delete(seq);
    held.reject(new StorageError('/outbox/00000001.seg', 'fdatasync failed: EIO: i/o error'));
  }

  /** Makes every held append durable. */
  settleAll(): void {
    for (const [seq, held] of this.#settle) {
      this.#settle.delete(seq);
      held.resolve(held.entry);
    }
  }

  pending(): readonly OutboxEntry[] {
    // A failed record leaves pending(); the held ones are still in it.
    return [...this.#settle.values()].map((held) => held.entry).filter((entry) => !this.acked.includes(entry.seq));
  }

  ack(seq: number): Promise<void> {
    this.acked.push(seq);
    return Promise.resolve();
  }

  stats(): { pendingRecords: number; pendingBytes: number; droppedRecords: number; droppedBytes: number } {
    return { pendingRecords: this.#settle.size, pendingBytes: 0, droppedRecords: 0, droppedBytes: 0 };
  }
}

/** A relay that can hold the broker's replies (so a PUBLISH stays in flight) and cut the link. */
async function startHoldingProxy(targetPort: number): Promise<{ url: string; hold(): void; release(): void; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let holding = false;
  const held: Array<() => void> = [];
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (holding) held.push(() => client.write(chunk));
      else client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    hold: () => (holding = true),
    release: () => {
      holding = false;
      for (const write of held.splice(0)) write();
    },
    cut: () => {
      held.length = 0;
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

const encoder: TelemetryEncoder = { contentType: 'application/octet-stream', encode: (_deviceId, batch) => new Uint8Array([batch[0]!.value!]) };

describe('MqttTransport lost count with records that failed to store after they were written', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker('mosquitto');
  });
  afterAll(() => broker.close());

  function transportOn(url: string, outbox: TelemetryOutbox): { transport: MqttTransport; errors: Error[] } {
    const transport = new MqttTransport({
      url,
      deviceId: `lost-${process.pid}-${Math.floor(Math.random() * 1e9)}`,
      clock: new SystemClock(),
      outbox,
      encoder,
      batch: { maxSamples: 1 },
      reconnect: { minMs: 50, maxMs: 200 },
      random: new SeededRandom(7),
    });
    const errors: Error[] = [];
    transport.on('error', (error) => errors.push(error));
    cleanups.push(() => transport.stop({ flushMs: 0 }));
    return { transport, errors };
  }

  it('does not count a batch acknowledged by the broker before its fdatasync failed', async () => {
    const outbox = new HeldOutbox();
    const { transport, errors } = transportOn(broker.url, outbox);
    await transport.start();
    await waitFor(() => transport.state === 'connected', 10_000, 'the transport to connect');
    transport.send({ value: 1 } as Sample);
    transport.send({ value: 2 } as Sample);
    await waitFor(() => transport.status().acknowledged === 2, 10_000, 'both PUBACKs');
    outbox.fail(1);
    await waitFor(() => errors.length === 1, 5_000, 'the storage error');
    outbox.settleAll();
    await transport.stop({ flushMs: 1000 });
    expect(errors[0]).toBeInstanceOf(StorageError);
    expect(transport.status()).toMatchObject({ published: 2, acknowledged: 2, lost: 0 });
  });

  it('does not count a batch in flight when its fdatasync failed and acknowledged afterwards; counts one whose link dropped before its PUBACK', async () => {
    const proxy = track(await startHoldingProxy(broker.port));
    const outbox = new HeldOutbox();
    const { transport, errors } = transportOn(proxy.url, outbox);
    await transport.start();
    await waitFor(() => transport.state === 'connected', 10_000, 'the transport to connect');

    // Seq 1: published, its PUBACK held; its fdatasync fails; then the PUBACK arrives: delivered.
    proxy.hold();
    transport.send({ value: 1 } as Sample);
    await waitFor(() => transport.status().published === 1, 5_000, 'the first PUBLISH');
    outbox.fail(1);
    await waitFor(() => errors.length === 1, 5_000, 'the first storage error');
    proxy.release();
    await waitFor(() => transport.status().acknowledged === 1, 5_000, 'the first PUBACK');
    expect(transport.status().lost).toBe(0);

    // Seq 2: published, its PUBACK held; its fdatasync fails; the link drops: never acknowledged,
    // and no longer in the outbox to be sent again: lost.
    proxy.hold();
    transport.send({ value: 2 } as Sample);
    await waitFor(() => transport.status().published === 2, 5_000, 'the second PUBLISH');
    outbox.fail(2);
    await waitFor(() => errors.length === 2, 5_000, 'the second storage error');
    proxy.cut();
    await waitFor(() => transport.state !== 'connected', 5_000, 'the link to drop');
    proxy.release();
    await waitFor(() => transport.state === 'connected', 10_000, 'the transport to reconnect');
    expect(transport.status().lost).toBe(1);

    // Seq 3 goes out normally after the reconnect.
    transport.send({ value: 3 } as Sample);
    await waitFor(() => transport.status().acknowledged === 2, 5_000, 'the third PUBACK');
    outbox.settleAll();
    await transport.stop({ flushMs: 1000 });
    expect(transport.status()).toMatchObject({ acknowledged: 2, lost: 1 });
    expect(errors.filter((error) => error instanceof StorageError)).toHaveLength(2);
  });

  it('counts a batch written while offline whose store failed, once, at stop', async () => {
    const outbox = new HeldOutbox();
    const { transport, errors } = transportOn('mqtt://127.0.0.1:1', outbox);
    await transport.start();
    transport.send({ value: 1 } as Sample);
    transport.send({ value: 2 } as Sample);
    outbox.fail(1);
    await waitFor(() => errors.some((error) => error instanceof StorageError), 5_000, 'the storage error');
    outbox.settleAll();
    await transport.stop({ flushMs: 0 });
    expect(transport.status().lost).toBe(1);
  });
});
