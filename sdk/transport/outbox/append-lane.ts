/**
 * The append path of the durable outbox: group commit of appends into the newest segment. It hands
 * out seqs (reserved in fsynced blocks), rolls segments over, keeps the byte bound by dropping the
 * oldest segments, and writes each group with ONE write(2). The outbox runs its commits one at a
 * time, in call order, among its other file operations.
 *
 * Under `'always'` the commits are pipelined (`Segment.appendPipelined`): a commit ends once its
 * write(2) returned, so the next group is written while this one's fdatasync(2) runs, and its calls
 * settle later, once the group is durable. Groups settle in write order. Failure rule: a failed
 * fdatasync fails its group and every later group not yet durable (their appends reject with the
 * `StorageError` and their records leave `pending()`, as any failed append's do); a group that was
 * durable before it is never touched. Rolling over to a new segment first waits for the pipeline.
 */
import type { AckJournal } from './ack-journal.js';
import { FRAME_HEADER_BYTES, FrameKind } from './frame.js';
import type { OutboxSettings } from './options.js';
import type { NewRecord, OutboxEntry } from './segment.js';
import type { SegmentSet } from './segment-set.js';

/** An `append` waiting for the group commit that will write it. */
export interface AppendCall {
  readonly payload: Uint8Array;
  readonly appendedAt: number;
  /** Told the entry once its record is written, before it is durable (see `DurableOutbox.append`). */
  readonly written: ((entry: OutboxEntry) => void) | undefined;
  readonly resolve: (entry: OutboxEntry) => void;
  readonly reject: (error: unknown) => void;
}

/** What the append lane needs of the outbox. */
export interface AppendLaneHost {
  /** After a write: under `'batch'`, arms the timed fsync. */
  wrote(): void;
  /** Throws (once) the error of a timed fsync that failed since the last call. */
  throwBackgroundError(): void;
}

/**
 * The group being committed: appends staged but not yet written, and the outcome of every call of
 * the group by its index in call order, settled together once the whole group is over.
 */
interface Group {
  readonly outcomes: Array<() => void>;
  /** Appends staged for the newest segment, with their seqs. */
  records: Array<{ readonly index: number; readonly call: AppendCall; readonly record: NewRecord }>;
  /** Frame bytes of `records`. */
  recordBytes: number;
  /** Under `'always'`: settle once the group's writes are durable or failed (never reject). */
  readonly durable: Array<Promise<void>>;
}

/** Seqs reserved per journal fsync, so a power cut cannot make a seq be handed out twice. */
const SEQ_BLOCK = 1024;

/**
 * @example
 * ```ts
 * const lane = new AppendLane(settings, segments, journal, { nextSeq, reservedUpTo }, host)
 * await lane.commit(calls) // settles every call, in call order
 * ```
 */
export class AppendLane {
  readonly #settings: OutboxSettings;
  readonly #segments: SegmentSet;
  readonly #journal: AckJournal;
  readonly #host: AppendLaneHost;
  #nextSeq: number;
  #reservedUpTo: number;
  #writtenBelow: number;
  #droppedRecords = 0;
  #droppedBytes = 0;
  /** Under `'always'`: the groups committed and not yet settled, oldest first, with their last seq. */
  readonly #unsettled: Array<{ readonly lastSeq: number; readonly done: Promise<void> }> = [];
  /** Settles once every group committed so far is settled (they settle in order). */
  #lastSettled: Promise<void> = Promise.resolve();

  constructor(settings: OutboxSettings, segments: SegmentSet, journal: AckJournal, seqs: { nextSeq: number; reservedUpTo: number }, host: AppendLaneHost) {
    this.#settings = settings;
    this.#segments = segments;
    this.#journal = journal;
    this.#host = host;
    this.#nextSeq = seqs.nextSeq;
    this.#writtenBelow = seqs.nextSeq;
    this.#reservedUpTo = seqs.reservedUpTo;
  }

  /** The seq the next staged append gets. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /**
   * Every seq below this one has been written (under `'always'`: and fdatasynced), or its write
   * has failed.
   */
  get writtenBelow(): number {
    return this.#writtenBelow;
  }

