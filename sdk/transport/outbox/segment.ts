/**
 * One segment file of the outbox: a file header, then data frames with strictly increasing seqs.
 * The segment named `<baseSeq>.seg` (12 digits or more) holds seqs from `baseSeq` up to, not
 * including, the next segment's `baseSeq`. Only the newest segment is open for writing; older ones
 * are read once at recovery and otherwise only deleted.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../../core/errors.js';
import { FILE_HEADER_BYTES, FORMAT_VERSION, FRAME_HEADER_BYTES, FileKind, FrameKind, checkFileHeader, encodeFileHeader, scanFrames, writeFrame, type FormatVersion } from './frame.js';
import { attempt, removeFile, replaceFile, storageError, writeAll } from './storage.js';

/** One queued payload. */
export interface OutboxEntry {
  /** Strictly increasing across the outbox's life, restarts included; gaps are possible. */
  readonly seq: number;
  /** The payload, exactly as appended. Treat it as read-only: it is the outbox's own copy. */
  readonly payload: Uint8Array;
  /** When it was appended, ms since the Unix epoch on the outbox's clock. */
  readonly appendedAt: number;
}

/** A record to append: its seq, its time and the caller's payload (copied by the append). */
export interface NewRecord {
  readonly seq: number;
  readonly appendedAt: number;
  readonly payload: Uint8Array;
}

/** A record of the segment; `entry` is dropped once acknowledged, freeing its payload. */
interface Slot {
  readonly seq: number;
  entry: OutboxEntry | undefined;
}

/** What recovery found in one segment file. */
export interface SegmentRecovery {
  readonly segment: Segment;
  readonly tornTail: boolean;
  readonly corruptRegions: number;
}

const noop = (): void => undefined;

