/**
 * ADS1115 driver: one input voltage per `sample()` from a TI ADS1115 16-bit ADC on I2C, by
 * single-shot conversion (the part powers down between samples; datasheet §9.4.1). With
 * `acquisition: 'continuous'` and the ALERT/RDY line on a pulse-counting input (`io.ready`), it
 * also offers sensor-clocked acquisition: the part converts continuously at its data rate and the
 * sampler reads each conversion once (§9.4.2, §9.3.8). A device model names the digital pin the
 * line is wired to (`driver: { part: 'ads1115', ready: 'D2', options: { acquisition: 'continuous' } }`)
 * and the device counts its falling edges (`Board.openEdgeCounter`) into `io.ready`.
 */
import { StateError, ValidationError } from '../../core/errors.js';
import { describe, join, rejectUnknownKeys } from '../../core/check.js';
import type { AcquisitionMode, DriverDefinition, DriverIo, DriverOutput, Reading, SensorDriver, Tolerance } from '../contract.js';
import { Ads1115Continuous } from './continuous.js';
import { Exclusive } from '../exclusive.js';
import { Ads1115Converter, ads1115MaxRateHz, type Ads1115ConversionSettings } from './converter.js';
import { CHANNELS, DATA_RATES, FULL_SCALES, type Ads1115Channel, type DataRate, type FullScaleVolts } from './registers.js';

export { Ads1115Converter, ads1115MaxRateHz } from './converter.js';
export { Ads1115Continuous } from './continuous.js';
export type { Ads1115Conversion, Ads1115ConversionSettings } from './converter.js';
export type { Ads1115Channel, DataRate, FullScaleVolts } from './registers.js';

/** Options of the ADS1115 driver. */
export interface Ads1115Options {
  /** Input: `0`…`3` against GND (default `0`), or `'diff01'`, `'diff03'`, `'diff13'`, `'diff23'`. */
  channel?: Ads1115Channel;
  /** PGA full-scale range: 6.144, 4.096, 2.048 (default), 1.024, 0.512 or 0.256 V. */
  fullScaleVolts?: FullScaleVolts;
  /** Data rate: 8, 16, 32, 64, 128 (default), 250, 475 or 860 SPS. Slower is quieter. */
  dataRate?: DataRate;
  /** The part's supply, 2.0…5.5 V (default 3.3): inputs cannot go beyond it, whatever the PGA. */
  supplyVolts?: number;
  /**
   * `'single-shot'` (default): one conversion per `sample()`. `'continuous'`: the part converts at
   * `dataRate` on its own clock and the sampler reads each conversion once; needs the ALERT/RDY line
   * on a pulse-counting input (`io.ready`).
   */
  acquisition?: 'single-shot' | 'continuous';
}

/** The driver's options: the conversion settings and the acquisition mode. */
function parseDriverOptions(options: Readonly<Record<string, unknown>>, path: string): Ads1115Settings & { readonly acquisition: 'single-shot' | 'continuous' } {
  const settings = parseAds1115Options(options, path, { channel: 'channel', allowed: ['acquisition'] });
  const acquisition = options.acquisition ?? 'single-shot';
  if (acquisition !== 'single-shot' && acquisition !== 'continuous') {
    throw new ValidationError(join(path, 'acquisition'), `Expected \`acquisition\` to be one of "single-shot", "continuous", got ${describe(acquisition)}`);
  }
  return { ...settings, acquisition };
}

/** Resolved ADS1115 settings. */
export interface Ads1115Settings extends Ads1115ConversionSettings {
  readonly supplyVolts: number;
}

/** The ADS1115's one output. */
export type Ads1115Output = 'voltage';

/**
 * Checks ADS1115 options and fills in defaults; throws `ValidationError` with the path of the bad
 * field. A wrapping driver (4–20 mA) renames the channel option and lists its own keys in
 * `names.allowed`, which are not checked here.
 *
 * @example
 * ```ts
 * parseAds1115Options({ channel: 'diff01', dataRate: 860 }, 'channels[0].driver.options')
 * ```
 */
