import { execFileSync } from 'node:child_process';
import { fstatSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, open, readdir, readFile, rm, rmdir, stat, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { ArgumentError, StateError, StorageError } from '../../sdk/core/errors.js';
import { OutboxDrain } from '../../sdk/transport/mqtt/outbox-drain.js';
import { FILE_HEADER_BYTES, FileKind, FrameKind, checkFileHeader, encodeFileHeader, scanFrames, writeFrame, type FormatVersion } from '../../sdk/transport/outbox/frame.js';
import { DurableOutbox, crc32, type OutboxEntry, type OutboxOptions } from '../../sdk/transport/outbox/index.js';
import { PEERS_REQUIRED } from '../support/peers.js';

const FRAME_HEADER = 25;
const dirs: string[] = [];
const opened: DurableOutbox[] = [];

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((outbox) => outbox.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-test-'));
  dirs.push(dir);
  return dir;
}

async function openOutbox(options: OutboxOptions): Promise<DurableOutbox> {
  const outbox = await DurableOutbox.open({ clock: new VirtualClock(), fsync: 'never', ...options });
  opened.push(outbox);
  return outbox;
}

async function reopen(outbox: DurableOutbox, options: OutboxOptions): Promise<DurableOutbox> {
  await outbox.close();
  return openOutbox(options);
}

const text = (entry: OutboxEntry): string => new TextDecoder().decode(entry.payload);
const bytes = (value: string): Uint8Array => new TextEncoder().encode(value);
const payloadOf = (n: number, size = 40): Uint8Array => bytes(`record ${n} `.padEnd(size, '.'));
const segmentFiles = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((name) => name.endsWith('.seg')).sort();

/** A file of `kind` in format 1 (CRC-32C), as sensorkit before 0.4 wrote it. */
function v1File(kind: FileKind, frames: ReadonlyArray<{ kind: FrameKind; seq: number; payload?: Uint8Array }>): Uint8Array {
  const file = new Uint8Array(FILE_HEADER_BYTES + frames.reduce((sum, frame) => sum + FRAME_HEADER + (frame.payload?.length ?? 0), 0));
  file.set(encodeFileHeader(kind, 1), 0);
  let offset = FILE_HEADER_BYTES;
  for (const frame of frames) offset = writeFrame(file, offset, frame.kind, frame.seq, Date.UTC(2026, 0, 1), frame.payload ?? new Uint8Array(0), 1);
  return file;
}

/** The frames of an outbox file read in format `version`: their seqs, damage and torn tail. */
function scanFile(file: Uint8Array, version: FormatVersion): { seqs: number[]; corruptRegions: number; tornTail: boolean } {
  expect(checkFileHeader(file, file[8] as FileKind)).toBe(version);
  const scan = scanFrames(file, FILE_HEADER_BYTES, [FrameKind.data, FrameKind.ack, FrameKind.reserve], 1 << 20, false, version);
  return { seqs: scan.frames.map((frame) => frame.seq), corruptRegions: scan.corruptRegions, tornTail: scan.tornTail };
}

async function appendMany(outbox: DurableOutbox, count: number, size = 40, from = 0): Promise<OutboxEntry[]> {
  const entries: OutboxEntry[] = [];
  for (let n = from; n < from + count; n++) entries.push(await outbox.append(payloadOf(n, size)));
  return entries;
}

describe('DurableOutbox: order and acknowledgements', () => {
  it('returns appended entries in order with increasing seqs, and never an acknowledged one', async () => {
    const clock = new VirtualClock({ start: 1_000 });
    const outbox = await openOutbox({ dir: await tempDir(), clock });
    const a = await outbox.append(bytes('a'));
    await clock.advance(5);
    const b = await outbox.append(bytes('b'));
    const c = await outbox.append(bytes('c'));
    expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 3]);
    expect([a.appendedAt, b.appendedAt]).toEqual([1_000, 1_005]);
    expect(outbox.pending().map(text)).toEqual(['a', 'b', 'c']);
    expect(outbox.pending(2).map(text)).toEqual(['a', 'b']);
    await outbox.ack(a.seq);
    expect(outbox.pending().map(text)).toEqual(['b', 'c']);
    await outbox.ack(a.seq); // again: no effect
    expect(outbox.stats()).toMatchObject({ pendingRecords: 2, pendingBytes: 2, droppedRecords: 0 });
  });

  it('copies the payload: changing the caller buffer afterwards changes nothing', async () => {
    const outbox = await openOutbox({ dir: await tempDir() });
    const buffer = bytes('abc');
    await outbox.append(buffer);
    buffer[0] = 0x7a;
    expect(outbox.pending().map(text)).toEqual(['abc']);
  });

  it('accepts acks out of order and keeps the rest in order, also after a restart', async () => {
    const dir = await tempDir();
    let outbox = await openOutbox({ dir });
    await appendMany(outbox, 6);
    await outbox.ack(5);
    await outbox.ack(2);
    await outbox.ack(6);
    expect(outbox.pending().map((e) => e.seq)).toEqual([1, 3, 4]);
    outbox = await reopen(outbox, { dir });
    expect(outbox.pending().map((e) => e.seq)).toEqual([1, 3, 4]);
    expect(outbox.pending().map(text)).toEqual([1, 3, 4].map((n) => text({ seq: 0, appendedAt: 0, payload: payloadOf(n - 1) })));
  });

  it('keeps pending entries with their original seq and appendedAt across restarts, and never reuses a seq', async () => {
    const dir = await tempDir();
    const clock = new VirtualClock({ start: 50_000 });
    let outbox = await openOutbox({ dir, clock });
    const first: OutboxEntry[] = [];
    for (let n = 0; n < 5; n++) {
      first.push(await outbox.append(payloadOf(n)));
      await clock.advance(1.25);
    }
    outbox = await reopen(outbox, { dir, clock: new VirtualClock({ start: 99_000 }) });
    const after = outbox.pending();
    expect(after.map((e) => [e.seq, e.appendedAt, text(e)])).toEqual(first.map((e) => [e.seq, e.appendedAt, text(e)]));
    const next = await outbox.append(bytes('later'));
    expect(next.seq).toBeGreaterThan(5);
    expect(next.appendedAt).toBe(99_000);
    // Everything acknowledged and deleted: the next seq is still higher.
    for (const entry of outbox.pending()) await outbox.ack(entry.seq);
    outbox = await reopen(outbox, { dir });
    expect(outbox.pending()).toEqual([]);
    expect((await outbox.append(bytes('x'))).seq).toBeGreaterThan(next.seq);
  });

  it('never returns acknowledged entries after a reopen, across segments and journal compactions', async () => {
    const dir = await tempDir();
    const options = { dir, segmentBytes: 1024, maxBytes: 1 << 20 };
    let outbox = await openOutbox(options);
    const entries = await appendMany(outbox, 400);
    // Acknowledge all of the first 300 and two of every three after, in a scrambled order.
    const acked = entries.filter((e) => e.seq <= 300 || e.seq % 3 !== 0).map((e) => e.seq);
    for (let i = 0; i < acked.length; i++) await outbox.ack(acked[(i * 7) % acked.length]!);
    const expected = entries.filter((e) => e.seq > 300 && e.seq % 3 === 0).map((e) => e.seq);
    expect(outbox.pending().map((e) => e.seq)).toEqual(expected);
    // The acks of deleted segments were compacted away on the way.
    expect((await stat(join(dir, 'acks.log'))).size).toBeLessThan((acked.length / 2) * FRAME_HEADER);
    outbox = await reopen(outbox, options);
    expect(outbox.pending().map((e) => e.seq)).toEqual(expected);
    expect(outbox.stats().recoveredTornRecords).toBe(0);
  });

  it('keeps the seq reservations made after a journal compaction failed past its rename (a seq is never handed out twice)', async () => {
    const dir = await tempDir();
    const options = { dir, segmentBytes: 1024, maxBytes: 1 << 20 };
    let outbox = await openOutbox(options);
    const entries = await appendMany(outbox, 300);
    // The fsync of the directory that follows the journal's rename fails, once (EIO): the new
    // journal is in place, the call fails. Recognised by the journal's inode having changed.
    const probe = await open(join(await tempDir(), 'probe'), 'w');
    const prototype = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const journal = join(dir, 'acks.log');
    const firstInode = (await stat(journal)).ino;
    const sync = prototype.sync;
    let failed = 0;
    vi.spyOn(prototype, 'sync').mockImplementation(function (this: FileHandle) {
      if (fstatSync(this.fd).isDirectory()) {
        if (failed === 0 && statSync(journal).ino !== firstInode) {
          failed++;
          return Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
        }
      }
      return sync.call(this);
    });
    let rejected = 0;
    let next = 0;
    while (failed === 0 && next < 280) await outbox.ack(entries[next++]!.seq).catch(() => rejected++);
    expect(failed).toBe(1); // a compaction ran into the failure…
    expect(rejected).toBeGreaterThan(0); // …and its batch of acks was told so (acking again is harmless)
    vi.restoreAllMocks();
    // Before any other ack (whose compaction would rewrite the journal again): seqs past the first
    // reserved block. The reservation must reach the journal at its path, not the file it replaced.
    const more = await appendMany(outbox, 800, 40, 300);
    expect(more.at(-1)!.seq).toBeGreaterThan(1024);
    const expected = [...entries.slice(next), ...more].map(text);
    outbox = await reopen(outbox, options);
    expect(outbox.pending().map(text)).toEqual(expected);
    expect((await outbox.append(bytes('after'))).seq).toBeGreaterThan(2048); // the block 1025–2048 stays reserved
  });

  it('keeps call order for concurrent appends and acks', async () => {
    const outbox = await openOutbox({ dir: await tempDir(), segmentBytes: 1024 });
    const entries = await Promise.all(Array.from({ length: 100 }, (_, n) => outbox.append(payloadOf(n))));
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, n) => n + 1));
    expect(outbox.pending().map(text)).toEqual(entries.map(text));
    await Promise.all(entries.slice(0, 50).map((e) => outbox.ack(e.seq)));
    expect(outbox.pending().map((e) => e.seq)).toEqual(entries.slice(50).map((e) => e.seq));
  });
});

