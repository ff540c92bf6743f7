import { describe, expect, it } from 'vitest';
import { UnitError } from '../../sdk/core/errors.js';
import { allUnits, canConvert, convert, convertDifference, converter, isSenmlUnit, senmlUnitProblem, unitInfo } from '../../sdk/core/units.js';

describe('units', () => {
  it('knows the SenML registry of RFC 8428 §12.1 and the secondary units of RFC 8798', () => {
    for (const symbol of ['m', 'kg', 's', 'A', 'K', 'Cel', 'Pa', 'm/s2', '%RH', 'V', 'Ohm', 'count', '/', 'dBW', 'Bspl', 'deg']) {
      expect(unitInfo(symbol)?.registry).toBe('rfc8428');
      expect(isSenmlUnit(symbol)).toBe(true);
    }
    for (const symbol of ['ms', 'min', 'h', 'hPa', 'mV', 'mA', 'kWh', 'ppm', 'mm', 'km/h']) {
      expect(unitInfo(symbol)?.registry).toBe('rfc8798');
      expect(isSenmlUnit(symbol)).toBe(true);
    }
    expect(allUnits().filter((u) => u.registry === 'rfc8428')).toHaveLength(66);
    expect(allUnits().filter((u) => u.registry === 'rfc8798')).toHaveLength(32);
  });

  it('converts temperature, pressure and acceleration', () => {
    expect(convert(25, 'Cel', 'K')).toBeCloseTo(298.15, 10);
    expect(convert(300, 'K', 'Cel')).toBeCloseTo(26.85, 10);
    expect(convert(212, 'degF', 'Cel')).toBeCloseTo(100, 10);
    expect(convert(1.01325, 'bar', 'hPa')).toBeCloseTo(1013.25, 10);
    expect(convert(101.325, 'kPa', 'Pa')).toBeCloseTo(101_325, 8);
    expect(convert(2, 'g0', 'm/s2')).toBeCloseTo(19.6133, 10);
    expect(convert(250, 'mA', 'A')).toBeCloseTo(0.25, 12);
    expect(converter('Pa', 'Pa')(7)).toBe(7);
  });

  it('converts differences without the offset', () => {
    expect(convertDifference(1, 'Cel', 'K')).toBe(1);
    expect(convertDifference(9, 'degF', 'Cel')).toBeCloseTo(5, 12);
  });

  it('refuses incompatible and unknown units with a UnitError at setup time', () => {
    expect(canConvert('Cel', 'Pa')).toBe(false);
    expect(() => converter('Cel', 'Pa')).toThrow(UnitError);
    expect(() => converter('Cel', 'Pa')).toThrow('cannot convert "Cel" (temperature) to "Pa" (pressure)');
    expect(() => converter('furlong', 'm')).toThrow('unknown unit "furlong"');
  });

  it('explains why a symbol cannot be a channel unit, with a suggestion', () => {
    expect(senmlUnitProblem('Cel')).toBeUndefined();
    expect(senmlUnitProblem('°C')).toBe('unknown unit "°C"; did you mean "Cel"?');
    expect(senmlUnitProblem('pa')).toBe('unknown unit "pa"; did you mean "Pa"?');
    expect(senmlUnitProblem('%')).toMatch(/deprecated by RFC 8428/);
    expect(senmlUnitProblem('bar')).toMatch(/not a SenML unit; use "Pa" or "hPa"/);
  });
});
