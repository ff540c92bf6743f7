/**
 * SenML (RFC 8428): the record, its labels, resolution (§4.6) and the mapping between sensorkit's
 * `Sample` and a record. The CBOR and JSON representations live in `senml-cbor.ts` and
 * `senml-json.ts`; both build records through {@link setSenmlField}, so they accept the same data.
 *
 * ## sensorkit's extension fields
 * String labels (RFC 8428 §6: extensions never take integer labels), not ending in `_`, so a
 * receiver that does not know them ignores them (§4.4) and still reads the measurement:
 *
 * | label | meaning                                                                 |
 * |-------|-------------------------------------------------------------------------|
 * | `q`   | quality level, `"uncertain"` or `"bad"`; omitted when good               |
 * | `qr`  | why the quality is not good: `out_of_range`, `sensor_fault`, `stale`, `calibration_expired`, `incomplete` |
 * | `cal` | id of the calibration record applied to the value                       |
 * | `unc` | expanded uncertainty (k = 2) of the value, in the record's unit         |
 * | `cmp` | completeness of an aggregate's window, received / expected samples, 0 ≤ cmp < 1; only on a window that missed samples (its `q` is then at least `"uncertain"`) |
 *
 * A sample's `quality.detail` (free text) and `provenance` are static or local details and stay off
 * the wire (RFC 8428 §4.7 sends metadata out of band); they are shown in the device's logs.
 *
 * ## A bad sample without a value
 * A sample whose value is `null` (bad, nothing worth showing) becomes a record with its name, unit,
 * time and `q: "bad"` (and `qr`) but no value field. RFC 8428 §4.2 asks for a value unless a sum is
 * present, while its CDDL (§11) makes the value optional; we chose the record without a value over
 * the alternatives: a made-up number would be read as a measurement by every receiver that ignores
 * `q`, and a must-understand marker (`…_`, §4.4) would make a generic receiver reject the whole pack
 * because of one faulty channel. Such a record keeps the gap visible and in time order.
 * `sensorkit.cddl` describes it.
 */
import { ArgumentError, DecodeError } from '../core/errors.js';
import { GOOD, type Quality, type QualityReason, type Sample } from '../core/sample.js';
import { unitInfo } from '../core/units.js';
import type { WindowCompleteness } from '../sampling/aggregate.js';

/**
 * Media type of SenML-CBOR (RFC 8428 §12.3), what `SenmlCborEncoder` produces.
 *
 * @example
 * ```ts
 * new SenmlCborEncoder().contentType === SENML_CBOR_TYPE // true
 * ```
 */
export const SENML_CBOR_TYPE = 'application/senml+cbor';

/**
 * Media type of SenML-JSON (RFC 8428 §12.3), what `SenmlJsonEncoder` produces.
 *
 * @example
 * ```ts
 * new SenmlJsonEncoder().contentType === SENML_JSON_TYPE // true
 * ```
 */
export const SENML_JSON_TYPE = 'application/senml+json';

/**
 * RFC 8428 §6 Table 4: the integer CBOR key of every registered label.
 *
 * @example
 * ```ts
 * SENML_LABELS.bn // -2
 * ```
 */
export const SENML_LABELS = Object.freeze({ bver: -1, bn: -2, bt: -3, bu: -4, bv: -5, bs: -6, n: 0, u: 1, v: 2, vs: 3, vb: 4, s: 5, t: 6, ut: 7, vd: 8 } as const);

/**
 * A registered SenML label (RFC 8428 §4.3).
 *
 * @example
 * ```ts
 * const label: SenmlLabel = 'bt'
 * ```
 */
export type SenmlLabel = keyof typeof SENML_LABELS;

/**
 * The SenML version this module implements (RFC 8428 §4.4: `bver` defaults to 10).
 *
 * @example
 * ```ts
 * if ((record.bver ?? SENML_VERSION) > SENML_VERSION) console.warn('newer SenML')
 * ```
 */
export const SENML_VERSION = 10;

/**
 * The `bver` of a pack that uses RFC 8798 secondary units in `u`: RFC 9100 §2 reads `bver` as a
 * bitmap of feature codes, §3 keeps codes 0–3 for the base version (0b1010 = 10) and §4 gives
 * "Secondary Units" feature code 4, so the version is 10 + 2^4 = 26.
 *
 * @example
 * ```ts
 * SENML_SECONDARY_UNITS_VERSION // 26
 * ```
 */