describe('DurableOutbox: segments and the byte bound', () => {
  it('rolls segments over and deletes a segment once all of its records are acknowledged', async () => {
    const dir = await tempDir();
    const outbox = await openOutbox({ dir, segmentBytes: 1024 });
    const entries = await appendMany(outbox, 60); // 65-byte frames: 15 per segment
    const files = await segmentFiles(dir);
    expect(files.length).toBe(4);
    expect(files[0]).toBe('000000000001.seg');
    expect(outbox.stats().segments).toBe(4);
    // Acking the first 14 of segment 1 keeps it; the 15th deletes it. Out of order works too.
    for (const entry of entries.slice(1, 15)) await outbox.ack(entry.seq);
    expect(await segmentFiles(dir)).toContain('000000000001.seg');
    await outbox.ack(entries[0]!.seq);
    expect(await segmentFiles(dir)).not.toContain('000000000001.seg');
    expect(outbox.stats().segments).toBe(3);
    // The newest segment is never deleted (its name bounds the next seq), even when fully acked.
    for (const entry of entries.slice(15)) await outbox.ack(entry.seq);
    expect(await segmentFiles(dir)).toEqual([files.at(-1)]);
  });

  it('drops the oldest segments when full, counts what it dropped, and stays within maxBytes', async () => {
    const dir = await tempDir();
    const options = { dir, segmentBytes: 1024, maxBytes: 4096 };
    let outbox = await openOutbox(options);
    const appended: OutboxEntry[] = [];
    for (let n = 0; n < 300; n++) {
      appended.push(await outbox.append(payloadOf(n, 75))); // 100-byte frames
      const stats = outbox.stats();
      expect(stats.diskBytes).toBeLessThanOrEqual(4096);
      const onDisk = await Promise.all((await segmentFiles(dir)).map(async (name) => (await stat(join(dir, name))).size));
      expect(onDisk.reduce((a, b) => a + b, 0)).toBe(stats.diskBytes);
    }
    const stats = outbox.stats();
    expect(stats.droppedRecords).toBeGreaterThan(0);
    expect(stats.droppedRecords + stats.pendingRecords).toBe(300);
    expect(stats.droppedBytes).toBe(stats.droppedRecords * 75);
    // What is left is the newest records, in order, without gaps.
    const pending = outbox.pending();
    expect(pending.map((e) => e.seq)).toEqual(appended.slice(stats.droppedRecords).map((e) => e.seq));
    // Whole segments are dropped: 10 records fit in a 1 KiB segment.
    expect(stats.droppedRecords % 10).toBe(0);
    // Acknowledging a dropped record is harmless.
    await outbox.ack(1);
    expect(outbox.stats()).toEqual(stats);
    outbox = await reopen(outbox, options);
    expect(outbox.pending().map((e) => e.seq)).toEqual(pending.map((e) => e.seq));
  });

  it('rejects a payload that cannot fit in one segment', async () => {
    const outbox = await openOutbox({ dir: await tempDir(), segmentBytes: 1024 });
    await expect(outbox.append(new Uint8Array(1024 - 41 + 1))).rejects.toThrow(expect.objectContaining({ name: 'ArgumentError', code: 'ERR_ARGUMENT' }));
    await expect(outbox.append(new Uint8Array(1024 - 41))).resolves.toMatchObject({ seq: 1 });
  });
});

