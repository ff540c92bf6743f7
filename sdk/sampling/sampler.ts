/**
 * The sampler: reads sampling groups at fixed rates on an injected `Clock`.
 *
 * Tick k of a group is due at the absolute time `t0 + k·1000/rateHz` ms. Every tick is computed from
 * `t0`, never as `previous + period`, so a timer that fires late delays that one tick only and
 * the schedule never drifts (the late-firing error does not accumulate).
 *
 * All groups share one clock timer, armed for the earliest due tick. A clock that finishes each
 * wait precisely (SystemClock blocks for the last part of the wait) can then never be busy waiting
 * for one group's tick while another group's tick comes due: with one timer per group, a 100 Hz
 * group's wait ran over the 1 kHz group's next tick and cost it one tick in ten.
 *
 * A wall-time step the clock follows (see `Clock`) moves `t0` and every due tick by the step: the
 * cadence goes on unbroken (no catch-up ticks after a step forward, no pause after a step back) and
 * the readings after it carry the new wall time. A read in flight across the step gets its times
 * on the new base.
 */
import type { Clock, ClockStep, Timer } from '../core/clock.js';
import { onClockStep, onCurrentBase } from '../core/wall-clock-watch.js';
import { ArgumentError, SensorError, StateError } from '../core/errors.js';
import type { Quality } from '../core/sample.js';
import type { Reading } from '../drivers/contract.js';

/** Highest rate a group may ask for, Hz: beyond it a timer-driven JavaScript loop is not honest. */
export const MAX_RATE_HZ = 10_000;
/** Most reads one tick may average. */
const MAX_OVERSAMPLING = 1024;

/**
 * What a group's tick produced: a reading, or the error its read rejected with.
 *
 * `scheduledTime` is the tick's due time on the clock; the reading's own `time` says when the
 * conversion was actually taken.
 *
 * @example
 * ```ts
 * onResult: (result: SamplingResult) => {
 *   if (result.ok) pipeline.process({ time: result.reading.time, value: result.reading.values.temperature! })
 *   else pipeline.process({ time: result.time, error: result.error })
 * }
 * ```
 */
export type SamplingResult =
  | {
      readonly ok: true;
      readonly scheduledTime: number;
      /** With oversampling: each output averaged over the burst; `time` and `provenance` of the first read. */
      readonly reading: Reading;
      /**
       * Samples that should have come immediately before this one but never did: ticks skipped
       * (overruns) of a timed group, frames lost (FIFO overflow, a gap) of a sensor-clocked one.
       * Absent when none.
       */
      readonly missedBefore?: number;
      /** Sensor-clocked acquisition only: the sample's quality when not good (after a loss, a duplicate). */
      readonly quality?: Quality;
    }
  | { readonly ok: false; readonly scheduledTime: number; readonly time: number; readonly error: unknown };

/**
 * A set of outputs read together at one rate (usually one part).
 *
 * @example
 * ```ts
 * const group: SamplingGroup = {
 *   id: 'bme280@0x76', rateHz: 10, oversampling: 4,
 *   read: () => driver.sample(),
 *   onResult: (result) => { if (result.ok) console.log(result.reading.values) },
 * }
 * ```
 */
export interface SamplingGroup {
  /** Unique within a sampler; names the group in `stats()`. */
  readonly id: string;
  /** Ticks per second, above 0 and at most 10 000. */
  readonly rateHz: number;
  /** Reads per tick, taken one after the other and averaged. Integer from 1 to 1024; default 1. */
  readonly oversampling?: number;
  /** Takes one reading. May reject: the tick then yields `{ ok: false }`. */
  read(): Promise<Reading>;
  /**
   * Receives every served tick's result, in tick order. Must not throw: an exception is rethrown
   * as an uncaught exception (as from any timer callback), after the sampler's bookkeeping.
   */
  onResult(result: SamplingResult): void;
}

/**
 * Counters of one group; `ticks + overruns` is the number of ticks that came due.
 *
 * @example
 * ```ts
 * const { ticks, failures, overruns } = sampler.stats()['adc']!
 * if (overruns > 0) console.warn(`adc cannot keep up: ${overruns} of ${ticks + overruns} ticks skipped`)
 * ```
 */
export interface SamplingStats {
  /** Ticks served: a read (or burst) was started. */
  readonly ticks: number;
  /** Served ticks whose read rejected. */
  readonly failures: number;
  /** Ticks skipped: the previous read was still running, or the timer fired after the tick had passed. */
  readonly overruns: number;
}

interface GroupState {
  readonly id: string;
  readonly rateHz: number;
  readonly oversampling: number;
  readonly read: () => Promise<Reading>;
  readonly onResult: (result: SamplingResult) => void;
  t0: number;
  /** Index of the group's next tick. */
  k: number;
  /** Due time of tick k; Infinity while the sampler is stopped. */
  nextAt: number;
  busy: boolean;
  inFlight: Promise<void> | undefined;
  ticks: number;
  failures: number;
  overruns: number;
  /** Ticks skipped since the last served one, handed on as the next result's `missedBefore`. */
  missed: number;
}

