/**
 * Calibration: fits a channel's correction — the methods the device model already applies
 * (offset, gain, linear, two-point, polynomial) — to readings at reference points, and propagates
 * the uncertainty of the points through the fit (JCGM 100 §5.1.2 with the sensitivities of the
 * least-squares estimator, §H.3). The corrected value ŷ(x) = Σ θⱼ·φⱼ(x) depends linearly on the
 * references yᵢ through weights wᵢ(x) = φ(x)ᵀ(XᵀX)⁻¹Xᵀ, and on the mean readings x̄ᵢ through
 * −f′(x̄ᵢ)·wᵢ(x); the covariance of the coefficients is (XᵀX)⁻¹XᵀΣX(XᵀX)⁻¹ with Σ the points'
 * variances. The stated uncertainty is that of a corrected single reading in use, at the worst place
 * of the calibrated range: the fit (reference standard, readings and resolution at the points) plus
 * the reading's own repeatability and resolution. A model too simple for the channel shows as
 * residuals larger than the points' uncertainty (see `residualStandardDeviation`); it is not added
 * to the budget.
 */
import type { UncertaintyRecord } from '../record/record.js';
import type { CalibrationMethod } from '../../sdk/pipeline/specs.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import type { ReadingsInfo } from './accuracy.js';
import { combineUncertainty } from './budget.js';
import { resolutionB, typeAFromStatistics, type UncertaintyInput } from './contributions.js';
import { invert, multiply, transpose } from './matrix.js';
import { referenceConverter, referenceInputs, requirePoints, type ReferencePoint, type ReferenceStandard } from './reference.js';
import { extent, mean, requireNumber } from './statistics.js';

/** Correction methods a fit can produce. */
export type CorrectionMethod = 'offset' | 'gain' | 'linear' | 'two-point' | 'polynomial';

/** Options of {@link fitCorrection}. */
export interface CorrectionFitOptions extends ReadingsInfo {
  readonly method: CorrectionMethod;
  /** Degree of a polynomial, 1 … 5; default 2. */
  readonly degree?: number;
  /** Reference points (in the standard's unit) with the channel's readings (in `unit`) at each. */
  readonly points: readonly ReferencePoint[];
  readonly standard?: ReferenceStandard;
}

/** A fitted correction with its uncertainty. */
export interface CorrectionFit {
  /** The correction in the device model's form (apply it with the pipeline's calibration). */
  readonly correction: CalibrationMethod;
  /** The correction's coefficients in order (offset: [offset]; gain: [gain]; linear, two-point: [offset, gain]; polynomial: c₀ … c_d). */
  readonly coefficients: readonly number[];
  /** Their covariance matrix, from the points' uncertainties. */
  readonly covariance: readonly (readonly number[])[];
  /** reference − corrected mean reading at each point, in `unit`, in the order given. */
  readonly residuals: readonly number[];
  /** √(Σ residual²/(n − p)); null when the fit has no spare points (n = p). */
  readonly residualStandardDeviation: number | null;
  /** The calibrated range of readings. */
  readonly range: { readonly low: number; readonly high: number };
  /** Uncertainty of a corrected reading at the worst place of the range (`at`). */
  readonly uncertainty: UncertaintyRecord;
  readonly at: number;
  /** Uncertainty of a corrected reading `raw`. */
  uncertaintyAt(raw: number): UncertaintyRecord;
  /** The corrected value of `raw`. */
  apply(raw: number): number;
}

const GRID = 100;
const METHODS: readonly CorrectionMethod[] = ['offset', 'gain', 'linear', 'two-point', 'polynomial'];

/**
 * Fits a correction to reference points and states its uncertainty.
 *
 * @example
 * ```ts
 * const fit = fitCorrection({
 *   method: 'linear', unit: 'Cel', resolution: 0.01,
 *   standard: { certificate: { expanded: 0.05, coverageFactor: 2 } },
 *   points: [0, 25, 50].map((reference) => ({ reference, readings: readAt(reference, 5) })),
 * })
 * fit.correction           // { method: 'linear', gain: 1.02, offset: -0.5 }
 * fit.uncertainty.expanded // U of a corrected reading, for the calibration record
 * ```
 */
