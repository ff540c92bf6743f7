/**
 * The ack path of the durable outbox: acknowledgements are collected in batches and each batch is
 * written to the ack journal with ONE write(2) (and, under `'always'`, ONE fdatasync(2)), while the
 * next batch collects behind it, and for up to 2 ms after it (`#collect`). It runs beside the appends, not behind them: an ack's fdatasync
 * never delays an append, and an append's never delays an ack, except where order demands it (an
 * ack of a record whose write is still in flight waits for that write, so that an ack is never
 * durable while its record is not).
 *
 * Cheap per ack: `add` pushes a number and hands back the promise shared by the whole batch (one
 * promise per batch, not per ack); they settle together, in call order.
 */
import type { AckJournal } from './ack-journal.js';
import { FrameKind } from './frame.js';

/** What the ack lane needs of the outbox. */
export interface AckLaneHost {
  /** Whether `seq` is a pending record (written and not acknowledged). */
  isPending(seq: number): boolean;
  /**
   * Resolves once every record with a seq up to `seq` has been written (or failed to be), or
   * `undefined` when that is already so.
   */
  recordsWritten(seq: number): Promise<void> | undefined;
  /**
   * Applies durable acks in memory; resolves once the segments they emptied are deleted (in the
   * outbox's own order of file operations).
   */
  applied(seqs: readonly number[]): Promise<void>;
  /** After a journal write: under `'batch'`, arms the timed fsync. */
  wrote(): void;
  /** Compacts the journal when it has grown large (see `DurableOutbox`). */
  compactIfLarge(): Promise<void>;
  /** fdatasync after each batch (the `'always'` policy). */
  readonly syncEachBatch: boolean;
  now(): number;
}

/** Acks that make a batch worth writing without waiting for more (6.4 KB of frames). */
const FULL_BATCH = 256;
/** Longest wait for more acks after a write, while acks stream in, ms (see `#collect`). */
const COLLECT_MS = 2;

/** Resolves after the I/O callbacks at hand (socket reads) have run: one turn of the event loop. */
function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** A promise and its settlers. */
interface Batch {
  readonly seqs: number[];
  readonly done: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A caller that drops the promise must not cause an unhandled rejection: every caller that
  // keeps it still sees the rejection.
  done.catch(() => undefined);
  return { seqs: [], done, resolve, reject };
}

/**
 * @example
 * ```ts
 * const lane = new AckLane(journal, host)
 * await lane.add(17)   // resolves once the ack of 17 is in the journal (per the fsync policy)
 * await lane.idle()    // every ack so far is written
 * ```
 */
export class AckLane {
  readonly #journal: AckJournal;
  readonly #host: AckLaneHost;
  /** The batch collecting acks; written when the one before it is done. */
  #open: Batch | undefined;
  /** The running write loop, if any. */
  #running: Promise<void> | undefined;
  /** Ends `#collect`'s wait early, once the open batch is full. */
  #full: (() => void) | undefined;

  constructor(journal: AckJournal, host: AckLaneHost) {
    this.#journal = journal;
    this.#host = host;
  }

  /** Queues an ack of `seq` (already checked to have been handed out); resolves with its batch. */
  add(seq: number): Promise<void> {
    const batch = (this.#open ??= newBatch());
    if (batch.seqs.push(seq) === FULL_BATCH) this.#full?.();
    this.#running ??= this.#run();
    return batch.done;
  }

  /** Resolves when every ack added so far is written (or failed); never rejects. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #run(): Promise<void> {
    // Start after this turn of the event loop, so that the acks of every PUBACK of the socket reads
    // at hand share the first batch (a write costs far more than the ack frames it carries).
    await nextTurn();
    try {
      for (let batch = this.#open; batch; batch = this.#open) {
        this.#open = undefined;
        try {
          await this.#write(batch.seqs);
          batch.resolve();
        } catch (error) {
          batch.reject(error);
        }
        await this.#collect();
      }
    } finally {
      this.#running = undefined;
    }
  }

  /**
   * After a write, lets the next batch grow for up to `COLLECT_MS` (or until it holds `FULL_BATCH`
   * acks) before writing it. A broker answers a window of PUBLISHes one PUBACK per TCP segment,
   * and a journal write returns from the thread pool sooner than the next few arrive: without
   * this wait, a write carried 1.6 acks on average (measured against Mosquitto), each write a
   * thread-pool round trip (and, under `'always'`, an fdatasync). The first ack after a quiet
   * spell still waits just one turn of the event loop.
   *
   * Host time (`setTimeout`), not the outbox's clock: this is I/O batching on the host, and a
   * `VirtualClock` would never end it (as `yieldBetweenSlices` in the MQTT transport).
   */
  async #collect(): Promise<void> {
    if ((this.#open?.seqs.length ?? 0) >= FULL_BATCH) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#full = undefined;
        resolve();
      }, COLLECT_MS);
      this.#full = () => {
        this.#full = undefined;
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Writes one batch: the acks of pending records, each once, then applies them. */
  async #write(seqs: readonly number[]): Promise<void> {
    let highest = 0;
    for (const seq of seqs) highest = Math.max(highest, seq);
    await this.#host.recordsWritten(highest);
    const live: number[] = [];
    const seen = new Set<number>();
    for (const seq of seqs) {
      if (seen.has(seq) || !this.#host.isPending(seq)) continue;
      seen.add(seq);
      live.push(seq);
    }
    if (live.length === 0) return;
    await this.#journal.append(
      live.map((seq) => ({ kind: FrameKind.ack, seq })),
      this.#host.now(),
      this.#host.syncEachBatch,
    );
    this.#host.wrote();
    await this.#host.applied(live);
    await this.#host.compactIfLarge();
  }
}
