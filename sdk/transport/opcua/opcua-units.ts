/**
 * SenML units (RFC 8428 §12.1, RFC 8798) as OPC UA engineering units: UNECE Recommendation 20
 * common codes and the `EUInformation` an `AnalogItemType` carries (IEC 62541-8 §5.6.3).
 *
 * Every unit `sdk/core/units.ts` knows has a row here (a test walks the model's list). A unit with
 * no Rec 20 code of its own (dBW, a var-second …) says so with `code: null`; its `EUInformation`
 * then has unitId −1, "no unit id" (IEC 62541-8 §5.6.3), and still names the unit in its display
 * name and description. Several SenML units share a code where Rec 20 has one unit for them
 * (`%`, `%RH`, `%EL` and `/100` are all P1, percent); the display name keeps the SenML symbol.
 */
import { unitInfo } from '../../core/units.js';
import { UnitError } from '../../core/errors.js';

/** Namespace of UNECE codes in `EUInformation.namespaceUri` (IEC 62541-8 §5.6.3). */
export const UNECE_NAMESPACE_URI = 'http://www.opcfoundation.org/UA/units/un/cefact';

/** What an OPC UA `EUInformation` holds, as plain data. */
export interface EngineeringUnits {
  readonly namespaceUri: string;
  /** The Rec 20 code as an integer (see {@link uneceUnitId}), or −1 when there is none. */
  readonly unitId: number;
  /** Shown to people: the SenML symbol, or the Rec 20 symbol where it is more familiar (°C, Ω). */
  readonly displayName: string;
  readonly description: string;
  /** The Rec 20 common code, or null when Rec 20 has none for this unit. */
  readonly code: string | null;
}

type Row = readonly [code: string | null, display?: string];

// SenML symbol → Rec 20 common code (and a display symbol when SenML's is not what people read).
const REC20: Readonly<Record<string, Row>> = {
  // RFC 8428 §12.1
  m: ['MTR'],
  kg: ['KGM'],
  g: ['GRM'],
  s: ['SEC'],
  A: ['AMP'],
  K: ['KEL'],
  cd: ['CDL'],
  mol: ['C34'],
  Hz: ['HTZ'],
  rad: ['C81'],
  sr: ['D27'],
  N: ['NEW'],
  Pa: ['PAL'],
  J: ['JOU'],
  W: ['WTT'],
  C: ['COU'],
  V: ['VLT'],
  F: ['FAR'],
  Ohm: ['OHM', 'Ω'],
  S: ['SIE'],
  Wb: ['WEB'],
  T: ['D33'],
  H: ['81'],
  Cel: ['CEL', '°C'],
  lm: ['LUM'],
  lx: ['LUX'],
  Bq: ['BQL'],
  Gy: ['A95'],
  Sv: ['D13'],
  kat: ['KAT'],
  m2: ['MTK', 'm²'],
  m3: ['MTQ', 'm³'],
  l: ['LTR'],
  'm/s': ['MTS'],
  'm/s2': ['MSK', 'm/s²'],
  'm3/s': ['MQS', 'm³/s'],
  'l/s': ['G51'],
  'W/m2': ['D54', 'W/m²'],
  'cd/m2': ['A24', 'cd/m²'],
  bit: ['A99'],
  'bit/s': ['B10'],
  // Latitude and longitude are angles in degrees.
  lat: ['DD'],
  lon: ['DD'],
  pH: ['Q30'],
  dB: ['2N'],
  // A level relative to 1 W: Rec 20 has decibel (2N) only, which would lose the reference.
  dBW: [null],
  // Bel of sound pressure level: Rec 20's bel (M72).
  Bspl: ['M72'],
  count: ['C62'],
  '/': ['C62'],
  '%': ['P1'],
  '%RH': ['P1'],
  '%EL': ['P1'],
  // Remaining battery time, in seconds.
  EL: ['SEC'],
  '1/s': ['C97', 's⁻¹'],
  '1/min': ['C94', 'min⁻¹'],
  'beat/min': ['C94'],
  beats: ['C62'],
  'S/m': ['D10'],
  B: ['AD'],
  VA: ['D46', 'V·A'],
  // Volt-ampere second, var second, var hour, watt-hour per kilometre, megabyte per second: no Rec 20 code.
  VAs: [null],
  var: ['D44'],
  vars: [null],
  'J/m': ['B12'],
  'kg/m3': ['KMQ', 'kg/m³'],
  deg: ['DD', '°'],
  // RFC 8798 §3
  ms: ['C26'],
  min: ['MIN'],
  h: ['HUR'],
  MHz: ['MHZ'],
  kW: ['KWT'],
  kVA: ['KVA', 'kV·A'],
  kvar: ['KVR'],
  Ah: ['AMH', 'A·h'],
  kWh: ['KWH', 'kW·h'],
  varh: [null],
  kvarh: ['K3'],
  kVAh: ['C79'],
  'Wh/km': [null],
  KiB: ['E64'],
  GB: ['E34'],
  'Mbit/s': ['E20'],
  'B/s': ['P93'],
  'MB/s': [null],
  mV: ['2Z'],
  mA: ['4K'],
  dBm: [null],
  'ug/m3': ['GQ', 'µg/m³'],
  'mm/h': ['H67'],
  'm/h': ['M60'],
  ppm: ['59'],
  '/100': ['P1', '%'],
  '/1000': ['NX', '‰'],
  hPa: ['A97'],
  mm: ['MMT'],
  cm: ['CMT'],
  km: ['KMT'],
  'km/h': ['KMH'],
  // Engineering units sensorkit converts for display (not SenML)
  kPa: ['KPA'],
  MPa: ['MPA'],
  bar: ['BAR'],
  mbar: ['MBR'],
  psi: ['PS', 'lbf/in²'],
  g0: ['K40', 'gn'],
  degF: ['FAH', '°F'],
  uA: ['B84', 'µA'],
  'mm/s': ['C16'],
};

