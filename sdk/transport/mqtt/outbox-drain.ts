/**
 * The send order of telemetry: what the outbox holds, oldest first, never reordered.
 *
 * On every connection the queue is rebuilt from the outbox (`pending()`: what survived a restart
 * or was in flight when the last connection dropped), then records appended meanwhile are merged
 * by seq. A record leaves the outbox only on its PUBACK; PUBACKs arrive in publish order
 * (MQTT 5 §4.6: [MQTT-4.6.0-2]), and acks are written to the outbox in that order.
 */
import type { OutboxEntry, TelemetryOutbox } from './contracts.js';

/**
 * @example
 * ```ts
 * const drain = new OutboxDrain(outbox)
 * await drain.reload()                              // after CONNACK
 * for (let e = drain.next(100); e; e = drain.next(100)) publish(e, () => drain.acked(e.seq))
 * ```
 */
export class OutboxDrain {
  readonly #outbox: TelemetryOutbox;
  #queue: OutboxEntry[] = [];
  #head = 0;
  #lastQueued = -Infinity;
  #appendedWhileLoading: OutboxEntry[] | undefined;
  readonly #inflight = new Set<number>();
  /** Settles once every ack handed to the outbox so far is written (or failed, and reported). */
  #acks: Promise<void> = Promise.resolve();
  #lastAck: Promise<void> | undefined;
  #onAckError: (error: unknown) => void;

  constructor(outbox: TelemetryOutbox, onAckError: (error: unknown) => void = () => undefined) {
    this.#outbox = outbox;
    this.#onAckError = onAckError;
  }

  /** Records published and not yet acknowledged. */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** Records queued and not yet published on this connection. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Whether nothing is queued or in flight (and no reload is running). */
  get idle(): boolean {
    return this.#appendedWhileLoading === undefined && this.queued === 0 && this.#inflight.size === 0;
  }

  /** A record was appended to the outbox: queue it behind everything older. */
  appended(entry: OutboxEntry): void {
    if (this.#appendedWhileLoading !== undefined) this.#appendedWhileLoading.push(entry);
    else this.#enqueue(entry);
  }

  /** Forgets what was in flight (the connection is gone); `reload()` on the next connection. */
  reset(): void {
    this.#inflight.clear();
    this.#queue = [];
    this.#head = 0;
    this.#lastQueued = -Infinity;
  }

  /**
   * Rebuilds the queue from the outbox, after the acks written so far, so that an acknowledged
   * record is not sent again. Records appended while it reads are merged by seq.
   */
  async reload(): Promise<void> {
    this.reset();
    this.#appendedWhileLoading = [];
    try {
      await this.#acks;
      for (const entry of await this.#outbox.pending()) this.#enqueue(entry);
    } finally {
      const appended = this.#appendedWhileLoading;
      this.#appendedWhileLoading = undefined;
      for (const entry of appended) this.#enqueue(entry);
    }
  }

  /** The next record to publish, if fewer than `maxInflight` are in flight. */
  next(maxInflight: number): OutboxEntry | undefined {
    if (this.#appendedWhileLoading !== undefined || this.#inflight.size >= maxInflight) return undefined;
    const entry = this.#queue[this.#head];
    if (entry === undefined) return undefined;
    this.#queue[this.#head++] = undefined as unknown as OutboxEntry; // let the payload go
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#inflight.add(entry.seq);
    return entry;
  }

  /**
   * The broker acknowledged `seq`: remove it from the outbox (in PUBACK order). The outbox hands
   * the acks of one journal write the same promise, so this costs a promise per write, not per ack.
   */
  acked(seq: number): void {
    if (!this.#inflight.delete(seq)) return;
    const ack = this.#outbox.ack(seq);
    if (ack === this.#lastAck) return;
    this.#lastAck = ack;
    // Batches settle in call order: once the newest has, every earlier one has too.
    this.#acks = ack.then(undefined, this.#onAckError);
  }

  /** Resolves when every ack handed to the outbox so far is written. */
  settled(): Promise<void> {
    return this.#acks;
  }

  #enqueue(entry: OutboxEntry): void {
    if (entry.seq <= this.#lastQueued) return;
    this.#lastQueued = entry.seq;
    this.#queue.push(entry);
  }
}
