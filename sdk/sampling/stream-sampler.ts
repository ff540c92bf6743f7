/**
 * The sensor-clocked sampler: the part samples on its own clock into its FIFO, and the host drains
 * it at a lower rate. No sample depends on the host's timer being on time; a late drain only makes
 * the next burst longer, until the FIFO would overflow.
 *
 * Each frame is stamped on the host clock from its index and a {@link PartClockModel} fitted to
 * (drain time, frames so far), so the part's oscillator error (ppm) is measured and corrected. Every
 * loss is counted and shown in the quality of the first sample after it, never silent:
 * - overflow: the part says it overwrote data; the driver hands on the newest frames the full FIFO
 *   still held (or none, having reset it), and the model estimates how many frames the part took
 *   before those;
 * - gap: two drains in a row brought fewer frames than the part's clock must have produced (e.g.
 *   the part reset its FIFO on its own), or the driver counted frames overwritten before it read
 *   them (a continuous-conversion part read too late). One short drain alone is kept back until
 *   the next: a drain time read late (the host thread preempted between reading the FIFO level
 *   and the clock) looks short, and the next drain then brings the surplus;
 * - duplicate: more conversions than its clock allows from a single result register (one read
 *   twice); those are dropped. A FIFO pops each frame once: a surplus there means the model was
 *   off (e.g. an overflow stamped late); every frame is kept and the model re-anchored.
 *
 * A wall-time step the host clock follows moves the drain schedule and the part clock's anchor by
 * the step: the frames after it are stamped on the new wall time, the part's rate and the count
 * of frames are untouched (a step is neither drift nor a gap), and a drain in flight across the
 * step has its time put on the new base.
 */
import type { Clock, ClockStep, Timer } from '../core/clock.js';
import { onClockStep, onCurrentBase } from '../core/wall-clock-watch.js';
import { ArgumentError, StateError } from '../core/errors.js';
import type { Quality } from '../core/sample.js';
import type { AcquisitionBatch, SensorClockedAcquisition } from '../drivers/contract.js';
import { PartClockModel } from './part-clock.js';
import type { SamplingResult } from './sampler.js';

/** Share of the FIFO a drain may find filled at the nominal interval: leaves room for a late drain. */
const FILL_TARGET = 0.25;
/** Longest default drain interval, ms. */
const MAX_INTERVAL_MS = 100;
/** A count this far from the part's clock (frames, plus 0.2 % of the frames since the last drain) is a gap or a duplicate. */
const COUNT_TOLERANCE = 1.5;
const RATE_TOLERANCE = 0.002;
/** (√5 − 1) / 2: drains land at well-spread phases of the frame period, so quantisation averages out. */
const GOLDEN = 0.6180339887;
/** 1/√5 of a period between reads of a single result register: about two reads per conversion, at spread phases. */
const SINGLE_RESULT_SHARE = 0.4472135955;

/**
 * A sensor-clocked group: one part's acquisition and the consumer of its frames.
 *
 * @example
 * ```ts
 * const group: StreamGroup = { id: 'mpu6050@i2c0:0x68', acquisition: driver.acquisition!, onResult: (r) => pipeline(r) }
 * ```
 */
export interface StreamGroup {
  readonly id: string;
  readonly acquisition: SensorClockedAcquisition;
  /**
   * Receives each frame as a result, in order, stamped on the host clock. Failed drains are
   * bridged by the part's buffer (their frames come with the next drain); only once drains have
   * failed for longer than the buffer holds (data is being lost) is each further failure handed on
   * as `{ ok: false }`, as is a failed start. Must not throw.
   */
  onResult(result: SamplingResult): void;
}

/**
 * Counters of one stream group. `delivered + lost` is what the part took while running.
 *
 * @example
 * ```ts
 * const { delivered, lost, overflows, driftPpm } = sampler.stats()['imu']!
 * ```
 */
