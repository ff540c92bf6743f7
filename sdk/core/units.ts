/**
 * Units. Channels declare SenML units (RFC 8428 §12.1 and the secondary units of RFC 8798); values
 * convert between units of the same dimension (Cel/K, Pa/hPa/kPa/bar, m/s2/g …). A few common
 * engineering units that SenML does not register (kPa, bar, g) are accepted for conversion and for
 * display only, never as a channel's unit on the wire.
 */
import { UnitError } from './errors.js';
import { describe } from './check.js';

/** One unit: its symbol, dimension and the affine map to its dimension's base unit. */
export interface UnitInfo {
  /** The unit symbol, exactly as registered (case-sensitive). */
  readonly symbol: string;
  /** What it measures; units convert only within one dimension. */
  readonly dimension: string;
  /** Human description. */
  readonly description: string;
  /** value_in_base = value * scale + offset. */
  readonly scale: number;
  readonly offset: number;
  /** Where the unit is registered: RFC 8428 (primary), RFC 8798 (secondary), or not in SenML. */
  readonly registry: 'rfc8428' | 'rfc8798' | 'none';
  /** Registered but deprecated by RFC 8428 §12.1 (g, l, %). */
  readonly deprecated: boolean;
}

type Row = [symbol: string, dimension: string, description: string, scale?: number, offset?: number];

// RFC 8428 §12.1, in the registry's order. Dimension base units come first in each dimension.
const RFC8428: Row[] = [
  ['m', 'length', 'meter'],
  ['kg', 'mass', 'kilogram'],
  ['g', 'mass', 'gram (deprecated)', 1e-3],
  ['s', 'time', 'second'],
  ['A', 'current', 'ampere'],
  ['K', 'temperature', 'kelvin'],
  ['cd', 'luminous-intensity', 'candela'],
  ['mol', 'amount', 'mole'],
  ['Hz', 'frequency', 'hertz'],
  ['rad', 'angle', 'radian'],
  ['sr', 'solid-angle', 'steradian'],
  ['N', 'force', 'newton'],
  ['Pa', 'pressure', 'pascal'],
  ['J', 'energy', 'joule'],
  ['W', 'power', 'watt'],
  ['C', 'charge', 'coulomb'],
  ['V', 'voltage', 'volt'],
  ['F', 'capacitance', 'farad'],
  ['Ohm', 'resistance', 'ohm'],
  ['S', 'conductance', 'siemens'],
  ['Wb', 'magnetic-flux', 'weber'],
  ['T', 'magnetic-flux-density', 'tesla'],
  ['H', 'inductance', 'henry'],
  ['Cel', 'temperature', 'degrees Celsius', 1, 273.15],
  ['lm', 'luminous-flux', 'lumen'],
  ['lx', 'illuminance', 'lux'],
  ['Bq', 'activity', 'becquerel'],
  ['Gy', 'absorbed-dose', 'gray'],
  ['Sv', 'dose-equivalent', 'sievert'],
  ['kat', 'catalytic-activity', 'katal'],
  ['m2', 'area', 'square meter'],
  ['m3', 'volume', 'cubic meter'],
  ['l', 'volume', 'liter (deprecated)', 1e-3],
  ['m/s', 'velocity', 'meter per second'],
  ['m/s2', 'acceleration', 'meter per square second'],
  ['m3/s', 'volume-flow', 'cubic meter per second'],
  ['l/s', 'volume-flow', 'liter per second', 1e-3],
  ['W/m2', 'irradiance', 'watt per square meter'],
  ['cd/m2', 'luminance', 'candela per square meter'],
  ['bit', 'information', 'bit'],
  ['bit/s', 'data-rate', 'bit per second'],
  ['lat', 'latitude', 'degrees latitude'],
  ['lon', 'longitude', 'degrees longitude'],
  ['pH', 'acidity', 'pH value'],
  ['dB', 'level', 'decibel'],
  ['dBW', 'power-level', 'decibel relative to 1 W'],
  ['Bspl', 'sound-level', 'bel (sound pressure level)'],
  ['count', 'count', '1 (counter value)'],
  ['/', 'ratio', '1 (ratio)'],
  ['%', 'ratio', '1 (ratio, deprecated)', 1e-2],
  ['%RH', 'relative-humidity', 'percentage (relative humidity)'],
  ['%EL', 'remaining-energy', 'percentage (remaining battery energy level)'],
  ['EL', 'remaining-time', 'seconds (remaining battery energy level)'],
  ['1/s', 'event-rate', '1 per second (event rate)'],
  ['1/min', 'event-rate', '1 per minute (event rate)', 1 / 60],
  ['beat/min', 'heart-rate', '1 per minute (heart rate in beats per minute)'],
  ['beats', 'heart-beats', '1 (cumulative number of heart beats)'],
  ['S/m', 'conductivity', 'siemens per meter'],
  ['B', 'information', 'byte', 8],
  ['VA', 'apparent-power', 'volt-ampere'],
  ['VAs', 'apparent-energy', 'volt-ampere second'],
  ['var', 'reactive-power', 'volt-ampere reactive'],
  ['vars', 'reactive-energy', 'volt-ampere reactive second'],
  ['J/m', 'energy-per-distance', 'joule per meter'],
  ['kg/m3', 'density', 'kilogram per cubic meter'],
  ['deg', 'angle', 'degree', Math.PI / 180],
];

