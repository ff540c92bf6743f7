/**
 * What the drivers of parts on an analog pin share: the ADC their stated range and tolerance
 * assume versus the ADC the board hands over, the contract's counts-to-volts conversion, and
 * tidy tolerance numbers.
 */
import type { AnalogInput } from '../io/board.js';
import { ValidationError } from '../core/errors.js';
import { join, requireNumber } from '../core/check.js';

/** The ADC a driver's stated range and tolerance assume. */
export interface AssumedAdc {
  /** Reference (full scale), V. */
  readonly referenceVoltage: number;
  /** Bits. */
  readonly resolution: number;
}

/** The Arduino Uno's ADC: ATmega328P, 10 bits, AVcc = 5 V as reference. */
export const UNO_ADC: AssumedAdc = Object.freeze({ referenceVoltage: 5, resolution: 10 });

/**
 * Reads `referenceVoltage` and `resolution` options (defaults: the Uno's ADC).
 *
 * @example
 * ```ts
 * adcOptions({ referenceVoltage: 3.3, resolution: 12 }, 'options') // { referenceVoltage: 3.3, resolution: 12 }
 * ```
 */
export function adcOptions(options: Readonly<Record<string, unknown>>, path: string): AssumedAdc {
  return {
    referenceVoltage: requireNumber(options.referenceVoltage ?? UNO_ADC.referenceVoltage, join(path, 'referenceVoltage'), { above: 0, max: 100 }),
    resolution: requireNumber(options.resolution ?? UNO_ADC.resolution, join(path, 'resolution'), { integer: true, min: 1, max: 24 }),
  };
}

/**
 * Throws `ValidationError` when the board's ADC is not the one the options assume: the stated
 * range and tolerance would not hold.
 *
 * @example
 * ```ts
 * expectAdc(io.analog, adcOptions(options, 'options'), 'options')
 * ```
 */
export function expectAdc(analog: AnalogInput, assumed: AssumedAdc, path: string): void {
  if (analog.referenceVoltage !== assumed.referenceVoltage) {
    throw new ValidationError(
      join(path, 'referenceVoltage'),
      `the ADC of pin ${analog.pin} has a ${analog.referenceVoltage} V reference, but the options assume ${assumed.referenceVoltage} V; set referenceVoltage: ${analog.referenceVoltage}`,
    );
  }
  if (analog.resolution !== assumed.resolution) {
    throw new ValidationError(
      join(path, 'resolution'),
      `the ADC of pin ${analog.pin} has ${analog.resolution} bits, but the options assume ${assumed.resolution}; set resolution: ${analog.resolution}`,
    );
  }
}

/**
 * Counts to volts as the `AnalogInput` contract defines it: `counts / (2ⁿ − 1) × Vref`.
 *
 * @example
 * ```ts
 * countsToVolts(1023, { resolution: 10, referenceVoltage: 5 }) // 5
 * ```
 */
export function countsToVolts(counts: number, adc: AssumedAdc): number {
  return (counts / (2 ** adc.resolution - 1)) * adc.referenceVoltage;
}

/**
 * Rounds a stated tolerance up to a tidy number (2 significant digits), never down.
 *
 * @example
 * ```ts
 * roundUp(0.009765625) // 0.0098
 * ```
 */
export function roundUp(value: number): number {
  if (value <= 0) return 0;
  const step = 10 ** (Math.floor(Math.log10(value)) - 1);
  return Number((Math.ceil(value / step) * step).toPrecision(12));
}
