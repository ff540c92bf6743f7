/**
 * A simulated climatic chamber: a temperature set point approached at a ramp rate (K/min) by the
 * controller, and air that follows the ramped set point as a first-order system with a time
 * constant τ. Between set-point changes the air temperature has a closed form, so it can be read
 * at any time of the clock without stepping:
 *
 *   ramp (set point r = r0 + s·t):  x(t) = r(t) − s·τ + (x0 − r0 + s·τ)·e^(−t/τ)
 *   hold (set point r constant):     x(t) = r + (x0 − r)·e^(−t/τ)
 *
 * `measure('temperature')` reads the chamber's own sensor (seeded noise, resolution, a stated
 * accuracy); `air()` is the true air temperature as a signal a target's input can follow.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { InstrumentError } from './errors.js';
import type { InstrumentQuantity, InstrumentReading } from './instrument.js';
import { SimulatedInstrument, nonNegative, quantize, type InstrumentSignal, type SimulatedInstrumentOptions } from './sim-common.js';

/** Options of {@link SimulatedChamber}. Temperatures in Cel, rates in K/min. */
export interface SimulatedChamberOptions extends SimulatedInstrumentOptions {
  /** Air temperature and set point at the start, Cel. Default 23. */
  readonly ambient?: number;
  /** How fast the controller moves the set point, K/min; 0 steps at once. Default 2. */
  readonly rampRate?: number;
  /** Time constant of the air, ms; 0 makes the air follow the ramp exactly. Default 120 000 (2 min). */
  readonly timeConstantMs?: number;
  /** Lowest and highest set point, Cel. Default −40 and 180. */
  readonly minTemperature?: number;
  readonly maxTemperature?: number;
  /** The chamber sensor's noise σ, K. Default 0.02. */
  readonly sensorNoise?: number;
  /** The chamber sensor's resolution, K. Default 0.01. */
  readonly sensorResolution?: number;
  /** The chamber sensor's stated accuracy (half-width), K. Default 0.3. */
  readonly sensorAccuracy?: number;
}

/** One set-point change: the state at `t0` and the ramp from it. */
interface Segment {
  readonly t0: number;
  /** Air temperature and ramped set point at t0. */
  readonly x0: number;
  readonly r0: number;
  /** The target set point, its ramp slope (K/ms, signed) and when the ramp reaches it. */
  readonly target: number;
  readonly slope: number;
  readonly rampEnd: number;
}

/**
 * A simulated climatic chamber on the harness's clock.
 *
 * @example
 * ```ts
 * const chamber = new SimulatedChamber({ clock: target.clock, seed: 1, rampRate: 1, timeConstantMs: 60_000 })
 * await target.drive('temperature', chamber.air(), 'Cel')
 * await chamber.source('temperature', 40, 'Cel')   // ramps at 1 K/min from 23 Cel
 * await target.wait(30 * 60_000)
 * const inside = await chamber.measure('temperature') // ≈ 40 Cel, ±0.3 K
 * ```
 */
export class SimulatedChamber extends SimulatedInstrument {
  readonly measures: readonly InstrumentQuantity[] = ['temperature'];
  readonly sources: readonly InstrumentQuantity[] = ['temperature'];
  readonly rampRate: number;
  readonly timeConstantMs: number;
  readonly minTemperature: number;
  readonly maxTemperature: number;
  readonly #noise: number;
  readonly #resolution: number;
  readonly #accuracy: number;
  readonly #segments: Segment[];

  constructor(options: SimulatedChamberOptions) {
    super('chamber', 'SIM-CHAMBER', options);
    const ambient = options.ambient ?? 23;
    if (!Number.isFinite(ambient)) throw new ArgumentError(`Expected \`ambient\` to be a finite temperature, got ${String(ambient)}`);
    this.rampRate = nonNegative('rampRate', options.rampRate, 2);
    this.timeConstantMs = nonNegative('timeConstantMs', options.timeConstantMs, 120_000);
    this.minTemperature = options.minTemperature ?? -40;
    this.maxTemperature = options.maxTemperature ?? 180;
    if (!(this.minTemperature < this.maxTemperature)) {
      throw new ArgumentError(`Expected \`minTemperature\` (${this.minTemperature}) to be below \`maxTemperature\` (${this.maxTemperature})`);
    }
    this.#noise = nonNegative('sensorNoise', options.sensorNoise, 0.02);
    this.#resolution = nonNegative('sensorResolution', options.sensorResolution, 0.01);
    this.#accuracy = nonNegative('sensorAccuracy', options.sensorAccuracy, 0.3);
    this.#segments = [{ t0: Number.NEGATIVE_INFINITY, x0: ambient, r0: ambient, target: ambient, slope: 0, rampEnd: Number.NEGATIVE_INFINITY }];
  }