describe('DurableOutbox: recovery', () => {
  it('cuts a torn last record at every byte offset and keeps every earlier record', async () => {
    const pristine = await tempDir();
    const options = { segmentBytes: 1024 };
    const outbox = await openOutbox({ dir: pristine, ...options });
    const entries = await appendMany(outbox, 20, 30); // 55-byte frames; two segments
    await outbox.close();
    const last = (await segmentFiles(pristine)).at(-1)!;
    const size = (await stat(join(pristine, last))).size;
    const lastStart = size - (FRAME_HEADER + 30);
    for (let cut = lastStart; cut < size; cut++) {
      const dir = await tempDir();
      await cp(pristine, dir, { recursive: true });
      await truncate(join(dir, last), cut);
      let reopened = await openOutbox({ dir, ...options });
      expect(reopened.pending().map(text)).toEqual(entries.slice(0, -1).map(text));
      expect(reopened.stats().recoveredTornRecords).toBe(cut === lastStart ? 0 : 1);
      expect((await stat(join(dir, last))).size).toBe(lastStart);
      // Appends after recovery follow the last valid record, and the tail stays clean.
      const next = await reopened.append(bytes('after'));
      expect(next.seq).toBeGreaterThan(entries.at(-1)!.seq);
      reopened = await reopen(reopened, { dir, ...options });
      expect(reopened.pending().map(text)).toEqual([...entries.slice(0, -1).map(text), 'after']);
      expect(reopened.stats().recoveredTornRecords).toBe(0);
      await reopened.close();
      await rm(dir, { recursive: true });
    }
  });

  it('skips a record damaged in the middle of an earlier segment, counts it and reads on', async () => {
    const dir = await tempDir();
    const options = { dir, segmentBytes: 1024 };
    let outbox = await openOutbox(options);
    const entries = await appendMany(outbox, 40, 30); // 55-byte frames: 18 per segment
    const first = join(dir, (await segmentFiles(dir))[0]!);
    const file = await readFile(first);
    // Damage record 5 (index 4) in its payload and record 10 (index 9) in its length field.
    file[16 + 4 * 55 + 30]! ^= 0x01;
    file[16 + 9 * 55 + 2]! ^= 0x40;
    await writeFile(first, file);
    outbox = await reopen(outbox, options);
    const expected = entries.filter((_, index) => index !== 4 && index !== 9);
    expect(outbox.pending().map(text)).toEqual(expected.map(text));
    expect(outbox.stats()).toMatchObject({ corruptRecords: 2, recoveredTornRecords: 0 });
  });

  it('cuts a torn ack at the end of the journal: that record is delivered again, never lost', async () => {
    const dir = await tempDir();
    let outbox = await openOutbox({ dir });
    await appendMany(outbox, 3);
    await outbox.ack(1);
    await outbox.ack(2);
    await outbox.close();
    const journal = join(dir, 'acks.log');
    await truncate(journal, (await stat(journal)).size - 10);
    outbox = await openOutbox({ dir });
    expect(outbox.pending().map((e) => e.seq)).toEqual([2, 3]);
    expect(outbox.stats().recoveredTornRecords).toBe(1);
  });

  it('reads an outbox written in format 1 (CRC-32C), appends to it, and moves to format 2 as files are replaced', async () => {
    // test/fixtures/outbox-v1: written by the format-1 outbox (segmentBytes 1024, fsync 'always'):
    // records 1–9 of 300 bytes in three segments, 1, 2 and 5 acknowledged.
    const dir = await tempDir();
    await cp(join(import.meta.dirname, '../fixtures/outbox-v1'), dir, { recursive: true });
    const versionOf = async (name: string): Promise<number> => (await readFile(join(dir, name)))[9]!;
    const options: OutboxOptions = { dir, segmentBytes: 1024 };
    let outbox = await openOutbox(options);
    const v1Record = (n: number): string => `v1 record ${n}`.padEnd(300, '.');
    expect(outbox.pending().map((entry) => [entry.seq, text(entry), entry.appendedAt])).toEqual(
      [3, 4, 6, 7, 8, 9].map((n) => [n, v1Record(n), Date.UTC(2026, 0, 1) + (n - 2) * 10]),
    );
    expect(outbox.stats()).toMatchObject({ pendingRecords: 6, recoveredTornRecords: 0, corruptRecords: 0 });
    // The newest (format 1) segment is full at this size: these roll over to format 2 segments.
    // (Appending to a format 1 segment: the test below.)
    const added = await appendMany(outbox, 4, 300);
    for (const entry of [3, 4, 6]) await outbox.ack(entry);
    outbox = await reopen(outbox, options);
    expect(outbox.pending().map(text)).toEqual([...[7, 8, 9].map(v1Record), ...added.map(text)]);
    const names = await segmentFiles(dir);
    expect(names[0]).toBe('000000000007.seg');
    expect(await versionOf(names[0]!)).toBe(1);
    expect(await versionOf(names.at(-1)!)).toBe(2);
    // Compacted at the reopen (the acks of the deleted segments 1 and 4 are dropped): format 2 now.
    expect(await versionOf('acks.log')).toBe(2);
    // An ack written after the rewrite is in format 2 too, and read back (else: a torn tail).
    await outbox.ack(7);
    outbox = await reopen(outbox, options);
    expect(outbox.pending().map(text)).toEqual([...[8, 9].map(v1Record), ...added.map(text)]);
    expect(outbox.stats()).toMatchObject({ recoveredTornRecords: 0, corruptRecords: 0 });
    expect(scanFile(await readFile(join(dir, 'acks.log')), 2)).toMatchObject({ corruptRegions: 0, tornTail: false });
  });

  it('appends records, acks and a seq reservation to format 1 files in format 1, after cutting a torn tail and skipping a damaged record', async () => {
    const dir = await tempDir();
    const payload = (n: number): Uint8Array => bytes(`v1 #${n}`.padEnd(20, '.'));
    // Segment 1 (format 1): records 1–4, record 2 damaged, and half a frame of record 5 (a torn tail).
    const segment = v1File(FileKind.segment, [1, 2, 3, 4, 5].map((seq) => ({ kind: FrameKind.data, seq, payload: payload(seq) })));
    const torn = segment.subarray(0, segment.length - FRAME_HEADER - 20 + 30);
    torn[16 + (FRAME_HEADER + 20) + FRAME_HEADER + 3]! ^= 0x40;
    await writeFile(join(dir, '000000000001.seg'), torn);
    // Journal (format 1): seqs reserved up to 6, 3 acknowledged.
    await writeFile(join(dir, 'acks.log'), v1File(FileKind.ackJournal, [{ kind: FrameKind.reserve, seq: 6 }, { kind: FrameKind.ack, seq: 3 }]));
    const options: OutboxOptions = { dir, fsync: 'always' };
    let outbox = await openOutbox(options);
    expect(outbox.pending().map((entry) => entry.seq)).toEqual([1, 4]);
    expect(outbox.stats()).toMatchObject({ recoveredTornRecords: 1, corruptRecords: 1 });
    // Past the reservation: a reservation frame, then the records, then an ack, all in format 1.
    const added = await appendMany(outbox, 3, 20);
    expect(added.map((entry) => entry.seq)).toEqual([7, 8, 9]);
    await outbox.ack(7);
    await outbox.close();
    const segmentScan = scanFile(await readFile(join(dir, '000000000001.seg')), 1);
    expect(segmentScan).toMatchObject({ corruptRegions: 1, tornTail: false, seqs: [1, 3, 4, 7, 8, 9] });
    const journalScan = scanFile(await readFile(join(dir, 'acks.log')), 1);
    expect(journalScan).toMatchObject({ corruptRegions: 0, tornTail: false, seqs: [6, 3, 1030, 7] });
    outbox = await openOutbox(options);
    expect(outbox.pending().map((entry) => [entry.seq, text(entry)])).toEqual([[1, 'v1 #1'], [4, 'v1 #4'], [8, text(added[1]!)], [9, text(added[2]!)]].map(([seq, value]) => [seq, String(value).padEnd(20, '.')]));
    expect(outbox.stats()).toMatchObject({ recoveredTornRecords: 0, corruptRecords: 1 });
    expect((await outbox.append(bytes('next'))).seq).toBe(1031); // above the format 1 reservation
  });

  it('refuses a directory holding a file that is not the outbox\'s, with a StorageError naming it', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'notes.txt'), 'hello');
    await expect(DurableOutbox.open({ dir })).rejects.toThrow(/notes\.txt: is not an outbox file/);

    // A file under an outbox name whose header is intact (its CRC holds) but of a format this
    // version does not read: a newer sensorkit's, not damage (damage is set aside: outbox-damage.test.ts).
    const other = await tempDir();
    const newer = encodeFileHeader(FileKind.segment);
    newer[9] = 3;
    new DataView(newer.buffer).setUint32(12, crc32(newer, 0, 12), true);
    await writeFile(join(other, '000000000001.seg'), newer);
    const error = await DurableOutbox.open({ dir: other }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('ERR_STORAGE');
    expect((error as StorageError).path).toBe(join(other, '000000000001.seg'));
    expect((error as StorageError).message).toMatch(/outbox format version 3 is not supported/);
    // The directory is free again after a failed open.
    await rm(join(other, '000000000001.seg'));
    await expect(openOutbox({ dir: other })).resolves.toBeInstanceOf(DurableOutbox);
  });

  it('creates a missing directory and removes leftovers of an interrupted create', async () => {
    const dir = join(await tempDir(), 'a', 'b');
    let outbox = await openOutbox({ dir });
    await outbox.append(bytes('x'));
    await outbox.close();
    await writeFile(join(dir, '000000000009.seg.tmp'), 'half written');
    outbox = await openOutbox({ dir });
    expect(outbox.pending().map(text)).toEqual(['x']);
    expect((await readdir(dir)).sort()).toEqual(['000000000001.seg', 'acks.log', 'outbox.lock']);
    await outbox.close();
    expect((await readdir(dir)).sort()).toEqual(['000000000001.seg', 'acks.log']);
  });
});

