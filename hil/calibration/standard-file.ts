/**
 * The reference standard of a calibration as a JSON file (`sensorkit hil calibrate --standard`):
 * its identification, its certificate's expanded uncertainty with k (and, when stated, the
 * degrees of freedom), the certificate's id and issuer, the last day the certificate is valid and
 * the chain to SI. The uncertainty enters the calibration's budget; the rest goes into the record.
 *
 * ```json
 * { "id": "DB-0042", "description": "dry-block calibrator, PT100 reference probe",
 *   "unit": "Cel", "uncertainty": { "expanded": 0.05, "coverageFactor": 2 },
 *   "certificate": "D-K-15070-01-00 2026-03-12", "issuer": "DAkkS-accredited laboratory D-K-15070",
 *   "validUntil": "2027-03-12", "traceability": "D-K-15070 → PTB" }
 * ```
 */
import { readFile } from 'node:fs/promises';
import { StorageError, ValidationError } from '../../sdk/core/errors.js';
import { convertDifference, unitInfo } from '../../sdk/core/units.js';
import type { StandardSpec } from '../plan/method-spec.js';
import type { CalibrationStandard } from './calibration-record.js';

/** A reference standard file, as read. */
export interface StandardFile {
  /** The standard's own identification (inventory number, serial). */
  readonly id: string;
  readonly description?: string;
  /** The unit of `uncertainty`, `accuracy` and `resolution`. */
  readonly unit: string;
  /** The certificate's expanded uncertainty U with its coverage factor k. */
  readonly uncertainty: { readonly expanded: number; readonly coverageFactor: number; readonly degreesOfFreedom?: number };
  /** The certificate's id. */
  readonly certificate: string;
  readonly issuer?: string;
  /** ISO 8601 date: the last day the certificate is valid. */
  readonly validUntil: string;
  /** The chain to SI, e.g. `D-K-15070 → PTB`. */
  readonly traceability: string;
  /** Stated accuracy ±a beside the certificate (rectangular), in `unit`. */
  readonly accuracy?: number;
  /** The standard's resolution, in `unit`. */
  readonly resolution?: number;
}

/** A standard file turned into what the run's budget takes and what the record states. */
export interface ReferenceStandardOf {
  readonly file: StandardFile;
  /** For the calibration's accuracy step (values in the channel's unit). */
  readonly spec: StandardSpec;
  /** For the calibration record (values in the channel's unit). */
  readonly standard: CalibrationStandard;
}

const MAX_BYTES = 64 * 1024;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const KEYS = ['id', 'description', 'unit', 'uncertainty', 'certificate', 'issuer', 'validUntil', 'traceability', 'accuracy', 'resolution'];

/**
 * Checks a parsed standard file; throws `ValidationError` naming the file and the field.
 *
 * @example
 * ```ts
 * const file = parseStandardFile(JSON.parse(text), 'standards/db-0042.json')
 * file.uncertainty // { expanded: 0.05, coverageFactor: 2 }
 * ```
 */
