/**
 * `DurableOutbox`: a durable, bounded, crash-safe FIFO of payloads: telemetry is appended before it
 * is published and stays until the broker acknowledges it (MQTT PUBACK).
 *
 * Layout of `dir` (a directory of its own):
 * - `<baseSeq>.seg`: segments of CRC-framed records (frame.ts), `baseSeq` = the first seq it holds;
 * - `acks.log`: the ack journal (ack-journal.ts);
 * - `*.tmp`: a file being created or compacted; a leftover one is an interrupted step, deleted at open.
 *
 * Durability (the fsync policy covers record appends and acks):
 * - `'always'`: `append` and `ack` resolve after fdatasync(2). Nothing they resolved is lost, even
 *   on a power cut.
 * - `'batch'` (default): they resolve after write(2); an fdatasync follows within `fsyncIntervalMs`.
 *   A process crash loses nothing (the data is in the kernel's page cache); a power cut or kernel
 *   crash may lose the last `fsyncIntervalMs` of appends (lost) and acks (delivered again).
 * - `'never'`: the outbox never calls fsync for records or acks; the kernel writes them back on its
 *   own schedule (Linux: `vm.dirty_expire_centisecs`, 30 s by default). A process crash loses
 *   nothing; a power cut may lose that long.
 * Creating, compacting and deleting files, and seq reservations, are always fsynced (file and
 * directory), whatever the policy: they are rare, and a half-done one could lose more than a record.
 *
 * Bound (`maxBytes`, default 64 MiB) on the segment files' total size. When an append would exceed
 * it, the OLDEST segments are deleted whole until it fits (each frees up to `segmentBytes`), and
 * their unacknowledged records are counted in `droppedRecords`/`droppedBytes`. Dropping whole files
 * is what actually frees disk space; choose `segmentBytes` about `maxBytes / 16` for fine steps.
 * The ack journal (about 25 bytes per acknowledged record still on disk) is not counted.
 *
 * Memory: pending payloads are kept in memory (at most `maxBytes`, plus ~120 bytes of index per
 * record), so `pending()` is synchronous and never touches the disk.
 *
 * Seqs increase strictly over the outbox's life. They are reserved in blocks of 1024 (one fsynced
 * journal frame per block), and after a restart numbering continues above the last block, so gaps
 * are normal; a seq is never handed out twice, even after a power cut under `'never'`.
 *
 * Recovery (recover.ts): a torn tail (a crash in the middle of a write) is cut off and counted in
 * `recoveredTornRecords`; a damaged record in the middle of a file is skipped by resynchronising on
 * the next valid frame (frame.ts) and counted in `corruptRecords`; the newest segment is never
 * deleted, even when fully acknowledged, because its name bounds the next seq.
 *
 * One process at a time: a second `open` of the same directory in this process is refused; across
 * processes, the caller must ensure it (e.g. one device service per directory).
 */
import type { Timer } from '../../core/clock.js';
import { describe as show } from '../../core/check.js';
import { StateError, StorageError } from '../../core/errors.js';
import type { AckJournal } from './ack-journal.js';
import { FILE_HEADER_BYTES, FRAME_HEADER_BYTES, FrameKind } from './frame.js';
import { validateOptions, type OutboxOptions, type OutboxSettings } from './options.js';
import { recoverOutbox, type RecoveredOutbox } from './recover.js';
import { Segment, type OutboxEntry } from './segment.js';

/** Counters of {@link DurableOutbox.stats}. Byte counts are payload bytes unless named otherwise. */
export interface OutboxStats {
  pendingRecords: number;
  pendingBytes: number;
  /** Unacknowledged records deleted to stay within `maxBytes`, since open. */
  droppedRecords: number;
  droppedBytes: number;
  segments: number;
  /** Size of the segment files, bytes: what `maxBytes` bounds. */
  diskBytes: number;
  /** Torn tails (a crash in the middle of a write) cut off at open. */
  recoveredTornRecords: number;
  /** Damaged regions in the middle of a file skipped at open, each usually one record. */
  corruptRecords: number;
}

