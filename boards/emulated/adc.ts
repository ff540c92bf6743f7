/**
 * An analog-to-digital converter model: volts in, counts out.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import type { SeededRandom } from '../../sdk/core/random.js';
import { expectNumber } from './expect.js';

/**
 * How a voltage maps to a code.
 *
 * - `'round'`: code transitions at half LSBs, `code = round(V·2ⁿ/Vref)`. This is the ideal transfer
 *   of the ATmega328P ("ADC Accuracy Definitions": the ideal first transition 0x000→0x001 is at
 *   0.5 LSB, the last 0x3FE→0x3FF at 1.5 LSB below full scale), i.e. the Arduino Uno, and of most
 *   successive-approximation ADCs specified the same way.
 * - `'floor'`: code transitions at whole LSBs, `code = ⌊V·2ⁿ/Vref⌋` (pure truncation, the first
 *   transition at 1 LSB), as for converters whose result register simply truncates.
 */
export type Quantisation = 'round' | 'floor';

/** Options of {@link AdcModel}. */
export interface AdcModelOptions {
  /** Bits, an integer from 1 to 24. */
  resolution: number;
  /** Reference voltage (full scale), V, above 0. */
  referenceVoltage: number;
  /** Default `'round'` (ATmega328P). */
  quantisation?: Quantisation;
  /** Standard deviation of input-referred noise, V. Default 0 (an ideal converter). */
  noiseVolts?: number;
  /** Generator for the noise; required when `noiseVolts` > 0. */
  random?: SeededRandom;
}

/**
 * A converter with `resolution` bits over 0 … `referenceVoltage`. One LSB is `Vref / 2ⁿ`, as the
 * ATmega328P datasheet defines the result (`ADC = Vin·1024/Vref`); inputs below 0 read 0 and inputs
 * at or above full scale read `2ⁿ − 1` (the converter clips, it does not wrap).
 *
 * Note that the contract's conversion back, `counts / (2ⁿ − 1) × Vref`, differs from this
 * transfer by up to 1 LSB at the top of the range; drivers count that in their stated tolerance.
 *
 * @example
 * ```ts
 * const adc = new AdcModel({ resolution: 10, referenceVoltage: 5 })
 * adc.convert(2.5)  // 512
 * adc.convert(7)    // 1023 (clipped)
 * ```
 */
export class AdcModel {
  readonly resolution: number;
  readonly referenceVoltage: number;
  readonly quantisation: Quantisation;
  readonly noiseVolts: number;
  /** Highest code, `2ⁿ − 1`. */
  readonly maxCount: number;
  readonly #random: SeededRandom | undefined;

  constructor(options: AdcModelOptions) {
    this.resolution = expectNumber('resolution', options.resolution, { integer: true, min: 1, max: 24 });
    this.referenceVoltage = expectNumber('referenceVoltage', options.referenceVoltage, { above: 0 });
    const quantisation = options.quantisation ?? 'round';
    if (quantisation !== 'round' && quantisation !== 'floor') {
      throw new ArgumentError(`Expected \`quantisation\` to be "round" or "floor", got ${String(quantisation)}`);
    }
    this.quantisation = quantisation;
    this.noiseVolts = expectNumber('noiseVolts', options.noiseVolts ?? 0, { min: 0 });
    if (this.noiseVolts > 0 && options.random === undefined) {
      throw new ArgumentError('Expected `random` (a SeededRandom) when `noiseVolts` is above 0');
    }
    this.#random = options.random;
    this.maxCount = 2 ** this.resolution - 1;
  }

  /** Size of one code step, V (`Vref / 2ⁿ`). */
  get lsbVolts(): number {
    return this.referenceVoltage / 2 ** this.resolution;
  }

  /**
   * One conversion of `volts` (noise added first when configured). Infinite inputs clip;
   * `NaN` throws a `TypeError` because it means a broken signal model, not a physical voltage.
   */
  convert(volts: number): number {
    if (Number.isNaN(volts)) throw new ArgumentError('Expected `volts` to be a number, got NaN');
    const input = this.noiseVolts > 0 ? volts + this.#random!.gaussian(0, this.noiseVolts) : volts;
    const ideal = (input / this.referenceVoltage) * 2 ** this.resolution;
    const code = this.quantisation === 'round' ? Math.round(ideal) : Math.floor(ideal);
    return Math.min(this.maxCount, Math.max(0, code));
  }
}
