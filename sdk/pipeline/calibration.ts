/**
 * Calibration: the correction from a calibration record applied to values in the channel's unit,
 * with the record's id, stated uncertainty and validity.
 *
 * offset, gain, linear and two-point all reduce to one straight line `y = y0 + a·(x − x0)`, kept in
 * point-slope form so a two-point calibration reproduces its low point exactly. Polynomials use
 * Horner's scheme (n multiplications, better rounding than summing powers). Tables interpolate
 * linearly between points and clamp outside them: extrapolating a table beyond its last calibration
 * point would claim accuracy nobody measured.
 */
import { ValidationError } from '../core/errors.js';
import type { CalibrationSpec } from './specs.js';
import { parseIsoInstant } from './iso-time.js';
import { describe, join, requireArray, requireNumber, requireString, requireObject } from '../core/check.js';

/** GUM §6.3.3: k = 2 gives a coverage probability of about 95 % for a normal distribution. */
const DEFAULT_COVERAGE_FACTOR = 2;

const COMMON_FIELDS = ['id', 'method', 'uncertainty', 'validUntil', 'performedBy', 'date'];
const METHOD_FIELDS: Readonly<Record<CalibrationSpec['method'], readonly string[]>> = {
  offset: ['offset'],
  gain: ['gain'],
  linear: ['gain', 'offset'],
  'two-point': ['low', 'high'],
  polynomial: ['coefficients'],
  table: ['points'],
};
const METHODS = Object.keys(METHOD_FIELDS) as CalibrationSpec['method'][];

/**
 * A ready-to-apply calibration.
 *
 * @example
 * ```ts
 * const cal: Calibration = createCalibration({ id: 'CAL-1', method: 'offset', offset: -0.2 })
 * const value = cal.apply(raw)
 * const quality = cal.isExpired(clock.now()) ? 'uncertain' : 'good'
 * ```
 */
export interface Calibration {
  /** The calibration record's id (travels with every sample as `calibrationId`). */
  readonly id: string;
  /** Corrects one value (in the channel's unit). */
  apply(x: number): number;
  /** Expanded uncertainty U of the corrected value as the record states it, if it does (GUM §6.2.1). */
  readonly expandedUncertainty?: number;
  /** Coverage factor k of `expandedUncertainty`; default 2. */
  readonly coverageFactor: number;
  /** First instant at which the record is expired, ms since the epoch; absent: never expires. */
  readonly validUntilMs?: number;
  /** Whether the record is past its validity at `timeMs`. */
  isExpired(timeMs: number): boolean;
  /**
   * Whether the record covers the raw value `x`. A table only corrects between its first and last
   * points and clamps beyond them, so a value outside is not a measurement the record vouches for.
   */
  covers(x: number): boolean;
}

/**
 * Checks a calibration record; throws `ValidationError` whose `path` names the bad field under
 * `path` (e.g. `channels[0].calibration.high.raw`). Returns the record, typed.
 *
 * @example
 * ```ts
 * validateCalibration({ id: 'C1', method: 'two-point', low: { raw: 1, reference: 0 }, high: { raw: 1, reference: 10 } }, 'calibration')
 * // throws ValidationError: calibration.high.raw: equals low.raw (1); two points need different raw values
 * ```
 */
export function validateCalibration(spec: unknown, path: string): CalibrationSpec {
  const record = requireObject(spec, path);
  requireString(record.id, join(path, 'id'));
  const method = record.method;
  if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method)) {
    throw new ValidationError(join(path, 'method'), `must be one of ${METHODS.map((m) => `"${m}"`).join(', ')}, got ${describe(method)}`);
  }
  const allowed = [...COMMON_FIELDS, ...METHOD_FIELDS[method as CalibrationSpec['method']]];
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      throw new ValidationError(join(path, key), `unknown field for method "${method}"; expected ${allowed.join(', ')}`);
    }
  }
  switch (method as CalibrationSpec['method']) {
    case 'offset':
      requireNumber(record.offset, join(path, 'offset'));
      break;
    case 'gain':
      requireGain(record.gain, join(path, 'gain'));
      break;
    case 'linear':
      requireGain(record.gain, join(path, 'gain'));
      requireNumber(record.offset, join(path, 'offset'));
      break;
    case 'two-point':
      validateTwoPoint(record, path);
      break;
    case 'polynomial':
      validatePolynomial(record.coefficients, join(path, 'coefficients'));
      break;
    case 'table':
      validateTable(record.points, join(path, 'points'));
      break;
  }
  if (record.uncertainty !== undefined) validateUncertainty(record.uncertainty, join(path, 'uncertainty'));
  if (record.validUntil !== undefined) requireIsoDate(record.validUntil, join(path, 'validUntil'));
  if (record.date !== undefined) requireIsoDate(record.date, join(path, 'date'));
  if (record.performedBy !== undefined && typeof record.performedBy !== 'string') {
    throw new ValidationError(join(path, 'performedBy'), `must be a string, got ${describe(record.performedBy)}`);
  }
  return record as unknown as CalibrationSpec;
}

