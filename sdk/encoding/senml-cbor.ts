/**
 * SenML in its CBOR representation (RFC 8428 §6, `application/senml+cbor`), the telemetry payload.
 *
 * The encoder is the hot path. It writes sample batches straight into a reusable buffer, with the
 * encoded names and units cached per instance, integer labels, and every number in its shortest
 * exact form (RFC 8949 §4.2.1 preferred serialization: integers below 2^32 as integers, others as
 * half, single or double floats, whichever keeps the value). Map keys are written in bytewise order,
 * so a batch is deterministically encoded CBOR (§4.2.1). Integers of 2^32 and more are written as
 * floats, exact to 2^53, so that decoders returning 64-bit integers as BigInt (cbor-x) give numbers.
 * Generic extension values (`encodeRecords`) go through a per-instance cbor-x `Encoder`.
 *
 * The decoder (`senml-cbor-decoder.ts`, exported from here) is strict over the exact bytes received.
 */
import { Encoder } from 'cbor-x';
import { describe } from '../core/check.js';
import type { Sample } from '../model/sample.js';
import { SENML_LABELS, SENSORKIT_LABELS, setSenmlField, type SenmlRecord, type SenmlRecordDraft } from './senml.js';

// The decoder lives in its own file; it is part of this module's API.
export { SenmlCborDecoder, type SenmlCborDecoderOptions } from './senml-cbor-decoder.js';

/**
 * Options of {@link SenmlCborEncoder}.
 *
 * @example
 * ```ts
 * new SenmlCborEncoder({ initialBufferSize: 1 << 20 })
 * ```
 */
export interface SenmlCborEncoderOptions {
  /** Initial size in bytes of the reusable output buffer; it grows when a batch needs more. Default 65,536. */
  readonly initialBufferSize?: number;
}

// RFC 8428 §4.5.1 characters of a name, starting with a letter or digit.
const NAME = /^[A-Za-z0-9][A-Za-z0-9\-:._]*$/;
const NAME_PART = /^[A-Za-z0-9\-:./_]+$/;
const MAX_CACHED = 4096;
// Encoded text keys of sensorkit's extension labels (RFC 8428 §6: extensions use text keys).
const KEY_Q = [0x61, 0x71];
const KEY_QR = [0x62, 0x71, 0x72];
const KEY_CAL = [0x63, 0x63, 0x61, 0x6c];
const KEY_UNC = [0x63, 0x75, 0x6e, 0x63];

/**
 * Encodes sample batches as SenML-CBOR packs. Keep one per producer; it is not shared state.
 *
 * @example
 * ```ts
 * const encoder = new SenmlCborEncoder()
 * const payload = encoder.encode('env-node-EMU-1', samples) // Uint8Array, application/senml+cbor
 * ```
 */
export class SenmlCborEncoder {
  #buffer: Uint8Array;
  #view: DataView;
  #pos = 0;
  readonly #scratch = new DataView(new ArrayBuffer(4));
  readonly #utf8 = new TextEncoder();
  /** Encoded text items of validated names (device base names and channel ids). */
  readonly #names = new Map<string, Uint8Array>();
  /** Encoded text items of other strings (units, quality levels and reasons, calibration ids). */
  readonly #texts = new Map<string, Uint8Array>();
  readonly #cbor = new Encoder({ useRecords: false, variableMapSize: true, tagUint8Array: false });

  constructor(options: SenmlCborEncoderOptions = {}) {
    const size = options.initialBufferSize ?? 65_536;
    if (!Number.isInteger(size) || size < 64 || size > 2 ** 30) {
      throw new TypeError(`Expected \`initialBufferSize\` to be an integer from 64 to 2^30, got ${describe(size)}`);
    }
    this.#buffer = new Uint8Array(size);
    this.#view = new DataView(this.#buffer.buffer);
  }