  /** Unacknowledged records (and their payload bytes) deleted to stay within `maxBytes`. */
  get dropped(): { records: number; bytes: number } {
    return { records: this.#droppedRecords, bytes: this.#droppedBytes };
  }

  /**
   * Commits `calls` as one group: stages them in call order (seqs, rollovers, the byte bound,
   * reservations), writes the staged records, then settles every call in call order. Never
   * rejects: each call gets its own outcome.
   */
  async commit(calls: readonly AppendCall[]): Promise<void> {
    const group: Group = { outcomes: [], records: [], recordBytes: 0, durable: [] };
    for (const [index, call] of calls.entries()) {
      try {
        if (index === 0) this.#host.throwBackgroundError(); // that call is not carried out, as before groups
        if (!this.#stageAtOnce(group, index, call)) await this.#stage(group, index, call);
      } catch (error) {
        group.outcomes[index] = () => call.reject(error);
      }
    }
    await this.#write(group);
    if (this.#settings.fsync !== 'always') {
      for (const settle of group.outcomes) settle();
      return;
    }
    // Pipelined: settle once durable, after every earlier group (so in order), without holding
    // the next commit.
    const lastSeq = this.#nextSeq - 1;
    const done = Promise.all([this.#lastSettled, ...group.durable]).then(() => {
      this.#writtenBelow = Math.max(this.#writtenBelow, lastSeq + 1);
      this.#unsettled.shift();
      for (const settle of group.outcomes) settle();
    });
    this.#unsettled.push({ lastSeq, done });
    this.#lastSettled = done;
  }

  /**
   * Under `'always'`: resolves once the committed group holding `seq` is settled (durable or
   * failed), or `undefined` when no committed group is still unsettled at or above `seq`.
   */
  settledThrough(seq: number): Promise<void> | undefined {
    if (seq < this.#writtenBelow) return undefined;
    return this.#unsettled.find((group) => group.lastSeq >= seq)?.done;
  }

  /** Resolves once every group committed so far is settled; never rejects. */
  settled(): Promise<void> {
    return this.#lastSettled;
  }

  /**
   * Stages an append without awaiting anything when it needs no file step first (no rollover, no
   * drop, seqs still reserved): the common case, one promise fewer per append. False otherwise.
   */
  #stageAtOnce(group: Group, index: number, call: AppendCall): boolean {
    const frameBytes = FRAME_HEADER_BYTES + call.payload.length;
    const active = this.#segments.active;
    if (active.size + group.recordBytes + frameBytes > this.#settings.segmentBytes) return false;
    if (this.#segments.count > 1 && this.#segments.diskBytes + group.recordBytes + frameBytes > this.#settings.maxBytes) return false;
    if (this.#nextSeq > this.#reservedUpTo) return false;
    group.records.push({ index, call, record: { seq: this.#nextSeq++, appendedAt: call.appendedAt, payload: call.payload } });
    group.recordBytes += frameBytes;
    return true;
  }

  /**
   * Stages an append: rolls the segment over and makes room first when needed (each writes what is
   * staged before it), reserves seqs when the block is spent, then hands out the seq.
   */
  async #stage(group: Group, index: number, call: AppendCall): Promise<void> {
    const frameBytes = FRAME_HEADER_BYTES + call.payload.length;
    const active = this.#segments.active;
    if (active.size + group.recordBytes + frameBytes > this.#settings.segmentBytes && active.recordCount + group.records.length > 0) {
      await this.#write(group);
      await this.#segments.active.drain(); // the old segment's pipelined groups, before it is sealed
      await this.#segments.roll(this.#nextSeq, this.#settings.fsync !== 'never');
    }
    await this.#makeRoom(group, frameBytes);
    if (this.#nextSeq > this.#reservedUpTo) {
      // Fsynced at once, whatever the policy: a seq handed out must never be handed out again.
      const upTo = this.#nextSeq + SEQ_BLOCK - 1;
      await this.#journal.append([{ kind: FrameKind.reserve, seq: upTo }], this.#settings.clock.now(), true);
      this.#reservedUpTo = upTo;
    }
    // A seq is spent even if the write fails: seqs never repeat, gaps are allowed.
    const record: NewRecord = { seq: this.#nextSeq++, appendedAt: call.appendedAt, payload: call.payload };
    group.records.push({ index, call, record });
    group.recordBytes += frameBytes;
  }

  /**
   * Writes the records the group has staged with one write to the newest segment (and one
   * fdatasync under `'always'`), and sets their outcomes; never rejects.
   */
  async #write(group: Group): Promise<void> {
    const { records } = group;
    if (records.length === 0) return;
    group.records = [];
    group.recordBytes = 0;
    if (this.#settings.fsync === 'always') {
      try {
        const { entries, durable } = await this.#segments.active.appendPipelined(
          records.map(({ record }) => record),
          (written) => {
            for (const [k, { call }] of records.entries()) call.written?.(written[k]!);
          },
        );
        group.durable.push(
          durable.then(
            () => {
              for (const [k, { index, call }] of records.entries()) group.outcomes[index] = () => call.resolve(entries[k]!);
            },
            (error: unknown) => {
              for (const { index, call } of records) group.outcomes[index] = () => call.reject(error);
            },
          ),
        );
      } catch (error) {
        for (const { index, call } of records) group.outcomes[index] = () => call.reject(error);
      }
      return;
    }
    try {
      const entries = await this.#segments.active.append(
        records.map(({ record }) => record),
        false, // 'always' takes the pipelined path above
        (written) => {
          for (const [k, { call }] of records.entries()) call.written?.(written[k]!);
        },
      );
      for (const [k, { index, call }] of records.entries()) group.outcomes[index] = () => call.resolve(entries[k]!);
      this.#host.wrote();
    } catch (error) {
      for (const { index, call } of records) group.outcomes[index] = () => call.reject(error);
    } finally {
      this.#writtenBelow = records.at(-1)!.record.seq + 1;
    }
  }

  /**
   * Deletes the oldest segments until `frameBytes` more (besides what the group has staged) fit
   * within `maxBytes`; counts what was lost (a record whose ack is still being written counts as
   * lost too: it was delivered, the count errs on the safe side).
   */
  async #makeRoom(group: Group, frameBytes: number): Promise<void> {
    const fits = (): boolean => this.#segments.count <= 1 || this.#segments.diskBytes + group.recordBytes + frameBytes <= this.#settings.maxBytes;
    if (fits()) return;
    await this.#write(group);
    while (!fits()) {
      const oldest = this.#segments.oldest;
      const records = oldest.pendingCount;
      const bytes = oldest.pendingBytes;
      await this.#segments.remove(oldest);
      this.#droppedRecords += records;
      this.#droppedBytes += bytes;
    }
  }
}
