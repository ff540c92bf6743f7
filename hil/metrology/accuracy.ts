/**
 * Accuracy: the error of indication E = ȳ − x_ref at each test point (VIM 4.11), from repeated
 * readings, with its uncertainty: type A from the repeats (s/√n, ν = n − 1, JCGM 100 §4.2.3) or a
 * pooled repeatability, type B from the reference standard (certificate, stated accuracy,
 * resolution; sensitivity −1) and the DUT's resolution (r/2 rectangular, JCGM 100 §F.2.2.1).
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { combineUncertainty } from './budget.js';
import { resolutionB, typeA, typeAFromStatistics, type UncertaintyInput } from './contributions.js';
import { formatNumber } from './format.js';
import { referenceConverter, referenceInputs, requirePoints, type ReferencePoint, type ReferenceStandard } from './reference.js';
import type { MetrologyResult } from './result.js';
import { mean, requireNumber } from './statistics.js';

/** What is known of the device under test's readings. */
export interface ReadingsInfo {
  /** The readings' unit (results are in it). */
  readonly unit: string;
  /** The DUT's resolution in `unit` (a rectangular input of half-width r/2). */
  readonly resolution?: number;
  /**
   * A repeatability known from a separate test (s of single readings and its ν), used instead of
   * the points' own scatter; lets a point have a single reading (JCGM 100 §4.2.4).
   */
  readonly pooledRepeatability?: { readonly standardDeviation: number; readonly degreesOfFreedom: number };
  /** Coverage probability of U; default 0.95. */
  readonly coverageProbability?: number;
}

/** Options of {@link pointError}. */
export interface PointErrorOptions extends ReadingsInfo, ReferencePoint {
  readonly standard?: ReferenceStandard;
}

/** Options of {@link accuracy}. */
export interface AccuracyOptions extends ReadingsInfo {
  readonly points: readonly ReferencePoint[];
  readonly standard?: ReferenceStandard;
  /** Fewest test points accepted; default 5 (points spread over the span). */
  readonly minimumPoints?: number;
}

/** The accuracy test's results. */
export interface AccuracyResult {
  /** The error at each point, in the order given, ids `error@<reference><unit>`. */
  readonly points: readonly MetrologyResult[];
  /** The point with the largest |error| (first on a tie). */
  readonly worst: MetrologyResult;
}

/**
 * The error of indication at one reference point, with its uncertainty budget.
 *
 * @example
 * ```ts
 * pointError({
 *   unit: 'Cel', reference: 25, readings: [25.12, 25.1, 25.14, 25.11, 25.13], resolution: 0.01,
 *   standard: { source: 'calibrator', certificate: { expanded: 0.05, coverageFactor: 2 } },
 * })
 * // { id: 'error@25Cel', value: 0.12, unit: 'Cel', samples: 5, uncertainty: { expanded: 0.0523, coverageFactor: 2, … }, … }
 * ```
 */
export function pointError(options: PointErrorOptions): MetrologyResult {
  requirePoints([options], 'point', 1, options.pooledRepeatability ? 1 : 2);
  const standard = options.standard ?? {};
  const { unit, readings } = options;
  const reference = referenceConverter(standard, unit)(options.reference);
  const inputs: UncertaintyInput[] = [repeatabilityInput(readings, options)];
  inputs.push(...referenceInputs(standard, unit, -1));
  if (options.resolution !== undefined) inputs.push(resolutionB('DUT resolution', options.resolution));
  return {
    id: `error@${formatNumber(options.reference)}${standard.unit ?? unit}`,
    value: mean(readings) - reference,
    unit,
    difference: true,
    samples: readings.length,
    reference: { value: reference, unit, source: standard.source ?? 'reference' },
    uncertainty: combineUncertainty(inputs, options.coverageProbability === undefined ? {} : { coverageProbability: options.coverageProbability }),
  };
}

/**
 * Accuracy over the span: the error at each of at least five reference points (each repeated),
 * and the worst of them.
 *
 * @example
 * ```ts
 * const { points, worst } = accuracy({
 *   unit: 'Cel', resolution: 0.01, standard: { certificate: { expanded: 0.05, coverageFactor: 2 } },
 *   points: [0, 10, 20, 30, 40].map((reference) => ({ reference, readings: readAt(reference, 5) })),
 * })
 * judgeResult(worst, { time, limits: { low: -1, high: 1, unit: 'Cel' } })
 * ```
 */
export function accuracy(options: AccuracyOptions): AccuracyResult {
  const minimumPoints = options.minimumPoints ?? 5;
  if (!Number.isInteger(minimumPoints) || minimumPoints < 1) {
    throw new ArgumentError(`Expected \`minimumPoints\` to be an integer from 1, got ${String(minimumPoints)}`);
  }
  requirePoints(options.points, 'points', minimumPoints, options.pooledRepeatability ? 1 : 2);
  const { points: _points, minimumPoints: _minimum, ...shared } = options;
  const points = options.points.map((point) => pointError({ ...shared, reference: point.reference, readings: point.readings }));
  const worst = points.reduce((a, b) => (Math.abs(b.value!) > Math.abs(a.value!) ? b : a));
  return { points, worst };
}

function repeatabilityInput(readings: readonly number[], info: ReadingsInfo): UncertaintyInput {
  const pooled = info.pooledRepeatability;
  if (pooled === undefined) return typeA('repeatability', readings);
  requireNumber(pooled.standardDeviation, 'pooledRepeatability.standardDeviation', 0);
  return typeAFromStatistics('repeatability (pooled)', pooled.standardDeviation, readings.length, {
    degreesOfFreedom: pooled.degreesOfFreedom,
  });
}
