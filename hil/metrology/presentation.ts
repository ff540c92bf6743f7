/**
 * Stating a result with its uncertainty (JCGM 100 §7.2.2, §7.2.6): the expanded uncertainty
 * rounded to two significant digits (rounded up, never down, so the interval is not made smaller),
 * the value rounded to the same decimal place, written as `(value ± U) unit` with k and the coverage
 * probability.
 */
import type { UncertaintyRecord } from '../record/record.js';
import { requireNumber } from './statistics.js';

/** A value and its expanded uncertainty rounded together. */
export interface RoundedResult {
  readonly value: number;
  readonly expanded: number;
  /** Decimal places of both (negative: tens, hundreds …). */
  readonly decimals: number;
}

/**
 * Rounds U up to `digits` significant digits and the value to the same decimal place.
 *
 * @example
 * ```ts
 * roundToUncertainty(0.123456, 0.05231) // { value: 0.123, expanded: 0.053, decimals: 3 }
 * roundToUncertainty(101325.4, 12.3)    // { value: 101325, expanded: 13, decimals: 0 }
 * ```
 */
export function roundToUncertainty(value: number, expanded: number, digits = 2): RoundedResult {
  requireNumber(value, 'value');
  requireNumber(expanded, 'expanded', 0);
  if (expanded === 0) return { value, expanded, decimals: Infinity };
  const decimals = digits - 1 - Math.floor(Math.log10(expanded));
  const scale = 10 ** decimals;
  // Guard against U sitting just below a power of ten after rounding up (0.0999 → 0.10).
  const roundedU = Math.ceil(Number((expanded * scale).toPrecision(12))) / scale;
  const places = roundedU >= 10 ** (digits - decimals) ? decimals - 1 : decimals;
  const placesScale = 10 ** places;
  return {
    value: Math.round(value * placesScale) / placesScale,
    expanded: Math.ceil(Number((expanded * placesScale).toPrecision(12))) / placesScale,
    decimals: places,
  };
}

/**
 * Writes `(value ± U) unit, k = …, p = 95 %` with U to two significant digits.
 *
 * @example
 * ```ts
 * formatWithUncertainty(0.123456, 'Cel', { expanded: 0.05231, coverageFactor: 2, coverageProbability: 0.95 })
 * // '(0.123 ± 0.053) Cel, k = 2.00, p = 95 %'
 * ```
 */
export function formatWithUncertainty(
  value: number,
  unit: string,
  uncertainty: Pick<UncertaintyRecord, 'expanded' | 'coverageFactor' | 'coverageProbability'>,
): string {
  const rounded = roundToUncertainty(value, uncertainty.expanded);
  const fixed = (x: number): string => (Number.isFinite(rounded.decimals) ? x.toFixed(Math.max(0, rounded.decimals)) : String(x));
  const probability = `${Number((uncertainty.coverageProbability * 100).toPrecision(4))} %`;
  return `(${fixed(rounded.value)} ± ${fixed(rounded.expanded)}) ${unit}, k = ${uncertainty.coverageFactor.toFixed(2)}, p = ${probability}`;
}