/**
 * The `unitId` of a Rec 20 common code: its characters (ASCII, at most three) as one big-endian
 * integer, first character highest (IEC 62541-8 §5.6.3).
 *
 * @example
 * ```ts
 * uneceUnitId('CEL') // 4408652 (0x43454C)
 * uneceUnitId('4K')  // 13387 (0x344B)
 * ```
 */
export function uneceUnitId(code: string): number {
  if (!/^[A-Z0-9]{1,3}$/.test(code)) throw new UnitError(`"${code}" is not a UNECE Rec 20 common code (1–3 upper-case letters or digits)`);
  let id = 0;
  for (let i = 0; i < code.length; i++) id = id * 256 + code.charCodeAt(i);
  return id;
}

/**
 * The UNECE Rec 20 common code of a SenML unit, or null when Rec 20 has none for it. Throws
 * `UnitError` for a unit sensorkit does not know.
 *
 * @example
 * ```ts
 * uneceCode('hPa') // 'A97'
 * uneceCode('dBW') // null
 * ```
 */
export function uneceCode(senmlUnit: string): string | null {
  const row = REC20[senmlUnit];
  if (row === undefined) throw new UnitError(`no UNECE mapping for unit "${senmlUnit}"`);
  return row[0];
}

/**
 * The OPC UA engineering units of a SenML unit, for an `AnalogItemType`'s `EngineeringUnits`.
 *
 * @example
 * ```ts
 * engineeringUnits('Cel')
 * // { namespaceUri: 'http://www.opcfoundation.org/UA/units/un/cefact', unitId: 4408652,
 * //   displayName: '°C', description: 'degrees Celsius', code: 'CEL' }
 * ```
 */
export function engineeringUnits(senmlUnit: string): EngineeringUnits {
  const row = REC20[senmlUnit];
  const info = unitInfo(senmlUnit);
  if (row === undefined || info === undefined) throw new UnitError(`no UNECE mapping for unit "${senmlUnit}"`);
  const [code, display] = row;
  return {
    namespaceUri: UNECE_NAMESPACE_URI,
    unitId: code === null ? -1 : uneceUnitId(code),
    displayName: display ?? senmlUnit,
    description: info.description,
    code,
  };
}

/** Every SenML symbol with a row in the table (for tests and documentation). */
export function mappedUnits(): readonly string[] {
  return Object.keys(REC20);
}