/** A pipelined group waiting for its fdatasync: its file range and its records' count. */
interface Waiter {
  readonly start: number;
  readonly end: number;
  readonly count: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Largest payload length a reader accepts as plausible (a damaged length field beyond it is damage). */
const MAX_PAYLOAD_READ = 1 << 30;

/** The file name of the segment starting at `baseSeq`. */
export function segmentName(baseSeq: number): string {
  return `${String(baseSeq).padStart(12, '0')}.seg`;
}

/** The `baseSeq` of a segment file name, or `undefined` for other names. */
export function parseSegmentName(name: string): number | undefined {
  const match = /^(\d{12,16})\.seg$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * A segment file and its in-memory index.
 *
 * @example
 * ```ts
 * const segment = await Segment.create(dir, 1)
 * const [entry] = await segment.append([{ seq: 1, appendedAt: clock.now(), payload }], true)
 * ```
 */
export class Segment {
  readonly path: string;
  readonly baseSeq: number;
  #handle: FileHandle | undefined;
  #size: number;
  readonly #slots: Slot[] = [];
  /** Index of the first slot that may still be pending: acks usually come in order. */
  #head = 0;
  #pendingCount = 0;
  #pendingBytes = 0;
  /** The file's format (frame.ts): appends keep to it. */
  readonly #version: FormatVersion;
  /** Pipelined groups written and not yet durable, in write order (`appendPipelined`). */
  readonly #waiters: Waiter[] = [];
  /** The running fdatasync of the pipeline; settles (never rejects) once its outcome is applied. */
  #lastSync: Promise<void> | undefined;
  /** Undoing the groups of a failed fdatasync; appends wait for it. */
  #repair: Promise<void> | undefined;
  /** Settles once every `syncBehind` so far is over. */
  #behind: Promise<void> | undefined;
  /** Settles once the pipelined write in flight has returned and its group is registered. */
  #writing: Promise<void> | undefined;

  private constructor(path: string, baseSeq: number, handle: FileHandle | undefined, size: number, version: FormatVersion) {
    this.path = path;
    this.baseSeq = baseSeq;
    this.#handle = handle;
    this.#size = size;
    this.#version = version;
  }

  /** Creates an empty, writable segment atomically (see `replaceFile`). */
  static async create(dir: string, baseSeq: number): Promise<Segment> {
    const path = join(dir, segmentName(baseSeq));
    const handle = await replaceFile(path, encodeFileHeader(FileKind.segment));
    return new Segment(path, baseSeq, handle, FILE_HEADER_BYTES, FORMAT_VERSION);
  }

  /**
   * Reads a segment file back. A torn tail is truncated away (and the truncation fsynced) so that
   * later appends follow the last valid frame; records whose seq is in `acked` are indexed as
   * acknowledged. `writable` keeps the file open for appends (the newest segment). A frame whose
   * seq is below the name's `baseSeq` (a segment starts at the next seq), or is in `seen` (read from
   * an earlier segment), is not this file's: a copy of another segment under this name. It is left
   * out, so that no seq is handed out twice; the seqs kept are added to `seen`.
   *
   * @throws StorageError when the file is not an outbox segment or cannot be read.
   */
  static async recover(path: string, baseSeq: number, acked: ReadonlySet<number>, writable: boolean, seen = new Set<number>()): Promise<SegmentRecovery> {
    const bytes = await attempt(path, 'read', () => readFile(path));
    const version = checkFileHeader(bytes, FileKind.segment);
    if (typeof version === 'string') throw new StorageError(path, `${version}; the outbox directory must hold only outbox files`);
    const scan = scanFrames(bytes, FILE_HEADER_BYTES, [FrameKind.data], MAX_PAYLOAD_READ, true, version);
    let handle: FileHandle | undefined;
    if (scan.tornTail || writable) {
      handle = await attempt(path, 'open', () => open(path, 'r+'));
      try {
        if (scan.tornTail) {
          await attempt(path, 'truncate of the torn tail', () => handle!.truncate(scan.validEnd));
          await attempt(path, 'fsync', () => handle!.sync());
        }
        if (!writable) await handle.close();
      } catch (error) {
        await handle.close().catch(() => undefined);
        throw error;
      }
    }
    const segment = new Segment(path, baseSeq, writable ? handle : undefined, scan.validEnd, version);
    for (const frame of scan.frames) {
      if (frame.seq < baseSeq || seen.has(frame.seq)) continue;
      seen.add(frame.seq);
      const isAcked = acked.has(frame.seq);
      // Copy the payload out of the file buffer so the buffer can be collected.
      const entry = isAcked ? undefined : Object.freeze({ seq: frame.seq, payload: frame.payload.slice(), appendedAt: frame.time });
      segment.#push({ seq: frame.seq, entry });
    }
    return { segment, tornTail: scan.tornTail, corruptRegions: scan.corruptRegions };
  }

  /** Bytes in the file. */
  get size(): number {
    return this.#size;
  }

  get writable(): boolean {
    return this.#handle !== undefined;
  }

  /** Records in the file, acknowledged or not. */
  get recordCount(): number {
    return this.#slots.length;
  }

  get pendingCount(): number {
    return this.#pendingCount;
  }

  /** Payload bytes of the pending records. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** The highest seq in the segment, or `baseSeq - 1` when it is empty. */
  get lastSeq(): number {
    return this.#slots.at(-1)?.seq ?? this.baseSeq - 1;
  }

  /**
   * Appends `records` (seqs ascending, above every seq in the file) with ONE write(2) and, with
   * `sync`, ONE fdatasync(2): the group commit of every append queued meanwhile. POSIX fdatasync
   * makes all data written to the file before it durable, together with the metadata needed to
   * read it back (the new size), so one call covers the whole group. On any failure the file is cut
   * back to its previous size, best effort, so nothing written before is touched and no half frame
   * stays behind; none of the records is then indexed.
   *
   * The entries' payloads are views of the one buffer written: one allocation per group, and the
   * callers' buffers are not kept. A buffer lives while any of its records is pending, and its
   * records all sit in this file, so the memory held stays within the segments' bytes on disk.
   *
   * `written` is called with the entries once write(2) has returned, before the fdatasync: the
   * caller may publish them meanwhile (see `DurableOutbox.append`). They are pending from then on,
   * as records written under `'batch'` are before their timed fdatasync: a caller that was told
   * one finds it in `pending()` (the MQTT transport rebuilds its queue from it on a reconnect). If
   * the fdatasync fails they leave the index again, and the file is cut back.
   */
  async append(records: readonly NewRecord[], sync: boolean, written?: (entries: readonly OutboxEntry[]) => void): Promise<OutboxEntry[]> {
    const handle = this.#requireHandle();
    let length = 0;
    for (const record of records) length += FRAME_HEADER_BYTES + record.payload.length;
    const bytes = new Uint8Array(length);
    const entries: OutboxEntry[] = [];
    let offset = 0;
    for (const { seq, appendedAt, payload } of records) {
      const start = offset + FRAME_HEADER_BYTES;
      offset = writeFrame(bytes, offset, FrameKind.data, seq, appendedAt, payload, this.#version);
      entries.push(Object.freeze({ seq, payload: bytes.subarray(start, offset), appendedAt }));
    }
    let indexed = false;
    try {
      await writeAll(handle, bytes, this.#size, this.path);
      for (const entry of entries) this.#push({ seq: entry.seq, entry });
      indexed = true;
      written?.(entries);
      if (sync) await handle.datasync();
    } catch (error) {
      if (indexed) this.#unpush(entries.length);
      await handle.truncate(this.#size).catch(() => undefined);
      throw storageError(this.path, sync ? 'write and fdatasync' : 'write', error);
    }
    this.#size += length;
    return entries;
  }

  /**
   * The pipelined commit of `'always'`: appends `records` with ONE write(2) and resolves once that
   * write returned, with `durable`, which settles once an fdatasync(2) that started after the write
   * has succeeded, together with every earlier one. The next group's write does not wait for this
   * group's fdatasync: at most one fdatasync runs at a time, and it covers every group written
   * before it started, so groups written meanwhile share the next one.
   *
   * Failure rule. A group is durable only when the fdatasync covering it AND every earlier one
   * succeeded, so groups become durable in write order. When an fdatasync fails, its group and every
   * later group not yet durable fail together (`durable` rejects with the `StorageError`): a write
   * still in flight is let finish, the file is cut back to the start of the first failed group
   * (best effort), and their records leave the index, as a failed `append` does. After a failed
   * fdatasync Linux may have dropped the dirty pages and will not report it again (fdatasync(2),
   * ERRORS), so a later success cannot vouch for them. A group already durable is never cut back
   * nor failed: the cut starts past it. `written` is called as in `append`.
   *
   * @example
   * ```ts
   * const { entries, durable } = await segment.appendPipelined([{ seq: 8, appendedAt: now, payload }])
   * await durable // written and fdatasynced, with every group before it
   * ```
   */
  async appendPipelined(records: readonly NewRecord[], written?: (entries: readonly OutboxEntry[]) => void): Promise<{ entries: OutboxEntry[]; durable: Promise<void> }> {
    while (this.#repair) await this.#repair;
    const handle = this.#requireHandle();
    const { bytes, entries } = this.#frames(records);
    const start = this.#size;
    let done!: () => void;
    this.#writing = new Promise<void>((resolve) => (done = resolve));
    try {
      await writeAll(handle, bytes, start, this.path);
    } catch (error) {
      await handle.truncate(start).catch(() => undefined);
      throw storageError(this.path, 'write', error);
    } finally {
      this.#writing = undefined;
      done();
    }
    for (const entry of entries) this.#push({ seq: entry.seq, entry });
    this.#size = start + bytes.length;
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const durable = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    durable.catch(() => undefined); // the caller sees the rejection; an unheeded one is not unhandled
    this.#waiters.push({ start, end: this.#size, count: entries.length, resolve, reject });
    written?.(entries);
    this.#startSync();
    return { entries, durable };
  }

  /** Resolves once no pipelined group is waiting for its fdatasync and no failure is being undone. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.#repair) await this.#repair;
      else if (this.#lastSync) await this.#lastSync;
      else return;
    }
  }

  /** Starts the one fdatasync, covering every group written so far, unless one runs. */
  #startSync(): void {
    if (this.#lastSync || this.#repair || this.#waiters.length === 0) return;
    const handle = this.#handle;
    const covered = this.#size;
    this.#lastSync = (async () => {
      let failure: unknown;
      try {
        if (!handle) throw new StorageError(this.path, 'segment was sealed with groups not yet fdatasynced');
        await handle.datasync();
      } catch (error) {
        failure = storageError(this.path, 'fdatasync', error);
      }
      this.#lastSync = undefined;
      if (failure === undefined) {
        while (this.#waiters.length > 0 && this.#waiters[0]!.end <= covered) this.#waiters.shift()!.resolve();
        this.#startSync();
      } else {
        this.#repair = this.#undo(failure);
      }
    })();
  }

  /**
   * After a failed fdatasync: lets the write in flight finish, then fails every group not yet
   * durable (the failed one and all later ones) and cuts the file back to the first one's start.
   */
  async #undo(failure: unknown): Promise<void> {
    await this.#writing;
    const failed = this.#waiters.splice(0);
    try {
      if (failed.length === 0) return;
      let count = 0;
      for (const waiter of failed) count += waiter.count;
      this.#unpush(count);
      this.#size = failed[0]!.start;
      await this.#handle?.truncate(this.#size).catch(() => undefined);
    } finally {
      this.#repair = undefined;
      for (const waiter of failed) waiter.reject(failure);
    }
  }

  /** The frames of `records` in one buffer, and their entries (views of it). */
  #frames(records: readonly NewRecord[]): { bytes: Uint8Array; entries: OutboxEntry[] } {
    let length = 0;
    for (const record of records) length += FRAME_HEADER_BYTES + record.payload.length;
    const bytes = new Uint8Array(length);
    const entries: OutboxEntry[] = [];
    let offset = 0;
    for (const { seq, appendedAt, payload } of records) {
      const start = offset + FRAME_HEADER_BYTES;
      offset = writeFrame(bytes, offset, FrameKind.data, seq, appendedAt, payload, this.#version);
      entries.push(Object.freeze({ seq, payload: bytes.subarray(start, offset), appendedAt }));
    }
    return { bytes, entries };
  }

  /**
   * fdatasync(2) of the file beside the writes (the timed fsync of `'batch'`): appends go on while
   * it runs, and `seal` waits for it, so the file is not closed under it.
   *
   * @example
   * ```ts
   * await segment.syncBehind() // every record written before the call is durable
   * ```
   */
  syncBehind(): Promise<void> {
    const run = this.sync();
    const before = this.#behind;
    const settled = run.then(noop, noop);
    this.#behind = before ? Promise.all([before, settled]).then(noop) : settled;
    return run;
  }

  /** fdatasync(2) of the file (a no-op for read-only segments: they were synced before they rolled). */
  async sync(): Promise<void> {
    const handle = this.#handle;
    if (handle) await attempt(this.path, 'fdatasync', () => handle.datasync());
  }

  /** Whether `seq` is a pending record of this segment. */
  isPending(seq: number): boolean {
    return this.#find(seq)?.entry !== undefined;
  }

  /** Marks `seq` acknowledged; returns its entry if it was pending. */
  ack(seq: number): OutboxEntry | undefined {
    const slot = this.#find(seq);
    const entry = slot?.entry;
    if (!slot || !entry) return undefined;
    slot.entry = undefined;
    this.#pendingCount--;
    this.#pendingBytes -= entry.payload.length;
    while (this.#head < this.#slots.length && this.#slots[this.#head]!.entry === undefined) this.#head++;
    return entry;
  }

  /** Pending entries in seq order. */
  *pending(): IterableIterator<OutboxEntry> {
    for (let i = this.#head; i < this.#slots.length; i++) {
      const entry = this.#slots[i]!.entry;
      if (entry) yield entry;
    }
  }

  /** Seqs of acknowledged records still in the file (what the ack journal must remember). */
  *ackedSeqs(): IterableIterator<number> {
    for (const slot of this.#slots) if (!slot.entry) yield slot.seq;
  }

  /** Closes the file for writing; the segment stays readable from memory. */
  async seal(): Promise<void> {
    await this.drain();
    await this.#behind;
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle) await attempt(this.path, 'close', () => handle.close());
  }

  /** Deletes the file durably (unlink, then fsync of the directory). */
  async remove(): Promise<void> {
    await this.#handle?.close().catch(() => undefined);
    this.#handle = undefined;
    await removeFile(this.path);
  }

  #push(slot: Slot): void {
    this.#slots.push(slot);
    if (slot.entry) {
      this.#pendingCount++;
      this.#pendingBytes += slot.entry.payload.length;
    } else if (this.#head === this.#slots.length - 1) {
      this.#head++;
    }
  }

  /**
   * Takes the last `count` records out of the index again: those of an append that failed. None of
   * them can be acknowledged yet (an ack waits for its record's append to settle).
   */
  #unpush(count: number): void {
    for (const { entry } of this.#slots.splice(this.#slots.length - count)) {
      if (!entry) continue;
      this.#pendingCount--;
      this.#pendingBytes -= entry.payload.length;
    }
    this.#head = Math.min(this.#head, this.#slots.length);
  }

  #find(seq: number): Slot | undefined {
    let low = this.#head;
    let high = this.#slots.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const slot = this.#slots[middle]!;
      if (slot.seq === seq) return slot;
      if (slot.seq < seq) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }

  #requireHandle(): FileHandle {
    if (!this.#handle) throw new StorageError(this.path, 'segment is sealed; appends go to the newest segment');
    return this.#handle;
  }
}