export const SENML_SECONDARY_UNITS_VERSION = SENML_VERSION + 2 ** 4;

/**
 * Whether `unit` is an RFC 8798 §3 secondary unit: allowed in `u` (and `bu`) only in a pack whose
 * `bver` has the RFC 9100 §4 "Secondary Units" feature.
 *
 * @example
 * ```ts
 * isSecondaryUnit('hPa') // true
 * isSecondaryUnit('Pa')  // false
 * ```
 */
export function isSecondaryUnit(unit: string): boolean {
  return unitInfo(unit)?.registry === 'rfc8798';
}

/**
 * Whether this module understands SenML version `bver`. RFC 8428 §4.4: versions up to 10. RFC 9100
 * §2.2: above 10, `bver` is a feature bitmap and every feature in it must be understood; the base
 * bits must read 0b1010 (§3: Reserved1 and Reserved3 present, Reserved0 and Reserved2 absent) and
 * the only feature understood beyond them is Secondary Units (code 4, §4), so that leaves 26.
 *
 * @example
 * ```ts
 * isUnderstoodSenmlVersion(26) // true
 * isUnderstoodSenmlVersion(42) // false: feature code 5 is not understood
 * ```
 */
export function isUnderstoodSenmlVersion(bver: number): boolean {
  return Number.isInteger(bver) && bver >= 0 && (bver <= SENML_VERSION || bver === SENML_SECONDARY_UNITS_VERSION);
}

/** Whether a pack of version `bver` may use secondary units (RFC 9100 §4: feature bit 2^4 set). */
function hasSecondaryUnits(bver: number): boolean {
  return bver > SENML_VERSION && Math.floor(bver / 2 ** 4) % 2 === 1;
}

/**
 * sensorkit's extension labels (see the module comment).
 *
 * @example
 * ```ts
 * SENSORKIT_LABELS.calibration // 'cal'
 * ```
 */
export const SENSORKIT_LABELS = Object.freeze({ quality: 'q', reason: 'qr', calibration: 'cal', uncertainty: 'unc', completeness: 'cmp' } as const);

/**
 * One SenML record, labels as in SenML-JSON. `extensions` holds the fields of other extensions,
 * kept as received (RFC 8428 §4.4: unknown fields are ignored, not dropped on decode).
 *
 * @example
 * ```ts
 * const record: SenmlRecord = { bn: 'env-node-EMU-1/', bt: 1767225600, n: 'temperature', u: 'Cel', t: 0, v: 21.5 }
 * ```
 */
export interface SenmlRecord {
  readonly bn?: string;
  readonly bt?: number;
  readonly bu?: string;
  readonly bv?: number;
  readonly bs?: number;
  readonly bver?: number;
  readonly n?: string;
  readonly u?: string;
  readonly v?: number;
  readonly vs?: string;
  readonly vb?: boolean;
  readonly vd?: Uint8Array;
  readonly s?: number;
  readonly t?: number;
  readonly ut?: number;
  /** sensorkit: quality level when not good. */
  readonly q?: 'uncertain' | 'bad';
  /** sensorkit: reason of a quality that is not good. */
  readonly qr?: string;
  /** sensorkit: calibration id. */
  readonly cal?: string;
  /** sensorkit: expanded uncertainty (k = 2). */
  readonly unc?: number;
  /** sensorkit: completeness of an aggregate's window, received / expected, in [0, 1). */
  readonly cmp?: number;
  /** Other extension fields by label. */
  readonly extensions?: ReadonlyMap<string, unknown>;
}

/**
 * A resolved record (RFC 8428 §4.6): full name, absolute time when known, no base fields.
 *
 * @example
 * ```ts
 * const resolved: ResolvedSenmlRecord = { n: 'env-node-EMU-1/temperature', u: 'Cel', t: 1767225600.01, v: 21.5 }
 * ```
 */
