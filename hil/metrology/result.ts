/**
 * What every method returns, shaped for a `MeasurementRecord`, and {@link judgeResult}, which adds the
 * limits, the decision under a rule and the target time to make the record.
 */
import type { LimitsRecord, MeasurementRecord, SeriesRecord, UncertaintyRecord } from '../record/record.js';
import { decide, decisionRuleName, type DecisionRule } from './decision.js';

/** One result of a method: a value with its unit and, where it has one, its uncertainty. */
export interface MetrologyResult {
  /** Unique within the method's results, e.g. `error@25Cel`, `linearity-best-fit`. */
  readonly id: string;
  /** The value in `unit`; null when the method could not find it (`reason` says why). */
  readonly value: number | null;
  readonly unit: string;
  /** Number of readings behind `value`. */
  readonly samples: number;
  readonly reference?: { readonly value: number; readonly unit: string; readonly source: string };
  readonly uncertainty?: UncertaintyRecord;
  /** Why `value` is null. */
  readonly reason?: string;
  /** The value is a difference (error, deviation, spread): limits in another unit convert without the units' offset. */
  readonly difference?: boolean;
  readonly series?: readonly SeriesRecord[];
}

/** A judged result: a `MeasurementRecord` whose `time` may be left to the run. */
export type JudgedResult = Omit<MeasurementRecord, 'time'> & { readonly time?: number };

/** What {@link judgeResult} adds to a result. */
export interface JudgeOptions {
  /** Target time of the measurement, ms since the run's start; without it, a plan step's `ctx.record()` stamps it. */
  readonly time?: number;
  readonly channel?: string;
  /** Tolerance limits; without them the outcome is `recorded`. */
  readonly limits?: LimitsRecord;
  /** Default: a guard band w = U when the result has an uncertainty, simple acceptance otherwise. */
  readonly rule?: DecisionRule;
}

/**
 * Turns a method's result into a judged `MeasurementRecord`: the decision rule is named in the
 * record (ISO/IEC 17025 §7.8.6.2). A result without a value and with limits fails with its reason.
 *
 * @example
 * ```ts
 * const [point] = accuracy({ ... }).points
 * judgeResult(point, { time: 12_000, channel: 'temperature', limits: { low: -1, high: 1, unit: 'Cel', basis: 'MPE ±1 Cel' } })
 * // { id: 'error@25Cel', value: 0.12, unit: 'Cel', uncertainty: {…}, decisionRule: 'ILAC-G8:09 guard band w = U', outcome: 'pass', … }
 * ctx.record(judgeResult(point, { channel: 'temperature', limits })) // in a plan step: the run stamps the time
 * ```
 */
export function judgeResult(result: MetrologyResult, options: JudgeOptions & { readonly time: number }): MeasurementRecord;
export function judgeResult(result: MetrologyResult, options: JudgeOptions): JudgedResult;
export function judgeResult(result: MetrologyResult, options: JudgeOptions): JudgedResult {
  const rule: DecisionRule = options.rule ?? (result.uncertainty ? { kind: 'guard-band' } : { kind: 'simple-acceptance' });
  const base = {
    id: result.id,
    ...(options.channel === undefined ? {} : { channel: options.channel }),
    value: result.value,
    unit: result.unit,
    ...(result.reference === undefined ? {} : { reference: result.reference }),
    samples: result.samples,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(result.uncertainty === undefined ? {} : { uncertainty: result.uncertainty }),
    ...(options.time === undefined ? {} : { time: options.time }),
    ...(result.series === undefined ? {} : { series: result.series }),
  };
  const limits = options.limits;
  if (limits === undefined || (limits.low === undefined && limits.high === undefined)) {
    return { ...base, outcome: 'recorded', ...(result.reason === undefined ? {} : { reason: result.reason }) };
  }
  if (result.value === null) {
    return { ...base, decisionRule: decisionRuleName(rule), outcome: 'fail', reason: result.reason ?? 'no value' };
  }
  const decision = decide({
    value: result.value,
    unit: result.unit,
    limits: {
      ...(limits.low === undefined ? {} : { low: limits.low }),
      ...(limits.high === undefined ? {} : { high: limits.high }),
      unit: limits.unit,
    },
    rule,
    ...(result.uncertainty === undefined ? {} : { expanded: result.uncertainty.expanded }),
    ...(result.difference === true ? { difference: true } : {}),
  });
  return { ...base, decisionRule: decision.rule, outcome: decision.outcome, ...(decision.reason === undefined ? {} : { reason: decision.reason }) };
}
