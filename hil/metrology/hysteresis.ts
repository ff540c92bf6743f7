/**
 * Hysteresis: the difference between readings at the same reference point approached upscale and
 * downscale, over at least three full cycles. At each point the mean difference (down − up) over
 * the cycles; the result is the largest |mean difference| in % of the output span, with its
 * uncertainty: type A from the cycle-to-cycle scatter of the differences (s/√cycles, ν = cycles − 1),
 * the DUT's resolution on each of the two readings, and optionally the reference's re-setting
 * between the two approaches (its systematic errors cancel in the difference).
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { combineUncertainty } from './budget.js';
import { normalB, resolutionB, typeA, type UncertaintyInput } from './contributions.js';
import { fitLine } from './least-squares.js';
import type { MetrologyResult } from './result.js';
import { extent, mean, requireNumber, requireReadings, requireSameLength } from './statistics.js';

/** One up/down cycle: readings at `references[i]` approached from below (`up`) and above (`down`). */
export interface HysteresisCycle {
  readonly up: readonly number[];
  readonly down: readonly number[];
}

/** Options of {@link hysteresis}. */
export interface HysteresisOptions {
  /** The test points, in the reference's unit (the same for every cycle). */
  readonly references: readonly number[];
  /** At least three cycles. */
  readonly cycles: readonly HysteresisCycle[];
  /** The readings' unit. */
  readonly unit: string;
  /** DUT resolution in `unit`. */
  readonly resolution?: number;
  /** Standard uncertainty of setting the reference to a point again, in the reference's unit. */
  readonly referenceSetting?: number;
  /** Output span in `unit`; default the mean reading at the highest reference minus the one at the lowest. */
  readonly span?: number;
  readonly coverageProbability?: number;
}

/** The hysteresis test's results. */
export interface HysteresisResult {
  /** Largest |mean difference| in % of span, id `hysteresis`. */
  readonly hysteresis: MetrologyResult;
  /** The same difference in `unit`, id `hysteresis-difference`. */
  readonly difference: MetrologyResult;
  readonly span: number;
  /** Mean down − up difference at each reference, in `unit`. */
  readonly points: readonly { readonly reference: number; readonly difference: number }[];
}

/** Fewest up/down cycles accepted. */
export const MINIMUM_HYSTERESIS_CYCLES = 3;

/**
 * Hysteresis from up/down cycles.
 *
 * @example
 * ```ts
 * hysteresis({
 *   unit: 'Cel', references: [0, 25, 50], resolution: 0.01, span: 50,
 *   cycles: [
 *     { up: [0.0, 24.9, 50.0], down: [0.1, 25.1, 50.0] },
 *     { up: [0.0, 24.9, 50.0], down: [0.1, 25.1, 50.0] },
 *     { up: [0.0, 24.9, 50.0], down: [0.1, 25.1, 50.0] },
 *   ],
 * }).hysteresis // { id: 'hysteresis', value: 0.4, unit: '%', … }: 0.2 Cel of a 50 Cel span
 * ```
 */
export function hysteresis(options: HysteresisOptions): HysteresisResult {
  const { references, cycles, unit } = options;
  requireReadings(references, 'references', 2);
  if (!Array.isArray(cycles) || cycles.length < MINIMUM_HYSTERESIS_CYCLES) {
    throw new ArgumentError(
      `Expected \`cycles\` to have at least ${MINIMUM_HYSTERESIS_CYCLES} up/down cycles, got ${Array.isArray(cycles) ? cycles.length : 0}`,
    );
  }
  cycles.forEach((cycle, c) => {
    requireReadings(cycle.up, `cycles[${c}].up`, 1);
    requireReadings(cycle.down, `cycles[${c}].down`, 1);
    requireSameLength(references, 'references', cycle.up, `cycles[${c}].up`);
    requireSameLength(references, 'references', cycle.down, `cycles[${c}].down`);
  });
  const differences = references.map((_, i) => cycles.map((cycle) => cycle.down[i]! - cycle.up[i]!));
  const means = differences.map(mean);
  const worst = means.reduce((best, d, i) => (Math.abs(d) > Math.abs(means[best]!) ? i : best), 0);
  const overall = references.map((_, i) => mean(cycles.flatMap((cycle) => [cycle.up[i]!, cycle.down[i]!])));
  const { min, max } = extent(references);
  const low = references.indexOf(min);
  const high = references.indexOf(max);
  if (low === high || references[low] === references[high]) throw new ArgumentError('Expected `references` to have at least 2 distinct values');
  const span = options.span ?? Math.abs(overall[high]! - overall[low]!);
  requireNumber(span, 'span', 0, true);

  const inputs: UncertaintyInput[] = [typeA('cycle-to-cycle scatter of the difference', differences[worst]!)];
  if (options.resolution !== undefined) {
    inputs.push(resolutionB('DUT resolution (downscale reading)', options.resolution));
    inputs.push(resolutionB('DUT resolution (upscale reading)', options.resolution, { sensitivity: -1 }));
  }
  if (options.referenceSetting !== undefined) {
    // Readings follow the reference with the gain b of the line through all readings.
    const gain = fitLine(references, overall).slope;
    const cycleCount = cycles.length;
    inputs.push(normalB('reference setting (downscale)', options.referenceSetting / Math.sqrt(cycleCount), 1, { sensitivity: gain }));
    inputs.push(normalB('reference setting (upscale)', options.referenceSetting / Math.sqrt(cycleCount), 1, { sensitivity: -gain }));
  }
  const probability = options.coverageProbability === undefined ? {} : { coverageProbability: options.coverageProbability };
  const samples = cycles.length * 2 * references.length;
  const difference: MetrologyResult = {
    id: 'hysteresis-difference',
    value: Math.abs(means[worst]!),
    unit,
    difference: true,
    samples,
    uncertainty: combineUncertainty(inputs, probability),
  };
  return {
    hysteresis: {
      id: 'hysteresis',
      value: (Math.abs(means[worst]!) * 100) / span,
      unit: '%',
      samples,
      uncertainty: combineUncertainty(
        inputs.map((input) => ({ ...input, sensitivity: (input.sensitivity * 100) / span })),
        probability,
      ),
    },
    difference,
    span,
    points: references.map((reference, i) => ({ reference, difference: means[i]! })),
  };
}
