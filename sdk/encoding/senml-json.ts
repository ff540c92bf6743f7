/**
 * SenML in its JSON representation (RFC 8428 §5, `application/senml+json`), for people: logs, the
 * CLI, debugging. The same records, fields and checks as SenML-CBOR (`setSenmlField`), with string
 * labels; data values (`vd`) are base64url without padding (RFC 8428 §5, RFC 4648 §5).
 *
 * Strictness where JSON allows it: the input must be UTF-8 (bytes), one JSON text with nothing after
 * it, a non-empty array of objects, within the same limits as the CBOR decoder (bytes, records,
 * string length in UTF-8 bytes, nesting). Labels ending in `_` are refused (must-understand,
 * RFC 8428 §4.4). One thing JSON cannot give: **duplicate keys** (RFC 8259 §4 says names SHOULD be
 * unique) are invisible, because `JSON.parse` keeps the last one; where duplicates matter, use CBOR.
 */
import { ArgumentError, DecodeError, type DecodeReason } from '../core/errors.js';
import { describe } from '../core/check.js';
import type { Sample } from '../core/sample.js';
import { resolveSenmlLimits, type SenmlLimitOptions, type SenmlLimits } from './senml-limits.js';
import { SENML_JSON_TYPE, checkSenmlPack, checkSenmlRecord, isSenmlField, samplesToPack, setSenmlField, type SenmlRecord, type SenmlRecordDraft } from './senml.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9\-:._]*$/;
const NAME_PART = /^[A-Za-z0-9\-:./_]+$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * One SenML-JSON pack for a batch, the same records as `SenmlCborEncoder.encode` writes (with
 * `"bver":26` first when a unit is an RFC 8798 secondary unit, RFC 9100 §4). Throws
 * `ArgumentError` for an empty batch, a name outside RFC 8428 §4.5.1 or a number that is not finite.
 *
 * @example
 * ```ts
 * encodeSenmlJson('dev', [{ channel: 't', time: 1767225600000, value: 21.5, unit: 'Cel', quality: GOOD }])
 * // '[{"bn":"dev/","bt":1767225600,"n":"t","u":"Cel","t":0,"v":21.5}]'
 * ```
 */
export function encodeSenmlJson(deviceId: string, samples: readonly Sample[], space?: number): string {
  if (typeof deviceId !== 'string' || !NAME.test(deviceId)) throw new ArgumentError(`Expected \`deviceId\` to be a SenML name (RFC 8428 §4.5.1), got ${describe(deviceId)}`);
  samples.forEach((sample, i) => {
    if (!NAME_PART.test(sample.channel)) throw new ArgumentError(`Expected \`samples[${i}].channel\` to be a SenML name (RFC 8428 §4.5.1), got ${describe(sample.channel)}`);
    if (!Number.isFinite(sample.time)) throw new ArgumentError(`Expected \`samples[${i}].time\` to be a finite number, got ${describe(sample.time)}`);
    if (sample.value !== null && !Number.isFinite(sample.value)) throw new ArgumentError(`Expected \`samples[${i}].value\` to be a finite number or null, got ${describe(sample.value)}`);
    if (sample.uncertainty !== undefined && !(sample.uncertainty >= 0 && sample.uncertainty !== Infinity)) {
      throw new ArgumentError(`Expected \`samples[${i}].uncertainty\` to be a finite number ≥ 0, got ${describe(sample.uncertainty)}`);
    }
  });
  return JSON.stringify(samplesToPack(deviceId, samples), null, space);
}

/**
 * Encodes sample batches as SenML-JSON packs (UTF-8), the same records as `SenmlCborEncoder`: a
 * telemetry encoder for consumers that read JSON, at about a third more bytes per sample.
 *
 * @example
 * ```ts
 * const transport = new MqttTransport({ url, deviceId, clock, outbox, encoder: new SenmlJsonEncoder() })
 * // telemetry PUBLISHes carry content type application/senml+json
 * ```
 */
export class SenmlJsonEncoder {
  /** The media type of every pack (RFC 8428 §12.3); a transport labels its payloads with it. */
  readonly contentType = SENML_JSON_TYPE;
  readonly #utf8 = new TextEncoder();

  /** One pack for a batch, as UTF-8 bytes; throws like {@link encodeSenmlJson}. */
  encode(deviceId: string, samples: readonly Sample[]): Uint8Array {
    return this.#utf8.encode(encodeSenmlJson(deviceId, samples));
  }
}

/**
 * Any records as SenML-JSON: `vd` in base64url, extension fields beside the others.
 *
 * @example
 * ```ts
 * senmlRecordsToJson([{ n: 'urn:dev:ow:10e2073a01080063', u: 'Cel', v: 23.1 }]) // '[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]'
 * ```
 */
export function senmlRecordsToJson(records: readonly SenmlRecord[], space?: number): string {
  const objects = records.map((record, index) => {
    const object: Record<string, unknown> = {};
    for (const [label, value] of Object.entries(record)) {
      if (value === undefined || label === 'extensions') continue;
      object[label] = value instanceof Uint8Array ? Buffer.from(value).toString('base64url') : value;
    }
    for (const [label, value] of record.extensions ?? []) {
      if (isSenmlField(label)) throw new ArgumentError(`Expected \`records[${index}].extensions\` to use labels of other extensions, got ${describe(label)}`);
      object[label] = value;
    }
    return object;
  });
  return JSON.stringify(objects, jsonValue, space);
}

/** `JSON.stringify` replacer: bytes (before `Buffer#toJSON`) as base64url, maps with text keys as objects. */
function jsonValue(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Uint8Array) return Buffer.from(original).toString('base64url');
  if (original instanceof Map) {
    for (const k of original.keys()) if (typeof k !== 'string') throw new ArgumentError(`Expected maps in SenML-JSON to have text keys, got ${describe(k)}`);
    return Object.fromEntries(original);
  }
  return value;
}