export interface StreamStats {
  readonly drains: number;
  /** Drains that failed (bus errors); their frames come with the next drain. */
  readonly failures: number;
  readonly delivered: number;
  /**
   * Frames the part took that never arrived (estimated from its clock on overflow; an estimate the
   * next drain shows too high, e.g. from an overflow stamped late, is corrected here, not on the
   * sample already marked).
   */
  readonly lost: number;
  readonly overflows: number;
  readonly gaps: number;
  /** Frames dropped because the part's clock cannot have produced them. */
  readonly duplicates: number;
  /** The part's measured clock error against the host clock, ppm. */
  readonly driftPpm: number;
}

/** Options of {@link StreamSampler}. */
export interface StreamSamplerOptions {
  readonly clock: Clock;
  /**
   * Host time between drains, ms. Default: the time to fill a quarter of the smallest FIFO, at most
   * 100 ms (43 ms for an MPU-6050 at 1 kHz, 11 ms at 4 kHz), nudged off a whole number of frames;
   * for a part with one result register (continuous conversion) 0.45 of its conversion period.
   */
  readonly drainIntervalMs?: number;
}

interface StreamState {
  readonly group: StreamGroup;
  readonly model: PartClockModel;
  /** Whether the part's acquisition has started (it is started, and restarted after a failure, on a drain tick). */
  started: boolean;
  /** When it started, and the frame index then: what an overflow before the first good drain counts from. */
  startedAt: { readonly time: number; readonly count: number } | undefined;
  /** Index of the next frame (counting lost ones). */
  next: number;
  /** Missed frames to report with the next delivered frame, and why. */
  pendingMissed: number;
  pendingQuality: Quality | undefined;
  /**
   * A drain that brought fewer frames than the part's clock allows, kept back until the next drain
   * tells a loss (that one is short too) from a time read late (it is not).
   */
  held: { readonly batch: AcquisitionBatch; readonly deficit: number } | undefined;
  /** Frames counted lost by the last estimate from the part's clock (overflow, gap) that a surplus may yet take back. */
  estimated: number;
  busy: boolean;
  inFlight: Promise<void> | undefined;
  /** Host time of the first of the current run of failed drains. */
  failingSince: number | undefined;
  drains: number;
  failures: number;
  delivered: number;
  lost: number;
  overflows: number;
  gaps: number;
  duplicates: number;
}

/**
 * Drains sensor-clocked parts on a clock and hands on every frame, stamped on the host clock.
 *
 * @example
 * ```ts
 * const sampler = new StreamSampler({ clock })
 * sampler.add({ id: 'imu', acquisition: driver.acquisition!, onResult: (result) => console.log(result) })
 * sampler.start()
 * // …
 * await sampler.stop()
 * sampler.stats().imu // { delivered: 600000, lost: 0, overflows: 0, driftPpm: 200.1, … }
 * ```
 */
export class StreamSampler {
  readonly #clock: Clock;
  readonly #intervalOption: number | undefined;
  readonly #streams = new Map<string, StreamState>();
  #running = false;
  #timer: Timer | undefined;
  readonly #onStep = (step: ClockStep): void => this.#rebase(step.stepMs);
  #offStep: (() => void) | undefined;
  #t0 = 0;
  #k = 0;
  #intervalMs = MAX_INTERVAL_MS;

