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
import { ArgumentError } from '../core/errors.js';
import type { Sample } from '../core/sample.js';
import { writeHead, writeNumber } from './senml-cbor-numbers.js';
import { SENML_CBOR_TYPE, SENML_LABELS, SENML_SECONDARY_UNITS_VERSION, SENSORKIT_LABELS, needsSecondaryUnits, setSenmlField, windowCompleteness, type SenmlRecord, type SenmlRecordDraft } from './senml.js';

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
  /**
   * Size in bytes of the slabs that packs are written into, many packs per slab (see
   * `SenmlCborEncoder.encode`); a pack larger than a quarter of it gets a buffer of its own.
   * Default 65,536.
   */
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
const KEY_CMP = [0x63, 0x63, 0x6d, 0x70];
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
  /** The media type of every pack (RFC 8428 §12.3); a transport labels its payloads with it. */
  readonly contentType = SENML_CBOR_TYPE;
  /** The slab being written: packs handed out before `#start`, the pack being written after. */
  #buffer: Uint8Array;
  #view: DataView;
  /** Where the pack being written starts, and the write position. */
  #start = 0;
  #pos = 0;
  readonly #slabBytes: number;
  readonly #utf8 = new TextEncoder();
  /** Encoded text items of validated names (device base names and channel ids). */
  readonly #names = new Map<string, Uint8Array>();
  /** Encoded text items of other strings (units, quality levels and reasons, calibration ids). */
  readonly #texts = new Map<string, Uint8Array>();
  /** Encoded `n` and `u` of the common record per channel, with the unit they were made for. */
  readonly #prefixes = new Map<string, { readonly unit: string; readonly bytes: Uint8Array }>();
  readonly #cbor = new Encoder({ useRecords: false, variableMapSize: true, tagUint8Array: false });

  constructor(options: SenmlCborEncoderOptions = {}) {
    const size = options.initialBufferSize ?? 65_536;
    if (!Number.isInteger(size) || size < 64 || size > 2 ** 30) {
      throw new ArgumentError(`Expected \`initialBufferSize\` to be an integer from 64 to 2^30, got ${describe(size)}`);
    }
    this.#slabBytes = size;
    this.#buffer = new Uint8Array(size);
    this.#view = new DataView(this.#buffer.buffer);
  }

  /**
   * One pack for a batch: the first record carries `bn` = `<deviceId>/` and `bt` = the first sample's
   * time in seconds, and `bver` = 26 when a sample's unit is an RFC 8798 secondary unit such as `hPa`
   * (RFC 9100 §4; without one, no `bver`: version 10); every record has `n` (channel), `u` (unit), `t` (seconds after `bt`), `v` (unless
   * the value is null) and sensorkit's extension fields (see `senml.ts`). Throws `ArgumentError` for an
   * empty batch, a name outside RFC 8428 §4.5.1, or a time, value or uncertainty that is not finite.
   * The result is the caller's (never written again by the encoder), but it is a view into a slab
   * (64 KiB by default) shared with the next packs: mind its `byteOffset`, and copy it (`slice()`)
   * to keep one for long without keeping its slab. `encodeRecords` hands out packs the same way.
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
    if (first === undefined) throw new ArgumentError('Expected `samples` to hold at least one sample (a SenML pack has one record or more, RFC 8428 §11)');
    const t0 = first.time;
    if (typeof t0 !== 'number' || !Number.isFinite(t0)) throw new ArgumentError(`Expected \`samples[0].time\` to be a finite number, got ${describe(t0)}`);
    if (typeof deviceId !== 'string' || !NAME.test(deviceId)) {
      throw new ArgumentError(`Expected \`deviceId\` to be made of A–Z, a–z, 0–9, "-", ":", ".", "_", starting with a letter or digit (RFC 8428 §4.5.1), got ${describe(deviceId)}`);
    }
    const bn = this.#name(`${deviceId}/`);
    // RFC 9100 §4: a pack with an RFC 8798 secondary unit says so with bver 26; others stay version 10, without bver.
    const secondary = needsSecondaryUnits(samples);
    this.#begin(bn.length + 16);
    this.#head(4, count);
    for (let i = 0; i < count; i++) {
      const sample = samples[i]!;
      const value = sample.value;
      const time = sample.time;
      const quality = sample.quality;
      const level = quality.level;
      // The common record (RFC 8428 §4.5: n, u, v, t): good, no calibration id, no uncertainty.
      // Written with the position in a local, and n and u from one cached prefix.
      if (i > 0 && level === 'good' && sample.calibrationId === undefined && sample.uncertainty === undefined) {
        const prefix = this.#prefix(sample.channel, sample.unit, i);
        if (typeof time !== 'number' || !Number.isFinite(time)) throw new ArgumentError(`Expected \`samples[${i}].time\` to be a finite number, got ${describe(time)}`);
        if (value !== null && (typeof value !== 'number' || !Number.isFinite(value))) {
          throw new ArgumentError(`Expected \`samples[${i}].value\` to be a finite number or null, got ${describe(value)}`);
        }
        this.#ensure(this.#pos + 32 + prefix.length);
        const buffer = this.#buffer;
        const view = this.#view;
        let pos = this.#pos;
        buffer[pos++] = value !== null ? 0xa4 : 0xa3;
        const length = prefix.length;
        for (let k = 0; k < length; k++) buffer[pos++] = prefix[k]!;
        if (value !== null) {
          buffer[pos++] = 0x02;
          pos = writeNumber(buffer, view, pos, value);
        }
        buffer[pos++] = 0x06;
        this.#pos = writeNumber(buffer, view, pos, (time - t0) / 1000);
        continue;
      }
      const n = this.#name(sample.channel);
      const u = this.#text(sample.unit, i, 'unit');
      const bad = level !== 'good';
      const reason = bad ? quality.reason : undefined;
      const cal = sample.calibrationId;
      const unc = sample.uncertainty;
      const cmp = windowCompleteness(sample);
      if (typeof time !== 'number' || !Number.isFinite(time)) throw new ArgumentError(`Expected \`samples[${i}].time\` to be a finite number, got ${describe(time)}`);
      if (value !== null && (typeof value !== 'number' || !Number.isFinite(value))) {
        throw new ArgumentError(`Expected \`samples[${i}].value\` to be a finite number or null, got ${describe(value)}`);
      }
      if (bad && level !== 'uncertain' && level !== 'bad') throw new ArgumentError(`Expected \`samples[${i}].quality.level\` to be "good", "uncertain" or "bad", got ${describe(level)}`);
      if (unc !== undefined && !(typeof unc === 'number' && unc >= 0 && unc !== Infinity)) {
        throw new ArgumentError(`Expected \`samples[${i}].uncertainty\` to be a finite number ≥ 0, got ${describe(unc)}`);
      }
      const levelItem = bad ? this.#text(level, i, 'quality.level') : undefined;
      const reasonItem = reason !== undefined ? this.#text(reason, i, 'quality.reason') : undefined;
      const calItem = cal !== undefined ? this.#text(cal, i, 'calibrationId') : undefined;
      this.#ensure(this.#pos + 96 + n.length + u.length + (i === 0 ? bn.length : 0) + (reasonItem?.length ?? 0) + (calItem?.length ?? 0));
      const buffer = this.#buffer;
      // Keys in bytewise order (RFC 8949 §4.2.1): n 0x00, u 0x01, v 0x02, t 0x06, bver 0x20, bn 0x21, bt 0x22, "q", "qr", "cal", "cmp", "unc".
      const fields =
        3 + (value !== null ? 1 : 0) + (i === 0 ? (secondary ? 3 : 2) : 0) + (bad ? 1 : 0) + (reasonItem ? 1 : 0) + (calItem ? 1 : 0) + (cmp !== undefined ? 1 : 0) + (unc !== undefined ? 1 : 0);
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
        if (secondary) {
          buffer[this.#pos++] = 0x20;
          this.#number(SENML_SECONDARY_UNITS_VERSION);
        }
        buffer[this.#pos++] = 0x21;
        this.#copy(bn);
        buffer[this.#pos++] = 0x22;
        this.#number(t0 / 1000);
      }
      if (levelItem) this.#field(KEY_Q, levelItem);
      if (reasonItem) this.#field(KEY_QR, reasonItem);
      if (calItem) this.#field(KEY_CAL, calItem);
      if (cmp !== undefined) {
        for (const byte of KEY_CMP) buffer[this.#pos++] = byte;
        this.#number(cmp);
      }
      if (unc !== undefined) {
        for (const byte of KEY_UNC) buffer[this.#pos++] = byte;
        this.#number(unc);
      }
    }
    return this.#output();
  }

  /**
   * Any records, e.g. a translation from SenML-JSON: fields in each record's own property order,
   * registered labels as integers, extension values through cbor-x. Values are checked as the
   * decoder checks them; extension values must be JSON-like (null, booleans, finite numbers,
   * strings, bytes, arrays, plain objects). Throws `ArgumentError` otherwise.
   *
   * @example
   * ```ts
   * encoder.encodeRecords([{ n: 'urn:dev:ow:10e2073a01080063', u: 'Cel', v: 23.1 }]) // RFC 8428 §5.1.1 in CBOR
   * ```
   */
  encodeRecords(records: readonly SenmlRecord[]): Uint8Array {
    if (!Array.isArray(records) || records.length === 0) throw new ArgumentError(`Expected \`records\` to be a non-empty array, got ${describe(records)}`);
    this.#begin(16);
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
          throw new ArgumentError(`Expected \`records[${index}].${label}\` to be a valid SenML field: ${(error as Error).message}`, { cause: error });
        }
        const key = (SENML_LABELS as Readonly<Record<string, number>>)[label];
        this.#ensure(this.#pos + 18);
        if (key !== undefined) this.#head(key >= 0 ? 0 : 1, key >= 0 ? key : -1 - key);
        else this.#string(label);
        this.#value(value);
      }
      for (const [label, value] of extensions) {
        if (typeof label !== 'string' || Object.hasOwn(SENML_LABELS, label) || Object.values(SENSORKIT_LABELS).includes(label as never)) {
          throw new ArgumentError(`Expected \`records[${index}].extensions\` to use labels of other extensions, got ${describe(label)}`);
        }
        checkPlain(value, `records[${index}].extensions.${label}`, 0);
        this.#string(label);
        const encoded = this.#cbor.encode(value);
        this.#ensure(this.#pos + encoded.length);
        this.#copy(encoded);
      }
    });
    return this.#output();
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
      throw new ArgumentError(`Expected a channel id made of A–Z, a–z, 0–9, "-", ":", ".", "/", "_" (RFC 8428 §4.5.1), got ${describe(name)}`);
    }
    return this.#remember(this.#names, name);
  }

  /**
   * The encoded `0: n, 1: u` of a record (keys 0x00 and 0x01 with their text items), cached per
   * channel for its latest unit: one lookup and one copy per common record instead of two each.
   */
  #prefix(channel: string, unit: string, index: number): Uint8Array {
    const cached = this.#prefixes.get(channel);
    if (cached !== undefined && cached.unit === unit) return cached.bytes;
    const n = this.#name(channel);
    const u = this.#text(unit, index, 'unit');
    const bytes = new Uint8Array(2 + n.length + u.length);
    bytes[0] = 0x00;
    bytes.set(n, 1);
    bytes[1 + n.length] = 0x01;
    bytes.set(u, 2 + n.length);
    if (this.#prefixes.size >= MAX_CACHED) this.#prefixes.clear(); // bounded, as the other caches
    this.#prefixes.set(channel, { unit, bytes });
    return bytes;
  }

  #text(text: string, index: number, what: string): Uint8Array {
    const cached = this.#texts.get(text);
    if (cached) return cached;
    if (typeof text !== 'string') throw new ArgumentError(`Expected \`samples[${index}].${what}\` to be a string, got ${describe(text)}`);
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
    this.#pos = writeNumber(this.#buffer, this.#view, this.#pos, x);
  }

  /** An initial byte with its argument in the shortest form (RFC 8949 §3, §4.2.1). */
  #head(major: number, value: number): void {
    this.#pos = writeHead(this.#buffer, this.#view, this.#pos, major, value);
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

  /**
   * Starts a pack where the slab's free space begins, with `room` bytes ensured. Packs are written
   * straight into slabs of `initialBufferSize` and handed out as views (no region is ever written
   * twice): one allocation per slab rather than one per pack, which under a stream of batches was a
   * third of the collector's work, and no copy out of a working buffer.
   */
  #begin(room: number): void {
    this.#pos = this.#start; // what a failed encode left behind was never handed out: reuse it
    this.#ensure(this.#pos + room);
  }

  /** The pack just written, as a view of its slab; the next one starts 8-byte aligned after it. */
  #output(): Uint8Array {
    const pack = this.#buffer.subarray(this.#start, this.#pos);
    // A pack that needed a buffer of its own leaves no room worth sharing: the next one starts anew.
    this.#pos = pack.length > this.#slabBytes / 4 ? this.#buffer.length : Math.min((this.#pos + 7) & ~7, this.#buffer.length);
    this.#start = this.#pos;
    return pack;
  }

  /**
   * Makes room up to `size` (an absolute position). When the slab is too small, the pack written so
   * far moves to the start of a new slab (or of a buffer of its own, twice its need).
   */
  #ensure(size: number): void {
    if (size <= this.#buffer.length) return;
    const written = this.#pos - this.#start;
    const needed = size - this.#start;
    const next = new Uint8Array(needed > this.#slabBytes / 4 ? Math.max(needed * 2, this.#slabBytes) : this.#slabBytes);
    next.set(this.#buffer.subarray(this.#start, this.#pos));
    this.#buffer = next;
    this.#view = new DataView(next.buffer);
    this.#start = 0;
    this.#pos = written;
  }
}

/** Requires a JSON-like value (what SenML-JSON can carry too), at most 16 levels deep. */
function checkPlain(value: unknown, path: string, depth: number): void {
  if (depth > 16) throw new ArgumentError(`Expected \`${path}\` to be nested at most 16 levels`);
  if (value === null || typeof value === 'boolean' || typeof value === 'string' || value instanceof Uint8Array) return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ArgumentError(`Expected \`${path}\` to be a finite number, got ${value}`);
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
  throw new ArgumentError(`Expected \`${path}\` to be JSON-like (null, boolean, number, string, bytes, array, plain object), got ${describe(value)}`);
}
