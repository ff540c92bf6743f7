import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../sdk/core/errors.js';
import {
  coverageFactor,
  erfc,
  K2_MIN_DEGREES_OF_FREEDOM,
  lnBeta,
  lnGamma,
  normalQuantile,
  regularizedGammaP,
  regularizedIncompleteBeta,
  standardDeviationCoverageFactor,
  studentTCdf,
  studentTQuantile,
  studentTUpperTail,
} from '../../hil/metrology/index.js';

describe('special functions', () => {
  it('lnGamma matches factorials and Γ(½) = √π', () => {
    let factorial = 1;
    for (let n = 1; n <= 30; n++) {
      expect(lnGamma(n)).toBeCloseTo(Math.log(factorial), 11);
      factorial *= n;
    }
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    expect(lnGamma(1.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI) / 2), 13);
  });

  it('lnBeta keeps full precision for large arguments', () => {
    expect(lnBeta(2, 3)).toBeCloseTo(Math.log(1 / 12), 14);
    expect(lnBeta(20, 30)).toBeCloseTo(lnGamma(20) + lnGamma(30) - lnGamma(50), 10);
    // B(a, ½) = √π·Γ(a)/Γ(a + ½) ~ √(π/a)·(1 + 1/(8a)) for large a.
    const a = 5e6;
    expect(lnBeta(a, 0.5)).toBeCloseTo(0.5 * Math.log(Math.PI / a) + Math.log1p(1 / (8 * a)), 12);
  });

  it('regularizedIncompleteBeta matches closed forms', () => {
    // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(3, 5) is a binomial tail: P(Bin(7, x) ≥ 3).
    for (const x of [0, 0.01, 0.3, 0.5, 0.99, 1]) {
      expect(regularizedIncompleteBeta(x, 1, 1)).toBeCloseTo(x, 13);
      expect(regularizedIncompleteBeta(x, 4.5, 1)).toBeCloseTo(x ** 4.5, 13);
    }
    const binomialTail = (x: number): number => 1 - (1 - x) ** 7 - 7 * x * (1 - x) ** 6 - 21 * x * x * (1 - x) ** 5;
    for (const x of [0.05, 0.2, 0.6, 0.95]) expect(regularizedIncompleteBeta(x, 3, 5)).toBeCloseTo(binomialTail(x), 13);
    expect(regularizedIncompleteBeta(0.5, 2, 2)).toBeCloseTo(0.5, 14);
  });

  it('regularizedGammaP is the χ² distribution function', () => {
    expect(regularizedGammaP(1, 2)).toBeCloseTo(1 - Math.exp(-2), 14);
    // P(5, x) = 1 − e^{−x}·Σ_{k<5} x^k/k! on both sides of x = a + 1.
    const poisson = (x: number): number => 1 - Math.exp(-x) * (1 + x + x ** 2 / 2 + x ** 3 / 6 + x ** 4 / 24);
    for (const x of [0.5, 3, 8, 20]) expect(regularizedGammaP(5, x)).toBeCloseTo(poisson(x), 13);
    // Published χ² 95 % points: 3.841 (ν = 1), 16.919 (ν = 9), 124.342 (ν = 100).
    expect(regularizedGammaP(0.5, 3.841459 / 2)).toBeCloseTo(0.95, 6);
    expect(regularizedGammaP(4.5, 16.918978 / 2)).toBeCloseTo(0.95, 6);
    expect(regularizedGammaP(50, 124.342114 / 2)).toBeCloseTo(0.95, 6);
    expect(regularizedGammaP(3, 0)).toBe(0);
    expect(() => regularizedGammaP(0, 1)).toThrow(ArgumentError);
  });

  it('erfc is accurate in both tails', () => {
    expect(erfc(0)).toBe(1);
    expect(erfc(1)).toBeCloseTo(0.157299207050285, 14);
    expect(erfc(-1)).toBeCloseTo(1.842700792949715, 14);
    // Published values: erfc(3) = 2.209049699858544e-5, erfc(5) = 1.5374597944280349e-12.
    expect(erfc(3) / 2.209049699858544e-5).toBeCloseTo(1, 12);
    expect(erfc(5) / 1.5374597944280349e-12).toBeCloseTo(1, 12);
  });

  it('refuses arguments outside the domain', () => {
    expect(() => lnGamma(0)).toThrow(ArgumentError);
    expect(() => regularizedIncompleteBeta(1.5, 1, 1)).toThrow(ArgumentError);
    expect(() => regularizedIncompleteBeta(0.5, -1, 1)).toThrow(ArgumentError);
    expect(() => erfc(NaN)).toThrow(ArgumentError);
  });
});

