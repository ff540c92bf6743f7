/**
 * Time for everything on the data path. Drivers, samplers, pipelines and boards take a `Clock` as a
 * parameter and never call `Date.now()` or `setTimeout` themselves, so the same code runs on the
 * system clock on a board and on a `VirtualClock` in tests and HIL runs, deterministically.
 *
 * Times are milliseconds since the Unix epoch, fractional where the clock has sub-millisecond
 * resolution.
 *
 * Wall-time steps. When the host's wall clock steps (NTP setting the time of a board without a
 * battery-backed RTC, an operator's `date -s`) by more than a threshold, the clock re-bases: `now()`
 * jumps to the new wall time, every pending timer keeps its remaining delay (its due time moves by
 * the step, so a step neither fires a burst of timers nor delays any), and the clock emits `step`
 * with `{ stepMs, at }`. Whoever keeps absolute times on the clock (a sampler's tick schedule, a
 * part clock's anchor) moves them by `stepMs` in its listener; whoever only measures durations uses
 * `steadyNow(clock)`, which a step does not move (wall-clock-watch.ts).
 */
import { ArgumentError, TimeoutError } from './errors.js';
import { TypedEmitter } from './events.js';
import { TimerQueue } from './timer-queue.js';

/** A scheduled callback; `cancel()` is idempotent. */
export interface Timer {
  cancel(): void;
}

/**
 * A wall-time step the clock followed: `now()` jumped by `stepMs` (positive: forward) and reads
 * `at` just after it.
 *
 * @example
 * ```ts
 * clock.on?.('step', ({ stepMs, at }) => console.log(`re-based by ${stepMs} ms at ${new Date(at).toISOString()}`))
 * ```
 */
export interface ClockStep {
  readonly stepMs: number;
  readonly at: number;
}

/** Events of a clock that follows wall-time steps. */
export interface ClockEvents {
  step: [step: ClockStep];
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
  /**
   * A clock that follows wall-time steps reports each one, synchronously, after it moved its
   * pending timers and before any of them fires. A listener that throws keeps no other from
   * running; its error surfaces afterwards as an uncaught exception. Optional: a clock without it
   * never steps.
   */
  on?(event: 'step', listener: (step: ClockStep) => void): () => void;
  /** The sum of the steps followed so far, ms (absent: never steps). */
  readonly steppedMs?: number;
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
  /**
   * A difference between the wall clock and `now()` larger than this is a step, and the clock
   * re-bases on it (see {@link Clock}); `Infinity` keeps the time base of the start. From 10 (the
   * wall clock's 1 ms rounding is no step). Default 1,000.
   */
  stepThresholdMs?: number;
  /** How often the wall clock is compared while timers are pending or steps are listened to, ms. Default 1,000. */
  stepCheckIntervalMs?: number;
  /** The wall clock, ms since the epoch. Default `Date.now`. */
  wallNow?: () => number;
}

type StepListener = (step: ClockStep) => void;

/**
 * The `step` event of both clocks. Each listener runs on its own: one that throws neither keeps
 * the later ones from re-basing what they hold (a sampler's schedule, a part clock's anchor) nor
 * interrupts the clock that is re-basing; its error surfaces afterwards, as an uncaught exception,
 * as a throwing timer callback's does.
 */
class StepEmitter extends TypedEmitter<ClockEvents> {
  /** Each listener's guarded wrapper, so that `off(listener)` finds it. */
  readonly #guarded = new WeakMap<StepListener, StepListener>();

  override on<K extends keyof ClockEvents>(event: K, listener: (...args: ClockEvents[K]) => void): () => void {
    let guarded = this.#guarded.get(listener);
    if (guarded === undefined) {
      guarded = (step) => {
        try {
          listener(step);
        } catch (error) {
          queueMicrotask(() => {
            throw error;
          });
        }
      };
      this.#guarded.set(listener, guarded);
    }
    return super.on(event, guarded);
  }