describe('DurableOutbox: errors and state', () => {
  it('rejects a failed rollover with a StorageError naming the path, and loses nothing', async () => {
    const dir = await tempDir();
    const options = { dir, segmentBytes: 1024 };
    let outbox = await openOutbox(options);
    const entries = await appendMany(outbox, 15); // fills segment 1 (15 × 65 + 16 bytes)
    // Something in the way of the next segment's temporary file makes its creation fail (EISDIR).
    const blocker = join(dir, '000000000016.seg.tmp');
    await mkdir(blocker);
    const error = await outbox.append(payloadOf(99)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).path).toBe(blocker);
    expect(outbox.pending().map(text)).toEqual(entries.map(text));
    await rmdir(blocker);
    const next = await outbox.append(bytes('unblocked'));
    expect(next.seq).toBe(16); // the failed append wrote nothing and spent no seq
    outbox = await reopen(outbox, options);
    expect(outbox.pending().map(text)).toEqual([...entries.map(text), 'unblocked']);
  });

  it('rejects appends with ENOSPC as a StorageError when the disk is full, keeping what was stored', async () => {
    // A real full disk needs a small tmpfs: only possible as root with CAP_SYS_ADMIN. CI runs as
    // root and requires it (SENSORKIT_REQUIRE_PEERS=1); elsewhere the case can only be exercised there.
    const dir = await tempDir();
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    } catch (error) {
      if (PEERS_REQUIRED) throw new Error('mounting a 64 KiB tmpfs failed; CI must run as root to test a full disk', { cause: error });
      return;
    }
    try {
      const outbox = await openOutbox({ dir, segmentBytes: 16 * 1024, maxBytes: 1 << 20, fsync: 'always' });
      const stored: string[] = [];
      let error: unknown;
      for (let n = 0; n < 1000 && error === undefined; n++) {
        await outbox.append(payloadOf(n, 1000)).then((entry) => stored.push(text(entry)), (e: unknown) => (error = e));
      }
      expect(error).toBeInstanceOf(StorageError);
      expect((error as Error).message).toMatch(/ENOSPC/);
      expect(outbox.pending().map(text)).toEqual(stored);
      await outbox.close();
      const reopened = await openOutbox({ dir, segmentBytes: 16 * 1024, maxBytes: 1 << 20 });
      expect(reopened.pending().map(text)).toEqual(stored);
      await reopened.close();
    } finally {
      execFileSync('umount', [dir]);
    }
  });

  it('validates options and arguments precisely', async () => {
    const dir = await tempDir();
    await expect(DurableOutbox.open({ dir, segmentBytes: 100 })).rejects.toThrow('Expected `segmentBytes` to be an integer from 1024 to 2^30, got 100');
    await expect(DurableOutbox.open({ dir, segmentBytes: 4096, maxBytes: 5000 })).rejects.toThrow(/`maxBytes`.*at least 2 × segmentBytes \(8192\)/);
    await expect(DurableOutbox.open({ dir, fsync: 'sometimes' as 'always' })).rejects.toThrow(/`fsync`/);
    await expect(DurableOutbox.open({ dir, fsyncInterval: 5 } as OutboxOptions)).rejects.toThrow('Unknown outbox option `fsyncInterval`');
    const outbox = await openOutbox({ dir });
    await expect(DurableOutbox.open({ dir })).rejects.toThrow(StateError);
    await expect(outbox.ack(1)).rejects.toThrow('Expected `seq` to be one appended before (below 1), got 1');
    await expect(outbox.ack(0)).rejects.toThrow(ArgumentError);
    await expect(outbox.append('text' as unknown as Uint8Array)).rejects.toThrow(ArgumentError);
    await outbox.close();
    await outbox.close();
    await expect(outbox.append(bytes('late'))).rejects.toThrow(StateError);
  });

  it('under the batch policy arms one fsync timer per interval on the clock', async () => {
    const clock = new VirtualClock();
    const dir = await tempDir();
    const outbox = await openOutbox({ dir, clock, fsync: 'batch', fsyncIntervalMs: 50 });
    expect(clock.pending).toBe(0);
    await outbox.append(bytes('a'));
    await outbox.append(bytes('b'));
    await outbox.ack(1);
    expect(clock.pending).toBe(1);
    await clock.advance(50);
    expect(clock.pending).toBe(0);
    await outbox.append(bytes('c'));
    expect(clock.pending).toBe(1);
    await outbox.close();
    expect(clock.pending).toBe(0);
  });
});

