/**
 * `DurableOutbox`: a durable, bounded, crash-safe FIFO of payloads: telemetry is appended before it
 * is published and stays until the broker acknowledges it (MQTT PUBACK).
 *
 * Layout of `dir` (a directory of its own):
 * - `<baseSeq>.seg`: segments of CRC-framed records (frame.ts), `baseSeq` = the first seq it holds;
 * - `acks.log`: the ack journal (ack-journal.ts);
 * - `*.tmp`: a file being created or compacted; a leftover one is an interrupted step, deleted at open.
 *
 * Group commit: appends and acks are written in groups. Calls made while a group is being written
 * wait, and the next group writes all of them together: the appends with ONE write(2) to the
 * newest segment, the acks with ONE write(2) to the journal (and under `'always'`, ONE fdatasync(2)
 * each). Each call still resolves only once its own record is durable per the policy, and calls
 * resolve in call order. Throughput then grows with the number of calls in flight, while a lone
 * call costs what it did before.
 *
 * Durability (the fsync policy covers record appends and acks):
 * - `'always'`: `append` and `ack` resolve after fdatasync(2). Nothing they resolved is lost, even
 *   on a power cut. POSIX fdatasync(2) makes durable all data written to the file before it (and
 *   the size needed to read it back), so one call covers every record of a group.
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
import { Segment, type NewRecord, type OutboxEntry } from './segment.js';

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

/** How a waiting call is settled. */
interface Waiter<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
}

interface AppendCall extends Waiter<OutboxEntry> {
  readonly kind: 'append';
  readonly payload: Uint8Array;
}

interface AckCall extends Waiter<void> {
  readonly kind: 'ack';
  readonly seq: number;
}

/** An `append` or `ack` waiting for the group commit that will write it. */
type Call = AppendCall | AckCall;

/**
 * The group being committed: calls staged but not yet written, and the outcome of every call of
 * the group by its index in call order, settled together once the whole group is over.
 */
interface Group {
  readonly outcomes: Array<() => void>;
  /** Appends staged for the newest segment, with their seqs. */
  records: Array<{ readonly index: number; readonly call: AppendCall; readonly record: NewRecord }>;
  /** Frame bytes of `records`. */
  recordBytes: number;
  /** Acks staged for the journal, each of a distinct pending seq. */
  acks: Array<{ readonly index: number; readonly call: AckCall }>;
  readonly ackedSeqs: Set<number>;
}