  /**
   * One pack for a batch: the first record carries `bn` = `<deviceId>/` and `bt` = the first sample's
   * time in seconds; every record has `n` (channel), `u` (unit), `t` (seconds after `bt`), `v` (unless
   * the value is null) and sensorkit's extension fields (see `senml.ts`). Throws `TypeError` for an
   * empty batch, a name outside RFC 8428 §4.5.1, or a time, value or uncertainty that is not finite.
   *
   * @example
   * ```ts
   * encoder.encode('dev', [{ channel: 't', time: 1767225600000, value: 21.5, unit: 'Cel', quality: GOOD }])
   * // 81 a6 00 61 74 …: [{0: "t", 1: "Cel", 2: 21.5, 6: 0, -2: "dev/", -3: 1767225600}]
   * ```
   */
  encode(deviceId: string, samples: readonly Sample[]): Uint8Array {
    const count = samples.length;
    const first = samples[0];
    if (first === undefined) throw new TypeError('Expected `samples` to hold at least one sample (a SenML pack has one record or more, RFC 8428 §11)');
    const t0 = first.time;
    if (typeof t0 !== 'number' || !Number.isFinite(t0)) throw new TypeError(`Expected \`samples[0].time\` to be a finite number, got ${describe(t0)}`);
    if (typeof deviceId !== 'string' || !NAME.test(deviceId)) {
      throw new TypeError(`Expected \`deviceId\` to be made of A–Z, a–z, 0–9, "-", ":", ".", "_", starting with a letter or digit (RFC 8428 §4.5.1), got ${describe(deviceId)}`);
    }
    const bn = this.#name(`${deviceId}/`);
    this.#pos = 0;
    this.#ensure(bn.length + 16);
    this.#head(4, count);
    for (let i = 0; i < count; i++) {
      const sample = samples[i]!;
      const n = this.#name(sample.channel);
      const u = this.#text(sample.unit, i, 'unit');
      const value = sample.value;
      const time = sample.time;
      const quality = sample.quality;
      const level = quality.level;
      const bad = level !== 'good';
      const reason = bad ? quality.reason : undefined;
      const cal = sample.calibrationId;
      const unc = sample.uncertainty;
      if (typeof time !== 'number' || !Number.isFinite(time)) throw new TypeError(`Expected \`samples[${i}].time\` to be a finite number, got ${describe(time)}`);
      if (value !== null && (typeof value !== 'number' || !Number.isFinite(value))) {
        throw new TypeError(`Expected \`samples[${i}].value\` to be a finite number or null, got ${describe(value)}`);
      }
      if (bad && level !== 'uncertain' && level !== 'bad') throw new TypeError(`Expected \`samples[${i}].quality.level\` to be "good", "uncertain" or "bad", got ${describe(level)}`);
      if (unc !== undefined && !(typeof unc === 'number' && unc >= 0 && unc !== Infinity)) {
        throw new TypeError(`Expected \`samples[${i}].uncertainty\` to be a finite number ≥ 0, got ${describe(unc)}`);
      }
      const levelItem = bad ? this.#text(level, i, 'quality.level') : undefined;
      const reasonItem = reason !== undefined ? this.#text(reason, i, 'quality.reason') : undefined;
      const calItem = cal !== undefined ? this.#text(cal, i, 'calibrationId') : undefined;
      this.#ensure(this.#pos + 96 + n.length + u.length + (i === 0 ? bn.length : 0) + (reasonItem?.length ?? 0) + (calItem?.length ?? 0));
      const buffer = this.#buffer;
      // Keys in bytewise order (RFC 8949 §4.2.1): n 0x00, u 0x01, v 0x02, t 0x06, bn 0x21, bt 0x22, "q", "qr", "cal", "unc".
      const fields = 3 + (value !== null ? 1 : 0) + (i === 0 ? 2 : 0) + (bad ? 1 : 0) + (reasonItem ? 1 : 0) + (calItem ? 1 : 0) + (unc !== undefined ? 1 : 0);
      buffer[this.#pos++] = 0xa0 | fields;
      buffer[this.#pos++] = 0x00;
      this.#copy(n);
      buffer[this.#pos++] = 0x01;
      this.#copy(u);
      if (value !== null) {
        buffer[this.#pos++] = 0x02;
        this.#number(value);
      }
      buffer[this.#pos++] = 0x06;
      this.#number((time - t0) / 1000);
      if (i === 0) {
        buffer[this.#pos++] = 0x21;
        this.#copy(bn);
        buffer[this.#pos++] = 0x22;
        this.#number(t0 / 1000);
      }
      if (levelItem) this.#field(KEY_Q, levelItem);
      if (reasonItem) this.#field(KEY_QR, reasonItem);
      if (calItem) this.#field(KEY_CAL, calItem);
      if (unc !== undefined) {
        for (const byte of KEY_UNC) buffer[this.#pos++] = byte;
        this.#number(unc);
      }
    }
    return this.#buffer.slice(0, this.#pos);
  }

  /**
   * Any records, e.g. a translation from SenML-JSON: fields in each record's own property order,
   * registered labels as integers, extension values through cbor-x. Values are checked as the
   * decoder checks them; extension values must be JSON-like (null, booleans, finite numbers,
   * strings, bytes, arrays, plain objects). Throws `TypeError` otherwise.
   *
   * @example
   * ```ts
   * encoder.encodeRecords([{ n: 'urn:dev:ow:10e2073a01080063', u: 'Cel', v: 23.1 }]) // RFC 8428 §5.1.1 in CBOR
   * ```
   */
  encodeRecords(records: readonly SenmlRecord[]): Uint8Array {
    if (!Array.isArray(records) || records.length === 0) throw new TypeError(`Expected \`records\` to be a non-empty array, got ${describe(records)}`);
    this.#pos = 0;
    this.#ensure(16);
    this.#head(4, records.length);
    records.forEach((record, index) => {
      const entries = Object.entries(record).filter(([, value]) => value !== undefined);
      const extensions = record.extensions ? [...record.extensions] : [];
      const size = entries.length - (record.extensions ? 1 : 0) + extensions.length;
      this.#ensure(this.#pos + 9);
      this.#head(5, size);
      for (const [label, value] of entries) {
        if (label === 'extensions') continue;
        try {
          setSenmlField({} as SenmlRecordDraft, label, value, index);
        } catch (error) {
          throw new TypeError(`Expected \`records[${index}].${label}\` to be a valid SenML field: ${(error as Error).message}`);
        }
        const key = (SENML_LABELS as Readonly<Record<string, number>>)[label];
        this.#ensure(this.#pos + 18);
        if (key !== undefined) this.#head(key >= 0 ? 0 : 1, key >= 0 ? key : -1 - key);
        else this.#string(label);
        this.#value(value);
      }
      for (const [label, value] of extensions) {
        if (typeof label !== 'string' || Object.hasOwn(SENML_LABELS, label) || Object.values(SENSORKIT_LABELS).includes(label as never)) {
          throw new TypeError(`Expected \`records[${index}].extensions\` to use labels of other extensions, got ${describe(label)}`);
        }
        checkPlain(value, `records[${index}].extensions.${label}`, 0);
        this.#string(label);
        const encoded = this.#cbor.encode(value);
        this.#ensure(this.#pos + encoded.length);
        this.#copy(encoded);
      }
    });
    return this.#buffer.slice(0, this.#pos);
  }

  #value(value: unknown): void {
    if (typeof value === 'number') {
      this.#number(value);
    } else if (typeof value === 'string') {
      this.#string(value);
    } else if (typeof value === 'boolean') {
      this.#buffer[this.#pos++] = value ? 0xf5 : 0xf4;
    } else {
      const bytes = value as Uint8Array;
      this.#ensure(this.#pos + 9 + bytes.length);
      this.#head(2, bytes.length);
      this.#copy(bytes);
    }
  }

  #string(text: string): void {
    const bytes = this.#utf8.encode(text);
    this.#ensure(this.#pos + 9 + bytes.length);
    this.#head(3, bytes.length);
    this.#copy(bytes);
  }

  #field(key: readonly number[], item: Uint8Array): void {
    for (const byte of key) this.#buffer[this.#pos++] = byte;
    this.#copy(item);
  }

  /** The encoded text item of a name part, checked against RFC 8428 §4.5.1 once and then cached. */
  #name(name: string): Uint8Array {
    const cached = this.#names.get(name);
    if (cached) return cached;
    if (typeof name !== 'string' || !NAME_PART.test(name)) {
      throw new TypeError(`Expected a channel id made of A–Z, a–z, 0–9, "-", ":", ".", "/", "_" (RFC 8428 §4.5.1), got ${describe(name)}`);
    }
    return this.#remember(this.#names, name);
  }

  #text(text: string, index: number, what: string): Uint8Array {
    const cached = this.#texts.get(text);
    if (cached) return cached;
    if (typeof text !== 'string') throw new TypeError(`Expected \`samples[${index}].${what}\` to be a string, got ${describe(text)}`);
    return this.#remember(this.#texts, text);
  }

  #remember(cache: Map<string, Uint8Array>, text: string): Uint8Array {
    const bytes = this.#utf8.encode(text);
    const length = bytes.length;
    // Major type 3 with the length in its shortest form: in the initial byte, or 1, 2 or 4 more bytes.
    const [ai, extra] = length < 24 ? [length, 0] : length < 0x100 ? [24, 1] : length < 0x10000 ? [25, 2] : [26, 4];
    const item = new Uint8Array(1 + extra + length);
    item[0] = 0x60 | ai;
    for (let k = 0; k < extra; k++) item[1 + k] = (length >>> (8 * (extra - 1 - k))) & 0xff;
    item.set(bytes, 1 + extra);
    if (cache.size >= MAX_CACHED) cache.clear(); // unbounded distinct strings must not grow memory
    cache.set(text, item);
    return item;
  }

  /** A number in its shortest exact form (RFC 8949 §4.2.1, §4.2.2). */
  #number(x: number): void {
    if (Number.isInteger(x) && x >= -4294967296 && x <= 4294967295 && !(x === 0 && 1 / x < 0)) {
      if (x >= 0) this.#head(0, x);
      else this.#head(1, -1 - x);
      return;
    }
    const buffer = this.#buffer;
    if (Math.fround(x) === x) {
      const half = this.#half(x);
      if (half >= 0) {
        buffer[this.#pos] = 0xf9;
        buffer[this.#pos + 1] = half >>> 8;
        buffer[this.#pos + 2] = half & 0xff;
        this.#pos += 3;
      } else {
        buffer[this.#pos] = 0xfa;
        this.#view.setFloat32(this.#pos + 1, x);
        this.#pos += 5;
      }
      return;
    }
    buffer[this.#pos] = 0xfb;
    this.#view.setFloat64(this.#pos + 1, x);
    this.#pos += 9;
  }

  /** The IEEE 754 half-precision bits of a single-precision value, or −1 when half cannot hold it exactly. */
  #half(x: number): number {
    this.#scratch.setFloat32(0, x);
    const bits = this.#scratch.getUint32(0);
    const sign = (bits >>> 16) & 0x8000;
    const exponent = ((bits >>> 23) & 0xff) - 127;
    const mantissa = bits & 0x7fffff;
    if (exponent === -127) return mantissa === 0 ? sign : -1; // ±0; single subnormals are below half's range
    if (exponent > 15) return -1;
    if (exponent >= -14) return mantissa & 0x1fff ? -1 : sign | ((exponent + 15) << 10) | (mantissa >>> 13);
    if (exponent < -24) return -1;
    const shift = 13 - 14 - exponent; // half subnormal: value = m × 2^-24
    const full = mantissa | 0x800000;
    return full & ((1 << shift) - 1) ? -1 : sign | (full >>> shift);
  }

  /** An initial byte with its argument in the shortest form (RFC 8949 §3, §4.2.1). */
  #head(major: number, value: number): void {
    const buffer = this.#buffer;
    const type = major << 5;
    let p = this.#pos;
    if (value < 24) {
      buffer[p++] = type | value;
    } else if (value < 0x100) {
      buffer[p++] = type | 24;
      buffer[p++] = value;
    } else if (value < 0x10000) {
      buffer[p++] = type | 25;
      buffer[p++] = value >>> 8;
      buffer[p++] = value & 0xff;
    } else if (value < 0x100000000) {
      buffer[p++] = type | 26;
      this.#view.setUint32(p, value);
      p += 4;
    } else {
      buffer[p++] = type | 27;
      this.#view.setUint32(p, Math.floor(value / 0x100000000));
      this.#view.setUint32(p + 4, value >>> 0);
      p += 8;
    }
    this.#pos = p;
  }

  #copy(bytes: Uint8Array): void {
    const buffer = this.#buffer;
    const length = bytes.length;
    let p = this.#pos;
    if (length < 32) for (let k = 0; k < length; k++) buffer[p++] = bytes[k]!;
    else {
      buffer.set(bytes, p);
      p += length;
    }
    this.#pos = p;
  }

  #ensure(size: number): void {
    if (size <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(size, this.#buffer.length * 2));
    grown.set(this.#buffer.subarray(0, this.#pos));
    this.#buffer = grown;
    this.#view = new DataView(grown.buffer);
  }
}

/** Requires a JSON-like value (what SenML-JSON can carry too), at most 16 levels deep. */
function checkPlain(value: unknown, path: string, depth: number): void {
  if (depth > 16) throw new TypeError(`Expected \`${path}\` to be nested at most 16 levels`);
  if (value === null || typeof value === 'boolean' || typeof value === 'string' || value instanceof Uint8Array) return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`Expected \`${path}\` to be a finite number, got ${value}`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkPlain(item, `${path}[${i}]`, depth + 1));
    return;
  }
  if (typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    for (const [key, item] of Object.entries(value)) checkPlain(item, `${path}.${key}`, depth + 1);
    return;
  }
  throw new TypeError(`Expected \`${path}\` to be JSON-like (null, boolean, number, string, bytes, array, plain object), got ${describe(value)}`);
}
