/**
 * `DurableOutbox`: a durable, bounded, crash-safe FIFO of payloads: telemetry is appended before it
 * is published and stays until the broker acknowledges it (MQTT PUBACK).
 *
 * Layout of `dir` (a directory of its own):
 * - `<baseSeq>.seg`: segments of CRC-framed records (frame.ts), `baseSeq` = the first seq it holds;
 * - `acks.log`: the ack journal (ack-journal.ts);
 * - `outbox.lock`: the holder's PID while a process has the outbox open (dir-lock.ts);
 * - `*.tmp`: a file being created or compacted; a leftover one is an interrupted step, deleted at open;
 * - `<name>.damaged-<UTC time>`: a copy of a file whose header was damaged, set aside at open
 *   (salvage.ts); kept for the operator, not counted in `maxBytes`.
 *
 * Group commit (append-lane.ts): appends made while a group is being written wait, and the next
 * group writes all of them together (up to 512 KiB) with ONE write(2) to the newest segment. Under
 * `'always'` the commits are pipelined: the next group is written while the fdatasync(2) of the
 * earlier ones runs, one fdatasync covers every group written before it started, and groups become
 * durable in order (append-lane.ts states the failure rule). Acks take their own lane (ack-lane.ts):
 * batched the same way into the journal, beside the appends rather than behind them, one promise per batch. Each call
 * still resolves only once its own record or ack is durable per the policy, appends in call order
 * and acks in call order. Throughput then grows with the number of calls in flight, while a lone
 * call costs what it did before. The segment files as a whole: segment-set.ts.
 *
 * Durability: per the fsync policy (`FsyncPolicy` in options.ts says what each one may lose).
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
 * the next valid frame (frame.ts) and counted in `corruptRecords`; a file whose 16-byte header is
 * damaged (or that is empty or truncated) is set aside and replaced by its readable frames
 * (`setAside`); the newest segment is never deleted, even when fully acknowledged, because its name
 * bounds the next seq.
 *
 * One process at a time: a second `open` of the same directory in this process is refused, and
 * another process's by the lock file (dir-lock.ts, which says what it cannot detect).
 */
import type { Timer } from '../../core/clock.js';
import { describe as show } from '../../core/check.js';
import { ArgumentError, StateError, StorageError } from '../../core/errors.js';
import type { AckJournal } from './ack-journal.js';
import { AckLane } from './ack-lane.js';
import { AppendLane, type AppendCall } from './append-lane.js';
import { DirectoryLock } from './dir-lock.js';
import { FILE_HEADER_BYTES, FRAME_HEADER_BYTES } from './frame.js';
import { validateOptions, type OutboxOptions, type OutboxSettings } from './options.js';
import { makeDirectory, recoverOutbox, type RecoveredOutbox } from './recover.js';
import type { OutboxEntry } from './segment.js';
import { SegmentSet } from './segment-set.js';

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

/**
 * Payload bytes of one group commit at most: appends beyond wait for the next group, so that a burst
 * is written (and published) in a pipeline of bounded writes rather than one write of everything.
 */
const MAX_GROUP_BYTES = 512 * 1024;
/** Directories open in this process: two outboxes on one directory would corrupt it. */
const openDirs = new Set<string>();

