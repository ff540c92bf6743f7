/**
 * Judging a measurement against its limits (simple acceptance, ILAC-G8:09 §4.2.1: a value within
 * the limits passes, whatever its uncertainty), with the units converted first, and turning a
 * plan's limits (absolute, or ± a tolerance around the reference such as the channel's MPE) into
 * the record's limits.
 */
import { ValidationError } from '../../sdk/core/errors.js';
import { convertDifference, converter } from '../../sdk/core/units.js';
import type { ChannelModel } from '../../sdk/model/define-device.js';
import type { LimitsSpec } from '../plan/spec.js';
import type { LimitsRecord, Outcome } from '../record/record.js';

/** Name of the decision rule applied to every judged measurement for now. */
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

/**
 * The outcome of `value` (in `unit`) against `limits` (converted from their unit), with the reason
 * when it is not a pass.
 *
 * @example
 * ```ts
 * judge(27.3, 'Cel', { high: 26, unit: 'Cel' }) // { outcome: 'fail', reason: '27.3 Cel above high limit 26 Cel' }
 * judge(300.15, 'K', { low: 20, high: 30, unit: 'Cel' }) // { outcome: 'pass' }
 * ```
 */
export function judge(value: number | null, unit: string, limits: LimitsRecord | undefined): { outcome: Outcome; reason?: string } {
  if (limits === undefined) return { outcome: 'recorded' };
  if (value === null || !Number.isFinite(value)) return { outcome: 'fail', reason: 'no value to judge' };
  const toUnit = converter(limits.unit, unit);
  const low = limits.low === undefined ? undefined : toUnit(limits.low);
  const high = limits.high === undefined ? undefined : toUnit(limits.high);
  if (low !== undefined && value < low) return { outcome: 'fail', reason: `${formatValue(value)} ${unit} below low limit ${formatValue(low)} ${unit}` };
  if (high !== undefined && value > high) return { outcome: 'fail', reason: `${formatValue(value)} ${unit} above high limit ${formatValue(high)} ${unit}` };
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
      low: reference - tolerance,
      high: reference + tolerance,
      unit,
      basis: spec.basis ?? `${named} ±${formatValue(tolerance)} ${unit} around the reference`,
    };
  }
  const toUnit = converter(spec.unit, unit);
  return {
    ...(spec.low === undefined ? {} : { low: toUnit(spec.low) }),
    ...(spec.high === undefined ? {} : { high: toUnit(spec.high) }),
    unit,
    ...(spec.basis === undefined ? {} : { basis: spec.basis }),
  };
}
