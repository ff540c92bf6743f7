import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { createCalibration } from '../../sdk/pipeline/calibration.js';
import { fitCorrection, type ReferencePoint } from '../../hil/metrology/index.js';

/** Readings of a channel whose raw value is g(reference), with a fixed ±scatter pattern (mean exact). */
function pointsOf(references: readonly number[], g: (x: number) => number, scatter = 0.01): ReferencePoint[] {
  return references.map((reference) => ({ reference, readings: [g(reference) - scatter, g(reference), g(reference) + scatter, g(reference)] }));
}

describe('fitCorrection', () => {
  it('fits the model’s correction methods exactly on exact data, in the pipeline’s form', () => {
    const refs = [0, 10, 20, 30, 40];
    const offset = fitCorrection({ method: 'offset', unit: 'Cel', points: pointsOf(refs, (x) => x + 0.3) });
    expect(offset.correction).toEqual({ method: 'offset', offset: expect.closeTo(-0.3, 12) });
    const gain = fitCorrection({ method: 'gain', unit: 'Cel', points: pointsOf([10, 20, 30], (x) => x / 1.02) });
    expect(gain.correction).toEqual({ method: 'gain', gain: expect.closeTo(1.02, 12) });
    const linear = fitCorrection({ method: 'linear', unit: 'Cel', points: pointsOf(refs, (x) => (x + 0.5) / 1.02) });
    expect(linear.correction).toEqual({ method: 'linear', gain: expect.closeTo(1.02, 12), offset: expect.closeTo(-0.5, 12) });
    const twoPoint = fitCorrection({ method: 'two-point', unit: 'mA', points: pointsOf([20, 4], (x) => x * 0.99 + 0.05) });
    expect(twoPoint.correction).toEqual({
      method: 'two-point',
      low: { raw: expect.closeTo(4.01, 12), reference: 4 },
      high: { raw: expect.closeTo(19.85, 12), reference: 20 },
    });
    const cubic = (c: number[]) => (x: number) => c.reduce((sum, a, j) => sum + a * x ** j, 0);
    // The raw value whose correction is c₀ + c₁x + c₂x² is found by inverting; use the inverse direction instead:
    // readings r at references y = 1 + 0.9·r + 0.002·r², so the fit must return exactly those coefficients.
    const points = [0, 10, 20, 30, 40, 50].map((r) => ({ reference: cubic([1, 0.9, 0.002])(r), readings: [r - 0.01, r + 0.01] }));
    const polynomial = fitCorrection({ method: 'polynomial', degree: 2, unit: 'Cel', points });
    expect(polynomial.coefficients).toEqual([expect.closeTo(1, 9), expect.closeTo(0.9, 10), expect.closeTo(0.002, 12)]);
    expect(polynomial.residualStandardDeviation).toBeCloseTo(0, 9);
    for (const fit of [offset, gain, linear, twoPoint, polynomial]) {
      const calibration = createCalibration({ id: 'fit', ...fit.correction });
      for (const raw of [fit.range.low, (fit.range.low + fit.range.high) / 2, fit.range.high]) expect(calibration.apply(raw)).toBeCloseTo(fit.apply(raw), 9);
    }
  });

  it('propagates the points’ uncertainty: an offset fit from n points has u² = u_ref² + s²/N_total + s² in use', () => {
    const fit = fitCorrection({
      method: 'offset',
      unit: 'Cel',
      points: pointsOf([0, 10, 20, 30, 40], (x) => x + 0.3),
      standard: { certificate: { expanded: 0.1, coverageFactor: 2 } },
    });
    // The offset is the mean of (reference − mean reading) over 5 points: weights 1/5 each.
    const s = Math.sqrt(0.0002 / 3);
    const through = Math.sqrt(5 * (1 / 25)); // ‖w‖ = 1/√5
    const expected = Math.sqrt((0.05 * through) ** 2 + (s ** 2 / 4) * (1 / 5) + s ** 2);
    expect(fit.uncertainty.combinedStandardUncertainty).toBeCloseTo(expected, 12);
    expect(fit.uncertainty.budget.map((c) => c.name)).toEqual([
      'reference certificate (through the fit)',
      'readings at the calibration points (through the fit)',
      'repeatability of a reading in use',
    ]);
    expect(fit.covariance[0]![0]).toBeCloseTo((0.05 ** 2 + s ** 2 / 4) / 5, 14);
  });

  it('states the largest uncertainty at the ends of a linear fit’s range', () => {
    const fit = fitCorrection({ method: 'linear', unit: 'Cel', resolution: 0.01, points: pointsOf([0, 20, 40], (x) => x), standard: { certificate: { expanded: 0.1, coverageFactor: 2 } } });
    expect([fit.range.low, fit.range.high]).toContain(fit.at);
    expect(fit.uncertaintyAt(20).expanded).toBeLessThan(fit.uncertainty.expanded);
    // Covariance of (offset, gain) for a linear fit is that of an ordinary regression with the points' variance.
    const variance = 0.05 ** 2 + Math.sqrt(0.0002 / 3) ** 2 / 4 + 0.01 ** 2 / 12;
    expect(fit.covariance[1]![1]).toBeCloseTo(variance / 800, 14); // Sxx = 2·20²
  });

  it('refuses too few points, a bad degree and an unknown method', () => {
    const points = pointsOf([0, 10, 20], (x) => x);
    expect(() => fitCorrection({ method: 'two-point', unit: 'V', points })).toThrow(/exactly 2 points/);
    expect(() => fitCorrection({ method: 'polynomial', degree: 3, unit: 'V', points })).toThrow(/at least 4 points/);
    expect(() => fitCorrection({ method: 'polynomial', degree: 0, unit: 'V', points })).toThrow(/degree/);
    expect(() => fitCorrection({ method: 'spline' as 'linear', unit: 'V', points })).toThrow(/method/);
    expect(() => fitCorrection({ method: 'linear', unit: 'V', points: pointsOf([5, 5], (x) => x) })).toThrow(ArgumentError);
    expect(() => fitCorrection({ method: 'linear', unit: 'V', points: [{ reference: 1, readings: [1] }, { reference: 2, readings: [2] }] })).toThrow(/at least 2 values/);
  });

  it('is honest: a corrected new reading ± U covers the truth in 93–97 % of 2000 runs', () => {
    // A channel reading 0.98·T + 0.4 with σ = 0.05, calibrated at 3 points with 4 readings each
    // against a reference with U = 0.06 (k = 2); then one new reading at a random T is corrected.
    const random = new SeededRandom(70);
    const runs = 2000;
    let covered = 0;
    for (let run = 0; run < runs; run++) {
      const points = [0, 20, 40].map((truth) => ({
        reference: truth + random.gaussian(0, 0.03),
        readings: Array.from({ length: 4 }, () => 0.98 * truth + 0.4 + random.gaussian(0, 0.05)),
      }));
      const fit = fitCorrection({ method: 'linear', unit: 'Cel', points, standard: { certificate: { expanded: 0.06, coverageFactor: 2 } } });
      const truth = 40 * random.next();
      const raw = 0.98 * truth + 0.4 + random.gaussian(0, 0.05);
      if (Math.abs(fit.apply(raw) - truth) <= fit.uncertaintyAt(raw).expanded) covered++;
    }
    expect(covered / runs).toBeGreaterThanOrEqual(0.93);
    expect(covered / runs).toBeLessThanOrEqual(0.97);
  });
});
