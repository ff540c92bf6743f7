import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { AdcModel } from '../../boards/emulated/adc.js';

describe('AdcModel', () => {
  it('converts with the ATmega328P transfer (Vin·1024/Vref, rounded) by default', () => {
    const adc = new AdcModel({ resolution: 10, referenceVoltage: 5 });
    const lsb = 5 / 1024;
    expect(adc.lsbVolts).toBe(lsb);
    expect(adc.maxCount).toBe(1023);
    expect(adc.convert(0)).toBe(0);
    expect(adc.convert(0.49 * lsb)).toBe(0);
    expect(adc.convert(0.51 * lsb)).toBe(1); // first transition at 0.5 LSB
    expect(adc.convert(2.5)).toBe(512);
    expect(adc.convert(1022.49 * lsb)).toBe(1022);
    expect(adc.convert(1022.51 * lsb)).toBe(1023); // last transition 1.5 LSB below 1024
  });

  it('floors when asked', () => {
    const adc = new AdcModel({ resolution: 10, referenceVoltage: 5, quantisation: 'floor' });
    expect(adc.convert(0.99 * adc.lsbVolts)).toBe(0);
    expect(adc.convert(1.0 * adc.lsbVolts)).toBe(1);
    expect(adc.convert(512.9 * adc.lsbVolts)).toBe(512);
  });

  it('clips at 0 and full scale instead of wrapping', () => {
    const adc = new AdcModel({ resolution: 12, referenceVoltage: 3.3 });
    expect(adc.convert(-0.2)).toBe(0);
    expect(adc.convert(3.3)).toBe(4095);
    expect(adc.convert(12)).toBe(4095);
    expect(adc.convert(Number.POSITIVE_INFINITY)).toBe(4095);
    expect(adc.convert(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(() => adc.convert(Number.NaN)).toThrow(ArgumentError);
  });

  it('adds seeded input noise: same seed, same codes; spread of the stated sigma', () => {
    const make = (seed: number) => new AdcModel({ resolution: 16, referenceVoltage: 5, noiseVolts: 0.001, random: new SeededRandom(seed) });
    const a = make(9);
    const b = make(9);
    const codes = Array.from({ length: 2000 }, () => a.convert(2.5));
    expect(Array.from({ length: 2000 }, () => b.convert(2.5))).toEqual(codes);
    const volts = codes.map((code) => code * a.lsbVolts);
    const mean = volts.reduce((x, y) => x + y, 0) / volts.length;
    const sd = Math.sqrt(volts.reduce((x, y) => x + (y - mean) ** 2, 0) / volts.length);
    expect(mean).toBeCloseTo(2.5, 3);
    expect(sd).toBeGreaterThan(0.0009);
    expect(sd).toBeLessThan(0.0011);
    const other = make(10);
    expect(Array.from({ length: 20 }, () => other.convert(2.5))).not.toEqual(codes.slice(0, 20));
  });

  it('rejects bad options with precise messages', () => {
    expect(() => new AdcModel({ resolution: 0, referenceVoltage: 5 })).toThrow('Expected `resolution` to be an integer from 1 to 24, got 0');
    expect(() => new AdcModel({ resolution: 10, referenceVoltage: -1 })).toThrow('Expected `referenceVoltage` to be a finite number above 0, got -1');
    expect(() => new AdcModel({ resolution: 10, referenceVoltage: 5, quantisation: 'ceil' as never })).toThrow(
      'Expected `quantisation` to be "round" or "floor", got ceil',
    );
    expect(() => new AdcModel({ resolution: 10, referenceVoltage: 5, noiseVolts: 0.01 })).toThrow(
      'Expected `random` (a SeededRandom) when `noiseVolts` is above 0',
    );
  });
});