export interface ResolvedSenmlRecord extends Omit<SenmlRecord, 'bn' | 'bt' | 'bu' | 'bv' | 'bs' | 'n' | 't'> {
  readonly n: string;
  /** Seconds since the Unix epoch; below 2^28 a time relative to "now" when `now` was not given. */
  readonly t: number;
}

/**
 * Options of {@link resolveSenml}.
 *
 * @example
 * ```ts
 * resolveSenml(records, { now: Date.now() / 1000 })
 * ```
 */
export interface ResolveOptions {
  /**
   * "Now" in seconds since the Unix epoch, to turn relative times (below 2^28, RFC 8428 §4.5.3) into
   * absolute ones. Default: relative times stay relative.
   */
  readonly now?: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A record under construction (decoders fill one through {@link setSenmlField}).
 *
 * @example
 * ```ts
 * const draft: SenmlRecordDraft = { n: 'temperature' }
 * ```
 */
export type SenmlRecordDraft = Mutable<SenmlRecord>;

const FIELD_LABELS = new Set<string>([...Object.keys(SENML_LABELS), ...Object.values(SENSORKIT_LABELS)]);
const VALUE_LABELS = ['v', 'vs', 'vb', 'vd'] as const;
const QUALITY_REASONS: ReadonlySet<string> = new Set<QualityReason>(['out_of_range', 'sensor_fault', 'stale', 'calibration_expired', 'incomplete']);
// RFC 8428 §4.5.1: the characters of a resolved name, starting with a letter or digit.
const NAME = /^[A-Za-z0-9][A-Za-z0-9\-:./_]*$/;
const RELATIVE_LIMIT = 2 ** 28;

/**
 * True for a label with a meaning here: registered (RFC 8428 §4.3) or one of sensorkit's.
 *
 * @example
 * ```ts
 * isSenmlField('bt') // true
 * isSenmlField('foo') // false
 * ```
 */
export function isSenmlField(label: string): boolean {
  return FIELD_LABELS.has(label);
}

/**
 * Sets one known field on a draft record after checking its type; `index` names the record in the
 * error. Byte values (`vd`) arrive as bytes; JSON decoders convert base64url first.
 *
 * @example
 * ```ts
 * const draft: SenmlRecordDraft = {}
 * setSenmlField(draft, 'v', 21.5, 0) // draft.v === 21.5
 * setSenmlField(draft, 'n', 5, 0)    // throws DecodeError (wrong-type)
 * ```
 */
export function setSenmlField(draft: SenmlRecordDraft, label: string, value: unknown, index: number): void {
  const fields = draft as Record<string, unknown>;
  switch (label) {
    case 'n':
    case 'u':
    case 'bn':
    case 'bu':
    case 'vs':
    case 'qr':
    case 'cal':
      if (typeof value !== 'string') throw wrongType(index, label, 'a string', value);
      break;
    case 'v':
    case 't':
    case 'bt':
    case 'bv':
    case 'bs':
    case 's':
    case 'ut':
    case 'unc':
    case 'cmp':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw wrongType(index, label, 'a finite number', value);
      if (label === 'unc' && value < 0) throw wrongType(index, label, 'a number ≥ 0', value);
      if (label === 'cmp' && !(value >= 0 && value <= 1)) throw wrongType(index, label, 'a number from 0 to 1', value);
      break;
    case 'bver':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw wrongType(index, label, 'an unsigned integer', value);
      if (!isUnderstoodSenmlVersion(value)) throw new DecodeError('must-understand', versionProblem(index, value));
      break;
    case 'vb':
      if (typeof value !== 'boolean') throw wrongType(index, label, 'a boolean', value);
      break;
    case 'vd':
      if (!(value instanceof Uint8Array)) throw wrongType(index, label, 'a byte string', value);
      value = new Uint8Array(value); // a copy: never a view into the received buffer
      break;
    case 'q':
      if (value !== 'uncertain' && value !== 'bad') throw wrongType(index, label, '"uncertain" or "bad"', value);
      break;
    default:
      throw new DecodeError('unknown-label', `record ${index}: "${label}" is not a SenML field`);
  }
  fields[label] = value;
}

/**
 * Checks a complete draft: at most one value field (RFC 8428 §4.2).
 *
 * @example
 * ```ts
 * checkSenmlRecord({ v: 1, vs: 'a' }, 3) // throws DecodeError (wrong-type)
 * ```
 */
export function checkSenmlRecord(draft: SenmlRecord, index: number): void {
  let values = 0;
  for (const label of VALUE_LABELS) if (draft[label] !== undefined) values++;
  if (values > 1) throw new DecodeError('wrong-type', `record ${index}: more than one value field (RFC 8428 §4.2)`);
}

/**
 * Checks what spans records of a pack: a unit (`u`, or `bu` for the records after it) that is an
 * RFC 8798 secondary unit needs a `bver` with the RFC 9100 §4 feature (26) in force at that record
 * (RFC 8428 §4.4: `bver` applies to the records after it too). Throws `DecodeError` (wrong-type)
 * naming the record; both decoders call it on every pack, {@link resolveSenml} too.
 *
 * @example
 * ```ts
 * checkSenmlPack([{ n: 'p', u: 'hPa', v: 1013 }])             // throws DecodeError
 * checkSenmlPack([{ bver: 26, n: 'p', u: 'hPa', v: 1013 }])   // passes
 * ```
 */
export function checkSenmlPack(records: readonly SenmlRecord[]): void {
  let bver = SENML_VERSION;
  let bu: string | undefined;
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!;
    if (record.bver !== undefined) bver = record.bver;
    if (record.bu !== undefined) bu = record.bu;
    if (!isUnderstoodSenmlVersion(bver)) throw new DecodeError('must-understand', versionProblem(index, bver));
    if (hasSecondaryUnits(bver)) continue;
    const unit = record.u ?? bu;
    if (unit !== undefined && isSecondaryUnit(unit)) {
      throw new DecodeError(
        'wrong-type',
        `record ${index}: unit "${unit}" is an RFC 8798 secondary unit, allowed only with bver ${SENML_SECONDARY_UNITS_VERSION} (RFC 9100 §4), but the pack's bver is ${bver}`,
      );
    }
  }
}

