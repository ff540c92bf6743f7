/**
 * A controlled quantity that ramps to its set point and lags behind it: the controller moves the
 * set point at a rate, and the quantity follows the ramped set point as a first-order system with a
 * time constant τ. Between set-point changes it has a closed form, so it can be read at any time
 * without stepping:
 *
 *   ramp (set point r = r0 + s·t):  x(t) = r(t) − s·τ + (x0 − r0 + s·τ)·e^(−t/τ)
 *   hold (set point r constant):     x(t) = r + (x0 − r)·e^(−t/τ)
 */

/** One set-point change: the state at `t0` and the ramp from it. */
interface Segment {
  readonly t0: number;
  /** The quantity and the ramped set point at t0. */
  readonly x0: number;
  readonly r0: number;
  /** The target set point, its ramp slope (per ms, signed) and when the ramp reaches it. */
  readonly target: number;
  readonly slope: number;
  readonly rampEnd: number;
}

/**
 * The ramp-and-lag model of one quantity, e.g. a chamber's air temperature.
 *
 * @example
 * ```ts
 * const air = new RampLag(23, { ratePerMs: 2 / 60_000, timeConstantMs: 120_000 })
 * air.setTarget(clock.now(), 40)
 * air.valueAt(clock.now() + 10 * 60_000) // on the way to 40, about 4 K behind the ramp
 * ```
 */
export class RampLag {
  readonly #ratePerMs: number;
  readonly #tau: number;
  readonly #segments: Segment[];

  constructor(initial: number, options: { ratePerMs: number; timeConstantMs: number }) {
    this.#ratePerMs = options.ratePerMs;
    this.#tau = options.timeConstantMs;
    this.#segments = [{ t0: Number.NEGATIVE_INFINITY, x0: initial, r0: initial, target: initial, slope: 0, rampEnd: Number.NEGATIVE_INFINITY }];
  }

  /** The set point it is going to. */
  get target(): number {
    return this.#segments.at(-1)!.target;
  }

  /** A new set point from `timeMs` on (times of changes never decrease). */
  setTarget(timeMs: number, target: number): void {
    const x0 = this.valueAt(timeMs);
    const r0 = this.rampedAt(timeMs);
    const distance = target - r0;
    const slope = this.#ratePerMs === 0 || distance === 0 ? 0 : Math.sign(distance) * this.#ratePerMs;
    const rampEnd = slope === 0 ? timeMs : timeMs + Math.abs(distance) / this.#ratePerMs;
    // A step (rate 0) holds the new set point at once.
    this.#segments.push({ t0: timeMs, x0, r0: slope === 0 ? target : r0, target, slope, rampEnd });
  }

  /** The controller's ramped set point at `timeMs`. */
  rampedAt(timeMs: number): number {
    const s = this.#segmentAt(timeMs);
    return timeMs >= s.rampEnd ? s.target : s.r0 + s.slope * (timeMs - s.t0);
  }

  /** The quantity at `timeMs`. */
  valueAt(timeMs: number): number {
    const s = this.#segmentAt(timeMs);
    if (!Number.isFinite(s.t0)) return s.x0; // the initial state holds until the first change
    const tau = this.#tau;
    const rampTime = Math.max(0, Math.min(timeMs, s.rampEnd) - s.t0);
    const x = tau === 0 ? s.r0 + s.slope * rampTime : s.r0 + s.slope * rampTime - s.slope * tau + (s.x0 - s.r0 + s.slope * tau) * Math.exp(-rampTime / tau);
    if (timeMs <= s.rampEnd) return x;
    const hold = timeMs - Math.max(s.rampEnd, s.t0);
    return tau === 0 ? s.target : s.target + (x - s.target) * Math.exp(-hold / tau);
  }

  #segmentAt(timeMs: number): Segment {
    for (let i = this.#segments.length - 1; i > 0; i--) if (this.#segments[i]!.t0 <= timeMs) return this.#segments[i]!;
    return this.#segments[0]!;
  }
}
