/**
 * thermistor: an NTC thermistor in a voltage divider on an analog pin, converted with the β
 * equation or Steinhart–Hart.
 *
 * The stated tolerance is computed from the options: the worst temperature error, over the stated
 * range, of a ±2 LSB error at the ADC (½ LSB rounding, the ≤1 LSB gap between the ATmega328P's
 * Vin·2ⁿ/Vref transfer and the contract's counts/(2ⁿ−1) conversion, and the datasheet's typical
 * INL). A 10-bit ADC resolves a divider poorly near its ends, so the tolerance is set by the range
 * ends; narrow `range` for a tighter statement. It covers the measurement chain only: the
 * thermistor's own interchangeability and the series resistor's tolerance add on top.
 */
import type { AnalogInput } from '../../io/board.js';
import { SensorError, StateError, ValidationError } from '../../core/errors.js';
import { join, rejectUnknownKeys, requireNumber, requireObject, requireOneOf } from '../../core/check.js';
import type { DriverDefinition, DriverIo, DriverOutput, Reading, SensorDriver } from '../contract.js';
import { adcOptions, countsToVolts, expectAdc, roundUp, type AssumedAdc } from '../analog-common.js';

const KELVIN = 273.15;
const ADC_ERROR_LSB = 2;

/** The curve of the thermistor. */
export type ThermistorCurveOptions =
  /** β model from the datasheet: B value, and resistance `r0Ohm` at `t0Cel` (usually 25 °C). */
  | { model: 'beta'; beta: number; r0Ohm: number; t0Cel: number }
  /** Steinhart–Hart `1/T = a + b·ln R + c·(ln R)³` (T in K, R in Ω). */
  | { model: 'steinhart-hart'; a: number; b: number; c: number };

/** Options of the thermistor part. */
export type ThermistorOptions = ThermistorCurveOptions & {
  /** Fixed resistor of the divider, Ω. */
  seriesOhm: number;
  /** Divider supply, V. Default: the ADC reference (ratiometric wiring, the usual and best choice). */
  supplyVolts?: number;
  /** Thermistor between supply and pin (series resistor to ground). Default false. */
  thermistorOnHighSide?: boolean;
  /** Measuring range, °C. Default −40 … 125. */
  range?: { min: number; max: number };
  /** ADC reference the options assume, V. Default 5 (Arduino Uno); must match the board. */
  referenceVoltage?: number;
  /** ADC resolution the options assume, bits. Default 10 (Arduino Uno); must match the board. */
  resolution?: number;
};

interface Settings extends AssumedAdc {
  readonly curve: ThermistorCurveOptions;
  readonly seriesOhm: number;
  readonly supplyVolts: number;
  readonly highSide: boolean;
  readonly range: { readonly min: number; readonly max: number };
}

const COMMON = ['model', 'seriesOhm', 'supplyVolts', 'thermistorOnHighSide', 'range', 'referenceVoltage', 'resolution'];

function parse(input: Readonly<Record<string, unknown>>, path: string): Settings {
  const options = requireObject(input, path);
  const model = requireOneOf(options.model, ['beta', 'steinhart-hart'] as const, join(path, 'model'));
  let curve: ThermistorCurveOptions;
  if (model === 'beta') {
    rejectUnknownKeys(options, [...COMMON, 'beta', 'r0Ohm', 't0Cel'], path);
    curve = {
      model,
      beta: requireNumber(options.beta, join(path, 'beta'), { above: 0 }),
      r0Ohm: requireNumber(options.r0Ohm, join(path, 'r0Ohm'), { above: 0 }),
      t0Cel: requireNumber(options.t0Cel, join(path, 't0Cel'), { above: -KELVIN }),
    };
  } else {
    rejectUnknownKeys(options, [...COMMON, 'a', 'b', 'c'], path);
    curve = {
      model,
      a: requireNumber(options.a, join(path, 'a')),
      // An NTC's fit has b > 0 and c ≥ 0: 1/T then rises with ln R, one temperature per resistance.
      b: requireNumber(options.b, join(path, 'b'), { above: 0 }),
      c: requireNumber(options.c, join(path, 'c'), { min: 0 }),
    };
  }
  const adc = adcOptions(options, path);
  const range = requireObject(options.range ?? { min: -40, max: 125 }, join(path, 'range'));
  rejectUnknownKeys(range, ['min', 'max'], join(path, 'range'));
  const min = requireNumber(range.min, join(path, 'range.min'), { above: -KELVIN });
  const max = requireNumber(range.max, join(path, 'range.max'), { above: min });
  const highSide = options.thermistorOnHighSide ?? false;
  if (typeof highSide !== 'boolean') throw new ValidationError(join(path, 'thermistorOnHighSide'), `expected a boolean, got ${String(highSide)}`);
  return {
    ...adc,
    curve,
    seriesOhm: requireNumber(options.seriesOhm, join(path, 'seriesOhm'), { above: 0 }),
    supplyVolts: requireNumber(options.supplyVolts ?? adc.referenceVoltage, join(path, 'supplyVolts'), { above: 0, max: 100 }),
    highSide,
    range: { min, max },
  };
}

