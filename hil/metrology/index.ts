/**
 * Metrology for HIL plans: GUM uncertainty budgets (JCGM 100), ILAC-G8:09 decisions and the
 * methods (accuracy, linearity, hysteresis, repeatability, step response, drift, resolution,
 * noise) on arrays of readings and references. Pure functions, no I/O.
 */
export { lnGamma, lnBeta, regularizedIncompleteBeta, regularizedGammaP, erfc } from './special-functions.js';
export { standardDeviationCoverageFactor, standardDeviationUncertainty } from './spread.js';
export { studentTCdf, studentTUpperTail, studentTQuantile, normalQuantile, normalUpperTail } from './student-t.js';
export { coverageFactor, DEFAULT_COVERAGE_PROBABILITY, K2_MIN_DEGREES_OF_FREEDOM } from './coverage.js';
export {
  typeA,
  typeAFromStatistics,
  normalB,
  rectangularB,
  triangularB,
  uShapedB,
  resolutionB,
  degreesOfFreedomFromReliability,
  type UncertaintyInput,
  type InputOptions,
} from './contributions.js';
export { combineUncertainty, welchSatterthwaite, type CombineOptions } from './budget.js';
export { decide, decisionRuleName, type Decision, type DecisionInput, type DecisionRule, type ToleranceLimits } from './decision.js';
export { judgeResult, type JudgedResult, type JudgeOptions, type MetrologyResult } from './result.js';
export { experimentalStandardDeviation } from './statistics.js';
export { fitLine, type LineFit } from './least-squares.js';
export type { ReferencePoint, ReferenceStandard } from './reference.js';
export { accuracy, pointError, type AccuracyOptions, type AccuracyResult, type PointErrorOptions, type ReadingsInfo } from './accuracy.js';
export { linearity, type LinearityOptions, type LinearityPoint, type LinearityResult } from './linearity.js';
export { hysteresis, MINIMUM_HYSTERESIS_CYCLES, type HysteresisCycle, type HysteresisOptions, type HysteresisResult } from './hysteresis.js';
export { repeatability, MINIMUM_REPEATABILITY_READINGS, type RepeatabilityOptions } from './repeatability.js';
export { noise, MINIMUM_NOISE_READINGS, type NoiseOptions, type NoiseResult } from './noise.js';
export { resolution, type ResolutionOptions } from './resolution.js';
export { drift, type DriftOptions } from './drift.js';
export { stepResponse, type StepResponseOptions, type StepResponseResult } from './step-response.js';
export { influenceEffect, type InfluenceCondition, type InfluenceOptions, type InfluenceResult } from './influence.js';
export { fitCorrection, type CorrectionFit, type CorrectionFitOptions, type CorrectionMethod } from './correction-fit.js';
export { binomialCdf, coverageBand, type CoverageBand } from './coverage-check.js';
export { formatWithUncertainty, roundToUncertainty, type RoundedResult } from './presentation.js';
