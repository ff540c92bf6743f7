/**
 * 4–20 mA current-loop receiver: the loop current through a shunt resistor, read by an ADS1115 on
 * I2C, scaled to the transmitter's engineering span, with NAMUR NE 43 fault detection.
 */
import { SensorError, StateError, ValidationError } from '../../core/errors.js';
import { describe, join } from '../../core/check.js';
import { senmlUnitProblem, unitInfo } from '../../core/units.js';
import { Ads1115Converter, ads1115MaxRateHz, ads1115Tolerance, parseAds1115Options, type Ads1115Settings } from '../ads1115/index.js';
import { FULL_SCALES, type FullScaleVolts } from '../ads1115/registers.js';
import type { DriverDefinition, DriverIo, DriverOutput, Reading, SensorDriver } from '../contract.js';
import { Exclusive } from '../exclusive.js';

/** Outputs: the process value in the configured unit, and the loop current. */
export type CurrentLoopOutput = 'value' | 'current';

/** Options of the 4–20 mA driver. */
export interface CurrentLoopOptions {
  /** Process value at 4 mA, in `unit`. Required. */
  rangeMin: number;
  /** Process value at 20 mA, in `unit` (below `rangeMin` for a reverse-acting transmitter). Required. */
  rangeMax: number;
  /** SenML unit of the process value, e.g. "Pa", "Cel", "m3/s". Required. */
  unit: string;
  /** Shunt resistor, Ω (default 250). 21 mA across it must stay within full scale and the supply. */
  shuntOhms?: number;
  /** Shunt resistor tolerance, a fraction (default 0.001, a 0.1 % resistor). */
  shuntTolerance?: number;
  /** ADS1115 input across the shunt: 0…3 or 'diff01' … (default 0). */
  adcChannel?: 0 | 1 | 2 | 3 | 'diff01' | 'diff03' | 'diff13' | 'diff23';
  /** ADS1115 full scale, V (default: the smallest range that holds 21 mA across the shunt). */
  fullScaleVolts?: FullScaleVolts;
  /** ADS1115 data rate, SPS (default 128). */
  dataRate?: number;
  /** ADS1115 supply, V (default 5). */
  supplyVolts?: number;
}

interface Settings {
  readonly adc: Ads1115Settings;
  readonly rangeMin: number;
  readonly rangeMax: number;
  readonly unit: string;
  readonly shuntOhms: number;
  readonly shuntTolerance: number;
}

/** NAMUR NE 43: at or below 3.6 mA, or at or above 21 mA, the transmitter signals a failure (or the loop is broken). */
const FAILURE_LOW_MA = 3.6;
const FAILURE_HIGH_MA = 21;
/** Below this the loop carries no transmitter current at all: a broken wire or no supply. */
const OPEN_LOOP_MA = 1;
/** Top of the NE 43 measuring band, mA: the largest current that still carries a value. */
const MEASURING_MAX_MA = 20.5;