/**
 * Resolves a pack (RFC 8428 §4.6): base name + name, base time + time, base unit when the record has
 * none, base value + value, base sum + sum; `bver` kept only when not 10; records in chronological
 * order (a stable sort). Unknown base extensions (labels starting with `b`) cannot be resolved and
 * are left out (§4.4: ignored); other extensions are kept. Throws `DecodeError` for a name outside
 * §4.5.1, a version it does not understand ({@link isUnderstoodSenmlVersion}), or a secondary unit
 * without the RFC 9100 feature ({@link checkSenmlPack}).
 *
 * @example
 * ```ts
 * resolveSenml([{ bn: 'dev/', bt: 1767225600, n: 'a', u: 'Cel', t: 0.5, v: 21 }])
 * // [{ n: 'dev/a', u: 'Cel', t: 1767225600.5, v: 21 }]
 * ```
 */
export function resolveSenml(records: readonly SenmlRecord[], options: ResolveOptions = {}): ResolvedSenmlRecord[] {
  const now = options.now;
  if (now !== undefined && !Number.isFinite(now)) throw new ArgumentError(`Expected \`now\` to be a finite number of seconds, got ${String(now)}`);
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv: number | undefined;
  let bs: number | undefined;
  let bver = SENML_VERSION;
  checkSenmlPack(records);
  const resolved: Array<Mutable<ResolvedSenmlRecord>> = [];
  records.forEach((record, index) => {
    if (record.bn !== undefined) bn = record.bn;
    if (record.bt !== undefined) bt = record.bt;
    if (record.bu !== undefined) bu = record.bu;
    if (record.bv !== undefined) bv = record.bv;
    if (record.bs !== undefined) bs = record.bs;
    if (record.bver !== undefined) bver = record.bver;
    if (!isUnderstoodSenmlVersion(bver)) throw new DecodeError('must-understand', versionProblem(index, bver));
    const name = bn + (record.n ?? '');
    if (!NAME.test(name)) throw new DecodeError('wrong-type', `record ${index}: name ${JSON.stringify(name)} is not a SenML name (RFC 8428 §4.5.1)`);
    let time = bt + (record.t ?? 0);
    if (time < RELATIVE_LIMIT && now !== undefined) time += now;
    const out: Mutable<ResolvedSenmlRecord> = { n: name, t: time };
    const unit = record.u ?? bu;
    if (unit !== undefined) out.u = unit;
    if (record.v !== undefined) out.v = (bv ?? 0) + record.v;
    else if (bv !== undefined && record.vs === undefined && record.vb === undefined && record.vd === undefined) out.v = bv;
    if (record.vs !== undefined) out.vs = record.vs;
    if (record.vb !== undefined) out.vb = record.vb;
    if (record.vd !== undefined) out.vd = record.vd;
    if (record.s !== undefined || bs !== undefined) out.s = (bs ?? 0) + (record.s ?? 0);
    if (record.ut !== undefined) out.ut = record.ut;
    if (record.q !== undefined) out.q = record.q;
    if (record.qr !== undefined) out.qr = record.qr;
    if (record.cal !== undefined) out.cal = record.cal;
    if (record.unc !== undefined) out.unc = record.unc;
    if (record.cmp !== undefined) out.cmp = record.cmp;
    if (bver !== SENML_VERSION) out.bver = bver;
    if (record.extensions) {
      const kept = new Map([...record.extensions].filter(([label]) => !label.startsWith('b')));
      if (kept.size > 0) out.extensions = kept;
    }
    resolved.push(out);
  });
  return resolved.sort((a, b) => a.t - b.t); // Array.prototype.sort is stable (ES2019)
}

