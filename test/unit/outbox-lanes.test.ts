/**
 * The outbox's two lanes (ack-lane.ts, append-lane.ts): acks are batched into the journal beside the
 * appends, one promise per batch, and an append never waits for an ack's fdatasync.
 */
import { readlinkSync } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { DurableOutbox, type OutboxOptions } from '../../sdk/transport/outbox/index.js';

const dirs: string[] = [];
const opened: DurableOutbox[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.allSettled(opened.splice(0).map((outbox) => outbox.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function openOutbox(options: Partial<OutboxOptions> = {}): Promise<DurableOutbox> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'outbox-lanes-')));
  if (!dirs.includes(dir)) dirs.push(dir);
  const outbox = await DurableOutbox.open({ clock: new VirtualClock(), fsync: 'always', ...options, dir });
  opened.push(outbox);
  return outbox;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** The FileHandle prototype, to spy on its methods. */
async function fileHandlePrototype(): Promise<FileHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-lanes-probe-'));
  dirs.push(dir);
  const probe = await open(join(dir, 'probe'), 'w');
  await probe.close();
  return Object.getPrototypeOf(probe) as FileHandle;
}

describe('DurableOutbox: the ack and append lanes', () => {
  it('gives the acks of one turn one promise and one journal write, and settles them in call order', async () => {
    const outbox = await openOutbox({ fsync: 'never' });
    const entries = await Promise.all(['a', 'b', 'c', 'd'].map((text) => outbox.append(bytes(text))));
    const prototype = await fileHandlePrototype();
    const writes = vi.spyOn(prototype, 'write');
    const first = outbox.ack(entries[0]!.seq);
    const second = outbox.ack(entries[2]!.seq);
    const again = outbox.ack(entries[0]!.seq);
    expect(second).toBe(first);
    expect(again).toBe(first);
    const order: number[] = [];
    await Promise.all([first.then(() => order.push(1)), second.then(() => order.push(2))]);
    expect(order).toEqual([1, 2]);
    expect(writes).toHaveBeenCalledTimes(1); // the journal: 2 ack frames (the repeat is dropped) in one write(2)
    expect(outbox.pending().map((e) => e.seq)).toEqual([entries[1]!.seq, entries[3]!.seq]);
    // A later turn: a new batch, a new promise.
    const later = outbox.ack(entries[1]!.seq);
    expect(later).not.toBe(first);
    await later;
  });

  it("does not hold an append behind an ack's fdatasync, and keeps both durable", async () => {
    const outbox = await openOutbox();
    const dir = dirs.at(-1)!;
    const [one] = await Promise.all([outbox.append(bytes('one'))]);
    // Hold every fdatasync of the ack journal until released; segments sync as usual.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const prototype = await fileHandlePrototype();
    const datasync = prototype.datasync;
    vi.spyOn(prototype, 'datasync').mockImplementation(async function (this: FileHandle) {
      if (readlinkSync(`/proc/self/fd/${this.fd}`).endsWith('acks.log')) await gate;
      return datasync.call(this);
    });
    let acked = false;
    const ack = outbox.ack(one!.seq).then(() => (acked = true));
    const two = await outbox.append(bytes('two')); // resolves while the ack's fdatasync is held
    expect(acked).toBe(false);
    expect(outbox.pending().map((e) => e.seq)).toEqual([one!.seq, two.seq]); // not yet applied
    release();
    await ack;
    expect(outbox.pending().map((e) => e.seq)).toEqual([two.seq]);
    await outbox.close();
    const reopened = await openOutbox({ dir });
    expect(reopened.pending().map((e) => new TextDecoder().decode(e.payload))).toEqual(['two']);
  });

  it('writes an ack of a record whose append is still in flight only after the record', async () => {
    const outbox = await openOutbox();
    const dir = dirs.at(-1)!;
    await outbox.append(bytes('zero'));
    const appended = outbox.append(bytes('one')); // seq 2, not yet staged
    const ack = outbox.ack(2);
    await Promise.all([appended, ack]);
    expect(outbox.pending().map((e) => e.seq)).toEqual([1]);
    await outbox.close();
    expect((await openOutbox({ dir })).pending().map((e) => e.seq)).toEqual([1]);
  });
});