function parseOptions(options: Readonly<Record<string, unknown>>, path: string): Settings {
  const own = ['rangeMin', 'rangeMax', 'unit', 'shuntOhms', 'shuntTolerance'] as const;
  const number = (name: string, value: unknown, rule: { above?: number; min?: number; max?: number } = {}): number => {
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (rule.above === undefined || value > rule.above) &&
      (rule.min === undefined || value >= rule.min) &&
      (rule.max === undefined || value <= rule.max);
    if (!ok) {
      const bound = rule.above !== undefined ? ` above ${rule.above}` : rule.min !== undefined ? ` from ${rule.min} to ${rule.max}` : '';
      throw new ValidationError(join(path, name), `Expected \`${name}\` to be a finite number${bound}, got ${describe(value)}`);
    }
    return value as number;
  };
  const rangeMin = number('rangeMin', options.rangeMin);
  const rangeMax = number('rangeMax', options.rangeMax);
  if (rangeMin === rangeMax) throw new ValidationError(join(path, 'rangeMax'), `Expected \`rangeMax\` to differ from \`rangeMin\` (${rangeMin}), got ${rangeMax}`);
  const unit = options.unit;
  if (typeof unit !== 'string') throw new ValidationError(join(path, 'unit'), `Expected \`unit\` to be a SenML unit such as "Pa", got ${describe(unit)}`);
  const unitProblem = senmlUnitProblem(unit);
  if (unitProblem !== undefined) throw new ValidationError(join(path, 'unit'), unitProblem);
  const shuntOhms = number('shuntOhms', options.shuntOhms ?? 250, { above: 0 });
  const shuntTolerance = number('shuntTolerance', options.shuntTolerance ?? 0.001, { min: 0, max: 0.1 });

  // The NE 43 failure threshold must be measurable: a reading clipped at full scale or at the
  // supply could not tell 21 mA (failure) from 20.5 mA (a value).
  const failureVolts = (FAILURE_HIGH_MA / 1000) * shuntOhms;
  const adcOptions: Record<string, unknown> = { supplyVolts: 5, ...options };
  adcOptions.fullScaleVolts ??= FULL_SCALES.slice().reverse().find((fsr) => fsr > failureVolts);
  if (adcOptions.fullScaleVolts === undefined) {
    throw new ValidationError(join(path, 'shuntOhms'), `21 mA across ${shuntOhms} Ω is ${failureVolts.toFixed(2)} V, beyond the ADS1115's largest range (6.144 V)`);
  }
  const adc = parseAds1115Options(adcOptions, path, { channel: 'adcChannel', allowed: own });
  if (failureVolts >= adc.fullScaleVolts) {
    throw new ValidationError(
      join(path, 'fullScaleVolts'),
      `21 mA across ${shuntOhms} Ω is ${failureVolts.toFixed(3)} V, beyond the ±${adc.fullScaleVolts} V full scale: NAMUR failure currents would read as saturated values`,
    );
  }
  // Inputs may go to VDD + 0.3 V (ADS1115 absolute maximum); above that the input clamps.
  if (failureVolts > adc.supplyVolts + 0.3) {
    throw new ValidationError(
      join(path, 'shuntOhms'),
      `21 mA across ${shuntOhms} Ω is ${failureVolts.toFixed(3)} V, above the ADS1115's ${adc.supplyVolts} V supply: use a smaller shunt or supply`,
    );
  }
  return { adc, rangeMin, rangeMax, unit, shuntOhms, shuntTolerance };
}

/**
 * Ranges and stated tolerances. The current's error is the ADS1115's (offset, INL, rounding, gain)
 * over the shunt plus the shunt's own tolerance; the value's error is that current error at the top
 * of the NE 43 band (20.5 mA), scaled by the span per 16 mA. Transmitter error is not included.
 */
function outputsFor(settings: Settings): Readonly<Record<CurrentLoopOutput, DriverOutput>> {
  const adc = ads1115Tolerance(settings.adc.fullScaleVolts);
  const current = {
    absolute: (adc.absolute / settings.shuntOhms) * 1000,
    relative: (adc.relative ?? 0) + settings.shuntTolerance,
  };
  const span = Math.abs(settings.rangeMax - settings.rangeMin);
  const valueMilliamps = current.absolute + current.relative * MEASURING_MAX_MA;
  return Object.freeze({
    value: {
      unit: settings.unit,
      quantity: unitInfo(settings.unit)?.dimension ?? 'value',
      range: { min: Math.min(settings.rangeMin, settings.rangeMax), max: Math.max(settings.rangeMin, settings.rangeMax) },
      tolerance: { absolute: (span / 16) * valueMilliamps },
    },
    current: { unit: 'mA', quantity: 'current', range: { min: 4, max: 20 }, tolerance: current },
  });
}

function describeSettings(settings: Settings): string {
  const channel = settings.adc.channel;
  const input = typeof channel === 'number' ? `AIN${channel}-GND` : `AIN${channel[4]}-AIN${channel[5]}`;
  return (
    `adc=${input} fsr=±${settings.adc.fullScaleVolts}V dr=${settings.adc.dataRate}SPS shunt=${settings.shuntOhms}Ohm ` +
    `span=${settings.rangeMin}..${settings.rangeMax}${settings.unit}`
  );
}

/**
 * Reads a 4–20 mA loop through an ADS1115. A current at or below 3.6 mA or at or above 21 mA rejects
 * with `SensorError` (NAMUR NE 43), so the sampler marks the sample bad; between them it maps linearly, so a
 * value slightly beyond the span is returned and the pipeline flags it out of range.
 *
 * @example
 * ```ts
 * const loop = new CurrentLoopDriver({ clock, i2c: board.openI2c({ address: 0x48 }) },
 *   { rangeMin: 0, rangeMax: 10e5, unit: 'Pa', shuntOhms: 250 })
 * const { values } = await loop.sample() // { value: 250000, current: 8 }
 * ```
 */
