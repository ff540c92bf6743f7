/**
 * Signed calibration records. A calibration run measures a channel against a reference at several
 * points (the accuracy method), fits the channel's correction in the device model's own form
 * (offset, gain, linear, two-point, polynomial) with the uncertainty propagated through the fit's
 * covariance (hil/metrology `fitCorrection`), and writes it as a record: id, device serial, channel,
 * reference standards and their traceability, date, coefficients, uncertainty and valid-until,
 * signed with COSE_Sign1 (RFC 9052) like HIL run records. The device loads it at start, separately
 * from its software, so a calibration survives a software update.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { ArgumentError } from '../../sdk/core/errors.js';
import type { CalibrationMethod, CalibrationSpec } from '../../sdk/pipeline/specs.js';
import { algorithmOfKey, type SignatureAlgorithm } from '../../ota/keys/keys.js';
import { parseSign1, signDetached, verifyDetached } from '../../ota/manifest/cose.js';
import { canonicalJson, prettyCanonicalJson } from '../record/canonical-json.js';
import type { UncertaintyRecord } from '../record/record.js';
import { recordKeyId, shortId, type RecordSignature } from '../record/sign.js';

/** The calibration record format's name and revision. */
export const CALIBRATION_FORMAT = 'sensorkit-calibration/1';

/** A reference standard of a calibration, with its traceability. */
export interface CalibrationStandard {
  /** What it is, e.g. `climatic chamber input (emulated)`, `PT100 ref. 4711`. */
  readonly description: string;
  /** The standard's own identification (inventory number, serial). */
  readonly id?: string;
  /** Its certificate: U with k (in the record's unit), the certificate's id, who issued it and the last day it is valid. */
  readonly certificate?: { readonly expanded: number; readonly coverageFactor: number; readonly id?: string; readonly issuer?: string; readonly validUntil?: string };
  /** The chain to SI, e.g. `DAkkS D-K-12345 → PTB`; `none (emulated truth)` for an emulated run. */
  readonly traceability: string;
}

/** One calibration point: the reference, the channel's mean reading, how many readings, the residual after correction. */
export interface CalibrationPointRecord {
  readonly reference: number;
  readonly mean: number;
  readonly readings: number;
  /** reference − corrected mean, in the channel's unit. */
  readonly residual: number;
}

/** A calibration record (unsigned, or with `signature`). */
export interface CalibrationRecord {
  readonly format: typeof CALIBRATION_FORMAT;
  /** Unique: `CAL-<serial>-<channel>-<date>`, or as given. */
  readonly id: string;
  readonly device: { readonly id: string; readonly manufacturer: string; readonly model: string; readonly serialNumber: string };
  readonly channel: string;
  /** The channel's unit: readings, corrected values, coefficients and uncertainty are in it. */
  readonly unit: string;
  /** The correction in the model's form (sdk/pipeline `CalibrationMethod`). */
  readonly correction: CalibrationMethod;
  /** The fit's coefficients (offset: [offset]; gain: [gain]; linear, two-point: [offset, gain]; polynomial: c₀ … c_d) and their covariance. */
  readonly coefficients: readonly number[];
  readonly covariance: readonly (readonly number[])[];
  /** The calibrated range of readings; outside it the uncertainty is not stated. */
  readonly range: { readonly low: number; readonly high: number };
  /** Uncertainty of a corrected reading at the worst place of the range (GUM budget). */
  readonly uncertainty: UncertaintyRecord;
  readonly points: readonly CalibrationPointRecord[];
  readonly standards: readonly CalibrationStandard[];
  /** ISO 8601 date of the calibration (the target's clock) and the last day it is valid. */
  readonly date: string;
  readonly validUntil: string;
  readonly performedBy?: string;
  readonly laboratory?: string;
  /** The run it came from: plan id, seed, target. */
  readonly run?: { readonly plan: string; readonly seed: number; readonly target: string };
  /**
   * Present on a calibration run on the emulated board (in process or through the runtime): it says
   * so, with the seed and the virtual clock's start. Absent on a real board: a lab calibration.
   */
  readonly emulated?: string;
  readonly signature?: RecordSignature;
}

/** A calibration record with its signature. */
export type SignedCalibrationRecord = CalibrationRecord & { readonly signature: RecordSignature };

const ALG_NAME: Readonly<Record<SignatureAlgorithm, RecordSignature['alg']>> = { p256: 'ES256', ed25519: 'EdDSA' };

function signedBytes(record: CalibrationRecord): Uint8Array {
  const { signature: _ignored, ...unsigned } = record;
  return Buffer.from(canonicalJson(unsigned), 'utf8');
}

/**
 * Signs a calibration record (COSE_Sign1, detached payload: the canonical JSON of the record without
 * `signature`; ES256 for P-256, EdDSA for Ed25519), as `signRecord` does for run records.
 *
 * @example
 * ```ts
 * const signed = signCalibrationRecord(record, await readPrivateKey('keys/private.pem'))
 * await writeFile(`${signed.id}.json`, calibrationRecordText(signed))
 * ```
 */
export function signCalibrationRecord(record: CalibrationRecord, privateKey: KeyObject): SignedCalibrationRecord {
  if (privateKey.type !== 'private') throw new ArgumentError(`Expected a private key to sign a calibration record, got a ${privateKey.type} key`);
  let algorithm: SignatureAlgorithm;
  try {
    algorithm = algorithmOfKey(privateKey);
  } catch (error) {
    throw new ArgumentError(`Expected a P-256 or Ed25519 key to sign a calibration record: ${(error as Error).message}`, { cause: error });
  }
  const { signature: _old, ...unsigned } = record;
  const publicKey = createPublicKey(privateKey);
  return {
    ...unsigned,
    signature: {
      alg: ALG_NAME[algorithm],
      cose: Buffer.from(signDetached(signedBytes(unsigned), privateKey)).toString('base64'),
      keyId: recordKeyId(publicKey),
      publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    },
  };
}

