/**
 * sensorkit's SCPI dialect: which command measures or sources each quantity, in which unit, and the
 * parsers of the answers every SCPI instrument gives (IEEE 488.2 `*IDN?`, `SYST:ERR?`, numbers).
 *
 * The default mapping (SCPI-99 command tree; values in SI units):
 *
 * | quantity          | measure          | source      | unit |
 * |-------------------|------------------|-------------|------|
 * | voltage-dc        | `MEAS:VOLT:DC?`  | `SOUR:VOLT` | V    |
 * | current-dc        | `MEAS:CURR:DC?`  | `SOUR:CURR` | A    |
 * | resistance        | `MEAS:RES?`      | `SOUR:RES`  | Ohm  |
 * | temperature       | `MEAS:TEMP?`     | `SOUR:TEMP` | Cel  |
 * | relative-humidity | `MEAS:HUM?`      | `SOUR:HUM`  | %RH  |
 * | pressure          | `MEAS:PRES?`     | `SOUR:PRES` | Pa   |
 *
 * Instruments that speak otherwise get an override per model (the `*IDN?` model field), merged
 * over the default quantity by quantity.
 */
import { describe } from '../../sdk/core/check.js';
import type { InstrumentQuantity } from './instrument.js';

/** How one quantity is measured and sourced on an instrument. */
export interface ScpiQuantityMapping {
  /** The query that answers one reading, e.g. `MEAS:VOLT:DC?`; absent: cannot measure. */
  readonly measure?: string;
  /** The command that sets the output; the value follows after a space, e.g. `SOUR:VOLT`. */
  readonly source?: string;
  /** The unit of the values exchanged (SenML), e.g. `V`, `Cel`, `kPa`. */
  readonly unit: string;
  /** The instrument's stated accuracy ±(% of reading + absolute, in `unit`), reported with each reading. */
  readonly accuracy?: { readonly percentOfReading: number; readonly absolute: number };
}

/** A mapping of quantities to commands. */
export type ScpiDialect = Readonly<Partial<Record<InstrumentQuantity, ScpiQuantityMapping>>>;

/** The default dialect (see the table above). */
export const DEFAULT_SCPI_DIALECT: ScpiDialect = {
  'voltage-dc': { measure: 'MEAS:VOLT:DC?', source: 'SOUR:VOLT', unit: 'V' },
  'current-dc': { measure: 'MEAS:CURR:DC?', source: 'SOUR:CURR', unit: 'A' },
  resistance: { measure: 'MEAS:RES?', source: 'SOUR:RES', unit: 'Ohm' },
  temperature: { measure: 'MEAS:TEMP?', source: 'SOUR:TEMP', unit: 'Cel' },
  'relative-humidity': { measure: 'MEAS:HUM?', source: 'SOUR:HUM', unit: '%RH' },
  pressure: { measure: 'MEAS:PRES?', source: 'SOUR:PRES', unit: 'Pa' },
};

/**
 * Built-in overrides by `*IDN?` model. sensorkit's simulated calibrator answers its set value to
 * `SOUR:…?` (a source has no `MEAS`), as real multifunction calibrators do.
 */
export const SCPI_MODEL_DIALECTS: Readonly<Record<string, ScpiDialect>> = {
  'SIM-CAL': {
    'voltage-dc': { measure: 'SOUR:VOLT?', source: 'SOUR:VOLT', unit: 'V' },
    'current-dc': { measure: 'SOUR:CURR?', source: 'SOUR:CURR', unit: 'A' },
    temperature: { measure: 'SOUR:TEMP?', source: 'SOUR:TEMP', unit: 'Cel' },
    pressure: { measure: 'SOUR:PRES?', source: 'SOUR:PRES', unit: 'Pa' },
  },
};

/**
 * The dialect for an instrument: the default, then the model's override, then the caller's.
 *
 * @example
 * ```ts
 * resolveDialect('34465A', { '34465A': { temperature: { measure: 'MEAS:TEMP? TC,K', unit: 'Cel' } } })
 * ```
 */
export function resolveDialect(model: string | undefined, models: Readonly<Record<string, ScpiDialect>> = {}, override: ScpiDialect = {}): ScpiDialect {
  const byModel = model === undefined ? {} : (models[model] ?? SCPI_MODEL_DIALECTS[model] ?? {});
  return { ...DEFAULT_SCPI_DIALECT, ...byModel, ...override };
}