/**
 * Options of {@link SenmlJsonDecoder}: the same limits as the CBOR decoder's.
 *
 * @example
 * ```ts
 * new SenmlJsonDecoder({ maxRecords: 100 })
 * ```
 */
export type SenmlJsonDecoderOptions = SenmlLimitOptions;

/**
 * Decodes SenML-JSON packs. Every refusal is a `DecodeError` with a `reason`; positions are JSON
 * text positions (characters), records are named by index.
 *
 * @example
 * ```ts
 * new SenmlJsonDecoder().decode('[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]')
 * // [{ n: 'urn:dev:ow:10e2073a01080063', u: 'Cel', v: 23.1 }]
 * ```
 */
export class SenmlJsonDecoder {
  readonly #limits: SenmlLimits;
  readonly #utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(options: SenmlJsonDecoderOptions = {}) {
    this.#limits = Object.freeze(resolveSenmlLimits(options));
  }

  /** The limits in force. */
  get limits(): Readonly<SenmlLimits> {
    return this.#limits;
  }

  /** The records of one pack (a string, or UTF-8 bytes), as received. */
  decode(input: string | Uint8Array): SenmlRecord[] {
    const limits = this.#limits;
    let text: string;
    if (typeof input === 'string') {
      // UTF-16 length ≤ UTF-8 length, so the exact count is needed only below the limit.
      if (input.length > limits.maxBytes || Buffer.byteLength(input, 'utf8') > limits.maxBytes) throw new DecodeError('limit', `more than maxBytes ${limits.maxBytes} bytes`);
      text = input;
    } else if (input instanceof Uint8Array) {
      if (input.length > limits.maxBytes) throw new DecodeError('limit', `${input.length} bytes is above maxBytes ${limits.maxBytes}`);
      try {
        text = this.#utf8.decode(input);
      } catch {
        throw new DecodeError('not-well-formed', 'the input is not UTF-8 (RFC 8259 §8.1)');
      }
    } else {
      throw new DecodeError('wrong-type', `expected JSON text or its bytes, got ${describe(input)}`);
    }
    let pack: unknown;
    try {
      pack = JSON.parse(text);
    } catch (error) {
      throw parseError(error, text.length);
    }
    if (!Array.isArray(pack)) throw new DecodeError('wrong-type', 'a SenML pack is an array (RFC 8428 §5)');
    if (pack.length === 0) throw new DecodeError('wrong-type', 'a SenML pack has at least one record (RFC 8428 §11)');
    if (pack.length > limits.maxRecords) throw new DecodeError('limit', `${pack.length} records is above maxRecords ${limits.maxRecords}`);
    const records = pack.map((object: unknown, index) => this.#record(object, index));
    checkSenmlPack(records); // secondary units need the RFC 9100 §4 feature in bver
    return records;
  }

  #record(object: unknown, index: number): SenmlRecord {
    if (typeof object !== 'object' || object === null || Array.isArray(object)) throw new DecodeError('wrong-type', `record ${index} is not an object`);
    const draft: SenmlRecordDraft = {};
    let extensions: Map<string, unknown> | undefined;
    for (const [label, value] of Object.entries(object)) {
      this.#checkString(label, index);
      if (label.endsWith('_')) throw new DecodeError('must-understand', `record ${index}: label "${label}" ends in "_" and is not understood (RFC 8428 §4.4)`);
      this.#checkValue(value, index, 3);
      if (!isSenmlField(label)) {
        (extensions ??= new Map()).set(label, value);
      } else if (label === 'vd') {
        if (typeof value !== 'string' || !BASE64URL.test(value) || value.length % 4 === 1) {
          throw new DecodeError('wrong-type', `record ${index}: "vd" must be base64url without padding (RFC 8428 §5)`);
        }
        setSenmlField(draft, label, new Uint8Array(Buffer.from(value, 'base64url')), index);
      } else {
        setSenmlField(draft, label, value, index);
      }
    }
    if (extensions) draft.extensions = extensions;
    checkSenmlRecord(draft, index);
    return draft;
  }

  /** Bounds strings and nesting inside a field value, as the CBOR scanner does. */
  #checkValue(value: unknown, index: number, depth: number): void {
    if (depth > this.#limits.maxDepth) throw new DecodeError('limit', `record ${index}: nesting deeper than maxDepth ${this.#limits.maxDepth}`);
    if (typeof value === 'string') this.#checkString(value, index);
    else if (Array.isArray(value)) for (const item of value) this.#checkValue(item, index, depth + 1);
    else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        this.#checkString(key, index);
        this.#checkValue(item, index, depth + 1);
      }
    }
  }

  #checkString(text: string, index: number): void {
    const max = this.#limits.maxStringLength;
    if (text.length * 3 > max && Buffer.byteLength(text, 'utf8') > max) {
      throw new DecodeError('limit', `record ${index}: a string of more than maxStringLength ${max} bytes`);
    }
  }
}

/** Sorts a `JSON.parse` failure into the reasons of the CBOR decoder by V8's message. */
function parseError(error: unknown, length: number): DecodeError {
  const message = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(message)?.[1];
  const where = position === undefined ? '' : ` at character ${position}`;
  let reason: DecodeReason = 'not-well-formed';
  if (/after JSON/.test(message)) reason = 'trailing-bytes';
  else if (/end of JSON input|Unterminated/.test(message) || Number(position) === length) reason = 'truncated';
  else if (error instanceof RangeError) reason = 'limit';
  return new DecodeError(reason, `${message.replace(/( in JSON)? at position \d+$/, '')}${where}`, { cause: error });
}