export function parseAds1115Options(
  options: Readonly<Record<string, unknown>>,
  path: string,
  names: { readonly channel: string; readonly allowed?: readonly string[] } = { channel: 'channel' },
): Ads1115Settings {
  rejectUnknownKeys(options, [names.channel, 'fullScaleVolts', 'dataRate', 'supplyVolts', ...(names.allowed ?? [])], path);
  const pick = <T>(name: string, allowed: readonly T[], fallback: T, unit = ''): T => {
    const value = options[name];
    if (value === undefined) return fallback;
    if (!(allowed as readonly unknown[]).includes(value)) {
      const list = allowed.map((entry) => (typeof entry === 'string' ? `"${entry}"` : String(entry))).join(', ');
      throw new ValidationError(join(path, name), `Expected \`${name}\` to be one of ${list}${unit}, got ${describe(value)}`);
    }
    return value as T;
  };
  const supplyVolts = options.supplyVolts ?? 3.3;
  if (typeof supplyVolts !== 'number' || !(supplyVolts >= 2 && supplyVolts <= 5.5)) {
    throw new ValidationError(join(path, 'supplyVolts'), `Expected \`supplyVolts\` to be a number from 2 to 5.5 V, got ${describe(supplyVolts)}`);
  }
  return {
    channel: pick(names.channel, CHANNELS, 0),
    fullScaleVolts: pick('fullScaleVolts', FULL_SCALES, 2.048, ' V'),
    dataRate: pick('dataRate', DATA_RATES, 128, ' SPS'),
    supplyVolts,
  };
}

/**
 * The stated accuracy of one ADS1115 conversion (datasheet §7.5, electrical characteristics):
 * offset ±3 LSB, INL ±1 LSB, rounding ½ LSB, gain error 0.15 % at ±2.048 V plus the 0.1 % PGA
 * gain match at the other ranges. Noise is below 1 LSB rms at the default 128 SPS.
 *
 * @example
 * ```ts
 * ads1115Tolerance(4.096) // { absolute: 0.0005625, relative: 0.0025 }
 * ```
 */
export function ads1115Tolerance(fullScaleVolts: FullScaleVolts): Tolerance {
  const lsb = fullScaleVolts / 32768;
  return { absolute: 4.5 * lsb, relative: fullScaleVolts === 2.048 ? 0.0015 : 0.0025 };
}

function outputsFor(settings: Ads1115Settings): Readonly<Record<Ads1115Output, DriverOutput>> {
  const top = Math.min(settings.fullScaleVolts, settings.supplyVolts);
  // Single-ended inputs cannot go below GND; differential ones span both signs.
  const min = typeof settings.channel === 'number' ? 0 : -top;
  return Object.freeze({
    voltage: { unit: 'V', quantity: 'voltage', range: { min, max: top }, tolerance: ads1115Tolerance(settings.fullScaleVolts) },
  });
}

function describeSettings(settings: Ads1115Settings, mode: 'single-shot' | 'continuous' = 'single-shot'): string {
  const input = typeof settings.channel === 'number' ? `AIN${settings.channel}-GND` : `AIN${settings.channel[4]}-AIN${settings.channel[5]}`;
  return `mux=${input} fsr=±${settings.fullScaleVolts}V dr=${settings.dataRate}SPS mode=${mode}`;
}

/**
 * Reads one input of an ADS1115 in volts.
 *
 * @example
 * ```ts
 * const driver = new Ads1115Driver({ clock, i2c: board.openI2c({ address: 0x48 }) }, { channel: 1, fullScaleVolts: 4.096 })
 * const { values } = await driver.sample() // { voltage: 1.2502 }
 * ```
 */
export class Ads1115Driver implements SensorDriver<Ads1115Output> {
  readonly #converter: Ads1115Converter;
  #settings: Ads1115Settings;
  #closed = false;
  readonly #exclusive = new Exclusive();
  readonly #continuous: Ads1115Continuous | undefined;