/** Seqs reserved per journal fsync, so a power cut cannot make a seq be handed out twice. */
const SEQ_BLOCK = 1024;
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
  readonly #segments: Segment[];
  readonly #journal: AckJournal;
  readonly #maxPayload: number;
  #nextSeq: number;
  #reservedUpTo: number;
  #queue: Promise<unknown> = Promise.resolve();
  /** Calls not yet taken by a group commit; a commit job is queued whenever this is non-empty. */
  #waiting: Call[] = [];
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
    return this.#submit<OutboxEntry>((waiter) => ({ kind: 'append', payload, ...waiter }));
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
   * @throws RangeError for a seq that was never handed out; StorageError on an I/O error (when
   *   deleting an emptied segment or compacting the journal fails, every ack of that group is
   *   rejected although it is durable: acking again is harmless).
   */
  ack(seq: number): Promise<void> {
    if (!Number.isSafeInteger(seq) || seq < 1) return Promise.reject(new TypeError(`Expected \`seq\` to be an integer from 1 and up, got ${show(seq)}`));
    return this.#submit<void>((waiter) => ({ kind: 'ack', seq, ...waiter }));
  }

  /** Makes every append and ack so far durable now, whatever the policy. */
  flush(): Promise<void> {
    return this.#enqueue(async () => {
      this.#throwBackgroundError();
      await this.#sync();
    });
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

  /** Runs `job` after every earlier job: group commits, flushes, timed fsyncs and the close. */
  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    if (this.#state !== 'open') return Promise.reject(this.#closedError());
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
   * Queues a call for the next group commit. The first call of a group queues the commit job; calls
   * made before that job starts (typically while the previous group is being written) join it.
   */
  #submit<T>(call: (waiter: Waiter<T>) => Call): Promise<T> {
    if (this.#state !== 'open') return Promise.reject(this.#closedError());
    return new Promise<T>((resolve, reject) => {
      if (this.#waiting.length === 0) void this.#enqueue(() => this.#commit());
      this.#waiting.push(call({ resolve, reject }));
    });
  }

  /**
   * Commits every waiting call as one group: stages them in call order (seqs, rollovers, the byte
   * bound, reservations), writes the staged records and acks (see `#writeGroup`), then settles every
   * call in call order. Never rejects: each call gets its own outcome.
   */
  async #commit(): Promise<void> {
    const calls = this.#waiting;
    this.#waiting = [];
    const group: Group = { outcomes: [], records: [], recordBytes: 0, acks: [], ackedSeqs: new Set() };
    for (const [index, call] of calls.entries()) {
      try {
        if (index === 0) this.#throwBackgroundError(); // that call is not carried out, as before groups
        if (call.kind === 'append') await this.#stageAppend(group, index, call);
        else await this.#stageAck(group, index, call);
      } catch (error) {
        group.outcomes[index] = () => call.reject(error);
      }
    }
    await this.#writeGroup(group);
    for (const settle of group.outcomes) settle();
  }

  /**
   * Stages an append: rolls the segment over and makes room first when needed (each writes what is
   * staged before it), reserves seqs when the block is spent, then hands out the seq.
   */
  async #stageAppend(group: Group, index: number, call: AppendCall): Promise<void> {
    const frameBytes = FRAME_HEADER_BYTES + call.payload.length;
    const active = this.#active;
    if (active.size + group.recordBytes + frameBytes > this.#settings.segmentBytes && active.recordCount + group.records.length > 0) {
      await this.#writeGroup(group);
      await this.#roll();
    }
    await this.#makeRoom(group, frameBytes);
    if (this.#nextSeq > this.#reservedUpTo) {
      // Fsynced at once, whatever the policy: a seq handed out must never be handed out again.
      const upTo = this.#nextSeq + SEQ_BLOCK - 1;
      await this.#journal.append([{ kind: FrameKind.reserve, seq: upTo }], this.#settings.clock.now(), true);
      this.#reservedUpTo = upTo;
    }
    // A seq is spent even if the write fails: seqs never repeat, gaps are allowed.
    const record: NewRecord = { seq: this.#nextSeq++, appendedAt: this.#settings.clock.now(), payload: call.payload };
    group.records.push({ index, call, record });
    group.recordBytes += frameBytes;
  }

  /** Stages an ack of a pending seq; an ack of anything else settles at once as a no-op. */
  async #stageAck(group: Group, index: number, call: AckCall): Promise<void> {
    const { seq } = call;
    if (seq >= this.#nextSeq) throw new RangeError(`seq ${seq} was never appended (the next seq is ${this.#nextSeq})`);
    // An ack of a record staged in this very group: the record must be written (and indexed) first.
    const firstStaged = group.records[0]?.record.seq;
    if (firstStaged !== undefined && seq >= firstStaged) await this.#writeGroup(group);
    if (group.ackedSeqs.has(seq) || !this.#segmentOf(seq)?.isPending(seq)) {
      group.outcomes[index] = () => call.resolve();
      return;
    }
    group.acks.push({ index, call });
    group.ackedSeqs.add(seq);
  }

  /**
   * Writes what the group has staged: the records with one write to the newest segment and the acks
   * with one write to the journal, each followed by one fdatasync under `'always'`. Sets the outcome
   * of every staged call; never rejects.
   *
   * An ack must never be durable while its record is not. Every staged ack is of a record that an
   * earlier write already made durable per the policy (`#stageAck` writes the group's own records
   * first when an ack refers to one of them), so the two files are written concurrently: under
   * `'always'` a group costs one fdatasync's latency, not two in a row.
   */
  async #writeGroup(group: Group): Promise<void> {
    const { records, acks } = group;
    group.records = [];
    group.recordBytes = 0;
    group.acks = [];
    group.ackedSeqs.clear();
    await Promise.all([this.#writeRecords(group, records), this.#writeAcks(group, acks)]);
  }

  async #writeRecords(group: Group, records: Group['records']): Promise<void> {
    if (records.length === 0) return;
    try {
      const entries = await this.#active.append(records.map(({ record }) => record), this.#settings.fsync === 'always');
      for (const [k, { index, call }] of records.entries()) group.outcomes[index] = () => call.resolve(entries[k]!);
      this.#wrote();
    } catch (error) {
      for (const { index, call } of records) group.outcomes[index] = () => call.reject(error);
    }
  }

  /**
   * Writes the acks, then applies them in memory, deletes the segments they emptied and compacts
   * the journal when large (in that order, so a crash never forgets an ack still needed).
   */
  async #writeAcks(group: Group, acks: Group['acks']): Promise<void> {
    if (acks.length === 0) return;
    let outcome: (call: AckCall) => void = (call) => call.resolve();
    try {
      await this.#journal.append(acks.map(({ call }) => ({ kind: FrameKind.ack, seq: call.seq })), this.#settings.clock.now(), this.#settings.fsync === 'always');
      this.#wrote();
      const emptied = new Set<Segment>();
      for (const { call } of acks) {
        const segment = this.#segmentOf(call.seq);
        segment?.ack(call.seq);
        if (segment && segment !== this.#active && segment.pendingCount === 0) emptied.add(segment);
      }
      for (const segment of emptied) await this.#remove(segment);
      await this.#compactJournalIfLarge();
    } catch (error) {
      outcome = (call) => call.reject(error);
    }
    for (const { index, call } of acks) group.outcomes[index] = () => outcome(call);
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
  async #roll(): Promise<void> {
    const old = this.#active;
    if (this.#settings.fsync !== 'never') await old.sync();
    const next = await Segment.create(this.#settings.dir, this.#nextSeq);
    this.#segments.push(next);
    await old.seal();
    if (old.pendingCount === 0) await this.#remove(old);
  }

  /**
   * Deletes the oldest segments until `frameBytes` more (besides what the group has staged) fit
   * within `maxBytes`; counts what was lost. The group is written first, so that its acks count
   * before anything is dropped.
   */
  async #makeRoom(group: Group, frameBytes: number): Promise<void> {
    const fits = (): boolean => this.#segments.length <= 1 || this.#diskBytes() + group.recordBytes + frameBytes <= this.#settings.maxBytes;
    if (fits()) return;
    await this.#writeGroup(group);
    while (!fits()) {
      const oldest = this.#segments[0]!;
      const records = oldest.pendingCount;
      const bytes = oldest.pendingBytes;
      await this.#remove(oldest);
      this.#droppedRecords += records;
      this.#droppedBytes += bytes;
    }
  }

  /** Size of the segment files, bytes. */
  #diskBytes(): number {
    return this.#segments.reduce((sum, segment) => sum + segment.size, 0);
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
