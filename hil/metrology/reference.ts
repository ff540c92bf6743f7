/**
 * The reference side shared by the methods: points of a reference value with repeated readings,
 * the reference's unit converted to the readings' unit through the unit registry, and the type B
 * inputs a reference brings (its certificate, its stated accuracy, its resolution).
 */
import { convertDifference, converter } from '../../sdk/core/units.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import { normalB, rectangularB, resolutionB, type UncertaintyInput } from './contributions.js';
import { requireNumber, requireReadings } from './statistics.js';

/** A reference value and the readings of the device under test taken at it. */
export interface ReferencePoint {
  /** In the reference's unit. */
  readonly reference: number;
  /** In the readings' unit. */
  readonly readings: readonly number[];
}

/** What is known of the reference standard, in the reference's unit. */
export interface ReferenceStandard {
  /** The reference's unit; default the readings' unit. */
  readonly unit?: string;
  /** Where the reference value came from, for the record (`calibrator`, `input temperature`). */
  readonly source?: string;
  /** Expanded uncertainty U of its calibration certificate and the certificate's k (normal). */
  readonly certificate?: { readonly expanded: number; readonly coverageFactor: number; readonly degreesOfFreedom?: number };
  /** Its stated accuracy ±a (rectangular), e.g. a calibrator's specification. */
  readonly accuracy?: number;
  /** Its resolution (rectangular, half-width r/2). */
  readonly resolution?: number;
}

/**
 * Checks points: at least `minimumPoints`, each with at least `minimumReadings` finite readings.
 *
 * @example
 * ```ts
 * requirePoints([{ reference: 0, readings: [0.1, 0.2] }], 'points', 5, 2) // ArgumentError: Expected `points` to have at least 5 points, got 1
 * ```
 */
export function requirePoints(points: readonly ReferencePoint[], name: string, minimumPoints: number, minimumReadings: number): void {
  if (!Array.isArray(points) || points.length < minimumPoints) {
    throw new ArgumentError(`Expected \`${name}\` to have at least ${minimumPoints} points, got ${Array.isArray(points) ? points.length : 0}`);
  }
  points.forEach((point, i) => {
    requireNumber(point.reference, `${name}[${i}].reference`);
    requireReadings(point.readings, `${name}[${i}].readings`, minimumReadings);
  });
}

/**
 * Converts reference values into the readings' unit (values, not differences).
 *
 * @example
 * ```ts
 * referenceConverter({ unit: 'K' }, 'Cel')(300) // 26.85
 * ```
 */
export function referenceConverter(standard: ReferenceStandard, unit: string): (value: number) => number {
  return standard.unit === undefined || standard.unit === unit ? (value) => value : converter(standard.unit, unit);
}

/**
 * The type B inputs of a reference standard, converted to the readings' unit, with the sensitivity
 * the measurand has to the reference's error (−1 for an error reading − reference; −b through a
 * fitted gain b).
 *
 * @example
 * ```ts
 * referenceInputs({ certificate: { expanded: 0.05, coverageFactor: 2 }, accuracy: 0.1 }, 'Cel', -1)
 * // [normalB('reference certificate', 0.05, 2, { sensitivity: -1 }), rectangularB('reference accuracy', 0.1, { sensitivity: -1 })]
 * ```
 */
export function referenceInputs(standard: ReferenceStandard, unit: string, sensitivity: number): UncertaintyInput[] {
  const inUnit = (value: number): number =>
    standard.unit === undefined || standard.unit === unit ? value : convertDifference(value, standard.unit, unit);
  const inputs: UncertaintyInput[] = [];
  const { certificate, accuracy, resolution } = standard;
  if (certificate !== undefined) {
    requireNumber(certificate.expanded, 'reference.certificate.expanded', 0);
    inputs.push(
      normalB('reference certificate', inUnit(certificate.expanded), certificate.coverageFactor, {
        sensitivity,
        ...(certificate.degreesOfFreedom === undefined ? {} : { degreesOfFreedom: certificate.degreesOfFreedom }),
      }),
    );
  }
  if (accuracy !== undefined) {
    requireNumber(accuracy, 'reference.accuracy', 0);
    inputs.push(rectangularB('reference accuracy', inUnit(accuracy), { sensitivity }));
  }
  if (resolution !== undefined) {
    requireNumber(resolution, 'reference.resolution', 0);
    inputs.push(resolutionB('reference resolution', inUnit(resolution), { sensitivity }));
  }
  return inputs;
}