export class CurrentLoopDriver implements SensorDriver<CurrentLoopOutput> {
  readonly #converter: Ads1115Converter;
  #settings: Settings;
  /** The options as given (merged by `configure`), because the defaults depend on each other. */
  #options: Readonly<Record<string, unknown>>;
  #closed = false;
  readonly #exclusive = new Exclusive();

  constructor(io: DriverIo, options: Readonly<Record<string, unknown>>) {
    if (io.i2c === undefined) throw new ValidationError('io.i2c', 'the current-loop driver reads its shunt through an ADS1115 and needs an I2C device');
    this.#settings = parseOptions(options, '');
    this.#options = { ...options };
    this.#converter = new Ads1115Converter(io.i2c, io.clock);
  }

  /** Changes span, unit, shunt or ADC settings; omitted options keep their current value. */
  async configure(options: Readonly<Record<string, unknown>>): Promise<void> {
    const merged = { ...this.#options, ...options };
    const settings = parseOptions(merged, '');
    await this.#exclusive.run(async () => {
      this.#assertOpen();
      this.#settings = settings;
      this.#options = merged;
    });
  }

  sample(): Promise<Reading<CurrentLoopOutput>> {
    return this.#exclusive.run(async () => {
      this.#assertOpen();
      const settings = this.#settings;
      const { volts, time } = await this.#converter.convert(settings.adc);
      this.#assertOpen();
      const milliamps = (volts / settings.shuntOhms) * 1000;
      if (milliamps <= FAILURE_LOW_MA || milliamps >= FAILURE_HIGH_MA) throw new SensorError(namurMessage(milliamps));
      const value = settings.rangeMin + ((milliamps - 4) / 16) * (settings.rangeMax - settings.rangeMin);
      return {
        time,
        values: { value, current: milliamps },
        provenance: { part: 'current-loop', source: this.#converter.source, configuration: describeSettings(settings) },
      };
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#converter.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StateError(`the current-loop driver at ${this.#converter.source} is closed`);
  }
}

function namurMessage(milliamps: number): string {
  const shown = Math.max(0, milliamps).toFixed(2);
  if (milliamps < OPEN_LOOP_MA) return `loop current ${shown} mA: open loop (NAMUR NE 43)`;
  if (milliamps <= FAILURE_LOW_MA) return `loop current ${shown} mA: at or below 3.6 mA, transmitter failure signal (NAMUR NE 43)`;
  return `loop current ${shown} mA: at or above 21 mA, transmitter failure signal or short circuit (NAMUR NE 43)`;
}

/**
 * The 4–20 mA part: `value` in the configured unit over `rangeMin…rangeMax`, and `current` in mA,
 * read through an ADS1115 at 0x48…0x4B. The span and unit are required options, so the static
 * `outputs` describe the bare loop (value = the current in mA); `validateOptions` returns the
 * outputs for the configured span and unit.
 *
 * @example
 * ```ts
 * currentLoopDriver.validateOptions({ rangeMin: 0, rangeMax: 16e5, unit: 'Pa' }, 'channels[3].driver.options').value.range
 * // { min: 0, max: 1600000 }
 * ```
 */
export const currentLoopDriver: DriverDefinition<CurrentLoopOutput> = Object.freeze({
  part: 'current-loop',
  description: '4–20 mA current loop through a shunt and an ADS1115 (NAMUR NE 43 fault detection)',
  io: 'i2c',
  addresses: [0x48, 0x49, 0x4a, 0x4b],
  // One ADS1115 conversion per sample: 579 Hz at 860 SPS, about 110 Hz at the default 128 SPS.
  maxRateHz: Math.floor(ads1115MaxRateHz(860)),
  outputs: outputsFor(parseOptions({ rangeMin: 4, rangeMax: 20, unit: 'mA' }, '')),
  validateOptions(options: Readonly<Record<string, unknown>>, path: string): Readonly<Record<CurrentLoopOutput, DriverOutput>> {
    return outputsFor(parseOptions(options, path));
  },
  maxRateFor(options: Readonly<Record<string, unknown>>): number {
    return ads1115MaxRateHz(parseOptions(options, '').adc.dataRate);
  },
  describeRateOptions(options: Readonly<Record<string, unknown>>): string {
    return `dataRate ${parseOptions(options, '').adc.dataRate} SPS`;
  },
  create(io: DriverIo, options: Readonly<Record<string, unknown>>): SensorDriver<CurrentLoopOutput> {
    return new CurrentLoopDriver(io, options);
  },
});