/** SCPI's "over range" number (SCPI-99 vol. 1 §7.2.1: 9.9E37) and above. */
const OVERLOAD = 9.9e37;
/** An SCPI number: <NR1>, <NR2> or <NR3> (IEEE 488.2 §8.7.2), also NaN / INF as 9.91E37 / ±9.9E37. */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE]\s*[+-]?\d+)?$/;

/** What a number answer turned out to be. */
export type ScpiNumber = { readonly kind: 'number'; readonly value: number } | { readonly kind: 'overload' } | { readonly kind: 'garbled'; readonly detail: string };

/**
 * Parses a numeric answer (surrounding whitespace tolerated).
 *
 * @example
 * ```ts
 * parseScpiNumber(' +1.23450000E+00 \r') // { kind: 'number', value: 1.2345 }
 * parseScpiNumber('9.9E37')              // { kind: 'overload' }
 * parseScpiNumber('OVLD')                // { kind: 'garbled', detail: 'expected a number, got "OVLD"' }
 * ```
 */
export function parseScpiNumber(answer: string): ScpiNumber {
  const text = answer.trim();
  if (!NUMBER.test(text)) return { kind: 'garbled', detail: `expected a number, got ${quote(answer)}` };
  const value = Number(text.replace(/\s+/g, ''));
  if (!Number.isFinite(value) || Math.abs(value) >= OVERLOAD) return { kind: 'overload' };
  return { kind: 'number', value };
}

/** The four fields of an `*IDN?` answer (IEEE 488.2 §10.14). */
export interface ScpiIdentity {
  readonly manufacturer: string;
  readonly model: string;
  readonly serialNumber: string;
  readonly firmware: string;
}

/**
 * Parses an `*IDN?` answer: exactly four comma-separated fields, the first two not empty. Returns a
 * reason (quoting the answer, cut) when it is not one.
 *
 * @example
 * ```ts
 * parseIdn('sensorkit,SIM-DMM,SIM-1,1.0') // { manufacturer: 'sensorkit', model: 'SIM-DMM', serialNumber: 'SIM-1', firmware: '1.0' }
 * parseIdn('%%garbage')                   // 'expected four comma-separated fields (manufacturer,model,serial,firmware), got "%%garbage"'
 * ```
 */
export function parseIdn(answer: string): ScpiIdentity | string {
  const fields = answer.trim().split(',').map((field) => field.trim());
  const printable = /^[\x20-\x7e]*$/;
  if (fields.length !== 4 || fields[0] === '' || fields[1] === '' || !fields.every((field) => printable.test(field))) {
    return `expected four comma-separated fields (manufacturer,model,serial,firmware), got ${quote(answer)}`;
  }
  return { manufacturer: fields[0]!, model: fields[1]!, serialNumber: fields[2]!, firmware: fields[3]! };
}

/**
 * Parses a `SYST:ERR?` answer, `<code>,"<message>"` (SCPI-99 vol. 2 §21.8.8); 0 is no error.
 *
 * @example
 * ```ts
 * parseSystemError('-113,"Undefined header"') // { code: -113, message: 'Undefined header' }
 * parseSystemError('+0,"No error"')           // { code: 0, message: 'No error' }
 * ```
 */
export function parseSystemError(answer: string): { code: number; message: string } | string {
  const match = /^([+-]?\d+)\s*,\s*(.*)$/s.exec(answer.trim());
  if (match === null) return `expected <code>,"<message>", got ${quote(answer)}`;
  const message = match[2]!.trim().replace(/^"(.*)"$/s, '$1');
  return { code: Number(match[1]), message };
}

/**
 * Formats a value for a command (<NRf>): plain decimal or exponent notation with `E`.
 *
 * @example
 * ```ts
 * formatScpiNumber(12)   // '12'
 * formatScpiNumber(1e-7) // '1E-7'
 * ```
 */
export function formatScpiNumber(value: number): string {
  return String(value).replace('e', 'E');
}

/**
 * An answer quoted for a message: JSON-escaped (control characters visible), cut to 60 characters.
 *
 * @example
 * ```ts
 * quote('OVLD\r') // '"OVLD\\r"'
 * ```
 */
export function quote(answer: string): string {
  return describe(answer);
}
