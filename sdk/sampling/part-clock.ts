/**
 * The clock of a part that samples on its own oscillator, as seen from the host: a straight line
 * "frames produced" against host time, fitted by least squares over the last drains.
 *
 * Each drain observes (host time, frames the part has produced so far): an integer, so each
 * observation is the true line floored, 0.5 frame low on average. The fit's slope is the part's
 * rate in frames per host ms (its ppm error against the host), and frame j was taken when the
 * count reached j + 1: host time (j + 0.5 − a) / b on the fitted line a + b·t. With a few hundred
 * drains whose phase against the frame period varies, the quantisation averages out to a small
 * fraction of a frame.
 */
import { ArgumentError } from '../core/errors.js';

/** Observations kept, one per {@link BIN_MS} of drains: about 10 s of history. */
const WINDOW = 256;
/**
 * Drains within this span are averaged into one observation: a part read every 0.5 ms would
 * otherwise keep only 0.13 s of history, and keeping only some drains would keep only some phases.
 */
const BIN_MS = 40;
/** Below this many observations the slope is not fitted: the last known rate is kept. */
const MIN_FOR_SLOPE = 16;
/** Once the rate is measured, nor below this standard deviation of the observations' times, ms (a uniform spread of 0.87 s). */
const MIN_SPREAD_MS = 250;

/**
 * Estimates when each frame of a sensor-clocked part was taken, on the host clock.
 *
 * @example
 * ```ts
 * const model = new PartClockModel(1000) // nominal 1 kHz
 * model.observe(t1, 40)                   // 40 frames produced by host time t1
 * model.observe(t2, 80)
 * model.timeOf(79)                        // host time the 80th frame was taken
 * model.driftPpm                          // the part's rate error against the host clock
 * ```
 */
export class PartClockModel {
  readonly #nominalPerMs: number;
  readonly #t = new Float64Array(WINDOW);
  readonly #n = new Float64Array(WINDOW);
  #size = 0;
  #next = 0;
  /** The bin being filled: its first time, and sums of times and counts. */
  #binStart = Number.NaN;
  #binT = 0;
  #binN = 0;
  #binSize = 0;
  /** Fitted line: count ≈ #a + #b · (t − #tRef). */
  #tRef = Number.NaN;
  #a = 0;
  #b: number;
  #measured = false;

  /** @param nominalRateHz the part's nominal output data rate, Hz. */
  constructor(nominalRateHz: number) {
    if (!(nominalRateHz > 0 && Number.isFinite(nominalRateHz))) {
      throw new ArgumentError(`Expected \`nominalRateHz\` to be a number above 0, got ${String(nominalRateHz)}`);
    }
    this.#nominalPerMs = nominalRateHz / 1000;
    this.#b = this.#nominalPerMs;
  }

  /** Whether any observation anchors the model. */
  get anchored(): boolean {
    return this.#size > 0 || this.#binSize > 0;
  }

  /** Whether the rate has been measured (fitted) rather than taken as nominal. */
  get rateMeasured(): boolean {
    return this.#measured;
  }

  /** The part's rate error against the host clock, ppm (positive: the part runs fast). */
  get driftPpm(): number {
    return (this.#b / this.#nominalPerMs - 1) * 1e6;
  }

  /** The part's measured rate on the host clock, Hz. */
  get rateHz(): number {
    return this.#b * 1000;
  }

  /**
   * Records that `count` frames had been produced by host time `time` (ms), and refits. Drains
   * within 40 ms of each other count as one observation, their mean.
   */
  observe(time: number, count: number): void {
    if (Number.isNaN(this.#tRef)) this.#tRef = time;
    if (this.#binSize > 0 && time - this.#binStart >= BIN_MS) {
      this.#t[this.#next] = this.#binT / this.#binSize;
      this.#n[this.#next] = this.#binN / this.#binSize;
      this.#next = (this.#next + 1) % WINDOW;
      if (this.#size < WINDOW) this.#size++;
      this.#binSize = 0;
    }
    if (this.#binSize === 0) {
      this.#binStart = time;
      this.#binT = 0;
      this.#binN = 0;
    }
    this.#binT += time - this.#tRef;
    this.#binN += count;
    this.#binSize++;
    this.#fit();
  }

  /**
   * Forgets the observations but keeps the measured rate: after frames were lost, counts before and
   * after no longer line up exactly, and the offset must be learnt again.
   */
  restart(): void {
    this.#size = 0;
    this.#next = 0;
    this.#tRef = Number.NaN;
    this.#a = 0;
    this.#binSize = 0;
  }

  /**
   * Moves the model's host time base by `ms` (the host clock re-based on a wall-time step): every
   * observation keeps its place on the part's clock, so the step is not taken for drift.
   *
   * @example
   * ```ts
   * onClockStep(clock, ({ stepMs }) => model.shift(stepMs))
   * ```
   */
  shift(ms: number): void {
    this.#tRef += ms;
    this.#binStart += ms;
  }

  /** Expected number of frames produced by host time `time` (fractional, the fit's mean). */
  countAt(time: number): number {
    if (Number.isNaN(this.#tRef)) return 0;
    return this.#a + this.#b * (time - this.#tRef);
  }

  /** Host time (ms) at which frame `index` (0-based) was taken. */
  timeOf(index: number): number {
    return this.#tRef + (index + 0.5 - this.#a) / this.#b;
  }

  /** Least squares over the kept observations and the bin being filled. */
  #fit(): void {
    const size = this.#size;
    const points = size + 1;
    const binT = this.#binT / this.#binSize;
    const binN = this.#binN / this.#binSize;
    let meanT = binT;
    let meanN = binN;
    for (let i = 0; i < size; i++) {
      meanT += this.#t[i]!;
      meanN += this.#n[i]!;
    }
    meanT /= points;
    meanN /= points;
    if (points >= MIN_FOR_SLOPE) {
      let stt = (binT - meanT) * (binT - meanT);
      let stn = (binT - meanT) * (binN - meanN);
      for (let i = 0; i < size; i++) {
        const dt = this.#t[i]! - meanT;
        stt += dt * dt;
        stn += dt * (this.#n[i]! - meanN);
      }
      // The first fit comes early (the nominal rate may be off by percent); after a loss a fit over a
      // short span would only add noise to a measured rate, which stands until the observations
      // spread over about a second again.
      const spread = Math.sqrt(stt / points);
      if (stt > 0 && (this.#measured ? spread >= MIN_SPREAD_MS : spread * this.#nominalPerMs >= 20)) {
        this.#b = stn / stt;
        this.#measured = true;
      }
    }
    this.#a = meanN - this.#b * meanT;
  }
}
