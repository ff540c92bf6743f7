/**
 * Number, unit and duration formatting for the report. Values with an expanded uncertainty are
 * rounded to the decimal place of U's second significant digit (GUM, JCGM 100 §7.2.6); values
 * without one are written to a fixed number of significant digits; declared numbers (limits,
 * settings) are written as declared, without trailing zeros.
 */
import type { Outcome } from '../record/record.js';

/** Display symbols of SenML units whose symbol is not what a reader expects (RFC 8428 §12.1). */
const UNIT_LABELS: Readonly<Record<string, string>> = {
  Cel: '°C',
  Ohm: 'Ω',
  '/': '',
  'm/s2': 'm/s²',
  'm2': 'm²',
  'm3': 'm³',
  'm3/s': 'm³/s',
  'W/m2': 'W/m²',
  'cd/m2': 'cd/m²',
  'kg/m3': 'kg/m³',
  'rad/s': 'rad/s',
};

/**
 * The symbol a reader expects for a SenML unit: `Cel` is written `°C`, `Ohm` `Ω`, `m/s2` `m/s²`,
 * the ratio `/` as nothing; other symbols as they are.
 *
 * @example
 * ```ts
 * unitLabel('Cel') // '°C'
 * ```
 */
export function unitLabel(unit: string): string {
  return UNIT_LABELS[unit] ?? unit;
}

/**
 * A number and its unit, separated by a no-break space (SI Brochure §5.4.3).
 *
 * @example
 * ```ts
 * withUnit('25.03', 'Cel') // '25.03 °C' (with a no-break space)
 * ```
 */
export function withUnit(text: string, unit: string): string {
  const label = unitLabel(unit);
  return label === '' ? text : `${text}\u00a0${label}`;
}

/**
 * Decimal places that show `significant` digits of `x` (0 and above, at most 12).
 *
 * @example
 * ```ts
 * decimalsFor(25.3124, 5) // 3
 * ```
 */
export function decimalsFor(x: number, significant: number): number {
  if (!Number.isFinite(x) || x === 0) return Math.max(0, significant - 1);
  const exponent = Math.floor(Math.log10(Math.abs(x)));
  return Math.min(12, Math.max(0, significant - 1 - exponent));
}

/**
 * Decimal places of an expanded uncertainty written with two significant digits (GUM §7.2.6), the
 * places its value is rounded to.
 *
 * @example
 * ```ts
 * uncertaintyDecimals(0.0734) // 3 (U = 0.073)
 * ```
 */
export function uncertaintyDecimals(expanded: number): number {
  return decimalsFor(expanded, 2);
}

/**
 * A number with a fixed number of decimals; `—` for a missing value, `∞` for infinities, and
 * powers of ten for magnitudes a fixed notation would hide.
 *
 * @example
 * ```ts
 * formatFixed(25.31234, 3) // '25.312'
 * ```
 */
export function formatFixed(x: number | null | undefined, decimals: number): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  const magnitude = Math.abs(x);
  if (magnitude !== 0 && (magnitude >= 1e9 || (magnitude < 1e-6 && decimals > 9))) return scientific(x, 4);
  return minus(x.toFixed(decimals));
}

/**
 * A number to `significant` digits, trailing zeros dropped: for declared numbers (limits, seeds,
 * divisors) and tick labels.
 *
 * @example
 * ```ts
 * formatNumber(26) // '26'
 * formatNumber(0.000012345) // '1.2345×10⁻⁵'
 * ```
 */
export function formatNumber(x: number | null | undefined, significant = 6): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  const magnitude = Math.abs(x);
  if (magnitude !== 0 && (magnitude >= 1e9 || magnitude < 1e-4)) return scientific(x, significant - 1);
  return minus(trimZeros(x.toFixed(decimalsFor(x, significant))));
}

/**
 * A target time or duration in ms as a person reads it: `850 ms`, `12.5 s`, `3 min 20 s`,
 * `2 h 05 min 10 s`.
 *
 * @example
 * ```ts
 * formatDuration(200_500) // '3 min 20.5 s'
 * ```
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const sign = ms < 0 ? '−' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${trimZeros(abs.toFixed(abs < 10 ? 2 : 0))} ms`;
  const totalSeconds = abs / 1000;
  if (totalSeconds < 60) return `${sign}${trimZeros(totalSeconds.toFixed(3))} s`;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds - hours * 3600) / 60);
  const seconds = totalSeconds - hours * 3600 - minutes * 60;
  const s = trimZeros(seconds.toFixed(1));
  if (hours === 0) return `${sign}${minutes} min ${s} s`;
  return `${sign}${hours} h ${String(minutes).padStart(2, '0')} min ${s} s`;
}

/** Display text of an outcome, upper case so it reads without colour: `PASS`, `CONDITIONAL FAIL` … */
export const OUTCOME_TEXT: Readonly<Record<Outcome, string>> = {
  pass: 'PASS',
  fail: 'FAIL',
  'conditional-pass': 'CONDITIONAL PASS',
  'conditional-fail': 'CONDITIONAL FAIL',
  skipped: 'SKIPPED',
  aborted: 'ABORTED',
  recorded: 'RECORDED',
};

/**
 * A plural noun with its count.
 *
 * @example
 * ```ts
 * counted(1, 'measurement') // '1 measurement'
 * counted(5, 'measurement') // '5 measurements'
 * ```
 */
export function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** A typographic minus sign (U+2212) for negative numbers. */
function minus(text: string): string {
  return text.startsWith('-') ? (/^-0(\.0*)?$/.test(text) ? text.slice(1) : `−${text.slice(1)}`) : text;
}

const SUPERSCRIPT = '⁰¹²³⁴⁵⁶⁷⁸⁹';

function scientific(x: number, fractionDigits: number): string {
  const [mantissa, exponent] = x.toExponential(Math.max(0, fractionDigits)).split('e') as [string, string];
  const power = Number(exponent);
  const digits = [...String(Math.abs(power))].map((d) => SUPERSCRIPT[Number(d)]).join('');
  return `${minus(trimZeros(mantissa))}×10${power < 0 ? '⁻' : ''}${digits}`;
}
