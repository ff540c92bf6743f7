/**
 * The pipelined group commit of fsync 'always' (append-lane.ts, `Segment.appendPipelined`): the next
 * group is written while the earlier groups' fdatasync runs, groups become durable in order, and a
 * failed fdatasync fails its group and every later group not yet durable, never an earlier one.
 * The segment file's write(2) and fdatasync(2) are held and released (or failed) one by one through
 * the FileHandle prototype, so each interleaving is exact.
 */
import { readlinkSync } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { StorageError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { DurableOutbox, type OutboxEntry, type OutboxOptions } from '../../sdk/transport/outbox/index.js';

const dirs: string[] = [];
const opened: DurableOutbox[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.allSettled(opened.splice(0).map((outbox) => outbox.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function openOutbox(options: Partial<OutboxOptions> = {}): Promise<DurableOutbox> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'outbox-pipeline-')));
  if (!dirs.includes(dir)) dirs.push(dir);
  const outbox = await DurableOutbox.open({ clock: new VirtualClock(), fsync: 'always', ...options, dir });
  opened.push(outbox);
  return outbox;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (entry: OutboxEntry): string => new TextDecoder().decode(entry.payload);

/** A held write(2) or fdatasync(2) of a segment file. */
interface Held {
  readonly kind: 'write' | 'datasync';
  /** Lets it run (`fail`: makes it fail with EIO instead). */
  release(fail?: boolean): void;
}

/**
 * Holds every write and fdatasync of a segment file (`*.seg`) until released, in call order;
 * other files (the journal, `.tmp` files) run as usual.
 */
async function holdSegmentIo(
  kinds: ReadonlyArray<Held['kind']> = ['write', 'datasync'],
): Promise<{ next(kind: Held['kind']): Promise<Held>; take(kind: Held['kind']): Held | undefined; counts: { write: number; datasync: number } }> {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-pipeline-probe-'));
  dirs.push(dir);
  const probe = await open(join(dir, 'probe'), 'w');
  await probe.close();
  const prototype = Object.getPrototypeOf(probe) as FileHandle;
  const queue: Held[] = [];
  const arrivals: Array<() => void> = [];
  const counts = { write: 0, datasync: 0 };
  const hold = (kind: Held['kind'], handle: FileHandle, run: () => Promise<unknown>): Promise<unknown> => {
    if (!kinds.includes(kind) || !readlinkSync(`/proc/self/fd/${handle.fd}`).endsWith('.seg')) return run();
    counts[kind]++;
    return new Promise((resolve, reject) => {
      queue.push({
        kind,
        release: (fail = false) => (fail ? reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })) : run().then(resolve, reject)),
      });
      for (const arrived of arrivals.splice(0)) arrived();
    });
  };
  const write = prototype.write;
  const datasync = prototype.datasync;
  vi.spyOn(prototype, 'write').mockImplementation(function (this: FileHandle, ...args: unknown[]) {
    return hold('write', this, () => (write as (...a: unknown[]) => Promise<unknown>).apply(this, args)) as never;
  });
  vi.spyOn(prototype, 'datasync').mockImplementation(function (this: FileHandle) {
    return hold('datasync', this, () => datasync.call(this)) as never;
  });
  const take = (kind: Held['kind']): Held | undefined => {
    const index = queue.findIndex((held) => held.kind === kind);
    return index >= 0 ? queue.splice(index, 1)[0] : undefined;
  };
  return {
    counts,
    take,
    async next(kind) {
      for (;;) {
        const index = queue.findIndex((held) => held.kind === kind);
        if (index >= 0) return queue.splice(index, 1)[0]!;
        await new Promise<void>((resolve) => arrivals.push(resolve));
      }
    },
  };
}

/** Records the outcome of an append as it settles. */
function track(promise: Promise<OutboxEntry>): { outcome: () => 'pending' | 'durable' | 'failed'; error: () => unknown; done: Promise<void> } {
  let outcome: 'pending' | 'durable' | 'failed' = 'pending';
  let error: unknown;
  const done = promise.then(
    () => void (outcome = 'durable'),
    (e: unknown) => {
      outcome = 'failed';
      error = e;
    },
  );
  return { outcome: () => outcome, error: () => error, done };
}

