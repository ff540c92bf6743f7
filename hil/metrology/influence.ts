/**
 * Effect of an influence quantity (supply voltage dips and limits, ambient temperature …) in the
 * sense of IEC 61298-3: the change of the mean reading under each condition from the mean at the
 * reference condition, at a constant input. Its uncertainty is the type A uncertainty of both means
 * (s/√n each, sensitivities +1 and −1; ν by Welch–Satterthwaite, JCGM 100 §G.4.1) and optionally
 * the DUT's resolution on each mean. The input's own errors cancel in the difference if it holds
 * still, so the reference standard adds nothing.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { combineUncertainty } from './budget.js';
import { resolutionB, typeA, type UncertaintyInput } from './contributions.js';
import type { MetrologyResult } from './result.js';
import { mean, requireReadings } from './statistics.js';

/** Readings under one condition of the influence quantity. */
export interface InfluenceCondition {
  /** Names the condition in the result's id, e.g. `10.8V` or `dip-40%`. */
  readonly name: string;
  readonly readings: readonly number[];
}

/** Options of {@link influenceEffect}. */
export interface InfluenceOptions {
  readonly unit: string;
  /** Readings at the reference condition (e.g. the nominal supply), at least 2. */
  readonly baseline: readonly number[];
  /** Readings under each other condition, at least 2 each. */
  readonly conditions: readonly InfluenceCondition[];
  /** DUT resolution in `unit`. */
  readonly resolution?: number;
  readonly coverageProbability?: number;
}

/** The influence test's results. */
export interface InfluenceResult {
  /** Change of the mean reading under each condition, ids `change@<name>`. */
  readonly conditions: readonly MetrologyResult[];
  /** The condition with the largest |change|. */
  readonly worst: MetrologyResult;
}

/**
 * Changes of the reading under the conditions of an influence quantity.
 *
 * @example
 * ```ts
 * const { worst } = influenceEffect({
 *   unit: 'mA', baseline: readingsAt24V, resolution: 0.001,
 *   conditions: [{ name: '20.4V', readings: readingsAt20V4 }, { name: '28.8V', readings: readingsAt28V8 }],
 * })
 * worst // { id: 'change@20.4V', value: -0.004, unit: 'mA', uncertainty: {…}, … }
 * ```
 */
export function influenceEffect(options: InfluenceOptions): InfluenceResult {
  const { unit, baseline, conditions } = options;
  requireReadings(baseline, 'baseline', 2);
  if (!Array.isArray(conditions) || conditions.length === 0) throw new ArgumentError('Expected `conditions` to have at least 1 condition, got 0');
  const names = new Set<string>();
  const baseMean = mean(baseline);
  const results = conditions.map((condition, i): MetrologyResult => {
    requireReadings(condition.readings, `conditions[${i}].readings`, 2);
    if (typeof condition.name !== 'string' || condition.name === '' || names.has(condition.name)) {
      throw new ArgumentError(`Expected \`conditions[${i}].name\` to be a unique non-empty string, got ${JSON.stringify(condition.name)}`);
    }
    names.add(condition.name);
    const inputs: UncertaintyInput[] = [
      typeA(`repeatability under ${condition.name}`, condition.readings),
      typeA('repeatability at the reference condition', baseline, { sensitivity: -1 }),
    ];
    if (options.resolution !== undefined) {
      inputs.push(resolutionB(`DUT resolution under ${condition.name}`, options.resolution));
      inputs.push(resolutionB('DUT resolution at the reference condition', options.resolution, { sensitivity: -1 }));
    }
    return {
      id: `change@${condition.name}`,
      value: mean(condition.readings) - baseMean,
      unit,
      difference: true,
      samples: condition.readings.length + baseline.length,
      reference: { value: baseMean, unit, source: 'mean reading at the reference condition' },
      uncertainty: combineUncertainty(inputs, options.coverageProbability === undefined ? {} : { coverageProbability: options.coverageProbability }),
    };
  });
  const worst = results.reduce((a, b) => (Math.abs(b.value!) > Math.abs(a.value!) ? b : a));
  return { conditions: results, worst };
}