/** Temperature (°C) from resistance (Ω). */
function celsiusAt(ohm: number, curve: ThermistorCurveOptions): number {
  const ln = Math.log(ohm);
  const inverse =
    curve.model === 'beta'
      ? 1 / (curve.t0Cel + KELVIN) + Math.log(ohm / curve.r0Ohm) / curve.beta
      : curve.a + curve.b * ln + curve.c * ln * ln * ln;
  return 1 / inverse - KELVIN;
}

/** Resistance (Ω) at a temperature, by bisection on ln R (T falls monotonically with R). */
function ohmAt(cel: number, curve: ThermistorCurveOptions): number {
  let low = Math.log(1e-6);
  let high = Math.log(1e12);
  for (let i = 0; i < 200 && high - low > 1e-13; i++) {
    const mid = (low + high) / 2;
    const t = celsiusAt(Math.exp(mid), curve);
    // Beyond the curve's pole 1/T ≤ 0 the "temperature" is negative or infinite: treat it as too hot.
    if (t > cel || 1 / (t + KELVIN) <= 0) low = mid;
    else high = mid;
  }
  return Math.exp((low + high) / 2);
}

/** Pin voltage as a fraction of the ADC reference. */
function ratioAt(ohm: number, s: Settings): number {
  const divider = s.highSide ? s.seriesOhm / (ohm + s.seriesOhm) : ohm / (ohm + s.seriesOhm);
  return (divider * s.supplyVolts) / s.referenceVoltage;
}

/** Temperature from the pin voltage as a fraction of the reference; NaN outside the divider's span. */
function celsiusFromRatio(ratio: number, s: Settings): number {
  const divider = (ratio * s.referenceVoltage) / s.supplyVolts;
  if (!(divider > 0 && divider < 1)) return Number.NaN;
  const ohm = s.highSide ? (s.seriesOhm * (1 - divider)) / divider : (s.seriesOhm * divider) / (1 - divider);
  return celsiusAt(ohm, s.curve);
}

function outputs(s: Settings, path: string): { temperature: DriverOutput } {
  const delta = ADC_ERROR_LSB / 2 ** s.resolution;
  let worst = 0;
  const steps = 400;
  for (let i = 0; i <= steps; i++) {
    const cel = s.range.min + ((s.range.max - s.range.min) * i) / steps;
    const ratio = ratioAt(ohmAt(cel, s.curve), s);
    for (const shifted of [ratio - delta, ratio + delta]) {
      const error = Math.abs(celsiusFromRatio(shifted, s) - cel);
      if (!(shifted > 0 && shifted < 1) || !Number.isFinite(error)) {
        throw new ValidationError(
          join(path, 'range'),
          `${cel.toFixed(1)} °C puts the pin within ${ADC_ERROR_LSB} LSB of ${shifted <= 0 ? '0 V' : 'full scale'} with this divider; narrow the range or change seriesOhm`,
        );
      }
      worst = Math.max(worst, error);
    }
  }
  return {
    temperature: { unit: 'Cel', quantity: 'temperature', range: { ...s.range }, tolerance: { absolute: roundUp(worst) } },
  };
}

function configuration(s: Settings): string {
  const curve = s.curve.model === 'beta' ? `beta=${s.curve.beta} r0=${s.curve.r0Ohm}@${s.curve.t0Cel}Cel` : `sh=${s.curve.a},${s.curve.b},${s.curve.c}`;
  return `${curve} series=${s.seriesOhm} supply=${s.supplyVolts}V ${s.highSide ? 'high-side' : 'low-side'}`;
}

