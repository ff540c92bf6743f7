import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../sdk/core/errors.js';
import {
  combineUncertainty,
  coverageFactor,
  formatWithUncertainty,
  roundToUncertainty,
  degreesOfFreedomFromReliability,
  normalB,
  rectangularB,
  resolutionB,
  triangularB,
  typeA,
  typeAFromStatistics,
  uShapedB,
  welchSatterthwaite,
} from '../../hil/metrology/index.js';

describe('uncertainty inputs', () => {
  it('type A is the experimental standard deviation of the mean with ν = n − 1', () => {
    const input = typeA('repeatability', [10.1, 10.3, 10.2, 10.4, 10.0]);
    // s = √(Σ(x − 10.2)²/4) = √(0.1/4) = 0.158114
    expect(input).toMatchObject({ type: 'A', distribution: 'normal', sensitivity: 1, degreesOfFreedom: 4 });
    expect(input.value).toBeCloseTo(Math.sqrt(0.025), 12);
    expect(input.divisor).toBeCloseTo(Math.sqrt(5), 14);
    expect(typeAFromStatistics('pooled', 0.2, 4, { degreesOfFreedom: 30 })).toMatchObject({ value: 0.2, divisor: 2, degreesOfFreedom: 30 });
  });

  it('type B divisors: normal k, rectangular √3, triangular √6, U-shaped √2, resolution r/2 over √3', () => {
    const cases = [
      [normalB('cert', 0.1, 2), 'normal', 0.1, 2, 0.05],
      [normalB('cert', 0.3, 3), 'normal', 0.3, 3, 0.1],
      [rectangularB('spec', 0.3), 'rectangular', 0.3, Math.sqrt(3), 0.3 / Math.sqrt(3)],
      [triangularB('tri', 0.3), 'triangular', 0.3, Math.sqrt(6), 0.3 / Math.sqrt(6)],
      [uShapedB('u', 0.3), 'u-shaped', 0.3, Math.SQRT2, 0.3 / Math.SQRT2],
      [resolutionB('res', 0.01), 'rectangular', 0.005, Math.sqrt(3), 0.01 / Math.sqrt(12)],
    ] as const;
    for (const [input, distribution, value, divisor, standard] of cases) {
      expect(input).toMatchObject({ type: 'B', distribution, sensitivity: 1, degreesOfFreedom: Infinity });
      expect(input.value).toBeCloseTo(value, 14);
      expect(input.divisor).toBeCloseTo(divisor, 14);
      expect(input.value / input.divisor).toBeCloseTo(standard, 14);
    }
  });

  it('type B degrees of freedom from the reliability of the uncertainty (JCGM 100 G.4.2)', () => {
    expect(degreesOfFreedomFromReliability(0.25)).toBe(8);
    expect(degreesOfFreedomFromReliability(0.1)).toBeCloseTo(50, 10);
    expect(rectangularB('spec', 1, { degreesOfFreedom: 8 }).degreesOfFreedom).toBe(8);
  });

  it('refuses bad inputs with ArgumentError', () => {
    expect(() => typeA('a', [1])).toThrow(/at least 2 values, got 1/);
    expect(() => typeA('a', [1, NaN, 2])).toThrow(/`readings\[1\]` to be a finite number, got NaN/);
    expect(() => normalB('c', 0.1, 0)).toThrow(ArgumentError);
    expect(() => rectangularB('r', -1)).toThrow(ArgumentError);
    expect(() => resolutionB('r', NaN)).toThrow(ArgumentError);
    expect(() => triangularB('t', 1, { sensitivity: Infinity })).toThrow(ArgumentError);
    expect(() => uShapedB('u', 1, { degreesOfFreedom: 0 })).toThrow(ArgumentError);
    expect(() => typeAFromStatistics('p', 0.1, 0)).toThrow(ArgumentError);
    expect(() => degreesOfFreedomFromReliability(0)).toThrow(ArgumentError);
  });
});