/** Lets the outbox's promise chains and thread-pool callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

describe("DurableOutbox: pipelined commits under fsync 'always'", () => {
  it("writes the next groups while an fdatasync runs, covers them with one fdatasync, and settles them in order", async () => {
    const outbox = await openOutbox();
    const io = await holdSegmentIo();
    const order: string[] = [];
    const first = outbox.append(bytes('A')).then((entry) => (order.push(text(entry)), entry));
    (await io.next('write')).release();
    const sync1 = await io.next('datasync'); // A's fdatasync, held
    const later = ['B', 'C'].map((payload) => outbox.append(bytes(payload)).then((entry) => (order.push(text(entry)), entry)));
    (await io.next('write')).release(); // B and C: one group, written while A's fdatasync runs
    await settle();
    expect(io.counts).toEqual({ write: 2, datasync: 1 }); // the second group waits for no fdatasync to write
    expect(order).toEqual([]);
    sync1.release();
    await first;
    expect(order).toEqual(['A']); // B and C are written, not yet durable
    (await io.next('datasync')).release(); // one fdatasync for the groups written meanwhile
    await Promise.all(later);
    expect(order).toEqual(['A', 'B', 'C']);
    expect(io.counts).toEqual({ write: 2, datasync: 2 });
  });

  it('fails the 2nd of 4 fdatasyncs while the 3rd write is in flight: that group and the later unacknowledged one fail, the durable ones survive a reopen', async () => {
    const outbox = await openOutbox();
    const dir = dirs.at(-1)!;
    const io = await holdSegmentIo();
    /** Every record handed to `written` (published early by a transport), in order. */
    const published: Array<{ text: string; seq: number }> = [];
    const append = (payload: string) => track(outbox.append(bytes(payload), (entry) => published.push({ text: text(entry), seq: entry.seq })));

    const a = append('A');
    (await io.next('write')).release();
    const sync1 = await io.next('datasync'); // covers A
    const b = append('B');
    (await io.next('write')).release(); // B written while A's fdatasync runs (B is published now)
    sync1.release();
    await a.done;
    const sync2 = await io.next('datasync'); // covers B
    const c = append('C');
    const write3 = await io.next('write'); // C's write in flight
    const seqB = published.find((p) => p.text === 'B')!.seq;
    const ackB = outbox.ack(seqB); // a PUBACK of the early-published B: waits for B's group
    sync2.release(true); // the 2nd fdatasync fails
    await settle();
    expect([a.outcome(), b.outcome(), c.outcome()]).toEqual(['durable', 'pending', 'pending']); // C's write still in flight
    write3.release();
    await Promise.all([b.done, c.done]);
    expect([a.outcome(), b.outcome(), c.outcome()]).toEqual(['durable', 'failed', 'failed']);
    expect(b.error()).toBeInstanceOf(StorageError);
    expect(String(b.error())).toMatch(/fdatasync failed: EIO/);
    expect(c.error()).toBe(b.error());
    await ackB; // an ack of a failed record does nothing
    expect(outbox.pending().map(text)).toEqual(['A']);

    // The outbox goes on: the 3rd and 4th fdatasyncs succeed.
    const d = append('D');
    (await io.next('write')).release();
    (await io.next('datasync')).release();
    await d.done;
    const e = append('E');
    (await io.next('write')).release();
    (await io.next('datasync')).release();
    await e.done;
    expect([d.outcome(), e.outcome()]).toEqual(['durable', 'durable']);
    expect(io.counts).toEqual({ write: 5, datasync: 4 });
    expect(published.map((p) => p.text)).toEqual(['A', 'B', 'C', 'D', 'E']); // each told once
    const seqs = published.map((p) => p.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(5); // a failed seq is never handed out again
    vi.restoreAllMocks();

    // A and D acknowledged (after their PUBACKs); E not.
    const seqOf = (t: string): number => published.find((p) => p.text === t)!.seq;
    await Promise.all([outbox.ack(seqOf('A')), outbox.ack(seqOf('D'))]);
    await outbox.close();
    const reopened = await openOutbox({ dir });
    // Nothing acknowledged is returned again, nothing durable and unacknowledged is lost (E is
    // delivered again, as at-least-once allows), nothing that failed comes back.
    expect(reopened.pending().map((entry) => [text(entry), entry.seq])).toEqual([['E', seqOf('E')]]);
    expect(reopened.stats()).toMatchObject({ recoveredTornRecords: 0, corruptRecords: 0 });
  });

  it('never takes a group that was durable before the failed fdatasync, and cuts the file back to the failed group', async () => {
    const outbox = await openOutbox();
    const dir = dirs.at(-1)!;
    const io = await holdSegmentIo();
    const groups = [track(outbox.append(bytes('A')))];
    const write1 = await io.next('write'); // A is its own group; B and C join the next one
    groups.push(...['B', 'C'].map((payload) => track(outbox.append(bytes(payload)))));
    write1.release();
    const sync1 = await io.next('datasync');
    (await io.next('write')).release();
    sync1.release();
    const sync2 = await io.next('datasync');
    await groups[0]!.done;
    const d = track(outbox.append(bytes('D')));
    (await io.next('write')).release(); // D written while B+C's fdatasync runs
    await settle();
    sync2.release(true);
    await Promise.all([...groups, d].map((g) => g.done));
    expect([...groups, d].map((g) => g.outcome())).toEqual(['durable', 'failed', 'failed', 'failed']);
    expect(io.counts.datasync).toBe(2); // no fdatasync for D: it failed with the groups before it
    const stats = outbox.stats();
    expect(stats.pendingRecords).toBe(1);
    vi.restoreAllMocks();
    const f = await outbox.append(bytes('F'));
    await outbox.close();
    const reopened = await openOutbox({ dir });
    expect(reopened.pending().map(text)).toEqual(['A', 'F']);
    expect(reopened.pending()[1]!.seq).toBe(f.seq);
    expect(reopened.stats()).toMatchObject({ recoveredTornRecords: 0, corruptRecords: 0 });
  });

  it("under 'batch', writes appends while the timed fdatasync runs, and reports its failure to the next append", async () => {
    const clock = new VirtualClock();
    const outbox = await openOutbox({ clock, fsync: 'batch', fsyncIntervalMs: 50 });
    const dir = dirs.at(-1)!;
    const io = await holdSegmentIo(['datasync']);
    const a = await outbox.append(bytes('A'));
    await clock.advance(50);
    const timed = await io.next('datasync'); // the timed fdatasync, held
    const b = await outbox.append(bytes('B')); // resolves (written) while it runs
    expect(io.counts.datasync).toBe(1);
    timed.release(true);
    await settle();
    await expect(outbox.append(bytes('C'))).rejects.toThrow(/fdatasync failed: EIO/); // reported once
    vi.restoreAllMocks();
    const d = await outbox.append(bytes('D'));
    await outbox.close();
    const reopened = await openOutbox({ dir });
    expect(reopened.pending().map((entry) => [text(entry), entry.seq])).toEqual([
      ['A', a.seq],
      ['B', b.seq],
      ['D', d.seq],
    ]);
  });

  it.each([1, 2, 3, 4, 5, 6])('keeps the failure rule over a seeded random interleaving of appends, writes and fdatasyncs (seed %i)', async (seed) => {
    const random = new SeededRandom(seed);
    const outbox = await openOutbox();
    const dir = dirs.at(-1)!;
    const io = await holdSegmentIo();
    interface Call {
      readonly text: string;
      seq?: number;
      told: number;
      outcome: 'pending' | 'durable' | 'failed';
    }
    const calls: Call[] = [];
    /** Seqs in the order their appends settled. */
    const settledSeqs: number[] = [];
    let failedSyncs = 0;
    const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 3));
    for (let step = 0; step < 60; step++) {
      const roll = random.next();
      if (roll < 0.35) {
        const call: Call = { text: `p${calls.length}`, told: 0, outcome: 'pending' };
        calls.push(call);
        outbox
          .append(bytes(call.text), (entry) => {
            call.seq = entry.seq;
            call.told++;
          })
          .then(
            (entry) => {
              call.outcome = 'durable';
              settledSeqs.push(entry.seq);
            },
            () => {
              call.outcome = 'failed';
              settledSeqs.push(call.seq ?? Number.NaN);
            },
          );
      } else if (roll < 0.65) {
        io.take('write')?.release();
      } else {
        const sync = io.take('datasync');
        const fail = random.next() < 0.3;
        if (sync && fail) failedSyncs++;
        sync?.release(fail);
      }
      await tick();
    }
    // Let everything finish.
    while (calls.some((call) => call.outcome === 'pending')) {
      io.take('write')?.release();
      io.take('datasync')?.release();
      await tick();
    }
    vi.restoreAllMocks();
    const durable = calls.filter((call) => call.outcome === 'durable');
    const failed = calls.filter((call) => call.outcome === 'failed');
    // Appends settle in seq order (a failed write that never got a seq settles in call order too).
    const numbered = settledSeqs.filter((seq) => !Number.isNaN(seq));
    expect(numbered).toEqual([...numbered].sort((a, b) => a - b));
    // A failure never takes a group durable before it: each stays durable, in pending().
    for (const call of calls) expect(call.told).toBeLessThanOrEqual(1);
    for (const call of durable) expect(call.told).toBe(1);
    expect(outbox.pending().map(text)).toEqual(durable.map((call) => call.text));
    // Acknowledge every other durable record, then reopen: the rest comes back, once, in order;
    // nothing acknowledged and nothing failed does.
    const acked = durable.filter((_, k) => k % 2 === 0);
    await Promise.all(acked.map((call) => outbox.ack(call.seq!)));
    await outbox.close();
    const reopened = await openOutbox({ dir });
    const expected = durable.filter((_, k) => k % 2 === 1);
    expect(reopened.pending().map((entry) => [text(entry), entry.seq])).toEqual(expected.map((call) => [call.text, call.seq]));
    expect(reopened.stats()).toMatchObject({ recoveredTornRecords: 0, corruptRecords: 0 });
    expect(new Set(calls.filter((c) => c.seq !== undefined).map((c) => c.seq)).size).toBe(calls.filter((c) => c.seq !== undefined).length);
    // The interleaving did exercise the rule: some fdatasync failed and took appends with it, some succeeded.
    expect({ failedSyncs: failedSyncs > 0, failed: failed.length > 0, durable: durable.length > 0 }).toEqual({ failedSyncs: true, failed: true, durable: true });
  });
});
