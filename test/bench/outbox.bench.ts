/**
 * Durable outbox append throughput: 200-byte payloads appended under each fsync policy, beside raw
 * writes of the same 200 bytes to one file (`appendFileSync`'s work on an open descriptor: write(2)
 * alone, and write(2) + fdatasync(2) per record, the floor of any durable-per-record queue). Prints
 * appends/s and payload MB/s; asserts nothing. Each run is time-boxed (`--seconds`, default 2) and
 * capped at `--records` (default 200 000) so the outbox stays within its 64 MiB bound.
 *
 * The outbox runs twice per policy: one append at a time (each awaited before the next, the cost of
 * a lone call) and with `--window` appends in flight (default 64, what a producer faster than the
 * disk does, e.g. the MQTT transport), where group commit writes and fsyncs them together. Last,
 * append + ack with `--window` in flight: what the transport does per record.
 *
 *   node --import ./bin/register-ts.js test/bench/outbox.bench.ts [--seconds=2] [--records=200000] [--window=64]
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededRandom } from '../../sdk/core/random.js';
import { DurableOutbox, type FsyncPolicy } from '../../sdk/transport/outbox/index.js';
import { option } from './options.js';

const SECONDS = option('seconds', 2);
const RECORDS = option('records', 200_000);
const WINDOW = option('window', 64);
const PAYLOAD_BYTES = 200;

const random = new SeededRandom(7);
const payload = Uint8Array.from({ length: PAYLOAD_BYTES }, () => random.nextUint32() & 0xff);

interface Result {
  name: string;
  records: number;
  seconds: number;
}

/** Calls `step` with `window` calls in flight until the time box or the record cap is reached. */
async function timed(name: string, step: () => unknown, window = 1): Promise<Result> {
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  let records = 0;
  let over = false;
  const worker = async (): Promise<void> => {
    while (!over && records < RECORDS) {
      records++;
      await step();
      if ((records & 15) === 0 && performance.now() >= deadline) over = true;
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return { name, records, seconds: (performance.now() - start) / 1000 };
}

async function outbox(policy: FsyncPolicy, window = 1): Promise<Result> {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-bench-'));
  try {
    const box = await DurableOutbox.open({ dir, fsync: policy });
    const name = `DurableOutbox fsync '${policy}'${window > 1 ? ` ×${window}` : ''}`;
    const result = await timed(name, () => box.append(payload), window);
    await box.close();
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What the MQTT transport does with each record: append, then acknowledge it once appended (as on
 * its PUBACK), `window` records in flight. Acks share journal writes (ack-lane.ts).
 */
async function appendAndAck(policy: FsyncPolicy, window: number): Promise<Result> {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-bench-'));
  try {
    const box = await DurableOutbox.open({ dir, fsync: policy });
    const result = await timed(`append + ack '${policy}' ×${window}`, async () => {
      const entry = await box.append(payload);
      void box.ack(entry.seq); // not awaited: the transport does not wait for its acks either
    }, window);
    await box.close();
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function raw(sync: boolean): Promise<Result> {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-bench-'));
  const fd = openSync(join(dir, 'raw.log'), 'a');
  try {
    return await timed(sync ? 'raw write + fdatasync' : 'raw write (appendFileSync)', () => {
      writeSync(fd, payload);
      if (sync) fdatasyncSync(fd);
    });
  } finally {
    closeSync(fd);
    await rm(dir, { recursive: true, force: true });
  }
}

/** The same writes through node:fs/promises, as the outbox does them (libuv thread pool per call). */
async function rawAsync(sync: boolean): Promise<Result> {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-bench-'));
  const handle = await open(join(dir, 'raw.log'), 'a');
  try {
    return await timed(sync ? 'raw FileHandle write+datasync' : 'raw FileHandle.write', async () => {
      await handle.write(payload);
      if (sync) await handle.datasync();
    });
  } finally {
    await handle.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const results = [
  await raw(false),
  await rawAsync(false),
  await outbox('never'),
  await outbox('never', WINDOW),
  await outbox('batch'),
  await outbox('batch', WINDOW),
  await raw(true),
  await rawAsync(true),
  await outbox('always'),
  await outbox('always', WINDOW),
  await appendAndAck('never', WINDOW),
  await appendAndAck('always', WINDOW),
];
console.log(`${PAYLOAD_BYTES}-byte payloads, up to ${SECONDS} s or ${RECORDS} records per run (×N: N appends in flight), Node ${process.version}, ${process.platform}`);
console.log(`${'run'.padEnd(32)} ${'records'.padStart(8)} ${'appends/s'.padStart(11)} ${'MB/s'.padStart(8)}`);
for (const { name, records, seconds } of results) {
  const rate = records / seconds;
  console.log(`${name.padEnd(32)} ${String(records).padStart(8)} ${Math.round(rate).toLocaleString('en').padStart(11)} ${((rate * PAYLOAD_BYTES) / 1e6).toFixed(2).padStart(8)}`);
}