/** Seqs reserved per journal fsync, so a power cut cannot make a seq be handed out twice. */
const SEQ_BLOCK = 1024;
/** Directories open in this process: two outboxes on one directory would corrupt it. */
const openDirs = new Set<string>();

/**
 * A durable, bounded FIFO of payloads on disk. All operations run one at a time in call order.
 *
 * @example
 * ```ts
 * const outbox = await DurableOutbox.open({ dir: '/var/lib/sensorkit/outbox', fsync: 'always' })
 * await outbox.append(batch)                     // durable before it is published
 * for (const entry of outbox.pending(100)) {
 *   await client.publishAsync(topic, Buffer.from(entry.payload), { qos: 1 })
 *   await outbox.ack(entry.seq)                  // after PUBACK: never returned again
 * }
 * await outbox.close()
 * ```
 */
export class DurableOutbox {
  readonly #settings: OutboxSettings;
  readonly #segments: Segment[];
  readonly #journal: AckJournal;
  readonly #maxPayload: number;
  #nextSeq: number;
  #reservedUpTo: number;
  #queue: Promise<unknown> = Promise.resolve();
  #state: 'open' | 'closing' | 'closed' = 'open';
  #syncTimer: Timer | undefined;
  #backgroundError: StorageError | undefined;
  #droppedRecords = 0;
  #droppedBytes = 0;
  readonly #recoveredTornRecords: number;
  readonly #corruptRecords: number;

  private constructor(settings: OutboxSettings, recovered: RecoveredOutbox) {
    this.#settings = settings;
    this.#segments = recovered.segments;
    this.#journal = recovered.journal;
    this.#maxPayload = settings.segmentBytes - FILE_HEADER_BYTES - FRAME_HEADER_BYTES;
    this.#nextSeq = recovered.nextSeq;
    this.#reservedUpTo = recovered.reservedUpTo;
    this.#recoveredTornRecords = recovered.tornTails;
    this.#corruptRecords = recovered.corruptRegions;
  }

  /**
   * Opens (creating the directory if missing) and recovers an outbox: reads every segment in order,
   * cuts off a torn tail, skips damaged records, drops what the ack journal says was acknowledged
   * and finishes deletions and compactions a crash interrupted.
   *
   * @throws TypeError for a bad option; StateError when the directory is already open in this process;
   *   StorageError when the directory holds a file that is not the outbox's, or on an I/O error.
   */
  static async open(options: OutboxOptions): Promise<DurableOutbox> {
    const settings = validateOptions(options);
    const { dir } = settings;
    if (openDirs.has(dir)) throw new StateError(`${dir}: an outbox is already open on this directory in this process`);
    openDirs.add(dir);
    try {
      return new DurableOutbox(settings, await recoverOutbox(settings));
    } catch (error) {
      openDirs.delete(dir);
      throw error;
    }
  }

  /**
   * Appends a payload (copied); resolves once it is durable per the fsync policy. May first delete
   * the oldest segments to stay within `maxBytes` (see the module comment).
   *
   * @throws RangeError when the payload cannot fit in one segment; StorageError (naming the file and
   *   the cause, e.g. ENOSPC) when it cannot be written, in which case nothing already stored is lost.
   */
  append(payload: Uint8Array): Promise<OutboxEntry> {
    if (!(payload instanceof Uint8Array)) return Promise.reject(new TypeError(`Expected \`payload\` to be a Uint8Array, got ${show(payload)}`));
    if (payload.length > this.#maxPayload) {
      return Promise.reject(new RangeError(`Expected \`payload\` to be at most ${this.#maxPayload} bytes (segmentBytes − ${FILE_HEADER_BYTES + FRAME_HEADER_BYTES}), got ${payload.length}`));
    }
    return this.#enqueue(async () => {
      const frameBytes = FRAME_HEADER_BYTES + payload.length;
      let active = this.#active;
      if (active.size + frameBytes > this.#settings.segmentBytes && active.recordCount > 0) active = await this.#roll();
      await this.#makeRoom(frameBytes);
      if (this.#nextSeq > this.#reservedUpTo) {
        const upTo = this.#nextSeq + SEQ_BLOCK - 1;
        await this.#journal.append(FrameKind.reserve, upTo, this.#settings.clock.now(), true);
        this.#reservedUpTo = upTo;
      }
      // A seq is spent even if the write fails: seqs never repeat, gaps are allowed.
      const seq = this.#nextSeq++;
      const entry = await active.append(seq, this.#settings.clock.now(), payload, this.#settings.fsync === 'always');
      this.#wrote();
      return entry;
    });
  }