  constructor(options: StreamSamplerOptions) {
    const clock = options?.clock as Partial<Clock> | undefined;
    if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function' || typeof clock.schedule !== 'function') {
      throw new ArgumentError('Expected `clock` to be a Clock with now() and schedule()');
    }
    const interval = options.drainIntervalMs;
    if (interval !== undefined && !(typeof interval === 'number' && interval >= 0.1 && interval <= 10_000)) {
      throw new ArgumentError(`Expected \`drainIntervalMs\` to be a number from 0.1 to 10000, got ${String(interval)}`);
    }
    this.#clock = options.clock;
    this.#intervalOption = interval;
  }

  /** Host time between drains, ms (known once started). */
  get drainIntervalMs(): number {
    return this.#intervalMs;
  }

  /** Adds a group before `start()`; throws `ArgumentError` for a bad one, `StateError` while running. */
  add(group: StreamGroup): void {
    if (this.#running) throw new StateError('add stream groups before start()');
    if (typeof group?.id !== 'string' || group.id === '') throw new ArgumentError('Expected `id` to be a non-empty string');
    if (this.#streams.has(group.id)) throw new ArgumentError(`Expected \`id\` to be unique, got "${group.id}" twice`);
    if (typeof group.acquisition?.drain !== 'function') throw new ArgumentError(`Expected \`acquisition\` of "${group.id}" to be a sensor-clocked acquisition`);
    if (typeof group.onResult !== 'function') throw new ArgumentError('Expected `onResult` to be a function');
    this.#streams.set(group.id, {
      group,
      model: new PartClockModel(group.acquisition.outputRateHz),
      started: false,
      startedAt: undefined,
      next: 0,
      pendingMissed: 0,
      pendingQuality: undefined,
      held: undefined,
      estimated: 0,
      busy: false,
      inFlight: undefined,
      failingSince: undefined,
      drains: 0,
      failures: 0,
      delivered: 0,
      lost: 0,
      overflows: 0,
      gaps: 0,
      duplicates: 0,
    });
  }

  /**
   * Starts draining on a fixed schedule. Each part's acquisition is started at once (and again on
   * a later tick if that fails: the failure is handed on as a result, as a failed drain is), so a
   * part that is absent at start shows as bad samples and the rest keeps running.
   */
  start(): void {
    if (this.#running) throw new StateError('the stream sampler is already running; stop() it first');
    this.#intervalMs = this.#intervalOption ?? this.#defaultInterval();
    this.#running = true;
    this.#offStep = onClockStep(this.#clock, this.#onStep);
    this.#t0 = this.#clock.now();
    this.#k = 0;
    for (const state of this.#streams.values()) this.#serve(state);
    this.#arm();
  }

  /** Stops draining, waits for a drain in flight (its frames are handed on) and stops the parts' acquisition. Idempotent. */
  async stop(): Promise<void> {
    const wasRunning = this.#running;
    this.#running = false;
    this.#offStep?.();
    this.#offStep = undefined;
    this.#timer?.cancel();
    this.#timer = undefined;
    await Promise.all([...this.#streams.values()].map((state) => state.inFlight));
    if (!wasRunning) return;
    // Frames kept back for a verdict are real frames: hand them on.
    for (const state of this.#streams.values()) this.#release(state);
    const started = [...this.#streams.values()].filter((state) => state.started);
    for (const state of started) state.started = false;
    await Promise.allSettled(started.map((state) => state.group.acquisition.stop()));
  }

  /** A snapshot of every group's counters, by group id. */
  stats(): Record<string, StreamStats> {
    const stats: Record<string, StreamStats> = {};
    for (const [id, s] of this.#streams) {
      stats[id] = {
        drains: s.drains,
        failures: s.failures,
        delivered: s.delivered,
        lost: s.lost,
        overflows: s.overflows,
        gaps: s.gaps,
        duplicates: s.duplicates,
        driftPpm: s.model.driftPpm,
      };
    }
    return stats;
  }

  /** The clock re-based by `stepMs`: the drain timer moved with it; the schedule and the anchors move too. */
  #rebase(stepMs: number): void {
    this.#t0 += stepMs;
    for (const state of this.#streams.values()) {
      state.model.shift(stepMs);
      if (state.startedAt !== undefined) state.startedAt = { time: state.startedAt.time + stepMs, count: state.startedAt.count };
      if (state.failingSince !== undefined) state.failingSince += stepMs;
    }
  }

  #defaultInterval(): number {
    let interval = MAX_INTERVAL_MS;
    for (const { group } of this.#streams.values()) {
      const { capacityFrames, outputRateHz } = group.acquisition;
      const period = 1000 / outputRateHz;
      // A single result register must be read more often than the part converts; a FIFO a quarter
      // full. Either way off a whole number of frame periods, so that drains land at spread phases.
      const candidate =
        capacityFrames <= 1 ? SINGLE_RESULT_SHARE * period : Math.max(1, Math.floor((FILL_TARGET * capacityFrames * period) / period)) * period + GOLDEN * period;
      if (candidate < interval) interval = candidate;
    }
    return interval;
  }

  #arm(): void {
    if (!this.#running) return;
    const at = this.#t0 + (this.#k + 1) * this.#intervalMs;
    this.#timer = this.#clock.schedule(at, () => {
      this.#timer = undefined;
      if (!this.#running) return;
      // Drift-free schedule; ticks that passed while the host was busy are merged into this drain.
      this.#k = Math.max(this.#k + 1, Math.floor((this.#clock.now() - this.#t0) / this.#intervalMs));
      for (const state of this.#streams.values()) this.#serve(state);
      this.#arm();
    });
  }

  #serve(state: StreamState): void {
    if (state.busy) return;
    state.busy = true;
    state.inFlight = state.started ? this.#drain(state) : this.#startPart(state);
  }

  async #startPart(state: StreamState): Promise<void> {
    try {
      await state.group.acquisition.start();
      state.started = true;
      // A (re)started FIFO begins empty: frames the part took meanwhile are not counted as lost,
      // the failures before were handed on already.
      state.model.restart();
      state.startedAt = { time: this.#clock.now(), count: state.next };
    } catch (error) {
      state.failures++;
      if (this.#running) deliver(state.group, { ok: false, scheduledTime: this.#clock.now(), time: this.#clock.now(), error });
    } finally {
      state.busy = false;
      state.inFlight = undefined;
    }
  }

  async #drain(state: StreamState): Promise<void> {
    let batch: AcquisitionBatch;
    const stepped = this.#clock.steppedMs ?? 0;
    try {
      batch = await state.group.acquisition.drain();
      if ((this.#clock.steppedMs ?? 0) !== stepped) batch = { ...batch, time: onCurrentBase(this.#clock, batch.time, stepped) };
    } catch (error) {
      state.failures++;
      state.busy = false;
      state.inFlight = undefined;
      const now = this.#clock.now();
      state.failingSince ??= now;
      const { capacityFrames, outputRateHz } = state.group.acquisition;
      if (this.#running && now - state.failingSince >= (capacityFrames * 1000) / outputRateHz) {
        deliver(state.group, { ok: false, scheduledTime: now, time: now, error });
      }
      return;
    }
    state.busy = false;
    state.inFlight = undefined;
    state.failingSince = undefined;
    state.drains++;
    // Also when stop() came while the drain was in flight: its frames have left the part's FIFO, and
    // stop() waits for them to be handed on.
    this.#account(state, batch);
  }

  /** Checks a batch against the part's clock, stamps its frames and hands them on. */
  #account(state: StreamState, batch: AcquisitionBatch): void {
    const { model } = state;
    const n = batch.frames.length;
    if (batch.overflow) {
      this.#release(state);
      // The part overwrote frames; the driver either restarted its FIFO (no frames) or read back the
      // newest frames the full FIFO held at `time`. Every frame before those since the last drain is
      // lost: the part's clock says how many it took by `time`.
      const start = state.startedAt;
      const estimate = model.anchored
        ? model.countAt(batch.time)
        : start === undefined
          ? state.next
          : start.count + ((batch.time - start.time) * model.rateHz) / 1000;
      const produced = Math.max(state.next + n, Math.round(estimate));
      const lost = produced - n - state.next;
      state.overflows++;
      this.#lose(state, lost, `FIFO overflow: ~${lost} samples lost before this one`);
      state.estimated = lost;
      state.next = produced - n;
      // The index of the frames after the loss is an estimate (±1): learn the offset again, from the
      // estimate at `time` onwards, so that an overflow right after this one is counted too.
      const anchored = model.anchored;
      model.restart();
      if (anchored || n > 0) model.observe(batch.time, produced);
      this.#hand(state, batch.frames, batch);
      return;
    }
    let frames = batch.frames;
    const missed = batch.missed ?? 0;
    // Until the part's rate is measured the nominal one may be off by percent: no verdict on counts.
    if (model.anchored && model.rateMeasured) {
      const held = state.held;
      const expected = model.countAt(batch.time);
      const observed = state.next + (held?.batch.frames.length ?? 0) + missed + n;
      const tolerance = COUNT_TOLERANCE + RATE_TOLERANCE * Math.max(0, expected - state.next);
      const deficit = expected - observed;
      if (deficit > tolerance) {
        if (held === undefined) {
          // Fewer frames than the part's clock produced: frames lost (its FIFO reset behind the host),
          // or a time read late (the host thread preempted between reading the level and the clock).
          // Only the next drain can tell: a late time leaves it with the surplus, a loss does not.
          this.#missed(state, missed);
          state.held = { batch, deficit };
          return;
        }
        // The next drain is short too: frames were lost before the held ones (as many as both agree on).
        state.held = undefined;
        const lost = Math.round(Math.min(held.deficit, deficit));
        state.gaps++;
        this.#lose(state, lost, `gap: ${lost} samples the part's clock produced never arrived`);
        state.next += lost;
        state.estimated = lost;
        this.#hand(state, held.batch.frames, held.batch);
        this.#account(state, batch);
        return;
      }
      // A drain kept back was only stamped late: its frames are in order, none lost.
      this.#release(state);
      if (deficit < -tolerance) {
        if (state.group.acquisition.mode === 'fifo') {
          // A FIFO pops each frame once: more frames than the part's clock allows mean the model (or a
          // loss estimated from it) was off, e.g. an overflow stamped late. Keep them all, take back
          // as much of the last estimated loss, and learn the offset again from this drain.
          const back = Math.min(state.estimated, Math.round(-deficit));
          state.lost -= back;
          model.restart();
        } else {
          // A single result register read twice gives the same conversion again: drop the surplus.
          const extra = Math.min(n, Math.round(-deficit));
          state.duplicates += extra;
          state.pendingQuality = { level: 'uncertain', reason: 'incomplete', detail: `${extra} frames more than the part's clock allows were dropped` };
          frames = frames.slice(0, n - extra);
        }
      }
    } else {
      this.#release(state);
    }
    // A drain checked against the part's clock settles the last estimate: nothing more to take back.
    if (model.rateMeasured) state.estimated = 0;
    this.#missed(state, missed);
    model.observe(batch.time, state.next + frames.length);
    this.#hand(state, frames, batch);
  }

  /** Conversions the driver counted as overwritten before this batch: a gap of known size. */
  #missed(state: StreamState, missed: number): void {
    if (missed <= 0) return;
    state.gaps++;
    this.#lose(state, missed, `missed: ${missed} conversions overwritten before they were read`);
    state.next += missed;
  }

  /** Hands on a drain kept back for a verdict, as it is: no loss before it. */
  #release(state: StreamState): void {
    const held = state.held;
    if (held === undefined) return;
    state.held = undefined;
    this.#hand(state, held.batch.frames, held.batch);
  }

  /** Stamps `frames` (indices `state.next` on) on the part's clock and hands them on, the first with the pending loss. */
  #hand(state: StreamState, frames: AcquisitionBatch['frames'], batch: AcquisitionBatch): void {
    const { model } = state;
    for (let i = 0; i < frames.length; i++) {
      const time = model.timeOf(state.next + i);
      const marks =
        i === 0
          ? { ...(state.pendingMissed > 0 ? { missedBefore: state.pendingMissed } : {}), ...(state.pendingQuality ? { quality: state.pendingQuality } : {}) }
          : {};
      state.delivered++;
      deliver(state.group, { ok: true, scheduledTime: time, reading: { time, values: frames[i]!, provenance: batch.provenance }, ...marks });
    }
    if (frames.length > 0) {
      state.pendingMissed = 0;
      state.pendingQuality = undefined;
    }
    state.next += frames.length;
  }

  #lose(state: StreamState, lost: number, detail: string): void {
    state.lost += lost;
    state.pendingMissed += lost;
    state.pendingQuality = { level: 'uncertain', reason: 'incomplete', detail };
  }
}

function deliver(group: StreamGroup, result: SamplingResult): void {
  try {
    group.onResult(result);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
