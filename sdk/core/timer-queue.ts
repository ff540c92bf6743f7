/**
 * The pending timers of a clock, earliest first (ties in scheduling order). Shared by
 * `VirtualClock` and `SystemClock`.
 */
import type { Timer } from './clock.js';

interface Pending {
  at: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/** A sorted queue of timers; cancelled ones are dropped lazily. */
export class TimerQueue {
  #seq = 0;
  readonly #queue: Pending[] = [];

  /** Adds a timer; returns its handle and whether it became the earliest. */
  add(at: number, callback: () => void): { timer: Timer; earliest: boolean } {
    const pending: Pending = { at, seq: this.#seq++, callback, cancelled: false };
    // Binary search for the first timer that is later (equal times keep scheduling order).
    let low = 0;
    let high = this.#queue.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = this.#queue[mid]!;
      if (other.at < at || (other.at === at && other.seq < pending.seq)) low = mid + 1;
      else high = mid;
    }
    this.#queue.splice(low, 0, pending);
    return { timer: { cancel: () => void (pending.cancelled = true) }, earliest: low === 0 };
  }

  /** Time of the earliest live timer, or undefined. */
  peek(): number | undefined {
    this.#dropCancelled();
    return this.#queue[0]?.at;
  }

  /** Removes and returns the callback of the earliest live timer if it is due at or before `time`. */
  takeDue(time: number): (() => void) | undefined {
    this.#dropCancelled();
    const head = this.#queue[0];
    if (head === undefined || head.at > time) return undefined;
    this.#queue.shift();
    return head.callback;
  }

  /**
   * Moves every pending timer by `ms` (a clock re-basing on a wall-time step): each keeps its
   * remaining delay, and their order is unchanged.
   */
  shift(ms: number): void {
    for (const pending of this.#queue) pending.at += ms;
  }

  /** Number of live timers. */
  get size(): number {
    return this.#queue.reduce((count, pending) => count + (pending.cancelled ? 0 : 1), 0);
  }

  #dropCancelled(): void {
    while (this.#queue[0]?.cancelled) this.#queue.shift();
  }
}