/**
 * A durable, bounded FIFO of payloads on disk. Operations take effect in call order; appends and
 * acks issued while a write is in progress are committed together (see the module comment).
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
  readonly #segments: SegmentSet;
  readonly #journal: AckJournal;
  readonly #acks: AckLane;
  readonly #appends: AppendLane;
  readonly #maxPayload: number;
  /** Tail of the file operations (group commits, fsyncs, deletions, the close), one at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Appends collecting for the next group commit (its job is queued); payload bytes in `#waitingBytes`. */
  #waiting: AppendCall[] = [];
  #waitingBytes = 0;
  #state: 'open' | 'closing' | 'closed' = 'open';
  #closing: Promise<void> | undefined;
  #syncTimer: Timer | undefined;
  /** The timed fsync of `'batch'` running beside the file operations, if any; never rejects. */
  #timedSync: Promise<void> | undefined;
  #backgroundError: StorageError | undefined;
  readonly #recoveredTornRecords: number;
  readonly #corruptRecords: number;
  readonly #lock: DirectoryLock;
  /**
   * Copies of files set aside at open because their header was damaged (or they were empty or
   * truncated); the records that still read were kept. Empty when every file was intact.
   */
  readonly setAside: readonly string[];

  private constructor(settings: OutboxSettings, recovered: RecoveredOutbox, lock: DirectoryLock) {
    this.#settings = settings;
    this.#lock = lock;
    this.setAside = recovered.setAside;
    this.#segments = new SegmentSet(settings.dir, recovered.segments);
    this.#journal = recovered.journal;
    this.#maxPayload = settings.segmentBytes - FILE_HEADER_BYTES - FRAME_HEADER_BYTES;
    this.#appends = new AppendLane(settings, this.#segments, recovered.journal, recovered, {
      wrote: () => this.#wrote(),
      throwBackgroundError: () => this.#throwBackgroundError(),
    });
    this.#recoveredTornRecords = recovered.tornTails;
    this.#corruptRecords = recovered.corruptRegions;
    this.#acks = new AckLane(recovered.journal, {
      isPending: (seq) => this.#segments.isPending(seq),
      recordsWritten: (seq) => (seq < this.#appends.writtenBelow ? undefined : this.#queue.then(() => this.#appends.settledThrough(seq))),
      applied: (seqs) => this.#applyAcks(seqs),
      wrote: () => this.#wrote(),
      compactIfLarge: () => this.#compactJournalIfLarge(),
      syncEachBatch: settings.fsync === 'always',
      now: () => settings.clock.now(),
    });
  }

  /**
   * Opens (creating the directory if missing) and recovers an outbox: reads every segment in order,
   * cuts off a torn tail, skips damaged records, drops what the ack journal says was acknowledged
   * and finishes deletions and compactions a crash interrupted.
   *
   * A file whose header is damaged is set aside and its readable records kept (see `setAside`).
   *
   * @throws ArgumentError for a bad option; StateError when the directory is already open in this process,
   *   or in another one (the message names its PID); StorageError when the directory holds a file that
   *   is not the outbox's, or on an I/O error.
   */
  static async open(options: OutboxOptions): Promise<DurableOutbox> {
    const settings = validateOptions(options);
    const { dir } = settings;
    if (openDirs.has(dir)) throw new StateError(`${dir}: an outbox is already open on this directory in this process`);
    openDirs.add(dir);
    let lock: DirectoryLock | undefined;
    try {
      await makeDirectory(dir);
      lock = await DirectoryLock.acquire(dir);
      return new DurableOutbox(settings, await recoverOutbox(settings), lock);
    } catch (error) {
      await lock?.release();
      openDirs.delete(dir);
      throw error;
    }
  }

  /**
   * Appends a payload (copied); resolves once it is durable per the fsync policy. May first delete
   * the oldest segments to stay within `maxBytes` (see the module comment).
   *
   * `written`, if given, is told the entry as soon as its record is written to the segment
   * (write(2) returned), in seq order: under `'always'` that is before the fdatasync, so a caller
   * may publish the record while it is being made durable. Publishing early loses nothing: a
   * record not yet durable at a power cut is lost whether or not it was published, and one that
   * was is delivered. What must wait is the ack, and `ack` does: an ack is written only after its
   * record is durable. From `written` on the entry is in `pending()` (as under `'batch'` before
   * the timed fdatasync), so a caller rebuilding its send queue from `pending()` meanwhile keeps
   * it. If the fdatasync then fails the append rejects, the entry leaves `pending()`, and an ack of
   * it does nothing. `written` must not throw.
   *
   * @throws ArgumentError when the payload cannot fit in one segment; StorageError (naming the file and
   *   the cause, e.g. ENOSPC) when it cannot be written, in which case nothing already stored is lost.
   */
  append(payload: Uint8Array, written?: (entry: OutboxEntry) => void): Promise<OutboxEntry> {
    if (!(payload instanceof Uint8Array)) return Promise.reject(new ArgumentError(`Expected \`payload\` to be a Uint8Array, got ${show(payload)}`));
    if (payload.length > this.#maxPayload) {
      return Promise.reject(new ArgumentError(`Expected \`payload\` to be at most ${this.#maxPayload} bytes (segmentBytes − ${FILE_HEADER_BYTES + FRAME_HEADER_BYTES}), got ${payload.length}`));
    }
    if (this.#state !== 'open') return Promise.reject(this.#closedError());
    return new Promise<OutboxEntry>((resolve, reject) => {
      if (this.#waiting.length === 0 || this.#waitingBytes + payload.length > MAX_GROUP_BYTES) {
        const calls: AppendCall[] = [];
        this.#waiting = calls;
        this.#waitingBytes = 0;
        void this.#enqueue(() => {
          // From now on, appends collect for the next group.
          if (this.#waiting === calls) this.#waiting = [];
          return this.#appends.commit(calls);
        });
      }
      this.#waiting.push({ payload, appendedAt: this.#settings.clock.now(), written, resolve, reject });
      this.#waitingBytes += payload.length;
    });
  }

  /**
   * Unacknowledged entries, oldest first (append order, also across restarts), at most `limit`.
   * Synchronous: served from memory.
   */
  pending(limit = Number.POSITIVE_INFINITY): OutboxEntry[] {
    if (!(limit >= 0)) throw new ArgumentError(`Expected \`limit\` to be a number from 0 and up, got ${show(limit)}`);
    return this.#segments.pending(limit);
  }

  /**
   * Acknowledges `seq`: it is never returned again, even after a restart (once durable per the
   * fsync policy). Acks may come in any order; acknowledging a seq that is already acknowledged or
   * was dropped does nothing. A segment whose records are all acknowledged is deleted.
   *
   * Cheap: acks made while the journal is being written share the next write (and fsync), and
   * share the promise returned, which resolves once that write is durable per the policy.
   *
   * @throws ArgumentError for a seq that was never handed out; StorageError on an I/O error (when
   *   deleting an emptied segment or compacting the journal fails, every ack of that batch is
   *   rejected although it is durable: acking again is harmless).
   */
  ack(seq: number): Promise<void> {
    if (!Number.isSafeInteger(seq) || seq < 1) return Promise.reject(new ArgumentError(`Expected \`seq\` to be an integer from 1 and up, got ${show(seq)}`));
    if (this.#state !== 'open') return Promise.reject(this.#closedError());
    if (seq < this.#appends.nextSeq) return this.#acks.add(seq);
    // Not handed out yet, or by an append still waiting for its group: decide once those are staged.
    return this.#queue.then(() => {
      const next = this.#appends.nextSeq;
      if (seq >= next) throw new ArgumentError(`Expected \`seq\` to be one appended before (below ${next}), got ${seq}`);
      if (this.#state !== 'open') throw this.#closedError();
      return this.#acks.add(seq);
    });
  }

  /** Makes every append and ack so far durable now, whatever the policy. */
  async flush(): Promise<void> {
    await this.#acks.idle();
    return this.#enqueue(async () => {
      this.#throwBackgroundError();
      await this.#sync();
    });
  }

  stats(): OutboxStats {
    const { pendingRecords, pendingBytes, segments, diskBytes } = this.#segments.totals();
    return {
      pendingRecords,
      pendingBytes,
      droppedRecords: this.#appends.dropped.records,
      droppedBytes: this.#appends.dropped.bytes,
      segments,
      diskBytes,
      recoveredTornRecords: this.#recoveredTornRecords,
      corruptRecords: this.#corruptRecords,
    };
  }

  /** Finishes queued operations, fsyncs (unless the policy is `'never'`) and closes the files. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing.catch(() => undefined);
    this.#state = 'closing';
    this.#syncTimer?.cancel();
    this.#syncTimer = undefined;
    this.#closing = (async () => {
      // Until neither lane has work left: acks may queue deletions, a group may not be written yet.
      for (let tail = this.#queue; ; tail = this.#queue) {
        await tail;
        await this.#acks.idle();
        if (tail === this.#queue) break;
      }
      await this.#timedSync;
      try {
        if (this.#settings.fsync !== 'never') await this.#sync();
      } finally {
        this.#state = 'closed';
        await Promise.allSettled([this.#journal.close(), this.#segments.seal()]);
        await this.#lock.release();
        openDirs.delete(this.#settings.dir);
      }
    })();
    return this.#closing;
  }

  /** Runs `job` after every earlier file operation (see `#queue`). */
  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    const run = this.#queue.then(job);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #closedError(): StateError {
    return new StateError(`${this.#settings.dir}: the outbox is closed`);
  }

  /** A batched fsync failed since the last call: report it once, to the next call. */
  #throwBackgroundError(): void {
    const failed = this.#backgroundError;
    this.#backgroundError = undefined;
    if (failed) throw failed;
  }

  /**
   * Applies acks that are durable: marks them in memory, then deletes the segments they emptied
   * (in the order of file operations, so never in the middle of a rollover or a drop).
   */
  #applyAcks(seqs: readonly number[]): Promise<void> {
    const emptied = this.#segments.markAcked(seqs);
    if (emptied.size === 0) return Promise.resolve();
    return this.#enqueue(async () => {
      for (const segment of emptied) {
        // Only an older one (the newest bounds the next seq), and not deleted meanwhile.
        if (this.#segments.isSealedMember(segment) && segment.pendingCount === 0) await this.#segments.remove(segment);
      }
    });
  }

  /** After a record or an ack is written: under `'batch'`, arms the one pending fsync. */
  #wrote(): void {
    if (this.#settings.fsync !== 'batch' || this.#syncTimer || this.#state !== 'open') return;
    const { clock, fsyncIntervalMs } = this.#settings;
    this.#syncTimer = clock.schedule(clock.now() + fsyncIntervalMs, () => {
      this.#syncTimer = undefined;
      if (this.#state !== 'open') return;
      // Beside the file operations, not in their queue: an append written meanwhile does not wait
      // for this fdatasync (its latency would). One at a time; the segment is not sealed under it
      // (`Segment.syncBehind`) and the journal runs its own operations one at a time.
      const segment = this.#segments.active;
      const previous = this.#timedSync ?? Promise.resolve();
      const run = previous.then(async () => {
        await segment.syncBehind(); // segment before journal, as in `#sync`
        await this.#journal.sync();
      });
      this.#timedSync = run.then(
        () => undefined,
        (error: unknown) => {
          if (error instanceof StorageError) this.#backgroundError = error;
        },
      );
    });
  }

  async #sync(): Promise<void> {
    // Pipelined groups first (under 'always'), then segment before journal: an ack must never be
    // durable while its record is not.
    await this.#segments.active.drain();
    await this.#appends.settled();
    await this.#segments.active.sync();
    await this.#journal.sync();
  }

  /**
   * Rewrites the journal once it is both larger than a segment and more than twice what it must
   * remember (acks of records still on disk). Runs in the ack lane, between its writes; a segment
   * leaves `#segments` only once its deletion is durable, so forgetting the acks of segments not
   * listed cannot resurrect anything.
   */
  async #compactJournalIfLarge(): Promise<void> {
    const needed = FILE_HEADER_BYTES + (this.#segments.ackedOnDisk + 1) * FRAME_HEADER_BYTES;
    if (this.#journal.size <= Math.max(this.#settings.segmentBytes, 2 * needed)) return;
    // Under 'batch', make everything written so far durable first, so the compacted journal never
    // gets ahead of the segments it describes.
    if (this.#settings.fsync === 'batch') await this.#enqueue(() => this.#sync());
    await this.#journal.rewrite(this.#segments.ackedSeqs(), this.#settings.clock.now());
  }
}
