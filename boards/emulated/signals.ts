/**
 * Signal models: the physical world an emulated board measures. Each is a small `Signal`
 * (`valueAt(timeMs)`) and composes with the others (`gaussianNoise(firstOrderLag(step(…)))`).
 *
 * Stateful models (lag, noise, hysteresis, ramps that start on first use) assume non-decreasing
 * times, as the `Signal` contract promises, and draw randomness only from the `SeededRandom` they
 * are given, so the same seed and the same clock give the same values byte for byte.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import type { SeededRandom } from '../../sdk/core/random.js';
import type { Signal } from './peripheral.js';
import { expectNumber } from './expect.js';

const KELVIN_OFFSET = 273.15;

function expectSignal(name: string, value: unknown): Signal {
  if (typeof value !== 'object' || value === null || typeof (value as Signal).valueAt !== 'function') {
    throw new ArgumentError(`Expected \`${name}\` to be a Signal (an object with valueAt(timeMs)), got ${String(value)}`);
  }
  return value as Signal;
}

/**
 * A value that never changes.
 *
 * @example
 * ```ts
 * constant(3.3).valueAt(clock.now()) // 3.3
 * ```
 */
export function constant(value: number): Signal {
  const v = expectNumber('value', value);
  return { valueAt: () => v };
}

/** Options of {@link ramp}. */
export interface RampOptions {
  /** Value at `start`. */
  from: number;
  /** Change per second of clock time (negative ramps down). */
  slopePerSecond: number;
  /** Clock time (ms) the ramp starts; before it the value is `from`. Default: the first `valueAt` time. */
  start?: number;
}

/**
 * A linear ramp: `from + slopePerSecond × (t − start) / 1000` after `start`, `from` before.
 *
 * @example
 * ```ts
 * const heating = ramp({ from: 20, slopePerSecond: 0.5, start: clock.now() }) // +0.5 °C/s
 * ```
 */
export function ramp(options: RampOptions): Signal {
  const from = expectNumber('from', options.from);
  const slope = expectNumber('slopePerSecond', options.slopePerSecond);
  let start = options.start === undefined ? undefined : expectNumber('start', options.start);
  return {
    valueAt(timeMs) {
      start ??= timeMs;
      return from + (slope * Math.max(0, timeMs - start)) / 1000;
    },
  };
}

/** Options of {@link sine}. */
export interface SineOptions {
  offset: number;
  amplitude: number;
  /** Period in ms, above 0. */
  periodMs: number;
  /** Phase in radians at clock time 0 (the epoch). Default 0. */
  phase?: number;
}

/**
 * A sine wave `offset + amplitude × sin(2π t / periodMs + phase)`, with `t` the clock time.
 *
 * @example
 * ```ts
 * const mains = sine({ offset: 0, amplitude: 0.01, periodMs: 20 }) // 50 Hz pick-up, 10 mV
 * ```
 */
export function sine(options: SineOptions): Signal {
  const offset = expectNumber('offset', options.offset);
  const amplitude = expectNumber('amplitude', options.amplitude);
  const period = expectNumber('periodMs', options.periodMs, { above: 0 });
  const phase = expectNumber('phase', options.phase ?? 0);
  return {
    valueAt(timeMs) {
      // Reduce the epoch time first: sin() of ~1e10 rad would lose microradians of precision.
      const cycle = (((timeMs % period) + period) % period) / period;
      return offset + amplitude * Math.sin(2 * Math.PI * cycle + phase);
    },
  };
}

/** Options of {@link step}. */
export interface StepOptions {
  before: number;
  after: number;
  /** Clock time (ms) of the step; `after` applies from this time on. */
  atMs: number;
}

/**
 * A step from `before` to `after` at clock time `atMs`.
 *
 * @example
 * ```ts
 * const setpoint = step({ before: 20, after: 80, atMs: clock.now() + 1000 })
 * ```
 */
export function step(options: StepOptions): Signal {
  const before = expectNumber('before', options.before);
  const after = expectNumber('after', options.after);
  const at = expectNumber('atMs', options.atMs);
  return { valueAt: (timeMs) => (timeMs < at ? before : after) };
}

/** Options of {@link firstOrderLag}. */
export interface FirstOrderLagOptions {
  /** Time constant τ in ms, above 0 (63.2 % of a step after τ). */
  timeConstantMs: number;
  /** Output at the first call. Default: the input's value then (settled). */
  initial?: number;
}

/**
 * A first-order lag (a sensor's thermal mass, an RC filter): `τ·dy/dt = u − y`. The input is held
 * from one call to the next (zero-order hold) and the exact solution applied over the interval,
 * `y += (u − y)(1 − e^(−Δt/τ))`, so the result does not depend on how often it is sampled as long
 * as every change of the input is seen by a call.
 *
 * @example
 * ```ts
 * const probe = firstOrderLag(step({ before: 20, after: 80, atMs: t0 }), { timeConstantMs: 5000 })
 * ```
 */