  /**
   * Unacknowledged entries, oldest first (append order, also across restarts), at most `limit`.
   * Synchronous: served from memory.
   */
  pending(limit = Number.POSITIVE_INFINITY): OutboxEntry[] {
    if (!(limit >= 0)) throw new TypeError(`Expected \`limit\` to be a number from 0 and up, got ${show(limit)}`);
    const entries: OutboxEntry[] = [];
    for (const segment of this.#segments) {
      for (const entry of segment.pending()) {
        if (entries.length >= limit) return entries;
        entries.push(entry);
      }
    }
    return entries;
  }

  /**
   * Acknowledges `seq`: it is never returned again, even after a restart (once durable per the
   * fsync policy). Acks may come in any order; acknowledging a seq that is already acknowledged or
   * was dropped does nothing. A segment whose records are all acknowledged is deleted.
   *
   * @throws RangeError for a seq that was never handed out; StorageError on an I/O error.
   */
  ack(seq: number): Promise<void> {
    if (!Number.isSafeInteger(seq) || seq < 1) return Promise.reject(new TypeError(`Expected \`seq\` to be an integer from 1 and up, got ${show(seq)}`));
    return this.#enqueue(async () => {
      if (seq >= this.#nextSeq) throw new RangeError(`seq ${seq} was never appended (the next seq is ${this.#nextSeq})`);
      const segment = this.#segmentOf(seq);
      if (!segment?.isPending(seq)) return;
      await this.#journal.append(FrameKind.ack, seq, this.#settings.clock.now(), this.#settings.fsync === 'always');
      segment.ack(seq);
      this.#wrote();
      if (segment !== this.#active && segment.pendingCount === 0) await this.#remove(segment);
      await this.#compactJournalIfLarge();
    });
  }

  /** Makes every append and ack so far durable now, whatever the policy. */
  flush(): Promise<void> {
    return this.#enqueue(() => this.#sync());
  }

  stats(): OutboxStats {
    let pendingRecords = 0;
    let pendingBytes = 0;
    let diskBytes = 0;
    for (const segment of this.#segments) {
      pendingRecords += segment.pendingCount;
      pendingBytes += segment.pendingBytes;
      diskBytes += segment.size;
    }
    return {
      pendingRecords,
      pendingBytes,
      droppedRecords: this.#droppedRecords,
      droppedBytes: this.#droppedBytes,
      segments: this.#segments.length,
      diskBytes,
      recoveredTornRecords: this.#recoveredTornRecords,
      corruptRecords: this.#corruptRecords,
    };
  }

