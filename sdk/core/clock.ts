/**
 * Time for everything on the data path. Drivers, samplers, pipelines and boards take a `Clock` as a
 * parameter and never call `Date.now()` or `setTimeout` themselves, so the same code runs on the
 * system clock on a board and on a `VirtualClock` in tests and HIL runs, deterministically.
 *
 * Times are milliseconds since the Unix epoch, fractional where the clock has sub-millisecond
 * resolution.
 */
import { ArgumentError, TimeoutError } from './errors.js';
import { TimerQueue } from './timer-queue.js';

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

/** The last stretch before a deadline that SystemClock spins instead of sleeping, ms. */
const SPIN_MS = 0.1;
/** The longest delay `setTimeout` accepts. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * The host's clock: wall time with the monotonic high-resolution counter's precision.
 *
 * Node's timers fire up to ~1 ms late. The clock keeps one queue of deadlines and one wake-up: it
 * sleeps on the event loop until the earliest deadline is within `precisionWindowMs`, then waits
 * the rest with `Atomics.wait` (a futex with a nanosecond timeout), spinning only the last 0.1 ms.
 * It only ever blocks for the earliest deadline, so one timer's precise wait cannot make another
 * late, and it never fires before a deadline. The event loop runs between deadlines, so a 1 kHz
 * channel keeps sub-0.25 ms jitter without spinning a core.
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
  readonly #timers = new TimerQueue();
  #wakeUp: { cancel(): void } | undefined;
  #wakeUpFor = Number.NaN;
  readonly #pump = (): void => this.#run();

  constructor(options: SystemClockOptions = {}) {
    const window = options.precisionWindowMs ?? 1.5;
    if (!Number.isFinite(window) || window < 0 || window > 50) {
      throw new ArgumentError(`Expected \`precisionWindowMs\` to be a number from 0 to 50, got ${String(window)}`);
    }
    this.#precisionWindowMs = window;
  }

  now(): number {
    return this.#origin + performance.now();
  }

  schedule(atMs: number, callback: () => void): Timer {
    if (Number.isNaN(atMs)) throw new ArgumentError('Expected `atMs` to be a number, got NaN');
    const { timer, earliest } = this.#timers.add(atMs, callback);
    if (earliest) this.#arm();
    return {
      cancel: () => {
        timer.cancel();
        // The wake-up may have been for this timer: re-arm for the next one, or none, so a
        // cancelled timer never keeps the process alive or wakes it for nothing.
        this.#arm();
      },
    };
  }

  /** Arms the one wake-up for the earliest deadline (if not armed for it already). */
  #arm(): void {
    const head = this.#timers.peek();
    if (head === this.#wakeUpFor && this.#wakeUp !== undefined) return;
    this.#wakeUp?.cancel();
    this.#wakeUp = undefined;
    this.#wakeUpFor = Number.NaN;
    if (head === undefined) return;
    this.#wakeUpFor = head;
    const remaining = head - this.now();
    if (remaining > this.#precisionWindowMs + 1 || (this.#precisionWindowMs === 0 && remaining > 0)) {
      // Coarse wait on the event loop: wake inside the precision window (or, with no window, at
      // the deadline rounded up, so nothing fires early).
      const delay = this.#precisionWindowMs === 0 ? Math.ceil(remaining) : Math.floor(remaining - this.#precisionWindowMs);
      // setTimeout takes at most 2^31 − 1 ms (~24.8 days); a longer delay would fire at once.
      const handle = setTimeout(this.#pump, Math.min(delay, MAX_TIMEOUT_MS));
      this.#wakeUp = { cancel: () => clearTimeout(handle) };
    } else {
      // Let the event loop turn once (I/O, other callbacks) before the precise wait.
      const handle = setImmediate(this.#pump);
      this.#wakeUp = { cancel: () => clearImmediate(handle) };
    }
  }

  #run(): void {
    this.#wakeUp = undefined;
    this.#wakeUpFor = Number.NaN;
    const head = this.#timers.peek();
    if (head === undefined) return;
    let remaining = head - this.now();
    if (remaining > this.#precisionWindowMs + 1 || (this.#precisionWindowMs === 0 && remaining > 0)) {
      this.#arm();
      return;
    }
    // The head is the earliest deadline: blocking until it cannot make any other timer late.
    // The kernel wakes a sleeper ~50-100 µs late (timer slack, scheduling), so sleep until just
    // before the deadline and spin the last stretch on the high-resolution counter.
    while (remaining > SPIN_MS) {
      Atomics.wait(this.#waitCell, 0, 0, remaining - SPIN_MS);
      remaining = head - this.now();
    }
    while (head - this.now() > 0) {
      // Spin: at most SPIN_MS per deadline.
    }
    const now = this.now();
    try {
      for (let callback = this.#timers.takeDue(now); callback; callback = this.#timers.takeDue(now)) callback();
    } finally {
      // A throwing callback surfaces as an uncaught exception, like a throwing setTimeout callback,
      // but the timers after it still fire.
      this.#arm();
    }
  }
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
  readonly #timers = new TimerQueue();

  constructor(options: { start?: number } = {}) {
    const start = options.start ?? Date.UTC(2026, 0, 1);
    if (!Number.isFinite(start)) throw new ArgumentError(`Expected \`start\` to be a finite number of ms, got ${String(start)}`);
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  schedule(atMs: number, callback: () => void): Timer {
    if (!Number.isFinite(atMs)) throw new ArgumentError(`Expected \`atMs\` to be a finite number, got ${String(atMs)}`);
    return this.#timers.add(Math.max(atMs, this.#now), callback).timer;
  }

  /** Number of timers that have neither fired nor been cancelled. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves the clock forward by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new ArgumentError(`Expected \`ms\` to be a finite number from 0 and up, got ${String(ms)}`);
    await this.runUntil(this.#now + ms);
  }

  /** Moves the clock to `timeMs`, firing every timer due up to and including that time. */
  async runUntil(timeMs: number): Promise<void> {
    for (;;) {
      await flushMicrotasks();
      const next = this.#timers.peek();
      if (next === undefined || next > timeMs) break;
      this.#now = next;
      this.#timers.takeDue(next)!();
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
      const next = this.#timers.peek();
      if (next === undefined || next > deadline) {
        await this.runUntil(deadline);
        return predicate();
      }
      await this.runUntil(next);
    }
  }

  /**
   * Fires timers one by one until `promise` settles, then resolves or rejects as it did. The clock
   * stops at the timer that settled it (it does not move at all if the promise settles on
   * microtasks alone). Rejects with a `TimeoutError` (`ERR_TIMEOUT`) if `promise` has not settled after `limitMs` of
   * virtual time; the clock is then `limitMs` later than at the call.
   *
   * @example
   * ```ts
   * const clock = new VirtualClock()
   * const reading = await clock.runUntilSettled(driver.sample()) // the conversion time passes on the clock
   * await expect(clock.runUntilSettled(hung.sample(), 1000)).rejects.toThrow('did not settle within 1000 ms')
   * ```
   */
  async runUntilSettled<T>(promise: Promise<T>, limitMs = 60_000): Promise<T> {
    let settled = false;
    // Also marks a rejection handled, so a limit error does not leave it unhandled.
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    if (!Number.isFinite(limitMs) || limitMs < 0) {
      throw new ArgumentError(`Expected \`limitMs\` to be a finite number from 0 and up, got ${String(limitMs)}`);
    }
    if (!(await this.runUntilCondition(() => settled, limitMs))) {
      const pending = this.#timers.size;
      throw new TimeoutError(`the promise did not settle within ${limitMs} ms of virtual time (${pending} timer${pending === 1 ? '' : 's'} still pending)`);
    }
    return promise;
  }
}

/**
 * Lets every pending promise chain settle: the microtask queue is drained before the next macrotask,
 * however deep the chain of awaits in drivers and buses is.
 */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
