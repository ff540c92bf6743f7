/**
 * Time for everything on the data path. Drivers, samplers, pipelines and boards take a `Clock` as a
 * parameter and never call `Date.now()` or `setTimeout` themselves, so the same code runs on the
 * system clock on a board and on a `VirtualClock` in tests and HIL runs, deterministically.
 *
 * Times are milliseconds since the Unix epoch, fractional where the clock has sub-millisecond
 * resolution.
 */

/** A scheduled callback; `cancel()` is idempotent. */
export interface Timer {
  cancel(): void;
}

/** The clock contract. */
export interface Clock {
  /** Current time in ms since the Unix epoch (may be fractional). */
  now(): number;
  /**
   * Calls `callback` once when the clock reaches `atMs` (absolute, ms since the epoch). A time in
   * the past fires as soon as possible. Callbacks due at the same time run in scheduling order.
   */
  schedule(atMs: number, callback: () => void): Timer;
}

/**
 * Options of {@link SystemClock}.
 */
export interface SystemClockOptions {
  /**
   * How many ms before a deadline the clock stops relying on the event loop's timers (1 ms
   * granularity, often late by more) and finishes the wait with a precise blocking wait.
   * `0` turns precision waits off. Default `1.5`.
   */
  precisionWindowMs?: number;
}

/**
 * The host's clock: wall time with the monotonic high-resolution counter's precision.
 *
 * Node's timers fire up to ~1 ms late. For deadlines within `precisionWindowMs` the clock waits the
 * rest with `Atomics.wait` (a futex with a nanosecond timeout: no CPU spent, ~50 µs precision), so a
 * 1 kHz channel keeps sub-0.25 ms jitter without spinning a core. The event loop still runs between
 * deadlines.
 *
 * @example
 * ```ts
 * const clock = new SystemClock()
 * clock.schedule(clock.now() + 10, () => console.log('10 ms later'))
 * ```
 */
export class SystemClock implements Clock {
  readonly #precisionWindowMs: number;
  readonly #origin = performance.timeOrigin;
  readonly #waitCell = new Int32Array(new SharedArrayBuffer(4));

  constructor(options: SystemClockOptions = {}) {
    const window = options.precisionWindowMs ?? 1.5;
    if (!Number.isFinite(window) || window < 0 || window > 50) {
      throw new TypeError(`Expected \`precisionWindowMs\` to be a number from 0 to 50, got ${String(window)}`);
    }
    this.#precisionWindowMs = window;
  }

  now(): number {
    return this.#origin + performance.now();
  }

  schedule(atMs: number, callback: () => void): Timer {
    let cancelled = false;
    let handle: NodeJS.Timeout | NodeJS.Immediate | undefined;
    const fire = (): void => {
      if (cancelled) return;
      const remaining = atMs - this.now();
      if (remaining > this.#precisionWindowMs + 1) {
        // Coarse wait on the event loop; wake up inside the precision window.
        handle = setTimeout(fire, Math.max(0, Math.floor(remaining - this.#precisionWindowMs)));
        return;
      }
      if (remaining > 0.02 && this.#precisionWindowMs > 0) {
        Atomics.wait(this.#waitCell, 0, 0, remaining);
      }
      callback();
    };
    const remaining = atMs - this.now();
    if (remaining > this.#precisionWindowMs + 1) {
      handle = setTimeout(fire, Math.max(0, Math.floor(remaining - this.#precisionWindowMs)));
    } else {
      // Let the event loop turn once (I/O, other timers) before the precise wait.
      handle = setImmediate(fire);
    }
    return {
      cancel: () => {
        cancelled = true;
        if (handle !== undefined) {
          clearTimeout(handle as NodeJS.Timeout);
          clearImmediate(handle as NodeJS.Immediate);
        }
      },
    };
  }
}

interface PendingTimer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. Timers fire in time order (then scheduling order) while the
 * clock advances, and the clock reads exactly each timer's time while its callback runs.
 *
 * Promise continuations started by a callback run before the next timer fires when you use the async
 * methods (`advance`, `runUntil`), so async drivers behave as on a real clock.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock({ start: Date.UTC(2026, 0, 1) })
 * clock.schedule(clock.now() + 1000, () => console.log('one virtual second'))
 * await clock.advance(1000)
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #queue: PendingTimer[] = [];

  constructor(options: { start?: number } = {}) {
    const start = options.start ?? Date.UTC(2026, 0, 1);
    if (!Number.isFinite(start)) throw new TypeError(`Expected \`start\` to be a finite number of ms, got ${String(start)}`);
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  schedule(atMs: number, callback: () => void): Timer {
    if (!Number.isFinite(atMs)) throw new TypeError(`Expected \`atMs\` to be a finite number, got ${String(atMs)}`);
    const timer: PendingTimer = { at: Math.max(atMs, this.#now), seq: this.#seq++, callback, cancelled: false };
    this.#insert(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Number of timers that have neither fired nor been cancelled. */
  get pending(): number {
    return this.#queue.filter((timer) => !timer.cancelled).length;
  }

  /** Moves the clock forward by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`Expected \`ms\` to be a finite number from 0 and up, got ${String(ms)}`);
    await this.runUntil(this.#now + ms);
  }

  /** Moves the clock to `timeMs`, firing every timer due up to and including that time. */
  async runUntil(timeMs: number): Promise<void> {
    for (;;) {
      await flushMicrotasks();
      const next = this.#queue[0];
      if (next === undefined || next.at > timeMs) break;
      this.#queue.shift();
      if (next.cancelled) continue;
      this.#now = next.at;
      next.callback();
    }
    if (timeMs > this.#now) this.#now = timeMs;
    await flushMicrotasks();
  }

  /**
   * Fires timers until `predicate()` is true or `limitMs` of virtual time has passed; returns
   * whether the predicate became true.
   */
  async runUntilCondition(predicate: () => boolean, limitMs: number): Promise<boolean> {
    const deadline = this.#now + limitMs;
    for (;;) {
      await flushMicrotasks();
      if (predicate()) return true;
      const next = this.#queue.find((timer) => !timer.cancelled);
      if (next === undefined || next.at > deadline) {
        await this.runUntil(deadline);
        return predicate();
      }
      await this.runUntil(next.at);
    }
  }

  #insert(timer: PendingTimer): void {
    // Binary search for the first timer that is later (ties keep scheduling order).
    let low = 0;
    let high = this.#queue.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = this.#queue[mid]!;
      if (other.at < timer.at || (other.at === timer.at && other.seq < timer.seq)) low = mid + 1;
      else high = mid;
    }
    this.#queue.splice(low, 0, timer);
  }
}

/**
 * Lets every pending promise chain settle: the microtask queue is drained before the next macrotask,
 * however deep the chain of awaits in drivers and buses is.
 */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