describe('DurableOutbox: group commit', () => {
  /** Counts fdatasync(2) calls through every FileHandle (the outbox's only way to fdatasync). */
  async function countDatasyncs(): Promise<{ readonly count: number }> {
    const dir = await tempDir();
    const probe = await open(join(dir, 'probe'), 'w');
    const prototype = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const spy = vi.spyOn(prototype, 'datasync');
    return {
      get count() {
        return spy.mock.calls.length;
      },
    };
  }

  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Issues `count` calls of `call` in waves of `wave`, yielding to I/O between waves; records the resolve order. */
  async function inWaves<T>(count: number, wave: number, call: (n: number) => Promise<T>): Promise<{ results: T[]; order: number[] }> {
    const order: number[] = [];
    const promises: Array<Promise<T>> = [];
    for (let n = 0; n < count; n++) {
      promises.push(call(n).then((value) => (order.push(n), value)));
      if (n % wave === wave - 1) await new Promise((resolve) => setImmediate(resolve));
    }
    return { results: await Promise.all(promises), order };
  }

  it("resolves 1,000 concurrent appends in call order under 'always', durable after a reopen, with far fewer fdatasyncs", async () => {
    const dir = await tempDir();
    const options: OutboxOptions = { dir, fsync: 'always' };
    let outbox = await openOutbox(options);
    const datasyncs = await countDatasyncs();
    const { results, order } = await inWaves(1000, 25, (n) => outbox.append(payloadOf(n)));
    expect(order).toEqual(Array.from({ length: 1000 }, (_, n) => n));
    expect(results.map((e) => e.seq)).toEqual(Array.from({ length: 1000 }, (_, n) => n + 1));
    expect(results.map(text)).toEqual(Array.from({ length: 1000 }, (_, n) => text({ seq: 0, appendedAt: 0, payload: payloadOf(n) })));
    // One per group (plus the seq reservation), never one per append.
    expect(datasyncs.count).toBeGreaterThan(0);
    expect(datasyncs.count).toBeLessThanOrEqual(1000 / 10);
    vi.restoreAllMocks();
    // What resolved is in the files already: a copy of the directory taken now, before the close, holds it all.
    const copy = await tempDir();
    await cp(dir, copy, { recursive: true });
    const reopened = await openOutbox({ dir: copy });
    expect(reopened.pending().map(text)).toEqual(results.map(text));
    outbox = await reopen(outbox, options);
    expect(outbox.pending().map((e) => e.seq)).toEqual(results.map((e) => e.seq));
  });

  it("commits concurrent acks together under 'always', in call order, ignoring repeats, and deletes emptied segments", async () => {
    const dir = await tempDir();
    const options: OutboxOptions = { dir, fsync: 'always', segmentBytes: 1024 };
    let outbox = await openOutbox(options);
    const entries = await Promise.all(Array.from({ length: 600 }, (_, n) => outbox.append(payloadOf(n))));
    const datasyncs = await countDatasyncs();
    // Every seq but the multiples of 5, in a scrambled order, each twice.
    const acked = entries.map((e) => e.seq).filter((seq) => seq % 5 !== 0);
    const calls = [...acked, ...acked].map((_, i, all) => all[(i * 7) % all.length]!);
    const { order } = await inWaves(calls.length, 40, (i) => outbox.ack(calls[i]!));
    expect(order).toEqual(calls.map((_, i) => i));
    expect(datasyncs.count).toBeLessThanOrEqual(calls.length / 20);
    vi.restoreAllMocks();
    const expected = entries.filter((e) => e.seq % 5 === 0).map((e) => e.seq);
    expect(outbox.pending().map((e) => e.seq)).toEqual(expected);
    outbox = await reopen(outbox, options);
    expect(outbox.pending().map((e) => e.seq)).toEqual(expected);
    await Promise.all(expected.map((seq) => outbox.ack(seq)));
    expect(await segmentFiles(dir)).toHaveLength(1); // only the newest segment stays
  });

  it('settles each call of a mixed group on its own: appends, acks, an ack of a record of the same group, a bad seq', async () => {
    const dir = await tempDir();
    let outbox = await openOutbox({ dir });
    await appendMany(outbox, 3);
    const calls = [
      outbox.append(bytes('d')), // seq 4
      outbox.ack(2),
      outbox.ack(4), // the record appended just above, in the same group
      outbox.ack(99), // never appended
      outbox.append(bytes('e')), // seq 5
      outbox.ack(2), // again: no effect
    ];
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((settled[3] as PromiseRejectedResult).reason).toBeInstanceOf(ArgumentError);
    expect((settled[4] as PromiseFulfilledResult<OutboxEntry>).value.seq).toBe(5);
    expect(outbox.pending().map(text)).toEqual([text({ seq: 0, appendedAt: 0, payload: payloadOf(0) }), text({ seq: 0, appendedAt: 0, payload: payloadOf(2) }), 'e']);
    outbox = await reopen(outbox, { dir });
    expect(outbox.pending().map((e) => e.seq)).toEqual([1, 3, 5]);
  });

  it('rolls segments over and keeps the byte bound inside one group', async () => {
    const dir = await tempDir();
    const options = { dir, segmentBytes: 1024, maxBytes: 4096 };
    let outbox = await openOutbox(options);
    const entries = await Promise.all(Array.from({ length: 300 }, (_, n) => outbox.append(payloadOf(n, 75)))); // 100-byte frames
    const stats = outbox.stats();
    expect(stats.diskBytes).toBeLessThanOrEqual(4096);
    const onDisk = await Promise.all((await segmentFiles(dir)).map(async (name) => (await stat(join(dir, name))).size));
    expect(onDisk.reduce((a, b) => a + b, 0)).toBe(stats.diskBytes);
    expect(stats.droppedRecords + stats.pendingRecords).toBe(300);
    expect(stats.droppedRecords % 10).toBe(0);
    const pending = outbox.pending();
    expect(pending.map((e) => e.seq)).toEqual(entries.slice(stats.droppedRecords).map((e) => e.seq));
    outbox = await reopen(outbox, options);
    expect(outbox.pending().map(text)).toEqual(pending.map(text));
  });

  it('finishes the calls still waiting for a group when it is closed, and refuses later ones', async () => {
    const dir = await tempDir();
    const options: OutboxOptions = { dir, fsync: 'always' };
    let outbox = await openOutbox(options);
    const appends = Array.from({ length: 50 }, (_, n) => outbox.append(payloadOf(n)));
    const closed = outbox.close();
    await expect(outbox.append(bytes('late'))).rejects.toThrow(StateError);
    const entries = await Promise.all(appends);
    await closed;
    outbox = await openOutbox(options);
    expect(outbox.pending().map(text)).toEqual(entries.map(text));
  });

  it("tells `written` each record in seq order once written, before the fdatasync under 'always'; its ack waits for durability", async () => {
    const dir = await tempDir();
    const options: OutboxOptions = { dir, fsync: 'always' };
    let outbox = await openOutbox(options);
    const datasyncs = await countDatasyncs();
    const told: Array<{ seq: number; datasyncs: number; resolved: boolean }> = [];
    const resolved = new Map<number, number>(); // seq → fdatasyncs when its append resolved
    const acks: Array<Promise<void>> = [];
    const appends = Array.from({ length: 50 }, (_, n) =>
      outbox
        .append(payloadOf(n), (entry) => {
          told.push({ seq: entry.seq, datasyncs: datasyncs.count, resolved: resolved.has(entry.seq) });
          // As the MQTT transport does on a PUBACK that beats the fdatasync.
          if (entry.seq % 2 === 0) acks.push(outbox.ack(entry.seq));
        })
        .then((entry) => (resolved.set(entry.seq, datasyncs.count), entry)),
    );
    const entries = await Promise.all(appends);
    await Promise.all(acks);
    expect(told.map((t) => t.seq)).toEqual(entries.map((e) => e.seq));
    expect(told.every((t) => !t.resolved)).toBe(true);
    // Each is told before the fdatasync that makes it durable: an fdatasync ran between.
    for (const t of told) expect(t.datasyncs).toBeLessThan(resolved.get(t.seq)!);
    const odd = entries.filter((e) => e.seq % 2 === 1).map(text);
    expect(outbox.pending().map(text)).toEqual(odd);
    outbox = await reopen(outbox, options);
    expect(outbox.pending().map(text)).toEqual(odd);
  });

  it('writes the ack of a record told early to the journal only once the fdatasync of its segment write has returned', async () => {
    const dir = await tempDir();
    const outbox = await openOutbox({ dir, fsync: 'always' });
    const probe = await open(join(await tempDir(), 'probe'), 'w');
    const prototype = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const { write, datasync } = prototype;
    const unsynced = new Map<FileHandle, number[]>(); // seqs written to a segment, not yet fdatasynced
    const durable = new Set<number>();
    const acksWritten: Array<{ seq: number; durable: boolean }> = [];
    const framesOf = (buffer: Uint8Array): number[] => scanFrames(buffer, 0, [FrameKind.data, FrameKind.ack], 1 << 20, false, 2).frames.map((frame) => frame.seq);
    const spied = prototype as unknown as { write: (...args: unknown[]) => Promise<unknown> };
    vi.spyOn(spied, 'write').mockImplementation(function (this: FileHandle, ...args: unknown[]) {
      const [buffer, offset] = args as [Uint8Array, number];
      const frames = buffer instanceof Uint8Array && offset === 0 ? buffer : undefined;
      if (frames?.[0] === FrameKind.data) unsynced.set(this, [...(unsynced.get(this) ?? []), ...framesOf(frames)]);
      if (frames?.[0] === FrameKind.ack) for (const seq of framesOf(frames)) acksWritten.push({ seq, durable: durable.has(seq) });
      return (write as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    });
    vi.spyOn(prototype, 'datasync').mockImplementation(async function (this: FileHandle) {
      const seqs = unsynced.get(this) ?? [];
      unsynced.delete(this);
      await datasync.call(this);
      for (const seq of seqs) durable.add(seq);
    });
    const acks: Array<Promise<void>> = [];
    const entries = await Promise.all(Array.from({ length: 40 }, (_, n) => outbox.append(payloadOf(n), (entry) => acks.push(outbox.ack(entry.seq)))));
    await Promise.all(acks);
    vi.restoreAllMocks();
    expect(acksWritten.map((ack) => ack.seq).sort((a, b) => a - b)).toEqual(entries.map((entry) => entry.seq));
    expect(acksWritten.filter((ack) => !ack.durable)).toEqual([]);
    expect(outbox.pending()).toEqual([]);
  });

  it('never keeps a record whose fdatasync failed pending, though `written` was told; an ack of it does nothing', async () => {
    const dir = await tempDir();
    const options: OutboxOptions = { dir, fsync: 'always' };
    let outbox = await openOutbox(options);
    const kept = await outbox.append(bytes('kept'));
    const probe = await open(join(await tempDir(), 'probe'), 'w');
    const prototype = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const failure = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    vi.spyOn(prototype, 'datasync').mockRejectedValueOnce(failure);
    let told: OutboxEntry | undefined;
    const failed = await outbox.append(bytes('lost'), (entry) => (told = entry)).catch((error: unknown) => error);
    vi.restoreAllMocks();
    expect(failed).toBeInstanceOf(StorageError);
    expect(text(told!)).toBe('lost');
    expect(outbox.stats()).toMatchObject({ pendingRecords: 1, pendingBytes: 4 });
    await outbox.ack(told!.seq);
    expect(outbox.pending().map(text)).toEqual(['kept']);
    const next = await outbox.append(bytes('next'));
    expect(next.seq).toBeGreaterThan(told!.seq);
    outbox = await reopen(outbox, options);
    expect(outbox.pending().map(text)).toEqual(['kept', 'next']);
    expect(kept.seq).toBeLessThan(next.seq);
  });

  it('keeps a record told to `written` pending while its fdatasync runs, so that a reconnect\'s reload does not skip it', async () => {
    // The MQTT transport queues a record when it is told, and rebuilds its queue from `pending()`
    // on each connection: a record told before the connection dropped must be in `pending()` then.
    const dir = await tempDir();
    const options: OutboxOptions = { dir, fsync: 'always' };
    const outbox = await openOutbox(options);
    await outbox.append(bytes('first')); // reserves the seqs: the next fdatasync is the record's
    const probe = await open(join(await tempDir(), 'probe'), 'w');
    const prototype = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const datasync = prototype.datasync;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    vi.spyOn(prototype, 'datasync').mockImplementationOnce(async function (this: FileHandle) {
      await gate;
      return datasync.call(this);
    });
    const drain = new OutboxDrain(outbox);
    await drain.reload();
    let told!: (entry: OutboxEntry) => void;
    const written = new Promise<OutboxEntry>((resolve) => (told = resolve));
    const appended = outbox.append(bytes('during'), (entry) => {
      drain.appended(entry);
      told(entry);
    });
    const entry = await written;
    const pendingWhileSyncing = outbox.pending().map(text);
    drain.reset(); // the connection drops, a new one reloads while the fdatasync still runs
    await drain.reload();
    release();
    expect(await appended).toBe(entry);
    vi.restoreAllMocks();
    const queued: string[] = [];
    for (let next = drain.next(100); next; next = drain.next(100)) queued.push(text(next));
    expect(queued).toEqual(['first', 'during']);
    expect(pendingWhileSyncing).toEqual(['first', 'during']);
    await outbox.ack(entry.seq);
    expect(outbox.pending().map(text)).toEqual(['first']);
  });

  it('rejects only the calls of a group that a failed rollover stops, and loses nothing', async () => {
    const dir = await tempDir();
    const options = { dir, segmentBytes: 1024 };
    let outbox = await openOutbox(options);
    const entries = await appendMany(outbox, 14); // one more 65-byte frame fits in segment 1
    const blocker = join(dir, '000000000016.seg.tmp');
    await mkdir(blocker);
    const settled = await Promise.allSettled([outbox.append(payloadOf(14)), outbox.append(payloadOf(15)), outbox.ack(1), outbox.append(payloadOf(16))]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(StorageError);
    await rmdir(blocker);
    expect((await outbox.append(bytes('unblocked'))).seq).toBe(16);
    const expected = [...entries.slice(1).map(text), text({ seq: 0, appendedAt: 0, payload: payloadOf(14) }), 'unblocked'];
    expect(outbox.pending().map(text)).toEqual(expected);
    outbox = await reopen(outbox, options);
    expect(outbox.pending().map(text)).toEqual(expected);
  });
});
