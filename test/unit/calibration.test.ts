import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../sdk/core/errors.js';
import type { CalibrationSpec } from '../../sdk/model/spec.js';
import { createCalibration, validateCalibration } from '../../sdk/pipeline/calibration.js';

function validationError(spec: unknown, path = 'channels[0].calibration'): ValidationError {
  try {
    validateCalibration(spec as CalibrationSpec, path);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('createCalibration corrections', () => {
  it('applies offset, gain and linear corrections', () => {
    expect(createCalibration({ id: 'o', method: 'offset', offset: -0.3 }).apply(20)).toBeCloseTo(19.7, 12);
    expect(createCalibration({ id: 'g', method: 'gain', gain: 1.02 }).apply(50)).toBeCloseTo(51, 12);
    expect(createCalibration({ id: 'l', method: 'linear', gain: 2, offset: 1 }).apply(3)).toBe(7);
  });

  it('maps the two calibration points exactly and interpolates between them', () => {
    const cal = createCalibration({ id: 'tp', method: 'two-point', low: { raw: 4.02, reference: 4 }, high: { raw: 19.95, reference: 20 } });
    expect(cal.apply(4.02)).toBe(4);
    expect(cal.apply(19.95)).toBeCloseTo(20, 12);
    expect(cal.apply(11.985)).toBeCloseTo(12, 12);
    // Extrapolates along the same line outside the points.
    expect(cal.apply(0)).toBeCloseTo(4 - (4.02 * 16) / 15.93, 12);
  });

  it('accepts two points in either order', () => {
    const cal = createCalibration({ id: 'tp', method: 'two-point', low: { raw: 10, reference: 100 }, high: { raw: 0, reference: 0 } });
    expect(cal.apply(5)).toBe(50);
  });

  it('evaluates polynomials c0 + c1·x + c2·x² + c3·x³ (Horner)', () => {
    const cal = createCalibration({ id: 'p', method: 'polynomial', coefficients: [1, -2, 0.5, 0.25] });
    for (const x of [-3, 0, 0.5, 2, 10]) expect(cal.apply(x)).toBeCloseTo(1 - 2 * x + 0.5 * x * x + 0.25 * x ** 3, 10);
    expect(createCalibration({ id: 'c', method: 'polynomial', coefficients: [7] }).apply(123)).toBe(7);
  });

  it('interpolates a table piecewise-linearly and clamps outside its points', () => {
    const cal = createCalibration({
      id: 't',
      method: 'table',
      points: [
        { raw: 0, reference: 0 },
        { raw: 10, reference: 20 },
        { raw: 20, reference: 25 },
        { raw: 40, reference: 65 },
      ],
    });
    expect([-5, 0, 5, 10, 15, 20, 30, 40, 99].map((x) => cal.apply(x))).toEqual([0, 0, 10, 20, 22.5, 25, 45, 65, 65]);
  });
});

describe('createCalibration record', () => {
  it('carries the id, the expanded uncertainty and its coverage factor (default k = 2)', () => {
    const cal = createCalibration({ id: 'CAL-1', method: 'offset', offset: 0, uncertainty: { expanded: 0.05 } });
    expect(cal.id).toBe('CAL-1');
    expect(cal.expandedUncertainty).toBe(0.05);
    expect(cal.coverageFactor).toBe(2);
    const k3 = createCalibration({ id: 'CAL-2', method: 'offset', offset: 0, uncertainty: { expanded: 0.3, coverageFactor: 3 } });
    expect(k3.coverageFactor).toBe(3);
    const none = createCalibration({ id: 'CAL-3', method: 'offset', offset: 0 });
    expect('expandedUncertainty' in none).toBe(false);
    expect('validUntilMs' in none).toBe(false);
    expect(none.isExpired(Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('treats a validUntil date as valid through the end of that day, UTC', () => {
    const cal = createCalibration({ id: 'c', method: 'offset', offset: 0, validUntil: '2027-06-30' });
    expect(cal.validUntilMs).toBe(Date.UTC(2027, 6, 1));
    expect(cal.isExpired(Date.UTC(2027, 5, 30, 23, 59, 59, 999))).toBe(false);
    expect(cal.isExpired(Date.UTC(2027, 6, 1))).toBe(true);
  });

  it('treats a validUntil date-time as valid up to that instant, honouring its offset', () => {
    const cal = createCalibration({ id: 'c', method: 'offset', offset: 0, validUntil: '2027-06-30T12:00:00+02:00' });
    expect(cal.validUntilMs).toBe(Date.UTC(2027, 5, 30, 10));
    expect(cal.isExpired(Date.UTC(2027, 5, 30, 9, 59))).toBe(false);
    expect(cal.isExpired(Date.UTC(2027, 5, 30, 10))).toBe(true);
  });

  it('validates before building (errors under the path "calibration")', () => {
    expect(() => createCalibration({ id: 'c', method: 'gain', gain: 0 })).toThrow('calibration.gain: must not be 0');
  });
});

describe('validateCalibration', () => {
  it.each<[string, unknown, string, string]>([
    ['missing id', { method: 'offset', offset: 1 }, 'id', 'expected a non-empty string, got undefined'],
    ['unknown method', { id: 'c', method: 'cubic' }, 'method', 'must be one of "offset", "gain", "linear", "two-point", "polynomial", "table", got "cubic"'],
    ['unknown field', { id: 'c', method: 'offset', ofset: 1 }, 'ofset', 'unknown field for method "offset"; expected id, method, uncertainty, validUntil, performedBy, date, offset'],
    ['non-finite offset', { id: 'c', method: 'offset', offset: Number.NaN }, 'offset', 'expected a finite number, got NaN'],
    ['infinite gain', { id: 'c', method: 'linear', gain: Infinity, offset: 0 }, 'gain', 'expected a finite number, got Infinity'],
    ['zero gain', { id: 'c', method: 'gain', gain: 0 }, 'gain', 'must not be 0: a zero gain maps every reading to the same value'],
    [
      'two-point with equal raw values',
      { id: 'c', method: 'two-point', low: { raw: 1, reference: 0 }, high: { raw: 1, reference: 10 } },
      'high.raw',
      'equals low.raw (1); two points need different raw values',
    ],
    ['two-point missing a point', { id: 'c', method: 'two-point', low: { raw: 1, reference: 0 } }, 'high', 'expected an object, got undefined'],
    ['two-point non-finite reference', { id: 'c', method: 'two-point', low: { raw: 1, reference: 0 }, high: { raw: 2, reference: '5' } }, 'high.reference', 'expected a finite number, got "5"'],
    ['empty polynomial', { id: 'c', method: 'polynomial', coefficients: [] }, 'coefficients', 'must have at least one coefficient (c0)'],
    ['polynomial with NaN', { id: 'c', method: 'polynomial', coefficients: [1, Number.NaN] }, 'coefficients[1]', 'expected a finite number, got NaN'],
    ['table with one point', { id: 'c', method: 'table', points: [{ raw: 0, reference: 0 }] }, 'points', 'must have at least 2 points, got 1'],
    [
      'unsorted table',
      { id: 'c', method: 'table', points: [{ raw: 0, reference: 0 }, { raw: 5, reference: 1 }, { raw: 3, reference: 2 }] },
      'points[2].raw',
      '(3) is below points[1].raw (5); points must be sorted by raw',
    ],
    [
      'duplicate raw in table',
      { id: 'c', method: 'table', points: [{ raw: 0, reference: 0 }, { raw: 0, reference: 1 }] },
      'points[1].raw',
      'duplicates points[0].raw (0); raw values must be unique',
    ],
    ['bad validUntil', { id: 'c', method: 'offset', offset: 0, validUntil: '30/06/2027' }, 'validUntil', 'must be an ISO 8601 date (YYYY-MM-DD) or date-time with a zone (YYYY-MM-DDThh:mm:ssZ), got "30/06/2027"'],
    ['impossible validUntil', { id: 'c', method: 'offset', offset: 0, validUntil: '2027-02-30' }, 'validUntil', 'must be an ISO 8601 date (YYYY-MM-DD) or date-time with a zone (YYYY-MM-DDThh:mm:ssZ), got "2027-02-30"'],
    ['validUntil without a zone', { id: 'c', method: 'offset', offset: 0, validUntil: '2027-06-30T12:00' }, 'validUntil', 'must be an ISO 8601 date (YYYY-MM-DD) or date-time with a zone (YYYY-MM-DDThh:mm:ssZ), got "2027-06-30T12:00"'],
    ['negative uncertainty', { id: 'c', method: 'offset', offset: 0, uncertainty: { expanded: -0.1 } }, 'uncertainty.expanded', 'must not be negative, got -0.1'],
    ['zero coverage factor', { id: 'c', method: 'offset', offset: 0, uncertainty: { expanded: 0.1, coverageFactor: 0 } }, 'uncertainty.coverageFactor', 'must be above 0 (typically 2), got 0'],
  ])('rejects %s with the path of the field', (_name, spec, field, reason) => {
    const error = validationError(spec);
    expect(error.path).toBe(`channels[0].calibration.${field}`);
    expect(error.reason).toBe(reason);
    expect(error.message).toBe(`channels[0].calibration.${field}: ${reason}`);
  });

  it('rejects a record that is not an object', () => {
    expect(validationError(null).message).toBe('channels[0].calibration: expected an object, got null');
  });

  it('accepts a complete record', () => {
    expect(() =>
      validateCalibration(
        {
          id: 'CAL-2026-0042',
          method: 'two-point',
          low: { raw: 4.02, reference: 4 },
          high: { raw: 19.95, reference: 20 },
          uncertainty: { expanded: 0.05, coverageFactor: 2 },
          validUntil: '2027-06-30',
          performedBy: 'Lab 17025-0815',
          date: '2026-06-30T09:30:00Z',
        },
        'calibration',
      ),
    ).not.toThrow();
  });
});