export function fitCorrection(options: CorrectionFitOptions): CorrectionFit {
  const { method, unit } = options;
  const pooled = options.pooledRepeatability;
  requirePoints(options.points, 'points', 1, pooled ? 1 : 2);
  const standard = options.standard ?? {};
  const toUnit = referenceConverter(standard, unit);
  const x = options.points.map((point) => mean(point.readings));
  const y = options.points.map((point) => toUnit(point.reference));
  const counts = options.points.map((point) => point.readings.length);
  const { min: low, max: high } = extent(x);
  const centre = (low + high) / 2;
  const half = (high - low) / 2 || 1;
  const degree = method === 'polynomial' ? (options.degree ?? 2) : method === 'offset' || method === 'gain' ? 0 : 1;
  if (!METHODS.includes(method)) throw new ArgumentError(`Expected \`method\` to be one of ${METHODS.join(', ')}, got ${JSON.stringify(method)}`);
  if (method === 'polynomial' && (!Number.isInteger(degree) || degree < 1 || degree > 5)) {
    throw new ArgumentError(`Expected \`degree\` to be an integer from 1 to 5, got ${String(options.degree)}`);
  }
  // Basis φ(x) and the fixed part h(x) (an offset correction fits reference − reading).
  const basis = (raw: number): number[] => {
    if (method === 'offset') return [1];
    if (method === 'gain') return [raw];
    const t = (raw - centre) / half;
    return Array.from({ length: degree + 1 }, (_, j) => t ** j);
  };
  const fixed = (raw: number): number => (method === 'offset' ? raw : 0);
  const p = basis(centre).length;
  if (method === 'two-point' && x.length !== 2) throw new ArgumentError(`Expected \`points\` to have exactly 2 points for a two-point correction, got ${x.length}`);
  if (x.length < p) throw new ArgumentError(`Expected \`points\` to have at least ${p} points for this correction, got ${x.length}`);

  const design = x.map(basis);
  const designT = transpose(design);
  const normalInverse = invert(multiply(designT, design));
  const estimator = multiply(normalInverse, designT); // p × n
  const theta = estimator.map((row) => row.reduce((sum, a, i) => sum + a * (y[i]! - fixed(x[i]!)), 0));
  const value = (raw: number): number => fixed(raw) + basis(raw).reduce((sum, phi, j) => sum + phi * theta[j]!, 0);
  const slope = (raw: number): number => {
    if (method === 'offset') return 1;
    if (method === 'gain') return theta[0]!;
    const t = (raw - centre) / half;
    return theta.reduce((sum, c, j) => (j === 0 ? sum : sum + (j * c * t ** (j - 1)) / half), 0);
  };

  // Points' standard uncertainties: the reference's (all inputs of the standard) and the readings'.
  const referenceParts = referenceInputs(standard, unit, 1);
  const referenceVariance = referenceParts.reduce((sum, input) => sum + (input.value / input.divisor) ** 2, 0);
  const scatter = pooled === undefined ? pooledScatter(options.points) : { s: requireScatter(pooled.standardDeviation), nu: pooled.degreesOfFreedom };
  const resolutionVariance = options.resolution === undefined ? 0 : options.resolution ** 2 / 12;
  const pointVariance = x.map((xi, i) => referenceVariance + slope(xi) ** 2 * (scatter.s ** 2 / counts[i]! + resolutionVariance));
  const thetaCovariance = multiply(multiply(estimator, pointVariance.map((v, i) => pointVariance.map((_, j) => (i === j ? v : 0)))), transpose(estimator));
  const toCoefficients = coefficientMap(method, degree, centre, half);
  const coefficients = toCoefficients.map((row) => row.reduce((sum, m, j) => sum + m * theta[j]!, 0));
  const covariance = multiply(multiply(toCoefficients, thetaCovariance), transpose(toCoefficients));

  const probability = options.coverageProbability === undefined ? {} : { coverageProbability: options.coverageProbability };
  const uncertaintyAt = (raw: number): UncertaintyRecord => {
    requireNumber(raw, 'raw');
    const phi = basis(raw);
    const weights = estimator[0]!.map((_, i) => phi.reduce((sum, f, j) => sum + f * estimator[j]![i]!, 0));
    const throughReference = Math.sqrt(weights.reduce((sum, w) => sum + w * w, 0));
    const throughReadings = Math.sqrt(weights.reduce((sum, w, i) => sum + (w * w * slope(x[i]!) ** 2) / counts[i]!, 0));
    const throughResolution = Math.sqrt(weights.reduce((sum, w, i) => sum + w * w * slope(x[i]!) ** 2, 0));
    const inputs: UncertaintyInput[] = referenceParts.map((input) => ({ ...input, name: `${input.name} (through the fit)`, sensitivity: throughReference }));
    inputs.push(typeAFromStatistics('readings at the calibration points (through the fit)', scatter.s, 1, { degreesOfFreedom: scatter.nu, sensitivity: throughReadings }));
    inputs.push(typeAFromStatistics('repeatability of a reading in use', scatter.s, 1, { degreesOfFreedom: scatter.nu, sensitivity: slope(raw) }));
    if (options.resolution !== undefined) {
      inputs.push(resolutionB('DUT resolution at the calibration points (through the fit)', options.resolution, { sensitivity: throughResolution }));
      inputs.push(resolutionB('DUT resolution in use', options.resolution, { sensitivity: slope(raw) }));
    }
    return combineUncertainty(inputs, probability);
  };
  // The worst place of the range, searched on first use (a fit used for one reading does not pay for it).
  let worst: { at: number; record: UncertaintyRecord } | undefined;
  const findWorst = (): { at: number; record: UncertaintyRecord } => {
    if (worst !== undefined) return worst;
    let found = { at: x[0]!, record: uncertaintyAt(x[0]!) };
    for (const raw of [...x, ...Array.from({ length: GRID + 1 }, (_, i) => low + ((high - low) * i) / GRID)]) {
      const record = uncertaintyAt(raw);
      if (record.expanded > found.record.expanded) found = { at: raw, record };
    }
    return (worst = found);
  };
  const residuals = x.map((xi, i) => y[i]! - value(xi));
  const spare = x.length - p;
  return {
    correction: correctionOf(method, coefficients, x, y),
    coefficients,
    covariance,
    residuals,
    residualStandardDeviation: spare > 0 ? Math.sqrt(residuals.reduce((sum, r) => sum + r * r, 0) / spare) : null,
    range: { low, high },
    get uncertainty() {
      return findWorst().record;
    },
    get at() {
      return findWorst().at;
    },
    uncertaintyAt,
    apply: value,
  };
}