  override off<K extends keyof ClockEvents>(event: K, listener: (...args: ClockEvents[K]) => void): void {
    super.off(event, this.#guarded.get(listener) ?? listener);
  }
}

/** The last stretch before a deadline that SystemClock spins instead of sleeping, ms. */
const SPIN_MS = 0.1;
/** The longest delay `setTimeout` accepts. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * The host's clock: wall time with the monotonic high-resolution counter's precision, re-based on
 * each wall-time step larger than `stepThresholdMs`.
 *
 * The wall clock is compared every `stepCheckIntervalMs` (while the clock has timers or step
 * listeners; the interval does not keep the process alive), before the due timers fire, and
 * after each `schedule()` (in a microtask, so that a step is never reported from inside a
 * caller's own code). Timers run on the monotonic counter, so a step never makes one fire early or
 * late; re-basing moves their due times with `now()`. A step is reported once, then `now()` reads
 * the wall time again. (NTP slewing the clock rate moves the wall clock and the monotonic counter
 * alike on Linux, CLOCK_MONOTONIC being slewed too: no step.)
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
export class SystemClock extends StepEmitter implements Clock {
  readonly #precisionWindowMs: number;
  readonly #stepThresholdMs: number;
  readonly #stepCheckIntervalMs: number;
  readonly #wallNow: () => number;
  /** The time base: wall time at the origin plus the steps followed. */
  #origin = performance.timeOrigin;
  #steppedMs = 0;
  readonly #waitCell = new Int32Array(new SharedArrayBuffer(4));
  readonly #timers = new TimerQueue();
  #wakeUp: { cancel(): void } | undefined;
  #wakeUpFor = Number.NaN;
  #stepWatch: ReturnType<typeof setInterval> | undefined;
  #checkQueued = false;
  readonly #pump = (): void => this.#run();
  readonly #queuedCheck = (): void => {
    this.#checkQueued = false;
    this.checkWallClock();
  };

  constructor(options: SystemClockOptions = {}) {
    super();
    const window = options.precisionWindowMs ?? 1.5;
    if (!Number.isFinite(window) || window < 0 || window > 50) {
      throw new ArgumentError(`Expected \`precisionWindowMs\` to be a number from 0 to 50, got ${String(window)}`);
    }
    this.#precisionWindowMs = window;
    this.#stepThresholdMs = checkThreshold(options.stepThresholdMs);
    const interval = options.stepCheckIntervalMs ?? 1000;
    if (!(Number.isFinite(interval) && interval >= 10)) throw new ArgumentError(`Expected \`stepCheckIntervalMs\` to be a number from 10 and up, got ${String(interval)}`);
    this.#stepCheckIntervalMs = interval;
    if (options.wallNow !== undefined && typeof options.wallNow !== 'function') throw new ArgumentError('Expected `wallNow` to be a function');
    this.#wallNow = options.wallNow ?? Date.now;
    // `now()` starts on the wall clock of this moment (timeOrigin is the process's start, and the
    // wall clock may have stepped since): a step before the clock existed is not one of its own.
    if (this.#stepThresholdMs !== Infinity) this.#origin += this.#wallNow() - this.now();
  }

  now(): number {
    return this.#origin + performance.now();
  }

  /** The sum of the steps followed so far, ms. */
  get steppedMs(): number {
    return this.#steppedMs;
  }

  schedule(atMs: number, callback: () => void): Timer {
    if (Number.isNaN(atMs)) throw new ArgumentError('Expected `atMs` to be a number, got NaN');
    const { timer, earliest } = this.#timers.add(atMs, callback);
    if (earliest) this.#arm();
    if (!this.#checkQueued && this.#stepThresholdMs !== Infinity) {
      this.#checkQueued = true;
      queueMicrotask(this.#queuedCheck);
    }
    return {
      cancel: () => {
        timer.cancel();
        // The wake-up may have been for this timer: re-arm for the next one, or none, so a
        // cancelled timer never keeps the process alive or wakes it for nothing.
        this.#arm();
      },
    };
  }

  override on<K extends keyof ClockEvents>(event: K, listener: (...args: ClockEvents[K]) => void): () => void {
    const off = super.on(event, listener);
    this.#watchSteps();
    return () => {
      off();
      this.#watchSteps();
    };
  }

  /**
   * Compares the wall clock with `now()` and re-bases on a step beyond the threshold; returns the
   * step, if any. The clock does this by itself; call it to check at a moment of your choosing.
   *
   * @example
   * ```ts
   * const step = clock.checkWallClock() // e.g. right after the NTP client reports synchronisation
   * if (step) console.log(`re-based by ${step.stepMs} ms`)
   * ```
   */
  checkWallClock(): ClockStep | undefined {
    if (this.#stepThresholdMs === Infinity) return undefined;
    const stepMs = this.#wallNow() - this.now();
    if (!(Math.abs(stepMs) > this.#stepThresholdMs)) return undefined;
    this.#origin += stepMs;
    this.#steppedMs += stepMs;
    this.#timers.shift(stepMs);
    // The wake-up was armed for a due time that moved: arm again (same remaining delay).
    this.#wakeUp?.cancel();
    this.#wakeUp = undefined;
    this.#wakeUpFor = Number.NaN;
    this.#arm();
    const step = { stepMs, at: this.now() };
    this.emit('step', step);
    return step;
  }

  /** Runs the periodic comparison while there are timers or step listeners; stops it otherwise. */
  #watchSteps(): void {
    const wanted = this.#stepThresholdMs !== Infinity && (this.#timers.peek() !== undefined || this.listenerCount('step') > 0);
    if (wanted && this.#stepWatch === undefined) {
      this.#stepWatch = setInterval(() => this.checkWallClock(), this.#stepCheckIntervalMs);
      this.#stepWatch.unref();
    } else if (!wanted && this.#stepWatch !== undefined) {
      clearInterval(this.#stepWatch);
      this.#stepWatch = undefined;
    }
  }

  /** Arms the one wake-up for the earliest deadline (if not armed for it already). */
  #arm(): void {
    const head = this.#timers.peek();
    if (head === this.#wakeUpFor && this.#wakeUp !== undefined) return;
    this.#wakeUp?.cancel();
    this.#wakeUp = undefined;
    this.#wakeUpFor = Number.NaN;
    this.#watchSteps();
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
    // Before the due timers fire: they then read the new time base, and those whose delay a step
    // left unexpired (their due time moved) wait for it.
    this.checkWallClock();
    if (this.#wakeUp !== undefined) return;
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
    const stepped = this.#steppedMs;
    try {
      // A step checked for inside a callback moves the rest of the queue: compare on the new base.
      for (let callback = this.#timers.takeDue(now); callback; callback = this.#timers.takeDue(now + this.#steppedMs - stepped)) callback();
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
 * It has a fake wall clock, `wallNow()`, that moves with it and that `stepWall(ms)` steps: a step
 * larger than `stepThresholdMs` re-bases the clock exactly as a `SystemClock` re-bases on a step of
 * the host's clock (`now()` jumps, pending timers keep their remaining delays, `step` is emitted).
 *
 * @example
 * ```ts
 * const clock = new VirtualClock({ start: Date.UTC(2026, 0, 1) })
 * clock.schedule(clock.now() + 1000, () => console.log('one virtual second'))
 * await clock.advance(1000)
 * clock.stepWall(2 * 3600_000) // NTP sets the time 2 h ahead: now() follows, the timers keep their delays
 * ```
 */
export class VirtualClock extends StepEmitter implements Clock {
  #now: number;
  /** The fake wall clock's lead over `now()`, ms. */
  #wallLead = 0;
  #steppedMs = 0;
  readonly #stepThresholdMs: number;
  readonly #timers = new TimerQueue();

  constructor(options: { start?: number; stepThresholdMs?: number } = {}) {
    super();
    const start = options.start ?? Date.UTC(2026, 0, 1);
    if (!Number.isFinite(start)) throw new ArgumentError(`Expected \`start\` to be a finite number of ms, got ${String(start)}`);
    this.#now = start;
    this.#stepThresholdMs = checkThreshold(options.stepThresholdMs);
  }

  now(): number {
    return this.#now;
  }

  /** The sum of the steps followed so far, ms. */
  get steppedMs(): number {
    return this.#steppedMs;
  }

  /**
   * The fake wall clock, ms since the epoch: `now()` plus what `stepWall` added that the clock did
   * not follow.
   *
   * @example
   * ```ts
   * clock.stepWall(600) // under the threshold
   * clock.wallNow() - clock.now() // 600
   * ```
   */
  wallNow(): number {
    return this.#now + this.#wallLead;
  }

  /**
   * Steps the fake wall clock by `ms` (negative: back). When it is then more than `stepThresholdMs`
   * away from `now()`, the clock re-bases on it at once and emits `step` (returned); a smaller
   * difference stays, and adds to the next step.
   *
   * @example
   * ```ts
   * const clock = new VirtualClock({ start: Date.UTC(2026, 0, 1) })
   * clock.stepWall(2 * 3600_000) // { stepMs: 7200000, at: Date.UTC(2026, 0, 1, 2) }
   * clock.stepWall(-500)         // undefined: under the 1 s threshold
   * ```
   */
  stepWall(ms: number): ClockStep | undefined {
    if (!Number.isFinite(ms)) throw new ArgumentError(`Expected \`ms\` to be a finite number, got ${String(ms)}`);
    this.#wallLead += ms;
    const stepMs = this.#wallLead;
    if (!(Math.abs(stepMs) > this.#stepThresholdMs)) return undefined;
    this.#wallLead = 0;
    this.#now += stepMs;
    this.#steppedMs += stepMs;
    this.#timers.shift(stepMs);
    const step = { stepMs, at: this.#now };
    this.emit('step', step);
    return step;
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
    // A step during the run (a callback stepping the wall clock) moves the target with the timers.
    const stepped = this.#steppedMs;
    const target = (): number => timeMs + this.#steppedMs - stepped;
    for (;;) {
      await flushMicrotasks();
      const next = this.#timers.peek();
      if (next === undefined || next > target()) break;
      this.#now = next;
      this.#timers.takeDue(next)!();
    }
    if (target() > this.#now) this.#now = target();
    await flushMicrotasks();
  }

  /**
   * Fires timers until `predicate()` is true or `limitMs` of virtual time has passed; returns
   * whether the predicate became true.
   */
  async runUntilCondition(predicate: () => boolean, limitMs: number): Promise<boolean> {
    const stepped = this.#steppedMs;
    const start = this.#now;
    const deadline = (): number => start + limitMs + this.#steppedMs - stepped;
    for (;;) {
      await flushMicrotasks();
      if (predicate()) return true;
      const next = this.#timers.peek();
      if (next === undefined || next > deadline()) {
        await this.runUntil(deadline());
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
 * The smallest step threshold, ms. `Date.now()` has 1 ms resolution and `now()` is fractional: a
 * threshold near 1 ms would take their rounding for steps, re-basing on noise.
 */
const MIN_STEP_THRESHOLD_MS = 10;

/** The step threshold option of both clocks. */
function checkThreshold(value: number | undefined): number {
  const threshold = value ?? 1000;
  if (!(threshold >= MIN_STEP_THRESHOLD_MS)) {
    throw new ArgumentError(`Expected \`stepThresholdMs\` to be a number from ${MIN_STEP_THRESHOLD_MS} and up (Infinity: never re-base), got ${String(value)}`);
  }
  return threshold;
}

/**
 * Lets every pending promise chain settle: the microtask queue is drained before the next macrotask,
 * however deep the chain of awaits in drivers and buses is.
 */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