/**
 * The thermistor driver (ECMA-419 sensor class pattern). A reading at 0 counts or at full scale
 * is an open or shorted thermistor (or a broken series resistor): `sample()` rejects with
 * `SensorError`, which the sampler turns into a bad-quality sample.
 *
 * @example
 * ```ts
 * const driver = new Thermistor({ clock, analog: board.openAnalogInput({ pin: 'A0' }) },
 *   { model: 'beta', beta: 3950, r0Ohm: 10_000, t0Cel: 25, seriesOhm: 10_000 })
 * const reading = await driver.sample() // reading.values.temperature in Cel
 * ```
 */
export class Thermistor implements SensorDriver<'temperature'> {
  readonly #io: DriverIo;
  readonly #analog: AnalogInput;
  #settings: Settings;
  #closed = false;

  constructor(io: DriverIo, options: Readonly<Record<string, unknown>>) {
    if (io?.analog === undefined) throw new ValidationError('io.analog', 'thermistor needs an analog input; bind it to an analog pin');
    this.#io = io;
    this.#analog = io.analog;
    this.#settings = parse(options, 'options');
    outputs(this.#settings, 'options');
    expectAdc(this.#analog, this.#settings, 'options');
  }

  /** Replaces the options with `options` (the curve is given whole, so no stale coefficients remain). */
  async configure(options: Readonly<Record<string, unknown>>): Promise<void> {
    if (this.#closed) throw new StateError('thermistor driver is closed');
    const settings = parse(options, 'options');
    outputs(settings, 'options');
    expectAdc(this.#analog, settings, 'options');
    this.#settings = settings;
  }

  async sample(): Promise<Reading<'temperature'>> {
    if (this.#closed) throw new StateError('thermistor driver is closed');
    const time = this.#io.clock.now();
    const counts = await this.#analog.read();
    const s = this.#settings;
    const full = 2 ** s.resolution - 1;
    if (counts <= 0 || counts >= full) {
      const high = counts >= full;
      // Low-side thermistor: open pulls the pin to the supply, short to ground; high side: reversed.
      const fault = high !== s.highSide ? 'open' : 'short';
      throw new SensorError(`thermistor on ${this.#analog.pin} reads ${high ? 'full scale' : '0'} (${counts} counts): ${fault} circuit`);
    }
    const cel = celsiusFromRatio(countsToVolts(counts, s) / s.referenceVoltage, s);
    if (!Number.isFinite(cel)) {
      throw new SensorError(`thermistor on ${this.#analog.pin}: ${counts} counts is outside what the divider can produce with a ${s.supplyVolts} V supply`);
    }
    return {
      time,
      values: { temperature: cel },
      provenance: { part: 'thermistor', source: this.#analog.pin, configuration: configuration(s) },
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#analog.close();
  }
}

/** A 10 kΩ β 3950 NTC against 10 kΩ on the Uno: the outputs the part states without options. */
const TYPICAL = { model: 'beta', beta: 3950, r0Ohm: 10_000, t0Cel: 25, seriesOhm: 10_000 } as const;

/**
 * The thermistor part. `outputs` shows a typical 10 kΩ β 3950 NTC against 10 kΩ on a 10-bit 5 V
 * ADC; `validateOptions` states the range and tolerance of the actual configuration.
 *
 * @example
 * ```ts
 * thermistor.validateOptions({ model: 'beta', beta: 3950, r0Ohm: 10_000, t0Cel: 25, seriesOhm: 10_000, range: { min: 0, max: 70 } }, 'options')
 *   .temperature.tolerance // { absolute: … } tighter than over −40 … 125 °C
 * ```
 */
export const thermistor: DriverDefinition<'temperature'> = {
  part: 'thermistor',
  description: 'NTC thermistor in a voltage divider on an analog pin (β or Steinhart–Hart), °C',
  io: 'analog',
  maxRateHz: 1000,
  outputs: outputs(parse(TYPICAL, 'options'), 'options'),
  validateOptions: (options, path) => outputs(parse(options, path), path),
  create: (io, options) => new Thermistor(io, options),
};
