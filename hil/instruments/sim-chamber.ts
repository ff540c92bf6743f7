/**
 * A simulated climatic chamber: a temperature set point approached at a ramp rate (K/min) by the
 * controller, and air that follows the ramped set point as a first-order system with a time
 * constant τ (see ramp-lag.ts for the closed form); relative humidity follows its set point as a
 * first-order system of its own.
 *
 * `measure(quantity)` reads the chamber's own sensors (seeded noise, resolution, a stated
 * accuracy); `output(quantity)` (`air()` for temperature) is the true air as a signal a target's
 * input can follow.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { InstrumentError } from './errors.js';
import type { InstrumentQuantity, InstrumentReading, InstrumentSignal } from './instrument.js';
import { RampLag } from './ramp-lag.js';
import { SimulatedInstrument, nonNegative, quantize, type SimulatedInstrumentOptions } from './sim-common.js';

/** Options of {@link SimulatedChamber}. Temperatures in Cel, rates in K/min, humidity in %RH. */
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
  /** Relative humidity and its set point at the start, %RH. Default 45. */
  readonly ambientHumidity?: number;
  /** Time constant of the humidity, ms. Default 300 000 (5 min). */
  readonly humidityTimeConstantMs?: number;
}

/** The humidity sensor: noise σ, resolution and stated accuracy, %RH; settable range. */
const HUMIDITY = { noise: 0.1, resolution: 0.1, accuracy: 2, min: 10, max: 98 } as const;

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
  readonly measures: readonly InstrumentQuantity[] = ['temperature', 'relative-humidity'];
  readonly sources: readonly InstrumentQuantity[] = ['temperature', 'relative-humidity'];
  readonly rampRate: number;
  readonly timeConstantMs: number;
  readonly minTemperature: number;
  readonly maxTemperature: number;
  readonly #noise: number;
  readonly #resolution: number;
  readonly #accuracy: number;
  readonly #air: RampLag;
  readonly #humidity: RampLag;

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
    const humidity = options.ambientHumidity ?? 45;
    if (!(humidity >= 0 && humidity <= 100)) throw new ArgumentError(`Expected \`ambientHumidity\` to be from 0 to 100 %RH, got ${String(options.ambientHumidity)}`);
    this.#air = new RampLag(ambient, { ratePerMs: this.rampRate / 60_000, timeConstantMs: this.timeConstantMs });
    this.#humidity = new RampLag(humidity, { ratePerMs: 0, timeConstantMs: nonNegative('humidityTimeConstantMs', options.humidityTimeConstantMs, 300_000) });
  }

  /** The temperature set point the chamber is going to, Cel. */
  get setPoint(): number {
    return this.#air.target;
  }

  /** The humidity set point, %RH. */
  get humiditySetPoint(): number {
    return this.#humidity.target;
  }

  /** The controller's ramped set point at `timeMs`, Cel. */
  rampedSetPointAt(timeMs: number): number {
    return this.#air.rampedAt(timeMs);
  }

  /** The true air temperature at `timeMs`, Cel. */
  airAt(timeMs: number): number {
    return this.#air.valueAt(timeMs);
  }

  /** The true relative humidity at `timeMs`, %RH. */
  humidityAt(timeMs: number): number {
    return this.#humidity.valueAt(timeMs);
  }

  /** The air temperature as a signal (Cel) a target's temperature input can follow. */
  air(): InstrumentSignal {
    return { quantity: 'temperature', unit: 'Cel', valueAt: (timeMs) => this.airAt(timeMs) };
  }

  /** `output('temperature')` is {@link air}; `output('relative-humidity')` the humidity in %RH. */
  override output(quantity: InstrumentQuantity): InstrumentSignal {
    if (quantity === 'temperature') return this.air();
    if (quantity === 'relative-humidity') return { quantity, unit: '%RH', valueAt: (timeMs) => this.humidityAt(timeMs) };
    return super.output(quantity);
  }

  protected apply(quantity: InstrumentQuantity, value: number): void {
    const humidity = quantity === 'relative-humidity';
    const [min, max, unit] = humidity ? [HUMIDITY.min, HUMIDITY.max, '%RH'] : [this.minTemperature, this.maxTemperature, 'Cel'];
    if (value < min || value > max) {
      throw new InstrumentError('instrument-error', { instrument: this.id, command: `source ${quantity}` }, `-222,"Data out of range" (${value} ${unit} is outside ${min} to ${max})`, {
        instrumentCode: -222,
        instrumentMessage: 'Data out of range',
      });
    }
    (humidity ? this.#humidity : this.#air).setTarget(this.clock.now(), value);
  }

  protected read(quantity: InstrumentQuantity): InstrumentReading {
    const time = this.clock.now();
    if (quantity === 'relative-humidity') {
      const value = quantize(Math.min(100, Math.max(0, this.humidityAt(time) + this.random.gaussian(0, HUMIDITY.noise))), HUMIDITY.resolution);
      return { quantity, value, unit: '%RH', time, resolution: HUMIDITY.resolution, accuracy: HUMIDITY.accuracy };
    }
    const value = quantize(this.airAt(time) + this.random.gaussian(0, this.#noise), this.#resolution);
    return { quantity, value, unit: 'Cel', time, resolution: this.#resolution, accuracy: this.#accuracy };
  }
}