  constructor(io: DriverIo, options: Readonly<Record<string, unknown>> = {}) {
    if (io.i2c === undefined) throw new ValidationError('io.i2c', 'the ads1115 driver needs an I2C device');
    const parsed = parseDriverOptions(options, '');
    const { acquisition, ...settings } = parsed;
    this.#settings = settings;
    this.#converter = new Ads1115Converter(io.i2c, io.clock);
    if (acquisition === 'continuous') {
      if (io.ready === undefined) {
        throw new ValidationError('io.ready', 'continuous acquisition needs the ALERT/RDY line on a pulse-counting input (io.ready)');
      }
      this.#continuous = new Ads1115Continuous({
        i2c: io.i2c,
        clock: io.clock,
        ready: io.ready,
        settings,
        run: (task) =>
          this.#exclusive.run(async () => {
            this.#assertOpen();
            return task();
          }),
        provenance: () => ({ part: 'ads1115', source: this.#converter.source, configuration: describeSettings(this.#settings, 'continuous') }),
      });
    }
  }

  /** Continuous conversion, when configured (`acquisition: 'continuous'`). */
  get acquisition(): Ads1115Continuous | undefined {
    return this.#continuous;
  }

  /**
   * Changes channel, range, data rate or supply; omitted options keep their current value. With
   * continuous acquisition the settings are fixed at construction.
   */
  async configure(options: Readonly<Record<string, unknown>>): Promise<void> {
    if (this.#continuous !== undefined) throw new ValidationError('acquisition', 'a continuous-conversion ADS1115 is configured when the driver is created');
    const settings = parseAds1115Options({ ...this.#settings, ...options }, '');
    await this.#exclusive.run(async () => {
      this.#assertOpen();
      this.#settings = settings;
    });
  }

  sample(): Promise<Reading<Ads1115Output>> {
    return this.#exclusive.run(async () => {
      this.#assertOpen();
      const settings = this.#settings;
      // While converting continuously, a single-shot conversion would stop the train: read the newest result.
      const continuous = this.#continuous?.running === true;
      const { volts, time } = continuous ? await this.#continuous!.latest() : await this.#converter.convert(settings);
      this.#assertOpen();
      return {
        time,
        values: { voltage: volts },
        provenance: { part: 'ads1115', source: this.#converter.source, configuration: describeSettings(settings, continuous ? 'continuous' : 'single-shot') },
      };
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#converter.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StateError(`the ads1115 driver at ${this.#converter.source} is closed`);
  }
}

/**
 * The ADS1115 part: one voltage output at 0x48…0x4B. `maxRateHz` is at 860 SPS (1.3 ms worst-case
 * conversion, 0.1 ms wake-up and 0.34 ms on a 400 kHz bus: 579 Hz); `maxRateFor` gives it for the
 * configured data rate (about 110 Hz at the default 128 SPS).
 *
 * @example
 * ```ts
 * ads1115Driver.validateOptions({ channel: 'diff01', fullScaleVolts: 0.256 }, 'options').voltage.range // { min: -0.256, max: 0.256 }
 * ads1115Driver.maxRateFor?.({ dataRate: 8 }) // 7.18
 * ```
 */
export const ads1115Driver: DriverDefinition<Ads1115Output> = Object.freeze({
  part: 'ads1115',
  description: 'TI ADS1115 16-bit delta-sigma ADC with PGA (I2C, single-shot)',
  io: 'i2c',
  addresses: [0x48, 0x49, 0x4a, 0x4b],
  maxRateHz: Math.floor(ads1115MaxRateHz(860)),
  outputs: outputsFor(parseAds1115Options({}, '')),
  validateOptions(options: Readonly<Record<string, unknown>>, path: string): Readonly<Record<Ads1115Output, DriverOutput>> {
    return outputsFor(parseDriverOptions(options, path));
  },
  maxRateFor(options: Readonly<Record<string, unknown>>): number {
    const settings = parseDriverOptions(options, '');
    // Continuous: every conversion the part makes, at its data rate.
    return settings.acquisition === 'continuous' ? settings.dataRate : ads1115MaxRateHz(settings.dataRate);
  },
  describeRateOptions(options: Readonly<Record<string, unknown>>): string {
    const settings = parseDriverOptions(options, '');
    return `dataRate ${settings.dataRate} SPS${settings.acquisition === 'continuous' ? ' (continuous)' : ''}`;
  },
  acquisitionFor(options: Readonly<Record<string, unknown>>): AcquisitionMode | undefined {
    return parseDriverOptions(options, '').acquisition === 'continuous' ? 'continuous' : undefined;
  },
  readyLineFor(options: Readonly<Record<string, unknown>>): string | undefined {
    // §9.3.8: in conversion-ready mode ALERT/RDY pulses low after each conversion.
    return parseDriverOptions(options, '').acquisition === 'continuous' ? 'acquisition "continuous" counts conversions on its ALERT/RDY line' : undefined;
  },
  create(io: DriverIo, options: Readonly<Record<string, unknown>>): SensorDriver<Ads1115Output> {
    return new Ads1115Driver(io, options);
  },
});