/**
 * Builds the correction of a calibration record (validated first; errors are reported under the
 * path `calibration`).
 *
 * `validUntil` as a date alone (`2027-06-30`) is valid through the end of that day, UTC; a
 * date-time is valid up to that instant.
 *
 * @example
 * ```ts
 * const cal = createCalibration({ id: 'CAL-7', method: 'two-point', low: { raw: 4.02, reference: 4 },
 *   high: { raw: 19.95, reference: 20 }, uncertainty: { expanded: 0.05 }, validUntil: '2027-06-30' })
 * cal.apply(12)                               // ≈ 12.0151
 * cal.isExpired(Date.UTC(2027, 6, 1))         // true
 * ```
 */
export function createCalibration(spec: CalibrationSpec): Calibration {
  validateCalibration(spec, 'calibration');
  const meta = metadata(spec);
  switch (spec.method) {
    case 'offset':
      return new LinearCalibration(meta, 0, spec.offset, 1);
    case 'gain':
      return new LinearCalibration(meta, 0, 0, spec.gain);
    case 'linear':
      return new LinearCalibration(meta, 0, spec.offset, spec.gain);
    case 'two-point': {
      const { low, high } = spec;
      return new LinearCalibration(meta, low.raw, low.reference, (high.reference - low.reference) / (high.raw - low.raw));
    }
    case 'polynomial':
      return new PolynomialCalibration(meta, spec.coefficients);
    case 'table':
      return new TableCalibration(meta, spec.points);
  }
}

interface Metadata {
  readonly id: string;
  readonly expandedUncertainty: number | undefined;
  readonly coverageFactor: number;
  readonly validUntilMs: number | undefined;
}

function metadata(spec: CalibrationSpec): Metadata {
  let validUntilMs: number | undefined;
  if (spec.validUntil !== undefined) {
    const instant = parseIsoInstant(spec.validUntil)!;
    validUntilMs = instant.dateOnly ? instant.ms + 86_400_000 : instant.ms;
  }
  return {
    id: spec.id,
    expandedUncertainty: spec.uncertainty?.expanded,
    coverageFactor: spec.uncertainty?.coverageFactor ?? DEFAULT_COVERAGE_FACTOR,
    validUntilMs,
  };
}

/** What every correction shares: the record's id, uncertainty and validity. */
abstract class CalibrationBase implements Calibration {
  readonly id: string;
  readonly coverageFactor: number;
  declare readonly expandedUncertainty?: number;
  declare readonly validUntilMs?: number;
  // Kept separately so `isExpired` never reads an optional (possibly absent) property.
  readonly #expiresAt: number;

  constructor(meta: Metadata) {
    this.id = meta.id;
    this.coverageFactor = meta.coverageFactor;
    if (meta.expandedUncertainty !== undefined) this.expandedUncertainty = meta.expandedUncertainty;
    if (meta.validUntilMs !== undefined) this.validUntilMs = meta.validUntilMs;
    this.#expiresAt = meta.validUntilMs ?? Infinity;
  }

  abstract apply(x: number): number;

  isExpired(timeMs: number): boolean {
    return timeMs >= this.#expiresAt;
  }

  covers(_x: number): boolean {
    return true;
  }
}

/** y = y0 + slope·(x − x0): offset, gain, linear and two-point. */
class LinearCalibration extends CalibrationBase {
  readonly #x0: number;
  readonly #y0: number;
  readonly #slope: number;

  constructor(meta: Metadata, x0: number, y0: number, slope: number) {
    super(meta);
    this.#x0 = x0;
    this.#y0 = y0;
    this.#slope = slope;
  }

  apply(x: number): number {
    return this.#y0 + this.#slope * (x - this.#x0);
  }
}

/** y = c0 + x·(c1 + x·(c2 + …)), Horner's scheme. */
class PolynomialCalibration extends CalibrationBase {
  readonly #coefficients: Float64Array;

  constructor(meta: Metadata, coefficients: readonly number[]) {
    super(meta);
    this.#coefficients = Float64Array.from(coefficients);
  }

  apply(x: number): number {
    const c = this.#coefficients;
    let y = c[c.length - 1]!;
    for (let i = c.length - 2; i >= 0; i--) y = y * x + c[i]!;
    return y;
  }
}