  /** Finishes queued operations, fsyncs (unless the policy is `'never'`) and closes the files. Idempotent. */
  async close(): Promise<void> {
    if (this.#state !== 'open') return this.#queue.then(() => undefined, () => undefined);
    this.#state = 'closing';
    this.#syncTimer?.cancel();
    this.#syncTimer = undefined;
    const closing = this.#queue.then(async () => {
      try {
        if (this.#settings.fsync !== 'never') await this.#sync();
      } finally {
        this.#state = 'closed';
        openDirs.delete(this.#settings.dir);
        await Promise.allSettled([this.#journal.close(), ...this.#segments.map((segment) => segment.seal())]);
      }
    });
    this.#queue = closing.catch(() => undefined);
    return closing;
  }

  get #active(): Segment {
    return this.#segments.at(-1)!;
  }

  /** Runs `job` after every earlier operation: appends keep their call order, acks follow appends. */
  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    if (this.#state !== 'open') return Promise.reject(new StateError(`${this.#settings.dir}: the outbox is closed`));
    const run = this.#queue.then(() => {
      const failed = this.#backgroundError;
      this.#backgroundError = undefined;
      if (failed) throw failed; // a batched fsync failed since the last call: report it once
      return job();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** After a record or an ack is written: under `'batch'`, arms the one pending fsync. */
  #wrote(): void {
    if (this.#settings.fsync !== 'batch' || this.#syncTimer) return;
    const { clock, fsyncIntervalMs } = this.#settings;
    this.#syncTimer = clock.schedule(clock.now() + fsyncIntervalMs, () => {
      this.#syncTimer = undefined;
      if (this.#state !== 'open') return;
      this.#enqueue(() => this.#sync()).catch((error: unknown) => {
        if (error instanceof StorageError) this.#backgroundError = error;
      });
    });
  }

  async #sync(): Promise<void> {
    // Segment before journal: an ack must never be durable while its record is not.
    await this.#active.sync();
    await this.#journal.sync();
  }

  /** Starts a new segment at the next seq; the old one is fsynced and closed for writing. */
  async #roll(): Promise<Segment> {
    const old = this.#active;
    if (this.#settings.fsync !== 'never') await old.sync();
    const next = await Segment.create(this.#settings.dir, this.#nextSeq);
    this.#segments.push(next);
    await old.seal();
    if (old.pendingCount === 0) await this.#remove(old);
    return next;
  }

  /** Deletes the oldest segments until `frameBytes` more fit within `maxBytes`; counts what was lost. */
  async #makeRoom(frameBytes: number): Promise<void> {
    let diskBytes = this.#segments.reduce((sum, segment) => sum + segment.size, 0);
    while (diskBytes + frameBytes > this.#settings.maxBytes && this.#segments.length > 1) {
      const oldest = this.#segments[0]!;
      const records = oldest.pendingCount;
      const bytes = oldest.pendingBytes;
      await this.#remove(oldest);
      this.#droppedRecords += records;
      this.#droppedBytes += bytes;
      diskBytes -= oldest.size;
    }
  }

  async #remove(segment: Segment): Promise<void> {
    await segment.remove();
    this.#segments.splice(this.#segments.indexOf(segment), 1);
  }

  /**
   * Rewrites the journal once it is both larger than a segment and more than twice what it must
   * remember (acks of records still on disk). Deleted segments were already removed durably, so
   * forgetting their acks cannot resurrect anything.
   */
  async #compactJournalIfLarge(): Promise<void> {
    let live = 0;
    for (const segment of this.#segments) live += segment.recordCount - segment.pendingCount;
    const needed = FILE_HEADER_BYTES + (live + 1) * FRAME_HEADER_BYTES;
    if (this.#journal.size <= Math.max(this.#settings.segmentBytes, 2 * needed)) return;
    // Under 'batch', make everything written so far durable first, so the compacted journal never
    // gets ahead of the segments it describes.
    if (this.#settings.fsync === 'batch') await this.#sync();
    await this.#journal.rewrite(this.#ackedSeqs(), this.#reservedUpTo, this.#settings.clock.now());
  }

  *#ackedSeqs(): IterableIterator<number> {
    for (const segment of this.#segments) yield* segment.ackedSeqs();
  }

  /** The segment whose seq range holds `seq` (segments are sorted by `baseSeq`). */
  #segmentOf(seq: number): Segment | undefined {
    let low = 0;
    let high = this.#segments.length - 1;
    let found: Segment | undefined;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const segment = this.#segments[middle]!;
      if (segment.baseSeq <= seq) {
        found = segment;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }
}