// RFC 8798 §3 secondary units (scaled versions of primary units).
const RFC8798: Row[] = [
  ['ms', 'time', 'millisecond', 1e-3],
  ['min', 'time', 'minute', 60],
  ['h', 'time', 'hour', 3600],
  ['MHz', 'frequency', 'megahertz', 1e6],
  ['kW', 'power', 'kilowatt', 1e3],
  ['kVA', 'apparent-power', 'kilovolt-ampere', 1e3],
  ['kvar', 'reactive-power', 'kilovar', 1e3],
  ['Ah', 'charge', 'ampere-hour', 3600],
  ['kWh', 'energy', 'kilowatt-hour', 3.6e6],
  ['varh', 'reactive-energy', 'var-hour', 3600],
  ['kvarh', 'reactive-energy', 'kilovar-hour', 3.6e6],
  ['kVAh', 'apparent-energy', 'kilovolt-ampere-hour', 3.6e6],
  ['Wh/km', 'energy-per-distance', 'watt-hour per kilometer', 3.6],
  ['KiB', 'information', 'kibibyte', 8192],
  ['GB', 'information', 'gigabyte', 8e9],
  ['Mbit/s', 'data-rate', 'megabit per second', 1e6],
  ['B/s', 'data-rate', 'byte per second', 8],
  ['MB/s', 'data-rate', 'megabyte per second', 8e6],
  ['mV', 'voltage', 'millivolt', 1e-3],
  ['mA', 'current', 'milliampere', 1e-3],
  ['dBm', 'power-level', 'decibel relative to 1 mW', 1, -30],
  ['ug/m3', 'density', 'microgram per cubic meter', 1e-9],
  ['mm/h', 'velocity', 'millimeter per hour', 1e-3 / 3600],
  ['m/h', 'velocity', 'meter per hour', 1 / 3600],
  ['ppm', 'ratio', 'parts per million', 1e-6],
  ['/100', 'ratio', '1/100 (percent)', 1e-2],
  ['/1000', 'ratio', '1/1000 (permille)', 1e-3],
  ['hPa', 'pressure', 'hectopascal', 100],
  ['mm', 'length', 'millimeter', 1e-3],
  ['cm', 'length', 'centimeter', 1e-2],
  ['km', 'length', 'kilometer', 1e3],
  ['km/h', 'velocity', 'kilometer per hour', 1 / 3.6],
];

// Not SenML: accepted for conversion and display only.
const ENGINEERING: Row[] = [
  ['kPa', 'pressure', 'kilopascal', 1e3],
  ['MPa', 'pressure', 'megapascal', 1e6],
  ['bar', 'pressure', 'bar', 1e5],
  ['mbar', 'pressure', 'millibar', 100],
  ['psi', 'pressure', 'pound-force per square inch', 6894.757293168361],
  ['g0', 'acceleration', 'standard gravity (9.80665 m/s2)', 9.80665],
  ['degF', 'temperature', 'degrees Fahrenheit', 5 / 9, 273.15 - (32 * 5) / 9],
  ['uA', 'current', 'microampere', 1e-6],
  ['mm/s', 'velocity', 'millimeter per second', 1e-3],
];

function toInfo(registry: UnitInfo['registry']) {
  return ([symbol, dimension, description, scale = 1, offset = 0]: Row): UnitInfo => ({
    symbol,
    dimension,
    description,
    scale,
    offset,
    registry,
    deprecated: registry === 'rfc8428' && description.includes('deprecated'),
  });
}