  /** The set point the chamber is going to, Cel. */
  get setPoint(): number {
    return this.#segments.at(-1)!.target;
  }

  /** The controller's ramped set point at `timeMs`, Cel. */
  rampedSetPointAt(timeMs: number): number {
    const s = this.#segmentAt(timeMs);
    return timeMs >= s.rampEnd ? s.target : s.r0 + s.slope * (timeMs - s.t0);
  }

  /** The true air temperature at `timeMs`, Cel. */
  airAt(timeMs: number): number {
    return this.#evaluate(this.#segmentAt(timeMs), timeMs);
  }

  /** The air temperature as a signal (Cel) a target's temperature input can follow. */
  air(): InstrumentSignal {
    return { quantity: 'temperature', unit: 'Cel', valueAt: (timeMs) => this.airAt(timeMs) };
  }

  /** `output('temperature')` is {@link air}. */
  override output(quantity: InstrumentQuantity): InstrumentSignal {
    return quantity === 'temperature' ? this.air() : super.output(quantity);
  }

  protected apply(_quantity: InstrumentQuantity, value: number): void {
    if (value < this.minTemperature || value > this.maxTemperature) {
      throw new InstrumentError('instrument-error', { instrument: this.id, command: 'source temperature' }, `-222,"Data out of range" (${value} Cel is outside ${this.minTemperature} to ${this.maxTemperature})`, {
        instrumentCode: -222,
        instrumentMessage: 'Data out of range',
      });
    }
    const t0 = this.clock.now();
    const x0 = this.airAt(t0);
    const r0 = this.rampedSetPointAt(t0);
    const perMs = this.rampRate / 60_000;
    const distance = value - r0;
    const slope = perMs === 0 || distance === 0 ? 0 : Math.sign(distance) * perMs;
    const rampEnd = slope === 0 ? t0 : t0 + Math.abs(distance) / perMs;
    // A step (rate 0) starts the hold at once from the new set point.
    this.#segments.push({ t0, x0, r0: slope === 0 ? value : r0, target: value, slope, rampEnd });
  }

  protected read(quantity: InstrumentQuantity): InstrumentReading {
    const time = this.clock.now();
    const value = quantize(this.airAt(time) + this.random.gaussian(0, this.#noise), this.#resolution);
    return { quantity, value, unit: 'Cel', time, resolution: this.#resolution, accuracy: this.#accuracy };
  }

  #segmentAt(timeMs: number): Segment {
    for (let i = this.#segments.length - 1; i > 0; i--) if (this.#segments[i]!.t0 <= timeMs) return this.#segments[i]!;
    return this.#segments[0]!;
  }

  #evaluate(s: Segment, timeMs: number): number {
    if (!Number.isFinite(s.t0)) return s.x0; // the initial state holds until the first change
    const tau = this.timeConstantMs;
    const rampTime = Math.max(0, Math.min(timeMs, s.rampEnd) - s.t0);
    // During the ramp.
    let x: number;
    if (tau === 0) x = s.r0 + s.slope * rampTime;
    else x = s.r0 + s.slope * rampTime - s.slope * tau + (s.x0 - s.r0 + s.slope * tau) * Math.exp(-rampTime / tau);
    if (timeMs <= s.rampEnd) return x;
    // Holding at the target after the ramp.
    const hold = timeMs - Math.max(s.rampEnd, s.t0);
    return tau === 0 ? s.target : s.target + (x - s.target) * Math.exp(-hold / tau);
  }
}
