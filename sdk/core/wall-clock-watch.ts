/**
 * Wall-time steps: what holders of times use when a clock follows a step, and a watch that notices
 * when the host's wall clock steps away from a clock that does not follow it.
 *
 * `SystemClock` and `VirtualClock` follow wall-time steps themselves (they re-base and emit
 * `step`, see clock.ts). A clock of another kind keeps the time base it has: timestamps are then
 * off by the step until the process restarts. This watch makes that visible, so that it is not
 * silent: it compares the two clocks every `intervalMs` and reports each step larger than
 * `thresholdMs` once. (NTP's slewing of the clock rate moves both clocks alike on Linux,
 * CLOCK_MONOTONIC being slewed too, so it is not a step.)
 */
import type { Clock, ClockStep, Timer } from './clock.js';
import { ArgumentError } from './errors.js';

/**
 * The clock's time less every step it followed: for durations and deadlines that must not move
 * when the wall time steps (a rate limit's refill, a batch's age).
 *
 * @example
 * ```ts
 * const since = steadyNow(clock)
 * // … later, whatever the wall clock did meanwhile
 * const elapsedMs = steadyNow(clock) - since
 * ```
 */
export function steadyNow(clock: Clock): number {
  return clock.now() - (clock.steppedMs ?? 0);
}

/**
 * Listens to a clock's steps; returns a function that stops listening (a no-op for a clock that
 * never steps).
 *
 * @example
 * ```ts
 * const off = onClockStep(clock, ({ stepMs }) => (t0 += stepMs))
 * // … at stop
 * off()
 * ```
 */
export function onClockStep(clock: Clock, listener: (step: ClockStep) => void): () => void {
  return clock.on?.('step', listener) ?? (() => undefined);
}

/**
 * A time read from `clock` while a step may have happened (e.g. across an awaited bus transfer),
 * on the clock's current time base: `steppedBefore` is `clock.steppedMs` before the operation
 * began. When steps happened since, `time` is moved by them if that brings it nearer the clock's
 * time (it was read before the step), and kept otherwise (read after). Exact whenever the steps are
 * larger than twice the operation's duration, which a step threshold of a second makes sure of.
 *
 * @example
 * ```ts
 * const before = clock.steppedMs ?? 0
 * const batch = await acquisition.drain()
 * const time = onCurrentBase(clock, batch.time, before)
 * ```
 */
export function onCurrentBase(clock: Clock, time: number, steppedBefore: number): number {
  const delta = (clock.steppedMs ?? 0) - steppedBefore;
  if (delta === 0) return time;
  const now = clock.now();
  return Math.abs(time + delta - now) < Math.abs(time - now) ? time + delta : time;
}


/** Options of {@link watchWallClock}. */
export interface WallClockWatchOptions {
  /** The device's clock. */
  readonly clock: Clock;
  /** The host's wall clock, ms since the epoch. Default `Date.now`. */
  readonly wallNow?: () => number;
  /** How often to compare, ms of `clock`. Default 2,000. */
  readonly intervalMs?: number;
  /** The smallest difference reported as a step, ms. Default 1,000. */
  readonly thresholdMs?: number;
  /**
   * The wall clock's lead over `clock` when they last agreed, ms. Default: the lead at the call.
   * `0` for a clock known to start on the wall time also catches a step made before the call.
   */
  readonly initialLeadMs?: number;
}

/**
 * Calls `onStep` once per step of the wall clock relative to `clock`, with the step's size and the
 * wall clock's whole lead over `clock` after it (ms, positive when the wall clock is ahead; with
 * `initialLeadMs: 0` on a clock that started on the wall time, how far its timestamps are behind it). Returns
 * a function that stops watching (also from inside `onStep`).
 *
 * @example
 * ```ts
 * const stop = watchWallClock({ clock }, (stepMs) => console.warn(`the system clock stepped by ${describeStep(stepMs)}`))
 * // … at shutdown
 * stop()
 * ```
 */
export function watchWallClock(options: WallClockWatchOptions, onStep: (stepMs: number, leadMs: number) => void): () => void {
  const { clock } = options;
  const wallNow = options.wallNow ?? Date.now;
  const intervalMs = options.intervalMs ?? 2000;
  const thresholdMs = options.thresholdMs ?? 1000;
  if (!(intervalMs > 0 && Number.isFinite(intervalMs))) throw new ArgumentError(`Expected \`intervalMs\` to be a positive number, got ${String(intervalMs)}`);
  if (!(thresholdMs > 0 && Number.isFinite(thresholdMs))) throw new ArgumentError(`Expected \`thresholdMs\` to be a positive number, got ${String(thresholdMs)}`);
  // The wall clock's lead over `clock` as last accepted; a step moves it.
  let lead = options.initialLeadMs ?? wallNow() - clock.now();
  let timer: Timer;
  const check = (): void => {
    const now = clock.now();
    const current = wallNow() - now;
    // The next check first: an `onStep` that throws or stops the watch is then handled as such.
    timer = clock.schedule(now + intervalMs, check);
    if (Math.abs(current - lead) <= thresholdMs) return;
    const step = current - lead;
    lead = current;
    onStep(step, current);
  };
  timer = clock.schedule(clock.now() + intervalMs, check);
  return () => timer.cancel();
}

/**
 * A step in words, signed: "+2 h 5 min", "−3 min 20 s", "+4.2 s".
 *
 * @example
 * ```ts
 * describeStep(7_500_000) // "+2 h 5 min"
 * ```
 */
export function describeStep(stepMs: number): string {
  const sign = stepMs < 0 ? '−' : '+';
  const seconds = Math.abs(stepMs) / 1000;
  if (seconds < 59.95) return `${sign}${seconds.toFixed(1)} s`;
  // Rounded to the last unit shown (7,199,997 ms is "+2 h 0 min", not "+1 h 59 min").
  const wholeSeconds = Math.round(seconds);
  if (wholeSeconds < 3600) return `${sign}${Math.floor(wholeSeconds / 60)} min ${wholeSeconds % 60} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 48 * 60) return `${sign}${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  const hours = Math.round(seconds / 3600);
  return `${sign}${Math.floor(hours / 24)} d ${hours % 24} h`;
}