/** Pooled s of single readings over the points (JCGM 100 §4.2.4), ν = Σ (nᵢ − 1). */
function pooledScatter(points: readonly ReferencePoint[]): { s: number; nu: number } {
  let squares = 0;
  let nu = 0;
  for (const point of points) {
    const m = mean(point.readings);
    for (const reading of point.readings) squares += (reading - m) ** 2;
    nu += point.readings.length - 1;
  }
  return { s: Math.sqrt(squares / nu), nu };
}

function requireScatter(s: number): number {
  requireNumber(s, 'pooledRepeatability.standardDeviation', 0);
  return s;
}

/** Maps the fit's parameters θ (in t = (x − centre)/half) to the correction's coefficients in x. */
function coefficientMap(method: CorrectionMethod, degree: number, centre: number, half: number): number[][] {
  if (method === 'offset' || method === 'gain') return [[1]];
  // tʲ = Σₖ C(j, k)·xᵏ·(−centre)^{j−k} / halfʲ, so cₖ = Σⱼ θⱼ·C(j, k)·(−centre)^{j−k} / halfʲ.
  const map = Array.from({ length: degree + 1 }, (_, k) =>
    Array.from({ length: degree + 1 }, (_, j) => (j < k ? 0 : (binomial(j, k) * (-centre) ** (j - k)) / half ** j)),
  );
  return map;
}

function binomial(n: number, k: number): number {
  let result = 1;
  for (let i = 0; i < k; i++) result = (result * (n - i)) / (i + 1);
  return result;
}

function correctionOf(method: CorrectionMethod, c: readonly number[], x: readonly number[], y: readonly number[]): CalibrationMethod {
  switch (method) {
    case 'offset':
      return { method, offset: c[0]! };
    case 'gain':
      return { method, gain: c[0]! };
    case 'linear':
      return { method, gain: c[1]!, offset: c[0]! };
    case 'two-point': {
      const [a, b] = x[0]! <= x[1]! ? [0, 1] : [1, 0];
      return { method, low: { raw: x[a]!, reference: y[a]! }, high: { raw: x[b]!, reference: y[b]! } };
    }
    case 'polynomial':
      return { method, coefficients: [...c] };
  }
}
