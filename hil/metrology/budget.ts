/**
 * The uncertainty budget: combined standard uncertainty of uncorrelated inputs (JCGM 100 §5.1.2,
 * eq. 10), each input's share of the combined variance, the effective degrees of freedom by the
 * Welch–Satterthwaite formula (§G.4.1, eq. G.2b), the coverage factor (§G.4.1, see
 * `coverageFactor`) and the expanded uncertainty U = k·u_c (§6.2.1).
 */
import type { UncertaintyContribution, UncertaintyRecord } from '../record/record.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import type { UncertaintyInput } from './contributions.js';
import { coverageFactor, DEFAULT_COVERAGE_PROBABILITY } from './coverage.js';
import { requireNumber } from './statistics.js';

/** Options of {@link combineUncertainty}. */
export interface CombineOptions {
  /** Coverage probability of ±U; default 0.95. */
  readonly coverageProbability?: number;
}

/**
 * Combines uncorrelated inputs into an {@link UncertaintyRecord} with its budget. Degrees of
 * freedom that are infinite are written as null (JSON has no Infinity).
 *
 * @example
 * ```ts
 * const u = combineUncertainty([
 *   typeA('repeatability', [20.11, 20.13, 20.12, 20.1, 20.14]),
 *   normalB('reference certificate', 0.05, 2),
 *   resolutionB('DUT resolution', 0.01),
 * ])
 * u.combinedStandardUncertainty // 0.0261
 * u.effectiveDegreesOfFreedom   // 747
 * u.coverageFactor              // 2 (ν_eff ≥ 61)
 * u.expanded                    // 0.0523
 * ```
 */
export function combineUncertainty(inputs: readonly UncertaintyInput[], options: CombineOptions = {}): UncertaintyRecord {
  if (!Array.isArray(inputs) || inputs.length === 0) throw new ArgumentError('Expected `inputs` to have at least 1 uncertainty input, got 0');
  const probability = options.coverageProbability ?? DEFAULT_COVERAGE_PROBABILITY;
  inputs.forEach(validateInput);
  const standard = inputs.map((input) => (Math.abs(input.sensitivity) * input.value) / input.divisor);
  const variance = standard.reduce((sum, u) => sum + u * u, 0);
  const combined = Math.sqrt(variance);
  const nuEff = welchSatterthwaite(standard, inputs.map((input) => input.degreesOfFreedom));
  const k = coverageFactor(nuEff, probability);
  const budget: UncertaintyContribution[] = inputs.map((input, i) => ({
    name: input.name,
    type: input.type,
    distribution: input.distribution,
    value: input.value,
    divisor: input.divisor,
    sensitivity: input.sensitivity,
    standardUncertainty: standard[i]!,
    degreesOfFreedom: finiteOrNull(input.degreesOfFreedom),
    share: variance > 0 ? standard[i]! ** 2 / variance : 0,
  }));
  return {
    combinedStandardUncertainty: combined,
    effectiveDegreesOfFreedom: finiteOrNull(nuEff),
    coverageFactor: k,
    expanded: k * combined,
    coverageProbability: probability,
    budget,
  };
}

/**
 * Effective degrees of freedom ν_eff = u_c⁴ / Σ (uᵢ⁴/νᵢ) (JCGM 100 §G.4.1, eq. G.2b), where uᵢ
 * are the standard uncertainties contributed (|cᵢ|·u(xᵢ)). Inputs with νᵢ = Infinity or uᵢ = 0 add
 * nothing to the denominator; when nothing does, ν_eff is Infinity.
 *
 * @example
 * ```ts
 * welchSatterthwaite([0.1, 0.1], [4, Infinity]) // 16
 * ```
 */
export function welchSatterthwaite(standardUncertainties: readonly number[], degreesOfFreedom: readonly number[]): number {
  if (standardUncertainties.length !== degreesOfFreedom.length) {
    throw new ArgumentError(
      `Expected \`degreesOfFreedom\` to have as many values as \`standardUncertainties\` (${standardUncertainties.length}), got ${degreesOfFreedom.length}`,
    );
  }
  let variance = 0;
  let denominator = 0;
  standardUncertainties.forEach((u, i) => {
    variance += u * u;
    const nu = degreesOfFreedom[i]!;
    if (u > 0 && Number.isFinite(nu)) denominator += u ** 4 / nu;
  });
  return denominator > 0 ? variance ** 2 / denominator : Infinity;
}

function validateInput(input: UncertaintyInput, index: number): void {
  requireNumber(input.value, `inputs[${index}].value`, 0);
  requireNumber(input.divisor, `inputs[${index}].divisor`, 0, true);
  requireNumber(input.sensitivity, `inputs[${index}].sensitivity`);
  if (!(input.degreesOfFreedom > 0)) {
    throw new ArgumentError(`Expected \`inputs[${index}].degreesOfFreedom\` to be a number above 0, got ${String(input.degreesOfFreedom)}`);
  }
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