/**
 * Schedules sampling groups on a clock, each at its own rate, with drift-free tick times, overrun
 * detection (never two reads of a group in flight) and failures turned into results.
 *
 * Groups added before `start()` share one `t0`, so a 100 Hz group ticks together with every tenth
 * tick of a 1 kHz group. A group added while running starts at the clock's current time.
 *
 * @example
 * ```ts
 * const sampler = new Sampler({ clock: new SystemClock() })
 * sampler.add({ id: 'adc', rateHz: 1000, read: () => adc.sample(), onResult: (r) => pipeline(r) })
 * sampler.start()
 * // …
 * await sampler.stop() // cancels timers, waits for the read in flight
 * sampler.stats()      // { adc: { ticks: 10000, failures: 0, overruns: 0 } }
 * ```
 */
export class Sampler {
  readonly #clock: Clock;
  readonly #groups = new Map<string, GroupState>();
  readonly #onTimer = (): void => this.#fire();
  readonly #onStep = (step: ClockStep): void => this.#rebase(step.stepMs);
  #offStep: (() => void) | undefined;
  #running = false;
  #timer: Timer | undefined;
  /** What the pending timer is armed for. */
  #timerAt = Infinity;

  constructor(options: { readonly clock: Clock }) {
    if (typeof options !== 'object' || options === null) {
      throw new ArgumentError(`Expected \`options\` to be an object, got ${describe(options)}`);
    }
    const clock = options.clock as Partial<Clock> | undefined;
    if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function' || typeof clock.schedule !== 'function') {
      throw new ArgumentError(`Expected \`clock\` to be a Clock with now() and schedule(), got ${describe(options.clock)}`);
    }
    this.#clock = options.clock;
  }

  /** Whether the sampler is started. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Adds a group. Throws `ArgumentError` naming the bad option. While running, the group starts at
   * once (its first tick is due now).
   */
  add(group: SamplingGroup): void {
    if (typeof group !== 'object' || group === null) throw new ArgumentError(`Expected \`group\` to be an object, got ${describe(group)}`);
    const { id, rateHz, read, onResult } = group;
    const oversampling = group.oversampling ?? 1;
    if (typeof id !== 'string' || id === '') throw new ArgumentError(`Expected \`id\` to be a non-empty string, got ${describe(id)}`);
    if (this.#groups.has(id)) throw new ArgumentError(`Expected \`id\` to be unique, got ${describe(id)} twice`);
    if (typeof rateHz !== 'number' || !(rateHz > 0 && rateHz <= MAX_RATE_HZ)) {
      throw new ArgumentError(`Expected \`rateHz\` to be a number above 0 and at most ${MAX_RATE_HZ}, got ${describe(rateHz)}`);
    }
    if (!Number.isInteger(oversampling) || oversampling < 1 || oversampling > MAX_OVERSAMPLING) {
      throw new ArgumentError(`Expected \`oversampling\` to be an integer from 1 to ${MAX_OVERSAMPLING}, got ${describe(oversampling)}`);
    }
    if (typeof read !== 'function') throw new ArgumentError(`Expected \`read\` to be a function, got ${describe(read)}`);
    if (typeof onResult !== 'function') throw new ArgumentError(`Expected \`onResult\` to be a function, got ${describe(onResult)}`);
    const state: GroupState = {
      id,
      rateHz,
      oversampling,
      read: () => group.read(),
      onResult: (result) => group.onResult(result),
      t0: 0,
      k: 0,
      nextAt: Infinity,
      busy: false,
      inFlight: undefined,
      ticks: 0,
      failures: 0,
      overruns: 0,
      missed: 0,
    };
    this.#groups.set(id, state);
    if (this.#running) {
      this.#begin(state, this.#clock.now());
      this.#arm();
    }
  }

  /** Starts every group; the first tick of each is due now. Throws `StateError` when already running. */
  start(): void {
    if (this.#running) throw new StateError('the sampler is already running; stop() it first');
    this.#running = true;
    this.#offStep = onClockStep(this.#clock, this.#onStep);
    const t0 = this.#clock.now();
    for (const state of this.#groups.values()) this.#begin(state, t0);
    this.#arm();
  }

  /**
   * Cancels every timer and resolves once the reads in flight have settled and their results were
   * delivered. Nothing is delivered after it resolves (unless started again). Idempotent.
   */
  async stop(): Promise<void> {
    this.#running = false;
    this.#offStep?.();
    this.#offStep = undefined;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const pending: Promise<void>[] = [];
    for (const state of this.#groups.values()) {
      state.nextAt = Infinity;
      if (state.inFlight !== undefined) pending.push(state.inFlight);
    }
    await Promise.all(pending);
  }

  /** A snapshot of every group's counters, by group id. */
  stats(): Record<string, SamplingStats> {
    const stats: Record<string, SamplingStats> = {};
    for (const state of this.#groups.values()) {
      stats[state.id] = { ticks: state.ticks, failures: state.failures, overruns: state.overruns };
    }
    return stats;
  }

  /** The clock re-based by `stepMs`: its timer moved with it; the schedule moves too. */
  #rebase(stepMs: number): void {
    for (const state of this.#groups.values()) {
      state.t0 += stepMs;
      state.nextAt += stepMs;
    }
    this.#timerAt += stepMs;
  }

  #begin(state: GroupState, t0: number): void {
    state.t0 = t0;
    state.k = 0;
    state.nextAt = t0;
    state.missed = 0;
  }

  /** Arms the one clock timer for the earliest due tick of any group (if it is not armed for it already). */
  #arm(): void {
    let earliest = Infinity;
    for (const state of this.#groups.values()) if (state.nextAt < earliest) earliest = state.nextAt;
    if (earliest === this.#timerAt) return;
    this.#timer?.cancel();
    this.#timerAt = earliest;
    this.#timer = earliest === Infinity ? undefined : this.#clock.schedule(earliest, this.#onTimer);
  }

  #fire(): void {
    // The clock calls back at the time the timer was armed for, or later; a clock that fires a little
    // early still serves the ticks it was armed for, rather than spinning until they are due.
    const armedFor = this.#timerAt;
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (!this.#running) return;
    const now = this.#clock.now();
    const due = Math.max(now, armedFor);
    // Groups due together are served in the order they were added.
    for (const state of this.#groups.values()) if (state.nextAt <= due) this.#tick(state, now);
    this.#arm();
  }

  #tick(state: GroupState, now: number): void {
    const scheduledTime = state.nextAt;
    // The next tick is computed from t0, so the schedule never depends on how long a read takes or
    // how late this callback ran. Ticks that already passed while the timer was late are skipped
    // (a sample cannot be taken in the past) and counted as overruns.
    let next = state.k + 1;
    const busy = state.busy;
    // Ticks skipped before this one belong to this tick's result, those skipped after it to the next.
    const missedBefore = busy ? 0 : state.missed;
    if (!busy) state.missed = 0;
    while (tickTime(state, next) < now) {
      next++;
      state.overruns++;
      state.missed++;
    }
    state.k = next;
    state.nextAt = tickTime(state, next);

    if (busy) {
      state.overruns++;
      state.missed++;
      return;
    }
    state.busy = true;
    state.ticks++;
    state.inFlight = this.#serve(state, scheduledTime, missedBefore);
  }

  /** Reads (a burst when oversampling), delivers the result; never rejects. */
  async #serve(state: GroupState, tickTime: number, missedBefore: number): Promise<void> {
    const stepped = this.#clock.steppedMs ?? 0;
    let result: SamplingResult;
    try {
      const read = state.oversampling === 1 ? await state.read() : await this.#burst(state);
      // A step during the read: the tick's time moves with it; the reading's time if it was taken before.
      const scheduledTime = tickTime + (this.#clock.steppedMs ?? 0) - stepped;
      const reading = scheduledTime === tickTime ? read : { ...read, time: onCurrentBase(this.#clock, read.time, stepped) };
      result = missedBefore > 0 ? { ok: true, scheduledTime, reading, missedBefore } : { ok: true, scheduledTime, reading };
    } catch (error) {
      state.failures++;
      result = { ok: false, scheduledTime: tickTime + (this.#clock.steppedMs ?? 0) - stepped, time: this.#clock.now(), error };
    }
    state.busy = false;
    state.inFlight = undefined;
    try {
      state.onResult(result);
    } catch (error) {
      // A bug in the consumer: surface it like a throwing timer callback, without breaking the schedule.
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  /**
   * Burst oversampling: `oversampling` reads back to back, each output averaged. Any failed read
   * fails the tick: an average over fewer reads would silently change the sample's noise.
   */
  async #burst(state: GroupState): Promise<Reading> {
    const first = await state.read();
    const keys = Object.keys(first.values);
    const sums = keys.map((key) => first.values[key]!);
    for (let i = 1; i < state.oversampling; i++) {
      const reading = await state.read();
      for (let j = 0; j < keys.length; j++) {
        const value = reading.values[keys[j]!];
        if (typeof value !== 'number') {
          throw new SensorError(`read ${i + 1} of ${state.oversampling} of group "${state.id}" has no output "${keys[j]!}"`);
        }
        sums[j]! += value;
      }
    }
    const values: Record<string, number> = {};
    for (let j = 0; j < keys.length; j++) values[keys[j]!] = sums[j]! / state.oversampling;
    return { time: first.time, values, provenance: first.provenance };
  }
}

/** Due time of tick k: one multiplication and one division from t0, so errors never accumulate. */
function tickTime(state: GroupState, k: number): number {
  return state.t0 + (k * 1000) / state.rateHz;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