/**
 * The file text of a calibration record: canonical member order, `format` first, `signature` last.
 *
 * @example
 * ```ts
 * await writeFile('calibrations/CAL-EMU-1-temperature-2026-01-01.json', calibrationRecordText(signed))
 * ```
 */
export function calibrationRecordText(record: CalibrationRecord): string {
  return `${prettyCanonicalJson(record, { first: ['format'], last: ['signature'] })}\n`;
}

/** Why a calibration record was refused (one line in `message`). */
export type CalibrationRefusal = 'malformed' | 'not-a-calibration' | 'not-signed' | 'bad-signature' | 'wrong-key' | 'changed' | 'other-serial' | 'expired' | 'emulated';

/** What {@link checkCalibrationRecord} found. */
export type CalibrationCheck =
  | { readonly ok: true; readonly record: SignedCalibrationRecord; readonly keyId: string }
  | { readonly ok: false; readonly reason: CalibrationRefusal; readonly message: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Options of {@link checkCalibrationRecord}. */
export interface CalibrationCheckOptions {
  /** The keys trusted to sign calibrations; the record must be signed by one of them. */
  readonly key: KeyObject | readonly KeyObject[];
  /** The device's serial number: a record for another unit is refused. */
  readonly serialNumber: string;
  /**
   * Whether the device runs on the emulated board. `false` (a real board) refuses a record made on
   * the emulated board (one with `emulated`); `true` or absent accepts it.
   */
  readonly emulatedBoard?: boolean;
}

/**
 * Checks the text of a calibration record: a calibration record, signed by one of the trusted keys,
 * unchanged since, for this serial number and, on a real board (`emulatedBoard: false`), not made
 * on the emulated board. Never throws: the result says why, in one line.
 * (Expiry is not a refusal: the device marks samples `calibration_expired` after `validUntil`.)
 *
 * @example
 * ```ts
 * const check = checkCalibrationRecord(await readFile(file, 'utf8'), { key: publicKey, serialNumber: 'EMU-1' })
 * if (!check.ok) console.error(check.message) // 'calibration CAL-… is for serial EMU-2, not EMU-1'
 * ```
 */
export function checkCalibrationRecord(text: string, options: CalibrationCheckOptions): CalibrationCheck {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: 'malformed', message: `not JSON: ${(error as Error).message.split('\n')[0]}` };
  }
  if (!isObject(value) || value.format !== CALIBRATION_FORMAT) {
    return { ok: false, reason: 'not-a-calibration', message: `not a calibration record (expected format "${CALIBRATION_FORMAT}")` };
  }
  const record = value as unknown as CalibrationRecord;
  const name = `calibration ${typeof record.id === 'string' ? record.id : '(no id)'}`;
  const signature = value.signature;
  if (signature === undefined) return { ok: false, reason: 'not-signed', message: `${name} is not signed` };
  if (!isObject(signature) || typeof signature.cose !== 'string' || typeof signature.keyId !== 'string') {
    return { ok: false, reason: 'bad-signature', message: `${name}: the signature member lacks cose or keyId` };
  }
  const keys = Array.isArray(options.key) ? (options.key as readonly KeyObject[]) : [options.key as KeyObject];
  const key = keys.find((candidate) => recordKeyId(candidate) === signature.keyId);
  if (key === undefined) {
    return { ok: false, reason: 'wrong-key', message: `${name} is signed by key ${shortId(signature.keyId)}, not by a key trusted for calibrations (${keys.map((k) => shortId(recordKeyId(k))).join(', ') || 'none'})` };
  }
  let parsed;
  try {
    parsed = parseSign1(Buffer.from(signature.cose, 'base64'));
  } catch (error) {
    return { ok: false, reason: 'bad-signature', message: `${name}: signature.cose: ${(error as Error).message}` };
  }
  if (!verifyDetached(parsed, signedBytes(record), key)) {
    return { ok: false, reason: 'changed', message: `${name}: the signature does not match the content (changed since it was signed)` };
  }
  if (!isObject(record.device) || record.device.serialNumber !== options.serialNumber) {
    return { ok: false, reason: 'other-serial', message: `${name} is for serial ${String((record.device as { serialNumber?: unknown } | undefined)?.serialNumber)}, not ${options.serialNumber}` };
  }
  if (options.emulatedBoard === false && record.emulated !== undefined) {
    return { ok: false, reason: 'emulated', message: `${name} was made on the emulated board, not on this unit (${String(record.emulated)})` };
  }
  return { ok: true, record: record as SignedCalibrationRecord, keyId: signature.keyId };
}

/**
 * What a `Device` takes for one channel (its `calibrations` option): the correction with the
 * record's id, expanded uncertainty, date and valid-until.
 *
 * @example
 * ```ts
 * new Device(model, { board, calibrations: { temperature: calibrationSpecOf(record) } })
 * ```
 */
export function calibrationSpecOf(record: CalibrationRecord): CalibrationSpec {
  return {
    ...record.correction,
    id: record.id,
    uncertainty: { expanded: record.uncertainty.expanded, coverageFactor: record.uncertainty.coverageFactor },
    validUntil: record.validUntil,
    date: record.date,
    ...(record.performedBy === undefined ? {} : { performedBy: record.performedBy }),
  };
}