describe('Student t', () => {
  it('reproduces the published two-sided 95 % table values t(0.975, ν)', () => {
    const table: [number, number][] = [
      [1, 12.706],
      [2, 4.303],
      [3, 3.182],
      [4, 2.776],
      [5, 2.571],
      [10, 2.228],
      [20, 2.086],
      [30, 2.042],
      [60, 2.0],
      [120, 1.98],
    ];
    for (const [nu, t] of table) expect(studentTQuantile(0.975, nu)).toBeCloseTo(t, 3);
    expect(studentTQuantile(0.975, Infinity)).toBeCloseTo(1.96, 3);
    expect(studentTQuantile(0.975, null)).toBeCloseTo(1.959963984540054, 12);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
  });

  it('reproduces other published quantiles (99 %, 90 %, 95.45 %)', () => {
    expect(studentTQuantile(0.995, 1)).toBeCloseTo(63.657, 3);
    expect(studentTQuantile(0.995, 10)).toBeCloseTo(3.169, 3);
    expect(studentTQuantile(0.95, 5)).toBeCloseTo(2.015, 3);
    // JCGM 100 Table G.2, p = 95.45 %: 13.97, 4.53, 2.65 (ν = 5), 2.28 (ν = 10).
    expect(studentTQuantile((1 + 0.9545) / 2, 1)).toBeCloseTo(13.97, 2);
    expect(studentTQuantile((1 + 0.9545) / 2, 2)).toBeCloseTo(4.53, 2);
    expect(studentTQuantile((1 + 0.9545) / 2, 5)).toBeCloseTo(2.65, 2);
    expect(studentTQuantile((1 + 0.9545) / 2, 10)).toBeCloseTo(2.28, 2);
  });

  it('is symmetric and inverts the distribution function, also for fractional ν', () => {
    for (const nu of [1, 2.5, 7, 33.3, 1e5]) {
      for (const p of [0.6, 0.9, 0.975, 0.999]) {
        const t = studentTQuantile(p, nu);
        expect(studentTCdf(t, nu)).toBeCloseTo(p, 12);
        expect(studentTQuantile(1 - p, nu)).toBeCloseTo(-t, 10);
      }
    }
    expect(studentTQuantile(0.5, 3)).toBe(0);
    expect(studentTUpperTail(0, 4)).toBeCloseTo(0.5, 14);
    // ν = 1 is the Cauchy distribution: P(T > t) = ½ − atan(t)/π.
    for (const t of [0.3, 1, 10]) expect(studentTUpperTail(t, 1)).toBeCloseTo(0.5 - Math.atan(t) / Math.PI, 13);
  });

  it('refuses bad probabilities and degrees of freedom', () => {
    expect(() => studentTQuantile(1, 3)).toThrow(ArgumentError);
    expect(() => studentTQuantile(0, 3)).toThrow(ArgumentError);
    expect(() => studentTQuantile(0.975, 0)).toThrow(ArgumentError);
    expect(() => studentTQuantile(NaN, 3)).toThrow(ArgumentError);
  });
});

describe('standardDeviationCoverageFactor', () => {
  it('gives s ± k·s/√(2ν) the stated coverage of σ under the χ² distribution', () => {
    for (const nu of [2, 9, 29, 99]) {
      const k = standardDeviationCoverageFactor(nu);
      const relative = k / Math.sqrt(2 * nu);
      const cdf = (ratio: number): number => regularizedGammaP(nu / 2, (nu * ratio) / 2);
      const upper = relative < 1 ? cdf(1 / (1 - relative) ** 2) : 1;
      expect(upper - cdf(1 / (1 + relative) ** 2)).toBeCloseTo(0.95, 10);
    }
    expect(standardDeviationCoverageFactor(9)).toBeCloseTo(2.737, 3);
    expect(standardDeviationCoverageFactor(99)).toBeCloseTo(2.009, 3);
    // Larger than t at small ν (t would undercover), tending to the normal 1.96.
    expect(standardDeviationCoverageFactor(9)).toBeGreaterThan(studentTQuantile(0.975, 9));
    expect(standardDeviationCoverageFactor(1e5)).toBeCloseTo(1.96, 2);
    expect(() => standardDeviationCoverageFactor(0.5)).toThrow(ArgumentError);
  });
});

describe('coverageFactor', () => {
  it('is the t quantile for 95 % at small ν_eff, truncated to an integer (JCGM 100 G.4.1)', () => {
    expect(coverageFactor(1)).toBeCloseTo(12.706, 3);
    expect(coverageFactor(2)).toBeCloseTo(4.303, 3);
    expect(coverageFactor(5)).toBeCloseTo(2.571, 3);
    expect(coverageFactor(5.99)).toBeCloseTo(2.571, 3);
    expect(coverageFactor(10)).toBeCloseTo(2.228, 3);
    expect(coverageFactor(30)).toBeCloseTo(2.042, 3);
  });

  it('is k = 2 exactly where t(0.975, ν) ≤ 2, and never below the t quantile', () => {
    expect(studentTQuantile(0.975, K2_MIN_DEGREES_OF_FREEDOM - 1)).toBeGreaterThan(2);
    expect(studentTQuantile(0.975, K2_MIN_DEGREES_OF_FREEDOM)).toBeLessThanOrEqual(2);
    expect(coverageFactor(K2_MIN_DEGREES_OF_FREEDOM - 1)).toBeGreaterThan(2);
    expect(coverageFactor(K2_MIN_DEGREES_OF_FREEDOM)).toBe(2);
    expect(coverageFactor(1e6)).toBe(2);
    expect(coverageFactor(Infinity)).toBe(2);
    expect(coverageFactor(null)).toBe(2);
    for (let nu = 1; nu < 200; nu++) expect(coverageFactor(nu)).toBeGreaterThanOrEqual(studentTQuantile(0.975, nu) - 1e-12);
  });

  it('uses the t quantile for other coverage probabilities at any ν', () => {
    expect(coverageFactor(null, 0.99)).toBeCloseTo(2.576, 3);
    expect(coverageFactor(10, 0.99)).toBeCloseTo(3.169, 3);
    expect(coverageFactor(null, 0.9545)).toBeCloseTo(2.0, 3);
  });

  it('refuses a bad probability or ν_eff', () => {
    expect(() => coverageFactor(5, 1)).toThrow(ArgumentError);
    expect(() => coverageFactor(0)).toThrow(ArgumentError);
    expect(() => coverageFactor(NaN)).toThrow(ArgumentError);
  });
});
