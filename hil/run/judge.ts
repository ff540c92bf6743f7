/**
 * Judging a measurement of a basic `measure` step or a custom step against its limits, with the
 * units converted first, and turning a plan's limits (absolute, or ± a tolerance around the
 * reference such as the channel's MPE) into the record's limits. The rule here is simple acceptance
 * (ILAC-G8:09 §4.2.1: a value within the limits passes, whatever its uncertainty); the metrology
 * method steps decide with their own rules (guard bands, hil/metrology/decision.ts).
 *
 * Limits are inclusive. A limit stated in another unit goes through floating point (25 Cel is
 * 76.99999999999997 degF), so converted limits and references are rounded to 12 significant digits,
 * and a value within 1e-12 (relative) of a limit is on it: far below any instrument's resolution,
 * far above the few ulps a conversion costs.
 */
import { ValidationError } from '../../sdk/core/errors.js';
import { convertDifference, converter } from '../../sdk/core/units.js';
import type { ChannelModel } from '../../sdk/model/define-device.js';
import type { LimitsSpec } from '../plan/spec.js';
import type { LimitsRecord, Outcome } from '../record/record.js';

/** Name of the decision rule {@link judge} applies. */
export const SIMPLE_ACCEPTANCE = 'simple acceptance (ILAC-G8:09 §4.2.1)';

/**
 * A number for a one-line message: at most six significant digits, no trailing zeros.
 *
 * @example
 * ```ts
 * formatValue(25.000000001) // '25'
 * ```
 */
export function formatValue(value: number): string {
  return String(Number(value.toPrecision(6)));
}

/** Relative slack of an inclusive limit (see the module comment). */
const ON_LIMIT = 1e-12;

/**
 * A converted value without the conversion's last-digit noise: rounded to 12 significant digits.
 *
 * @example
 * ```ts
 * converted(converter('Cel', 'degF')(25)) // 77 (not 76.99999999999997)
 * ```
 */
export function converted(value: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(12)) : value;
}

/**
 * The outcome of `value` (in `unit`) against `limits` (converted from their unit), with the reason
 * when it is not a pass. The limits are inclusive, within 1e-12 relative of the larger of the
 * value, the limit and the conversion's offset (a value exactly on a limit stated in another unit
 * is on it).
 *
 * @example
 * ```ts
 * judge(27.3, 'Cel', { high: 26, unit: 'Cel' }) // { outcome: 'fail', reason: '27.3 Cel above high limit 26 Cel' }
 * judge(300.15, 'K', { low: 20, high: 30, unit: 'Cel' }) // { outcome: 'pass' }
 * judge(77, 'degF', { high: 25, unit: 'Cel' })           // { outcome: 'pass' }: on the limit
 * ```
 */
export function judge(value: number | null, unit: string, limits: LimitsRecord | undefined): { outcome: Outcome; reason?: string } {
  if (limits === undefined) return { outcome: 'recorded' };
  if (value === null || !Number.isFinite(value)) return { outcome: 'fail', reason: 'no value to judge' };
  const toUnit = converter(limits.unit, unit);
  const offset = Math.abs(toUnit(0));
  const slack = (limit: number): number => ON_LIMIT * Math.max(Math.abs(value), Math.abs(limit), offset);
  const low = limits.low === undefined ? undefined : converted(toUnit(limits.low));
  const high = limits.high === undefined ? undefined : converted(toUnit(limits.high));
  if (low !== undefined && value < low - slack(low)) return { outcome: 'fail', reason: `${formatValue(value)} ${unit} below low limit ${formatValue(low)} ${unit}` };
  if (high !== undefined && value > high + slack(high)) return { outcome: 'fail', reason: `${formatValue(value)} ${unit} above high limit ${formatValue(high)} ${unit}` };
  return { outcome: 'pass' };
}

/**
 * The record's limits of a plan's limits, in `unit` (the measurement's): absolute limits are
 * converted; a tolerance becomes reference ± tolerance, `'mpe'` being the channel's `accuracy.mpe`.
 *
 * @example
 * ```ts
 * resolveLimits({ tolerance: 'mpe' }, 'Cel', channel, 25) // { low: 24, high: 26, unit: 'Cel', basis: 'MPE ±1 Cel around the reference' }
 * ```
 */
export function resolveLimits(spec: LimitsSpec, unit: string, channel: ChannelModel, reference: number | undefined): LimitsRecord {
  if ('tolerance' in spec) {
    if (reference === undefined) throw new ValidationError('limits.tolerance', 'a tolerance around the reference needs a reference value');
    const factor = spec.factor ?? 1;
    const mpe = spec.tolerance === 'mpe';
    const tolerance = factor * (mpe ? convertDifference(channel.accuracy.mpe, channel.unit, unit) : convertDifference(spec.tolerance as number, spec.unit!, unit));
    const named = mpe ? `${factor === 1 ? '' : `${formatValue(factor)} × `}MPE` : 'tolerance';
    return {
      low: converted(reference - tolerance),
      high: converted(reference + tolerance),
      unit,
      basis: spec.basis ?? `${named} ±${formatValue(tolerance)} ${unit} around the reference`,
    };
  }
  const toUnit = converter(spec.unit, unit);
  return {
    ...(spec.low === undefined ? {} : { low: converted(toUnit(spec.low)) }),
    ...(spec.high === undefined ? {} : { high: converted(toUnit(spec.high)) }),
    unit,
    ...(spec.basis === undefined ? {} : { basis: spec.basis }),
  };
}