export function parseStandardFile(value: unknown, name: string): StandardFile {
  const bad = (field: string, why: string): ValidationError => new ValidationError(`${name}: ${field}`, why);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(name, 'expected a JSON object describing the reference standard');
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) if (!KEYS.includes(key)) throw bad(key, `unknown field (expected ${KEYS.join(', ')})`);
  const text = (field: string, required: boolean): string | undefined => {
    const got = v[field];
    if (got === undefined && !required) return undefined;
    if (typeof got !== 'string' || got.trim() === '' || /[\r\n]/.test(got)) throw bad(field, `expected one line of text, got ${JSON.stringify(got) ?? 'nothing'}`);
    return got;
  };
  const positive = (field: string, got: unknown, required: boolean): number | undefined => {
    if (got === undefined && !required) return undefined;
    if (typeof got !== 'number' || !Number.isFinite(got) || got <= 0) throw bad(field, `expected a number above 0, got ${JSON.stringify(got) ?? 'nothing'}`);
    return got;
  };
  const id = text('id', true)!;
  const unit = text('unit', true)!;
  if (unitInfo(unit) === undefined) throw bad('unit', `"${unit}" is not a unit (SenML, e.g. Cel, K, Pa, V)`);
  const u = v.uncertainty;
  if (typeof u !== 'object' || u === null || Array.isArray(u)) throw bad('uncertainty', 'expected { "expanded": U, "coverageFactor": k }');
  const { expanded, coverageFactor, degreesOfFreedom, ...other } = u as Record<string, unknown>;
  if (Object.keys(other).length > 0) throw bad(`uncertainty.${Object.keys(other)[0]}`, 'unknown field (expected expanded, coverageFactor, degreesOfFreedom)');
  const validUntil = text('validUntil', true)!;
  if (!DATE.test(validUntil) || Number.isNaN(Date.parse(validUntil))) throw bad('validUntil', `expected a date YYYY-MM-DD, got "${validUntil}"`);
  const description = text('description', false);
  const issuer = text('issuer', false);
  const accuracy = positive('accuracy', v.accuracy, false);
  const resolution = positive('resolution', v.resolution, false);
  const dof = positive('uncertainty.degreesOfFreedom', degreesOfFreedom, false);
  return {
    id,
    ...(description === undefined ? {} : { description }),
    unit,
    uncertainty: { expanded: positive('uncertainty.expanded', expanded, true)!, coverageFactor: positive('uncertainty.coverageFactor', coverageFactor, true)!, ...(dof === undefined ? {} : { degreesOfFreedom: dof }) },
    certificate: text('certificate', true)!,
    ...(issuer === undefined ? {} : { issuer }),
    validUntil,
    traceability: text('traceability', true)!,
    ...(accuracy === undefined ? {} : { accuracy }),
    ...(resolution === undefined ? {} : { resolution }),
  };
}

/**
 * Reads a standard file and states it in the channel's unit: the step's `standard` (its
 * certificate U enters the budget of every point, and through the fit the calibration's U) and the
 * record's entry. Throws `StorageError` when it cannot be read, `ValidationError` when it is not a
 * standard file or its unit does not convert to `channelUnit`.
 *
 * @example
 * ```ts
 * const { spec, standard } = await readStandardFile('standards/db-0042.json', 'Cel')
 * await calibrateChannel({ …, standard: spec, standards: [standard] })
 * ```
 */
export async function readStandardFile(path: string, channelUnit: string): Promise<ReferenceStandardOf> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_BYTES) throw new ValidationError(path, 'larger than a standard file may be (64 KiB)');
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new StorageError(path, `cannot read the standard file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(path, `not JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  const file = parseStandardFile(value, path);
  let convert: (x: number) => number;
  try {
    convertDifference(1, file.unit, channelUnit);
    convert = (x) => convertDifference(x, file.unit, channelUnit);
  } catch {
    throw new ValidationError(`${path}: unit`, `"${file.unit}" does not convert to the channel's unit "${channelUnit}"`);
  }
  const description = file.description === undefined ? file.id : `${file.id}, ${file.description}`;
  const expanded = convert(file.uncertainty.expanded);
  return {
    file,
    spec: {
      certificate: { expanded, coverageFactor: file.uncertainty.coverageFactor, ...(file.uncertainty.degreesOfFreedom === undefined ? {} : { degreesOfFreedom: file.uncertainty.degreesOfFreedom }) },
      ...(file.accuracy === undefined ? {} : { accuracy: convert(file.accuracy) }),
      ...(file.resolution === undefined ? {} : { resolution: convert(file.resolution) }),
      description: `${description}, certificate ${file.certificate}`,
    },
    standard: {
      description,
      id: file.id,
      certificate: { expanded, coverageFactor: file.uncertainty.coverageFactor, id: file.certificate, ...(file.issuer === undefined ? {} : { issuer: file.issuer }), validUntil: file.validUntil },
      traceability: file.traceability,
    },
  };
}