const UNITS: ReadonlyMap<string, UnitInfo> = new Map(
  [...RFC8428.map(toInfo('rfc8428')), ...RFC8798.map(toInfo('rfc8798')), ...ENGINEERING.map(toInfo('none'))].map(
    (info) => [info.symbol, info],
  ),
);

/** Aliases people type for units that have another symbol; used only to suggest the right one. */
const ALIASES: Readonly<Record<string, string>> = {
  C: 'Cel',
  '°C': 'Cel',
  degC: 'Cel',
  celsius: 'Cel',
  '%rh': '%RH',
  RH: '%RH',
  ohm: 'Ohm',
  'm/s^2': 'm/s2',
  'm/s²': 'm/s2',
};

/**
 * Looks up a unit by its exact symbol.
 *
 * @example
 * ```ts
 * unitInfo('Cel')?.dimension // 'temperature'
 * ```
 */
export function unitInfo(symbol: string): UnitInfo | undefined {
  return UNITS.get(symbol);
}

/** Every known unit (SenML and engineering), in registry order. */
export function allUnits(): readonly UnitInfo[] {
  return [...UNITS.values()];
}

/**
 * Whether `symbol` is registered in SenML (RFC 8428 or RFC 8798) and not deprecated: the units a
 * channel may declare.
 */
export function isSenmlUnit(symbol: string): boolean {
  const info = UNITS.get(symbol);
  return info !== undefined && info.registry !== 'none' && !info.deprecated;
}

/**
 * Explains why `symbol` cannot be a channel unit, with a suggestion, or returns undefined when it can.
 *
 * @example
 * ```ts
 * senmlUnitProblem('°C') // 'unknown unit "°C"; did you mean "Cel"?'
 * ```
 */
export function senmlUnitProblem(symbol: string): string | undefined {
  const info = UNITS.get(symbol);
  if (info === undefined) {
    const suggestion = ALIASES[symbol] ?? [...UNITS.keys()].find((known) => known.toLowerCase() === symbol.toLowerCase());
    return `unknown unit ${describe(symbol)}${suggestion ? `; did you mean "${suggestion}"?` : ' (see RFC 8428 §12.1 and RFC 8798)'}`;
  }
  if (info.deprecated) return `unit "${symbol}" is deprecated by RFC 8428 §12.1; use the base unit of ${info.dimension}`;
  if (info.registry === 'none') {
    const senml = [...UNITS.values()].filter((u) => u.dimension === info.dimension && u.registry !== 'none' && !u.deprecated);
    return `unit "${symbol}" is not a SenML unit; use ${senml.map((u) => `"${u.symbol}"`).join(' or ')} and convert for display`;
  }
  return undefined;
}

/** Whether values in `from` can be converted to `to`. */
export function canConvert(from: string, to: string): boolean {
  const a = UNITS.get(from);
  const b = UNITS.get(to);
  return a !== undefined && b !== undefined && a.dimension === b.dimension;
}

/**
 * Returns a function converting values from one unit to another of the same dimension.
 * Throws `UnitError` for unknown or incompatible units, at setup time rather than per value.
 *
 * @example
 * ```ts
 * const toKelvin = converter('Cel', 'K')
 * toKelvin(25) // 298.15
 * ```
 */
export function converter(from: string, to: string): (value: number) => number {
  const a = UNITS.get(from);
  const b = UNITS.get(to);
  if (a === undefined) throw new UnitError(`unknown unit "${from}"`);
  if (b === undefined) throw new UnitError(`unknown unit "${to}"`);
  if (a.dimension !== b.dimension) {
    throw new UnitError(`cannot convert "${from}" (${a.dimension}) to "${to}" (${b.dimension})`);
  }
  if (a.symbol === b.symbol) return (value) => value;
  const scale = a.scale / b.scale;
  const offset = (a.offset - b.offset) / b.scale;
  return (value) => value * scale + offset;
}

/**
 * Converts one value. Prefer {@link converter} on hot paths.
 *
 * @example
 * ```ts
 * convert(1.01325, 'bar', 'hPa') // 1013.25
 * ```
 */
export function convert(value: number, from: string, to: string): number {
  return converter(from, to)(value);
}

/**
 * Converts a difference (an interval, an uncertainty, a deadband) rather than a point value: the
 * offset does not apply, so 1 Cel of difference is 1 K.
 */
export function convertDifference(value: number, from: string, to: string): number {
  const a = UNITS.get(from);
  const b = UNITS.get(to);
  if (a === undefined || b === undefined || a.dimension !== b.dimension) converter(from, to); // throws the precise error
  return (value * a!.scale) / b!.scale;
}
