/**
 * Strict ISO 8601 dates for calibration records. `Date.parse` is too lenient for a validity date
 * (it accepts "March 7", rolls 2027-02-30 over to March, and reads a date-time without a zone in the
 * host's local time), so the two profiles of RFC 3339 §5.6 a certificate uses are parsed here.
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;

/**
 * A parsed ISO 8601 date or date-time.
 *
 * @example
 * ```ts
 * parseIsoInstant('2027-06-30') // { ms: 1814313600000, dateOnly: true }
 * ```
 */
export interface IsoInstant {
  /** The instant in ms since the epoch; a date alone is 00:00 UTC of that day. */
  readonly ms: number;
  /** True when only a date (no time of day) was given. */
  readonly dateOnly: boolean;
}

/**
 * Parses `YYYY-MM-DD` (a UTC calendar day) or `YYYY-MM-DDThh:mm[:ss[.fff]]` with `Z` or a `±hh:mm`
 * offset. Returns undefined for anything else, including impossible dates (2027-02-30).
 *
 * @example
 * ```ts
 * parseIsoInstant('2027-06-30')?.ms            // Date.UTC(2027, 5, 30)
 * parseIsoInstant('2027-06-30T12:00+02:00')?.ms // Date.UTC(2027, 5, 30, 10)
 * parseIsoInstant('30/06/2027')                 // undefined
 * ```
 */
export function parseIsoInstant(text: string): IsoInstant | undefined {
  const date = DATE.exec(text);
  if (date !== null) {
    const ms = calendarDay(Number(date[1]), Number(date[2]), Number(date[3]));
    return ms === undefined ? undefined : { ms, dateOnly: true };
  }
  const match = DATE_TIME.exec(text);
  if (match === null) return undefined;
  const day = calendarDay(Number(match[1]), Number(match[2]), Number(match[3]));
  const hours = Number(match[4]);
  const minutes = Number(match[5]);
  const seconds = Number(match[6] ?? '0');
  const fraction = Number(match[7] ?? '0');
  if (day === undefined || hours > 23 || minutes > 59 || seconds > 59) return undefined;
  let offsetMinutes = 0;
  if (match[8] !== 'Z') {
    const offsetHours = Number(match[9]);
    const offsetMins = Number(match[10]);
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (match[8]!.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const ms = day + ((hours * 60 + minutes - offsetMinutes) * 60 + seconds + fraction) * 1000;
  return { ms, dateOnly: false };
}

/** 00:00 UTC of a calendar day, or undefined when the day does not exist. */
function calendarDay(year: number, month: number, day: number): number | undefined {
  if (month < 1 || month > 12 || day < 1) return undefined;
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999. Both roll day 31 of a
  // 30-day month over: a date that does not survive the round trip does not exist.
  const ms = new Date(0).setUTCFullYear(year, month - 1, day);
  return new Date(ms).getUTCDate() === day ? ms : undefined;
}
