/**
 * Statements of conformity per ILAC-G8:09/2019 §4.2 (decision rules). A tolerance limit TL is moved
 * inwards by the guard band w to the acceptance limit AL = TL ∓ w, and outwards to the rejection
 * limit TL ± w:
 *
 * - pass: the measured value is within the acceptance limits;
 * - conditional pass: within the tolerance limits but inside the guard band;
 * - conditional fail: outside a tolerance limit by no more than w;
 * - fail: beyond a rejection limit.
 *
 * Simple acceptance (§4.2.1) is w = 0: only pass and fail. The non-binary statement with a guard
 * band (§4.2.3) uses w = r·U; r = 1 (w = U) keeps the specific risk of a false accept at a pass at
 * or below 2.5 % for a normal distribution. Every
 * boundary is inclusive on the favourable side: a value exactly on an acceptance limit passes, one
 * exactly on a tolerance limit is a conditional pass (a pass when w = 0), one exactly on a rejection
 * limit is a conditional fail. A one-sided limit checks one side only; the worse side decides.
 */
import type { Outcome } from '../record/record.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import { convertDifference, converter } from '../../sdk/core/units.js';
import { formatNumber } from './format.js';
import { requireNumber } from './statistics.js';

/** How a decision accounts for the measurement uncertainty. */
export type DecisionRule =
  /** w = 0: the measured value alone decides (ILAC-G8:09 §4.2.1). */
  | { readonly kind: 'simple-acceptance' }
  /** w = r·U with r = `fraction` (default 1, w = U) (ILAC-G8:09 §4.2.3). */
  | { readonly kind: 'guard-band'; readonly fraction?: number };

/** Tolerance limits; either may be absent (one-sided). `unit` defaults to the value's unit. */
export interface ToleranceLimits {
  readonly low?: number;
  readonly high?: number;
  readonly unit?: string;
}

/** What {@link decide} was given. */
export interface DecisionInput {
  readonly value: number;
  readonly unit: string;
  readonly limits: ToleranceLimits;
  readonly rule: DecisionRule;
  /** Expanded uncertainty U of the value, in `unit`; required by a guard band. */
  readonly expanded?: number;
  /**
   * The value is a difference (an error, a deviation, a spread), so limits in another unit convert
   * without the units' offset: ±1 K of error is ±1 Cel, not −272.15 … −274.15 Cel. Default false.
   */
  readonly difference?: boolean;
}

/** A statement of conformity. */
export interface Decision {
  readonly outcome: Extract<Outcome, 'pass' | 'conditional-pass' | 'conditional-fail' | 'fail' | 'recorded'>;
  /** The rule's name for the record, e.g. `ILAC-G8:09 guard band w = U`. */
  readonly rule: string;
  /** Guard band w in `unit` (0 for simple acceptance). */
  readonly guardBand: number;
  /** Why, in one line, when the outcome is not a plain pass. */
  readonly reason?: string;
}

const SEVERITY = { pass: 0, 'conditional-pass': 1, 'conditional-fail': 2, fail: 3 } as const;
type Zone = keyof typeof SEVERITY;

/**
 * The rule's name as records and reports write it.
 *
 * @example
 * ```ts
 * decisionRuleName({ kind: 'simple-acceptance' })            // 'ILAC-G8:09 simple acceptance'
 * decisionRuleName({ kind: 'guard-band' })                   // 'ILAC-G8:09 guard band w = U'
 * decisionRuleName({ kind: 'guard-band', fraction: 0.5 })    // 'ILAC-G8:09 guard band w = 0.5·U'
 * ```
 */
export function decisionRuleName(rule: DecisionRule): string {
  if (rule.kind === 'simple-acceptance') return 'ILAC-G8:09 simple acceptance';
  const fraction = guardFraction(rule);
  return `ILAC-G8:09 guard band w = ${fraction === 1 ? '' : `${formatNumber(fraction)}·`}U`;
}