/**
 * The record of one sample in a pack whose base time is `baseTime` (ms since the epoch): `n` channel,
 * `u` unit, `t` seconds after the base time, `v` unless null, and the extension fields.
 *
 * @example
 * ```ts
 * sampleToRecord({ channel: 'temperature', time: 1767225600010, value: 21.5, unit: 'Cel', quality: GOOD }, 1767225600000)
 * // { n: 'temperature', u: 'Cel', t: 0.01, v: 21.5 }
 * ```
 */
export function sampleToRecord(sample: Sample, baseTime: number): SenmlRecord {
  const record: SenmlRecordDraft = { n: sample.channel, u: sample.unit, t: (sample.time - baseTime) / 1000 };
  if (sample.value !== null) record.v = sample.value;
  if (sample.quality.level !== 'good') {
    record.q = sample.quality.level;
    if (sample.quality.reason !== undefined) record.qr = sample.quality.reason;
  }
  if (sample.calibrationId !== undefined) record.cal = sample.calibrationId;
  if (sample.uncertainty !== undefined) record.unc = sample.uncertainty;
  const completeness = windowCompleteness(sample);
  if (completeness !== undefined) record.cmp = completeness;
  return record;
}

/**
 * The `cmp` of a sample: received / expected of an aggregate window that missed samples (the device
 * adds `completeness` to such a sample), otherwise undefined.
 *
 * @example
 * ```ts
 * windowCompleteness({ ...sample, completeness: { expected: 1000, received: 987 } } as Sample) // 0.987
 * ```
 */
export function windowCompleteness(sample: Sample): number | undefined {
  const completeness = (sample as Sample & { readonly completeness?: WindowCompleteness }).completeness;
  if (completeness === undefined || !(completeness.expected > 0) || !(completeness.received < completeness.expected)) return undefined;
  return Math.max(0, completeness.received) / completeness.expected;
}

/**
 * Whether a batch has a sample in an RFC 8798 secondary unit, so that its pack needs
 * `bver` = {@link SENML_SECONDARY_UNITS_VERSION} (RFC 9100 §4).
 *
 * @example
 * ```ts
 * needsSecondaryUnits([{ channel: 'p', time: 0, value: 1013, unit: 'hPa', quality: GOOD }]) // true
 * ```
 */
export function needsSecondaryUnits(samples: readonly Sample[]): boolean {
  for (let i = 0; i < samples.length; i++) if (isSecondaryUnit(samples[i]!.unit)) return true;
  return false;
}

/**
 * The pack of a batch, as the encoders write it: the first record also carries `bn` = `<deviceId>/`
 * and `bt` = the first sample's time in seconds since the epoch, and `bver` = 26 when a sample's
 * unit is an RFC 8798 secondary unit (RFC 9100 §4; packs of primary units stay version 10 without
 * `bver`); every record has `n`, `u` and `t`.
 *
 * @example
 * ```ts
 * samplesToPack('env-node-EMU-1', samples)[0] // { bn: 'env-node-EMU-1/', bt: 1767225600, n: 'temperature', u: 'Cel', t: 0, v: 21.5 }
 * ```
 */