describe('combineUncertainty', () => {
  it('combines in quadrature with sensitivities and writes every contribution and its share', () => {
    const record = combineUncertainty([
      typeAFromStatistics('repeatability', 0.3, 9), // u = 0.1, ν = 8
      normalB('reference certificate', 0.4, 2, { sensitivity: -1 }), // u = 0.2
      rectangularB('gain', 0.1 * Math.sqrt(3), { sensitivity: 2 }), // |c|·u = 0.2
    ]);
    expect(record.combinedStandardUncertainty).toBeCloseTo(0.3, 14);
    const [a, b, c] = record.budget;
    expect(a).toMatchObject({ name: 'repeatability', type: 'A', distribution: 'normal', value: 0.3, divisor: 3, sensitivity: 1, degreesOfFreedom: 8 });
    expect(b).toMatchObject({ name: 'reference certificate', type: 'B', value: 0.4, divisor: 2, sensitivity: -1, degreesOfFreedom: null });
    expect(c!.standardUncertainty).toBeCloseTo(0.2, 14);
    expect(a!.share).toBeCloseTo(1 / 9, 14);
    expect(b!.share).toBeCloseTo(4 / 9, 14);
    expect(c!.share).toBeCloseTo(4 / 9, 14);
    expect(record.budget.reduce((sum, x) => sum + x.share, 0)).toBeCloseTo(1, 14);
    // ν_eff = 0.3⁴ / (0.1⁴/8) = 648 → k = 2 at 95 %.
    expect(record.effectiveDegreesOfFreedom).toBeCloseTo(648, 8);
    expect(record.coverageFactor).toBe(2);
    expect(record.expanded).toBeCloseTo(0.6, 14);
    expect(record.coverageProbability).toBe(0.95);
  });

  it('Welch–Satterthwaite (JCGM 100 G.4.1) decides k when type A dominates', () => {
    // Two inputs: u₁ = 0.1 with ν = 4, u₂ = 0.05 with ν = ∞: ν_eff = (0.0125)² / (0.1⁴/4) = 6.25 → 6.
    expect(welchSatterthwaite([0.1, 0.05], [4, Infinity])).toBeCloseTo(6.25, 12);
    const record = combineUncertainty([typeAFromStatistics('a', 0.2, 4, { degreesOfFreedom: 4 }), normalB('b', 0.1, 2)]);
    expect(record.effectiveDegreesOfFreedom).toBeCloseTo(6.25, 12);
    expect(record.coverageFactor).toBeCloseTo(2.447, 3); // t(0.975, 6)
    expect(record.expanded).toBeCloseTo(2.4469 * Math.sqrt(0.0125), 3);
    // Equal A contributions add their degrees of freedom: 2 × (u, ν = 3) → ν_eff = 6.
    expect(welchSatterthwaite([0.1, 0.1], [3, 3])).toBeCloseTo(6, 12);
    expect(welchSatterthwaite([0.1, 0], [3, 3])).toBeCloseTo(3, 12);
    expect(welchSatterthwaite([0.1], [Infinity])).toBe(Infinity);
  });

  it('a single type A input keeps its integer ν through the rounding of Welch–Satterthwaite', () => {
    for (let n = 2; n < 80; n++) {
      const record = combineUncertainty([typeAFromStatistics('a', 0.0123, n)]);
      expect(record.coverageFactor).toBe(coverageFactor(n - 1));
    }
  });

  it('writes infinite degrees of freedom as null and survives JSON', () => {
    const record = combineUncertainty([normalB('cert', 0.1, 2), resolutionB('res', 0.01)]);
    expect(record.effectiveDegreesOfFreedom).toBeNull();
    expect(record.budget.every((x) => x.degreesOfFreedom === null)).toBe(true);
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });

  it('a zero budget has u_c = 0, shares 0 and ν_eff = ∞', () => {
    const record = combineUncertainty([typeA('flat', [5, 5, 5])]);
    expect(record.combinedStandardUncertainty).toBe(0);
    expect(record.expanded).toBe(0);
    expect(record.budget[0]!.share).toBe(0);
    expect(record.effectiveDegreesOfFreedom).toBeNull();
  });

  it('takes another coverage probability', () => {
    const record = combineUncertainty([typeAFromStatistics('a', 1, 11)], { coverageProbability: 0.99 });
    expect(record.coverageFactor).toBeCloseTo(3.169, 3); // t(0.995, 10)
    expect(record.coverageProbability).toBe(0.99);
  });

  it('refuses an empty budget and malformed inputs', () => {
    expect(() => combineUncertainty([])).toThrow(ArgumentError);
    expect(() => combineUncertainty([{ ...normalB('x', 1, 2), divisor: 0 }])).toThrow(/inputs\[0\]\.divisor/);
    expect(() => combineUncertainty([{ ...normalB('x', 1, 2), value: NaN }])).toThrow(ArgumentError);
    expect(() => combineUncertainty([normalB('x', 1, 2)], { coverageProbability: 1.5 })).toThrow(ArgumentError);
    expect(() => welchSatterthwaite([1, 2], [3])).toThrow(ArgumentError);
  });
});

describe('stating a result (JCGM 100 §7.2.2, §7.2.6)', () => {
  it('rounds U up to two significant digits and the value to the same place', () => {
    expect(roundToUncertainty(0.123456, 0.05231)).toEqual({ value: 0.123, expanded: 0.053, decimals: 3 });
    expect(roundToUncertainty(101325.4, 12.3)).toEqual({ value: 101325, expanded: 13, decimals: 0 });
    expect(roundToUncertainty(1234.5, 250)).toEqual({ value: 1230, expanded: 250, decimals: -1 });
    expect(roundToUncertainty(-0.0004567, 0.0000123)).toEqual({ value: -0.000457, expanded: 0.000013, decimals: 6 });
    // Rounding up across a power of ten keeps two significant digits: 0.0999 → 0.10.
    expect(roundToUncertainty(1.23456, 0.0999)).toEqual({ value: 1.23, expanded: 0.1, decimals: 2 });
    // Never rounds U down: 0.0521 → 0.053, 12.01 → 13.
    expect(roundToUncertainty(0, 0.05201).expanded).toBe(0.053);
    expect(roundToUncertainty(0, 12.01).expanded).toBe(13);
    expect(roundToUncertainty(0, 0.05).expanded).toBe(0.05);
  });

  it('writes (value ± U) unit with k and p', () => {
    expect(formatWithUncertainty(0.123456, 'Cel', { expanded: 0.05231, coverageFactor: 2, coverageProbability: 0.95 })).toBe(
      '(0.123 ± 0.053) Cel, k = 2.00, p = 95 %',
    );
    expect(formatWithUncertainty(1.23456, 'V', { expanded: 0.0999, coverageFactor: 4.3027, coverageProbability: 0.95 })).toBe(
      '(1.23 ± 0.10) V, k = 4.30, p = 95 %',
    );
    expect(formatWithUncertainty(1234.5, 'Pa', { expanded: 250, coverageFactor: 2, coverageProbability: 0.9545 })).toBe(
      '(1230 ± 250) Pa, k = 2.00, p = 95.45 %',
    );
  });
});