/**
 * Decides conformity of a value with its tolerance limits under a decision rule. Limits in another
 * unit are converted through the unit registry; without any limit the outcome is `recorded`.
 *
 * @example
 * ```ts
 * decide({ value: 0.9, unit: 'Cel', expanded: 0.2, limits: { low: -1, high: 1 }, rule: { kind: 'guard-band' } })
 * // { outcome: 'conditional-pass', rule: 'ILAC-G8:09 guard band w = U', guardBand: 0.2,
 * //   reason: '0.9 Cel is within the guard band (w = 0.2 Cel) of the high limit 1 Cel' }
 * ```
 */
export function decide(input: DecisionInput): Decision {
  const { value, unit, limits, rule } = input;
  requireNumber(value, 'value');
  const name = decisionRuleName(rule);
  let w = 0;
  if (rule.kind === 'guard-band') {
    if (input.expanded === undefined) throw new ArgumentError('Expected `expanded` (the expanded uncertainty U) for a guard-band decision');
    requireNumber(input.expanded, 'expanded', 0);
    w = guardFraction(rule) * input.expanded;
  }
  const from = limits.unit;
  const toUnit =
    from === undefined || from === unit
      ? (x: number) => x
      : input.difference === true
        ? (x: number) => convertDifference(x, from, unit)
        : converter(from, unit);
  const low = limits.low === undefined ? undefined : toUnit(limits.low);
  const high = limits.high === undefined ? undefined : toUnit(limits.high);
  if (low !== undefined) requireNumber(low, 'limits.low');
  if (high !== undefined) requireNumber(high, 'limits.high');
  if (low !== undefined && high !== undefined && low > high) {
    throw new ArgumentError(`Expected \`limits.low\` (${formatNumber(low)}) not to be above \`limits.high\` (${formatNumber(high)})`);
  }
  if (low === undefined && high === undefined) return { outcome: 'recorded', rule: name, guardBand: w };
  // Each side against its acceptance, tolerance and rejection limit; the worse side decides.
  const sides: { zone: Zone; side: 'low' | 'high'; limit: number }[] = [];
  if (low !== undefined) sides.push({ zone: zoneOf(-value, -low, w), side: 'low', limit: low });
  if (high !== undefined) sides.push({ zone: zoneOf(value, high, w), side: 'high', limit: high });
  const worst = sides.reduce((a, b) => (SEVERITY[b.zone] > SEVERITY[a.zone] ? b : a));
  const decision: Decision = { outcome: worst.zone, rule: name, guardBand: w };
  return worst.zone === 'pass' ? decision : { ...decision, reason: reasonFor(worst.zone, worst.side, worst.limit, value, unit, w) };
}

/** Zone of `value` against an upper limit (a lower limit is mirrored by negating both). */
function zoneOf(value: number, limit: number, w: number): Zone {
  if (value <= limit - w) return 'pass';
  if (value <= limit) return 'conditional-pass';
  if (value <= limit + w) return 'conditional-fail';
  return 'fail';
}

function reasonFor(zone: Exclude<Zone, 'pass'>, side: 'low' | 'high', limit: number, value: number, unit: string, w: number): string {
  const v = `${formatNumber(value)} ${unit}`;
  const l = `${side} limit ${formatNumber(limit)} ${unit}`;
  const guard = `w = ${formatNumber(w)} ${unit}`;
  const direction = side === 'high' ? 'above' : 'below';
  switch (zone) {
    case 'conditional-pass':
      return `${v} is within the guard band (${guard}) of the ${l}`;
    case 'conditional-fail':
      return `${v} is ${direction} the ${l} by no more than ${guard}`;
    case 'fail':
      return w > 0 ? `${v} is ${direction} the ${l} by more than ${guard}` : `${v} is ${direction} the ${l}`;
  }
}

function guardFraction(rule: Extract<DecisionRule, { kind: 'guard-band' }>): number {
  const fraction = rule.fraction ?? 1;
  requireNumber(fraction, 'rule.fraction', 0);
  return fraction;
}