export function samplesToPack(deviceId: string, samples: readonly Sample[]): SenmlRecord[] {
  const first = samples[0];
  if (first === undefined) throw new ArgumentError('Expected `samples` to hold at least one sample (a SenML pack has one record or more, RFC 8428 §11)');
  const head: SenmlRecordDraft = needsSecondaryUnits(samples) ? { bver: SENML_SECONDARY_UNITS_VERSION } : {};
  return samples.map((sample, index) => {
    const record = sampleToRecord(sample, first.time);
    return index === 0 ? { ...head, bn: `${deviceId}/`, bt: first.time / 1000, ...record } : record;
  });
}

/**
 * The sample of a resolved record of device `deviceId` (its name must be `<deviceId>/<channel>`).
 * Times come back in ms, rounded to 10 µs (so integer ms come back exactly). Throws `DecodeError` (wrong-type) for a record
 * of another device or one with a string, boolean or data value.
 *
 * @example
 * ```ts
 * resolvedToSample({ n: 'dev/temperature', u: 'Cel', t: 1767225600.01, v: 21.5 }, 'dev')
 * // { channel: 'temperature', time: 1767225600010, value: 21.5, unit: 'Cel', quality: { level: 'good' } }
 * ```
 */
export function resolvedToSample(record: ResolvedSenmlRecord, deviceId: string): Sample {
  const prefix = `${deviceId}/`;
  if (!record.n.startsWith(prefix) || record.n.length === prefix.length) {
    throw new DecodeError('wrong-type', `record "${record.n}" is not a channel of device "${deviceId}"`);
  }
  if (record.vs !== undefined || record.vb !== undefined || record.vd !== undefined) {
    throw new DecodeError('wrong-type', `record "${record.n}" has a string, boolean or data value; samples are numeric`);
  }
  let quality: Quality = GOOD;
  if (record.q !== undefined) {
    const reason = record.qr;
    if (reason === undefined) quality = { level: record.q };
    else if (QUALITY_REASONS.has(reason)) quality = { level: record.q, reason: reason as QualityReason };
    else quality = { level: record.q, detail: reason };
  }
  const sample: Mutable<Sample> = {
    channel: record.n.slice(prefix.length),
    // A double of seconds near 2^31 resolves ~0.5 µs; 10 µs steps are exact to the year 2200.
    time: Math.round(record.t * 1e5) / 1e2,
    value: record.v ?? null,
    unit: record.u ?? '',
    quality,
  };
  if (record.unc !== undefined) sample.uncertainty = record.unc;
  if (record.cal !== undefined) sample.calibrationId = record.cal;
  // The window's counts stay with the device; the ratio comes back as the quality's detail.
  if (record.cmp !== undefined && quality.detail === undefined) sample.quality = { ...quality, detail: `completeness ${record.cmp.toFixed(3)}` };
  return sample;
}

/**
 * The samples of a pack of device `deviceId`: resolved (RFC 8428 §4.6), then mapped.
 *
 * @example
 * ```ts
 * packToSamples(new SenmlCborDecoder().decode(payload), 'env-node-EMU-1')
 * ```
 */
export function packToSamples(records: readonly SenmlRecord[], deviceId: string): Sample[] {
  return resolveSenml(records).map((record) => resolvedToSample(record, deviceId));
}

function versionProblem(index: number, bver: number): string {
  return `record ${index}: SenML version ${bver} is not understood: versions up to ${SENML_VERSION} (RFC 8428 §4.4) and ${SENML_SECONDARY_UNITS_VERSION} (RFC 9100 §4, secondary units) are; every feature bit must be understood (RFC 9100 §2.2)`;
}

function wrongType(index: number, label: string, expected: string, value: unknown): DecodeError {
  const got = value === null ? 'null' : value instanceof Uint8Array ? 'bytes' : Array.isArray(value) ? 'an array' : typeof value;
  return new DecodeError('wrong-type', `record ${index}: "${label}" must be ${expected}, got ${got}`);
}