/** Piecewise-linear through points sorted by raw value, clamped outside the first and last point. */
class TableCalibration extends CalibrationBase {
  readonly #raw: Float64Array;
  readonly #reference: Float64Array;

  constructor(meta: Metadata, points: readonly { readonly raw: number; readonly reference: number }[]) {
    super(meta);
    this.#raw = Float64Array.from(points, (point) => point.raw);
    this.#reference = Float64Array.from(points, (point) => point.reference);
  }

  override covers(x: number): boolean {
    return x >= this.#raw[0]! && x <= this.#raw[this.#raw.length - 1]!;
  }

  apply(x: number): number {
    const raw = this.#raw;
    const reference = this.#reference;
    const last = raw.length - 1;
    if (x <= raw[0]!) return reference[0]!;
    if (x >= raw[last]!) return reference[last]!;
    // Binary search for the segment raw[low] ≤ x < raw[high].
    let low = 0;
    let high = last;
    while (high - low > 1) {
      const mid = (low + high) >>> 1;
      if (raw[mid]! <= x) low = mid;
      else high = mid;
    }
    const x0 = raw[low]!;
    const y0 = reference[low]!;
    return y0 + ((reference[high]! - y0) * (x - x0)) / (raw[high]! - x0);
  }
}

function requireGain(value: unknown, path: string): void {
  if (requireNumber(value, path) === 0) throw new ValidationError(path, 'must not be 0: a zero gain maps every reading to the same value');
}

function validatePoint(value: unknown, path: string): { raw: number; reference: number } {
  const point = requireObject(value, path);
  return { raw: requireNumber(point.raw, join(path, 'raw')), reference: requireNumber(point.reference, join(path, 'reference')) };
}

function validateTwoPoint(record: Readonly<Record<string, unknown>>, path: string): void {
  const low = validatePoint(record.low, join(path, 'low'));
  const high = validatePoint(record.high, join(path, 'high'));
  if (high.raw === low.raw) {
    throw new ValidationError(join(path, 'high.raw'), `equals low.raw (${low.raw}); two points need different raw values`);
  }
  if (high.reference === low.reference) {
    throw new ValidationError(join(path, 'high.reference'), `equals low.reference (${low.reference}); the correction would map every reading to one value`);
  }
}

function validatePolynomial(value: unknown, path: string): void {
  if (!Array.isArray(value)) throw new ValidationError(path, `must be an array of numbers (c0, c1, c2 …), got ${describe(value)}`);
  if (value.length === 0) throw new ValidationError(path, 'must have at least one coefficient (c0)');
  requireArray(value, path); // no holes: forEach would skip them
  value.forEach((coefficient, i) => requireNumber(coefficient, `${path}[${i}]`));
}

function validateTable(value: unknown, path: string): void {
  if (!Array.isArray(value)) throw new ValidationError(path, `must be an array of { raw, reference } points, got ${describe(value)}`);
  if (value.length < 2) throw new ValidationError(path, `must have at least 2 points, got ${value.length}`);
  requireArray(value, path); // no holes: forEach would skip them
  let previous = -Infinity;
  value.forEach((point, i) => {
    const { raw } = validatePoint(point, `${path}[${i}]`);
    if (raw <= previous) {
      throw new ValidationError(
        `${path}[${i}].raw`,
        raw === previous ? `duplicates points[${i - 1}].raw (${raw}); raw values must be unique` : `(${raw}) is below points[${i - 1}].raw (${previous}); points must be sorted by raw`,
      );
    }
    previous = raw;
  });
}

function validateUncertainty(value: unknown, path: string): void {
  const uncertainty = requireObject(value, path);
  for (const key of Object.keys(uncertainty)) {
    if (key !== 'expanded' && key !== 'coverageFactor') throw new ValidationError(join(path, key), 'unknown field; expected expanded, coverageFactor');
  }
  if (requireNumber(uncertainty.expanded, join(path, 'expanded')) < 0) {
    throw new ValidationError(join(path, 'expanded'), `must not be negative, got ${String(uncertainty.expanded)}`);
  }
  if (uncertainty.coverageFactor !== undefined && !(requireNumber(uncertainty.coverageFactor, join(path, 'coverageFactor')) > 0)) {
    throw new ValidationError(join(path, 'coverageFactor'), `must be above 0 (typically 2), got ${String(uncertainty.coverageFactor)}`);
  }
}

function requireIsoDate(value: unknown, path: string): void {
  if (typeof value !== 'string' || parseIsoInstant(value) === undefined) {
    throw new ValidationError(path, `must be an ISO 8601 date (YYYY-MM-DD) or date-time with a zone (YYYY-MM-DDThh:mm:ssZ), got ${describe(value)}`);
  }
}