export function firstOrderLag(input: Signal, options: FirstOrderLagOptions): Signal {
  const source = expectSignal('input', input);
  const tau = expectNumber('timeConstantMs', options.timeConstantMs, { above: 0 });
  let output = options.initial === undefined ? undefined : expectNumber('initial', options.initial);
  let lastTime: number | undefined;
  let held = 0;
  return {
    valueAt(timeMs) {
      if (lastTime === undefined || output === undefined) {
        held = source.valueAt(timeMs);
        output ??= held;
        lastTime = timeMs;
        return output;
      }
      const dt = Math.max(0, timeMs - lastTime);
      lastTime = Math.max(lastTime, timeMs);
      output += (held - output) * -Math.expm1(-dt / tau);
      held = source.valueAt(timeMs);
      return output;
    },
  };
}

/** Options of {@link gaussianNoise}. */
export interface GaussianNoiseOptions {
  /** Standard deviation, in the input's unit, from 0 and up. */
  sigma: number;
  /** The generator to draw from; give each noise source its own `fork(label)`. */
  random: SeededRandom;
}

/**
 * White Gaussian noise added to `input`. Calls at the same time return the same value (one
 * physical instant has one value), so two readers of one pin agree.
 *
 * @example
 * ```ts
 * const noisy = gaussianNoise(constant(2.5), { sigma: 0.002, random: new SeededRandom(7).fork('A0') })
 * ```
 */
export function gaussianNoise(input: Signal, options: GaussianNoiseOptions): Signal {
  const source = expectSignal('input', input);
  const sigma = expectNumber('sigma', options.sigma, { min: 0 });
  const random = options.random;
  if (typeof random?.gaussian !== 'function') throw new ArgumentError('Expected `random` to be a SeededRandom');
  let lastTime: number | undefined;
  let lastValue = 0;
  return {
    valueAt(timeMs) {
      if (timeMs === lastTime) return lastValue;
      lastTime = timeMs;
      lastValue = source.valueAt(timeMs) + random.gaussian(0, sigma);
      return lastValue;
    },
  };
}

/** Options of {@link drift}. */
export interface DriftOptions {
  /** Change per hour of clock time, in the input's unit. */
  ratePerHour: number;
  /** Clock time (ms) the drift starts from; no drift before it. */
  start: number;
}

/**
 * A linear drift (ageing, a reference that wanders) added to `input`.
 *
 * @example
 * ```ts
 * const aged = drift(constant(4.0), { ratePerHour: 0.001, start: clock.now() }) // +1 mV/h
 * ```
 */
export function drift(input: Signal, options: DriftOptions): Signal {
  const source = expectSignal('input', input);
  const rate = expectNumber('ratePerHour', options.ratePerHour);
  const start = expectNumber('start', options.start);
  return { valueAt: (timeMs) => source.valueAt(timeMs) + (rate * Math.max(0, timeMs - start)) / 3_600_000 };
}

/** Options of {@link hysteresis}. */
export interface HysteresisOptions {
  /** Total play (dead band) in the input's unit, from 0 and up. */
  width: number;
}

/**
 * Backlash (mechanical play): the output only moves once the input has pushed it by half the
 * width, then follows the input at that distance. Reversing direction crosses the full width
 * before the output moves again. The output starts at the input's first value.
 *
 * @example
 * ```ts
 * const gauge = hysteresis(truePressure, { width: 0.2 }) // ±0.1 bar of play
 * ```
 */
export function hysteresis(input: Signal, options: HysteresisOptions): Signal {
  const source = expectSignal('input', input);
  const half = expectNumber('width', options.width, { min: 0 }) / 2;
  let output: number | undefined;
  return {
    valueAt(timeMs) {
      const u = source.valueAt(timeMs);
      if (output === undefined) output = u;
      else if (u > output + half) output = u - half;
      else if (u < output - half) output = u + half;
      return output;
    },
  };
}

/** Options of {@link nonLinearity}. */
export interface NonLinearityOptions {
  /** Polynomial coefficients, constant term first: `c0 + c1·u + c2·u² + …` (at least one). */
  coefficients: readonly number[];
}

/**
 * A polynomial transfer of `input`: gain and offset errors (`[offset, gain]`) and curvature.
 *
 * @example
 * ```ts
 * const bowed = nonLinearity(truth, { coefficients: [0.01, 1.002, -0.0004] })
 * ```
 */
export function nonLinearity(input: Signal, options: NonLinearityOptions): Signal {
  const source = expectSignal('input', input);
  const coefficients = options.coefficients;
  if (!Array.isArray(coefficients) || coefficients.length === 0) {
    throw new ArgumentError(`Expected \`coefficients\` to be a non-empty array of finite numbers, got ${String(coefficients)}`);
  }
  const c = coefficients.map((value, i) => expectNumber(`coefficients[${i}]`, value));
  return {
    valueAt(timeMs) {
      const u = source.valueAt(timeMs);
      let y = 0;
      for (let i = c.length - 1; i >= 0; i--) y = y * u + c[i]!; // Horner
      return y;
    },
  };
}

