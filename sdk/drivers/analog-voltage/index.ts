/**
 * analog-voltage: the voltage at an analog pin, optionally scaled (a resistive divider in front
 * of the pin, a transmitter's 0–10 V span) — the simplest part there is, and the reference for
 * what the board's ADC can deliver.
 */
import type { AnalogInput } from '../../io/board.js';
import { StateError, ValidationError } from '../../core/errors.js';
import { join, rejectUnknownKeys, requireNumber, requireObject } from '../../core/check.js';
import type { DriverDefinition, DriverIo, DriverOutput, Reading, SensorDriver } from '../contract.js';
import { adcOptions, countsToVolts, expectAdc, roundUp, type AssumedAdc } from '../analog-common.js';

/** Options of the analog-voltage part. */
export interface AnalogVoltageOptions {
  /** Multiplies the pin voltage (e.g. 11 for a 100 k/10 k divider). Default 1. The output stays in V. */
  scale?: number;
  /** Added after scaling, V. Default 0. */
  offset?: number;
  /** The ADC reference the stated range assumes, V. Default 5 (Arduino Uno); must match the board. */
  referenceVoltage?: number;
  /** The ADC resolution the stated tolerance assumes, bits. Default 10 (Arduino Uno); must match the board. */
  resolution?: number;
  /**
   * Relative tolerance of the reference. Default 0.02: the Uno's AVcc from its NCP1117 5 V
   * regulator (±2 % over temperature). Use 0.05 when it runs from USB (VBUS 4.75–5.25 V), and 0
   * for a ratiometric source powered from the same reference.
   */
  referenceTolerance?: number;
}

interface Settings extends AssumedAdc {
  readonly scale: number;
  readonly offset: number;
  readonly referenceTolerance: number;
}

const KNOWN = ['scale', 'offset', 'referenceVoltage', 'resolution', 'referenceTolerance'] as const;

/** The ADC error the tolerance states, in LSB: the ATmega328P's absolute accuracy (typ. 2 LSB). */
const ADC_ERROR_LSB = 2;

function parse(options: Readonly<Record<string, unknown>>, path: string): Settings {
  rejectUnknownKeys(requireObject(options, path), KNOWN, path);
  const scale = requireNumber(options.scale ?? 1, join(path, 'scale'));
  if (scale === 0) throw new ValidationError(join(path, 'scale'), 'must not be 0');
  return {
    ...adcOptions(options, path),
    scale,
    offset: requireNumber(options.offset ?? 0, join(path, 'offset')),
    referenceTolerance: requireNumber(options.referenceTolerance ?? 0.02, join(path, 'referenceTolerance'), { min: 0, max: 0.5 }),
  };
}

function outputs(settings: Settings): { voltage: DriverOutput } {
  const { scale, offset, referenceVoltage, resolution, referenceTolerance } = settings;
  const ends = [offset, offset + scale * referenceVoltage];
  const lsb = referenceVoltage / 2 ** resolution;
  return {
    voltage: {
      unit: 'V',
      quantity: 'voltage',
      range: { min: Math.min(...ends), max: Math.max(...ends) },
      // 2 LSB covers ½ LSB rounding, the ≤1 LSB gap between the ATmega's Vin·2ⁿ/Vref transfer and
      // the contract's counts/(2ⁿ−1) conversion, and the datasheet's typical INL. A reference
      // error scales the unscaled part of the value: relative to |value − offset| ≤ |value| + |offset|.
      tolerance: {
        absolute: roundUp(ADC_ERROR_LSB * lsb * Math.abs(scale) + referenceTolerance * Math.abs(offset)),
        relative: referenceTolerance,
      },
    },
  };
}

function configuration(settings: Settings): string {
  return `scale=${settings.scale} offset=${settings.offset} adc=${settings.resolution}bit/${settings.referenceVoltage}V`;
}

/**
 * The analog-voltage driver (ECMA-419 sensor class pattern).
 *
 * @example
 * ```ts
 * const driver = new AnalogVoltage({ clock, analog: board.openAnalogInput({ pin: 'A0' }) }, { scale: 2 })
 * const reading = await driver.sample() // reading.values.voltage in V
 * ```
 */
export class AnalogVoltage implements SensorDriver<'voltage'> {
  readonly #io: DriverIo;
  readonly #analog: AnalogInput;
  #settings: Settings;
  #closed = false;

  constructor(io: DriverIo, options: Readonly<Record<string, unknown>> = {}) {
    if (io?.analog === undefined) throw new ValidationError('io.analog', 'analog-voltage needs an analog input; bind it to an analog pin');
    this.#io = io;
    this.#analog = io.analog;
    this.#settings = parse(options, 'options');
    expectAdc(this.#analog, this.#settings, 'options');
  }

  /** Replaces the given options; the others keep their values. */
  async configure(options: Readonly<Record<string, unknown>>): Promise<void> {
    if (this.#closed) throw new StateError('analog-voltage driver is closed');
    const settings = parse({ ...this.#settings, ...requireObject(options, 'options') }, 'options');
    expectAdc(this.#analog, settings, 'options');
    this.#settings = settings;
  }

  async sample(): Promise<Reading<'voltage'>> {
    if (this.#closed) throw new StateError('analog-voltage driver is closed');
    const time = this.#io.clock.now();
    const counts = await this.#analog.read();
    const settings = this.#settings;
    return {
      time,
      values: { voltage: countsToVolts(counts, settings) * settings.scale + settings.offset },
      provenance: { part: 'analog-voltage', source: this.#analog.pin, configuration: configuration(settings) },
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#analog.close();
  }
}

/**
 * The analog-voltage part. `maxRateHz` is 1000: a conservative ceiling for one pin read through
 * `AnalogInput` (the ATmega328P converts in about 104 µs at its default prescaler; the transport
 * takes the rest); the board's own `adc.maxRateHz` can be higher.
 *
 * @example
 * ```ts
 * analogVoltage.validateOptions({ scale: 11 }, 'channels[0].driver.options').voltage.range // { min: 0, max: 55 }
 * ```
 */
export const analogVoltage: DriverDefinition<'voltage'> = {
  part: 'analog-voltage',
  description: 'Voltage at an analog pin, optionally scaled and offset (V)',
  io: 'analog',
  maxRateHz: 1000,
  outputs: outputs(parse({}, 'options')),
  validateOptions: (options, path) => outputs(parse(options, path)),
  create: (io, options) => new AnalogVoltage(io, options),
};
