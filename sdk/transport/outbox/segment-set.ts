/**
 * The outbox's segment files in seq order: lookup by seq, the pending entries across files, the
 * totals the byte bound works on, and the file steps of the segment list (roll over, delete).
 * The newest segment is the one appends go to; the list is never empty.
 */
import { Segment, type OutboxEntry } from './segment.js';

/** Totals over every segment. */
export interface SegmentTotals {
  readonly pendingRecords: number;
  readonly pendingBytes: number;
  /** Size of the segment files, bytes. */
  readonly diskBytes: number;
  readonly segments: number;
}

/**
 * @example
 * ```ts
 * const set = new SegmentSet(dir, recovered.segments)
 * set.find(42)?.isPending(42)
 * await set.roll(nextSeq, true)
 * ```
 */
export class SegmentSet {
  readonly #dir: string;
  readonly #segments: Segment[];

  /** `segments`: sorted by `baseSeq`, not empty, the last one writable. */
  constructor(dir: string, segments: Segment[]) {
    this.#dir = dir;
    this.#segments = segments;
  }

  /** The newest segment: appends go there. */
  get active(): Segment {
    return this.#segments.at(-1)!;
  }

  /** The oldest segment. */
  get oldest(): Segment {
    return this.#segments[0]!;
  }

  get count(): number {
    return this.#segments.length;
  }

  /** Size of the segment files, bytes. */
  get diskBytes(): number {
    let bytes = 0;
    for (const segment of this.#segments) bytes += segment.size;
    return bytes;
  }

  totals(): SegmentTotals {
    let pendingRecords = 0;
    let pendingBytes = 0;
    for (const segment of this.#segments) {
      pendingRecords += segment.pendingCount;
      pendingBytes += segment.pendingBytes;
    }
    return { pendingRecords, pendingBytes, diskBytes: this.diskBytes, segments: this.#segments.length };
  }

  /** Acknowledged records still on disk: what the ack journal must remember. */
  get ackedOnDisk(): number {
    let acked = 0;
    for (const segment of this.#segments) acked += segment.recordCount - segment.pendingCount;
    return acked;
  }

  /** Seqs of the acknowledged records still on disk. */
  *ackedSeqs(): IterableIterator<number> {
    for (const segment of this.#segments) yield* segment.ackedSeqs();
  }

  /** Pending entries, oldest first, at most `limit`. */
  pending(limit: number): OutboxEntry[] {
    const entries: OutboxEntry[] = [];
    for (const segment of this.#segments) {
      for (const entry of segment.pending()) {
        if (entries.length >= limit) return entries;
        entries.push(entry);
      }
    }
    return entries;
  }

  /** Whether `seq` is a pending record. */
  isPending(seq: number): boolean {
    return this.find(seq)?.isPending(seq) ?? false;
  }

  /**
   * Marks `seqs` acknowledged in memory; returns the segments left with nothing pending (the
   * newest one included: the caller decides what to delete).
   */
  markAcked(seqs: readonly number[]): Set<Segment> {
    const emptied = new Set<Segment>();
    for (const seq of seqs) {
      const segment = this.find(seq);
      segment?.ack(seq);
      if (segment && segment.pendingCount === 0) emptied.add(segment);
    }
    return emptied;
  }

  /** Whether `segment` is in the set and older than the newest. */
  isSealedMember(segment: Segment): boolean {
    return segment !== this.active && this.#segments.includes(segment);
  }

  /** Starts a new segment at `baseSeq`; the old one is fsynced (with `syncOld`) and closed for writing. */
  async roll(baseSeq: number, syncOld: boolean): Promise<void> {
    const old = this.active;
    if (syncOld) await old.sync();
    const next = await Segment.create(this.#dir, baseSeq);
    this.#segments.push(next);
    await old.seal();
    if (old.pendingCount === 0) await this.remove(old);
  }

  /** Deletes `segment` durably, then forgets it (so a listed segment is always on disk). */
  async remove(segment: Segment): Promise<void> {
    await segment.remove();
    this.#segments.splice(this.#segments.indexOf(segment), 1);
  }

  /** Closes every file, best effort. */
  async seal(): Promise<void> {
    await Promise.allSettled(this.#segments.map((segment) => segment.seal()));
  }

  /** The segment whose seq range holds `seq` (segments are sorted by `baseSeq`). */
  find(seq: number): Segment | undefined {
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