/**
 * The sum of several signals (e.g. a process value plus an interference sine).
 *
 * @example
 * ```ts
 * const measured = sum(constant(1.2), sine({ offset: 0, amplitude: 0.005, periodMs: 20 }))
 * ```
 */
export function sum(...signals: Signal[]): Signal {
  const sources = signals.map((signal, i) => expectSignal(`signals[${i}]`, signal));
  return {
    valueAt(timeMs) {
      let total = 0;
      for (const source of sources) total += source.valueAt(timeMs);
      return total;
    },
  };
}

/** A signal a test moves by hand. */
export interface SettableSignal extends Signal {
  /** The current value. */
  readonly value: number;
  /** Sets the value from now on. */
  set(value: number): void;
}

/**
 * A signal whose value a test sets: the sweep's truth, a switch, a knob.
 *
 * @example
 * ```ts
 * const truth = settable(20)
 * board.attachAnalog('A0', truth)
 * truth.set(25)
 * ```
 */
export function settable(initial: number): SettableSignal {
  let current = expectNumber('initial', initial);
  return {
    get value() {
      return current;
    },
    set(value: number) {
      current = expectNumber('value', value);
    },
    valueAt: () => current,
  };
}

/** An NTC curve: the β model (datasheet B25/85 and R at T0) or Steinhart–Hart coefficients. */
export type ThermistorCurve =
  | { beta: number; r0Ohm: number; t0Cel: number; steinhartHart?: never }
  | { steinhartHart: { a: number; b: number; c: number }; beta?: never };

/** Options of {@link thermistorDivider}. */
export type ThermistorDividerOptions = ThermistorCurve & {
  /** Fixed resistor of the divider, Ω. */
  seriesOhm: number;
  /** Divider supply, V (the ADC reference on ratiometric wiring). */
  supplyVolts: number;
  /**
   * Thermistor between supply and the pin (series resistor to ground). Default `false`: series
   * resistor from supply to the pin, thermistor from the pin to ground.
   */
  thermistorOnHighSide?: boolean;
};

/**
 * An NTC thermistor in a voltage divider: turns a temperature (°C) into the pin voltage.
 *
 * The resistance comes from the β equation `R = R0·e^(β(1/T − 1/T0))` or from inverting
 * Steinhart–Hart `1/T = a + b·ln R + c·(ln R)³` (a cubic in ln R, solved exactly), with T in K.
 *
 * @example
 * ```ts
 * const a0 = thermistorDivider(settable(25), { beta: 3950, r0Ohm: 10_000, t0Cel: 25, seriesOhm: 10_000, supplyVolts: 5 })
 * a0.valueAt(clock.now()) // 2.5 V at 25 °C
 * ```
 */
export function thermistorDivider(temperatureCel: Signal, options: ThermistorDividerOptions): Signal {
  const source = expectSignal('temperatureCel', temperatureCel);
  const resistance = thermistorCurve(options);
  const series = expectNumber('seriesOhm', options.seriesOhm, { above: 0 });
  const supply = expectNumber('supplyVolts', options.supplyVolts, { above: 0 });
  const highSide = options.thermistorOnHighSide === true;
  return {
    valueAt(timeMs) {
      const r = resistance(source.valueAt(timeMs));
      return highSide ? (supply * series) / (r + series) : (supply * r) / (r + series);
    },
  };
}

/** Resistance (Ω) as a function of temperature (°C) for the curve in `options`. */
function thermistorCurve(options: ThermistorCurve): (cel: number) => number {
  if (options.steinhartHart !== undefined && options.beta !== undefined) {
    throw new ArgumentError('Expected either `beta` or `steinhartHart`, not both');
  }
  if (options.steinhartHart !== undefined) {
    const { a, b, c } = options.steinhartHart;
    expectNumber('steinhartHart.a', a);
    expectNumber('steinhartHart.b', b, { above: 0 });
    expectNumber('steinhartHart.c', c, { min: 0 });
    return (cel) => {
      // c·y³ + b·y + (a − 1/T) = 0 with y = ln R. With b > 0 and c ≥ 0 it rises monotonically, so
      // there is one real root: Cardano's formula, then Newton steps to polish the cancellation.
      const k = a - 1 / (cel + KELVIN_OFFSET);
      let y: number;
      if (c === 0) y = -k / b;
      else {
        const p = b / c;
        const q = k / c;
        const root = Math.sqrt((q * q) / 4 + (p * p * p) / 27);
        y = Math.cbrt(-q / 2 + root) + Math.cbrt(-q / 2 - root);
      }
      for (let i = 0; i < 3; i++) y -= (c * y * y * y + b * y + k) / (3 * c * y * y + b);
      return Math.exp(y);
    };
  }
  const beta = expectNumber('beta', options.beta, { above: 0 });
  const r0 = expectNumber('r0Ohm', options.r0Ohm, { above: 0 });
  const t0 = expectNumber('t0Cel', options.t0Cel, { above: -KELVIN_OFFSET }) + KELVIN_OFFSET;
  return (cel) => r0 * Math.exp(beta * (1 / (cel + KELVIN_OFFSET) - 1 / t0));
}
