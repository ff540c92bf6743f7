/**
 * The strict SenML-CBOR decoder (RFC 8428 §6), on the shared strict reader (`cbor-reader.ts`): the
 * reader checks the exact bytes received (well-formedness, deterministic lengths, duplicates,
 * limits) while it decodes them; this module walks the pack and its records itself, so that a bad
 * label is refused at its byte offset, and checks every field's type (`setSenmlField`). Refused
 * here, beyond what the reader refuses:
 * - a top level that is not a non-empty array of maps (RFC 8428 §6, §11);
 * - record labels that are neither integers nor text, integer labels outside RFC 8428 Table 4,
 *   registered labels spelled as text, and must-understand labels ending in `_` (§4.4);
 * - tags, `undefined` and unassigned simple values: SenML-CBOR uses none (RFC 8428 §6);
 * - a `bver` with a feature it does not understand, and an RFC 8798 secondary unit in a pack whose
 *   `bver` lacks the RFC 9100 §4 feature (`checkSenmlPack`).
 * Exported from `senml-cbor.ts` beside the encoder.
 */
import { DecodeError } from '../core/errors.js';
import { describe } from '../core/check.js';
import { CborReader, type CborProfile } from './cbor-reader.js';
import { cborLimitsOf, resolveSenmlLimits, type SenmlLimitOptions, type SenmlLimits } from './senml-limits.js';
import { SENML_LABELS, SENSORKIT_LABELS, checkSenmlPack, checkSenmlRecord, setSenmlField, type SenmlRecord, type SenmlRecordDraft } from './senml.js';

/**
 * Options of {@link SenmlCborDecoder}: the limits every received pack is held to.
 *
 * @example
 * ```ts
 * new SenmlCborDecoder({ maxBytes: 256 * 1024, maxRecords: 5000, maxStringLength: 256, maxDepth: 8 })
 * ```
 */
export interface SenmlCborDecoderOptions extends SenmlLimitOptions {
  /** Largest pack in bytes. Default 1,048,576. */
  readonly maxBytes?: number;
  /** Most records in a pack, and most items of any array or map inside a record. Default 10,000. */
  readonly maxRecords?: number;
  /** Longest text or byte string in bytes. Default 1,024. */
  readonly maxStringLength?: number;
  /** Deepest nesting: the pack is 1, a record 2, a field value 3 (from 3 to 64). Default 16. */
  readonly maxDepth?: number;
}

/** RFC 8428 §6: no tags, floats allowed, keys in any order; byte values copied out of the input. */
const SENML_CBOR: CborProfile = Object.freeze({ format: 'SenML-CBOR (RFC 8428 §6)', tags: [], floats: true, sortedKeys: false, copyBytes: true });

// Registered labels by CBOR key + 6 (keys −6…8, all of them registered).
const LABEL_BY_KEY: readonly string[] = Object.entries(SENML_LABELS)
  .sort((a, b) => a[1] - b[1])
  .map(([label]) => label);
const REGISTERED: ReadonlySet<string> = new Set(Object.keys(SENML_LABELS));
const SENSORKIT: ReadonlySet<string> = new Set(Object.values(SENSORKIT_LABELS));
const MAJOR_UNSIGNED = 0;
const MAJOR_NEGATIVE = 1;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;

/**
 * Decodes SenML-CBOR packs strictly (see the module comment and `cbor-reader.ts` for what is
 * refused). Every refusal is a `DecodeError` with a `reason`; no other exception escapes, whatever
 * the input.
 *
 * @example
 * ```ts
 * const decoder = new SenmlCborDecoder({ maxRecords: 5000 })
 * try { const records = decoder.decode(payload) } catch (e) {
 *   if (e instanceof DecodeError) console.warn(e.reason, e.message)
 * }
 * ```
 */
export class SenmlCborDecoder {
  readonly #limits: SenmlLimits;
  readonly #reader: CborReader;
  readonly #labels = new Set<number | string>();

  constructor(options: SenmlCborDecoderOptions = {}) {
    this.#limits = Object.freeze(resolveSenmlLimits(options));
    this.#reader = new CborReader(cborLimitsOf(this.#limits), SENML_CBOR);
  }

  /** The limits in force. */
  get limits(): Readonly<SenmlLimits> {
    return this.#limits;
  }

  /** The records of one pack, as received (not resolved; see `resolveSenml`). */
  decode(bytes: Uint8Array): SenmlRecord[] {
    if (!(bytes instanceof Uint8Array)) throw new DecodeError('wrong-type', `expected the bytes of a pack, got ${describe(bytes)}`);
    const reader = this.#reader;
    reader.begin(bytes);
    if (reader.head() !== MAJOR_ARRAY) throw reader.error('wrong-type', 'a SenML pack is an array (RFC 8428 §6)', 0);
    const count = reader.argument;
    if (count === 0) throw reader.error('wrong-type', 'a SenML pack has at least one record (RFC 8428 §11)', 0);
    if (count > this.#limits.maxRecords) throw reader.error('limit', `${count} records is above maxRecords ${this.#limits.maxRecords}`, 0);
    if (count > reader.remaining) throw reader.error('truncated', `an array of ${count} records needs more bytes than remain`, 0);
    const records: SenmlRecord[] = new Array(count);
    for (let index = 0; index < count; index++) records[index] = this.#record(index);
    reader.end();
    checkSenmlPack(records);
    return records;
  }

  #record(index: number): SenmlRecord {
    const reader = this.#reader;
    const start = reader.position;
    if (reader.head() !== MAJOR_MAP) throw reader.error('wrong-type', `record ${index} is not a map`, start);
    const count = reader.argument;
    if (count * 2 > reader.remaining) throw reader.error('truncated', `record ${index}: a map of ${count} fields needs more bytes than remain`, start);
    const labels = this.#labels;
    labels.clear();
    const draft: SenmlRecordDraft = {};
    let extensions: Map<string, unknown> | undefined;
    for (let field = 0; field < count; field++) {
      const keyStart = reader.position;
      const major = reader.head();
      let key: number | string;
      let label: string;
      if (major === MAJOR_UNSIGNED || major === MAJOR_NEGATIVE) {
        key = major === MAJOR_UNSIGNED ? reader.argument : -1 - reader.argument;
        const registered = key >= -6 && key <= 8 ? LABEL_BY_KEY[key + 6] : undefined;
        if (registered === undefined) throw reader.error('unknown-label', `record ${index}: integer label ${key} is not in RFC 8428 Table 4`, keyStart);
        label = registered;
      } else if (major === MAJOR_TEXT) {
        key = label = reader.text(reader.argument, keyStart);
        if (label.endsWith('_')) throw reader.error('must-understand', `record ${index}: label "${label}" ends in "_" and is not understood (RFC 8428 §4.4)`, keyStart);
        if (REGISTERED.has(label)) {
          throw reader.error('wrong-type', `record ${index}: "${label}" must use its integer label ${SENML_LABELS[label as keyof typeof SENML_LABELS]} in CBOR (RFC 8428 §6)`, keyStart);
        }
      } else {
        throw reader.error('wrong-type', `record ${index}: a label must be an integer or a text string`, keyStart);
      }
      if (labels.has(key)) throw reader.error('duplicate-key', `record ${index}: label ${JSON.stringify(key)} appears twice`, keyStart);
      labels.add(key);
      const valueStart = reader.position;
      const value = reader.item(3);
      // RFC 8428 §6: "For the version number, only an unsigned integer is allowed" (a float 1.0 is the number 1 here).
      if (label === 'bver' && reader.majorAt(valueStart) !== MAJOR_UNSIGNED) throw reader.error('wrong-type', `record ${index}: bver must be an unsigned integer`, valueStart);
      if (typeof key === 'number' || SENSORKIT.has(key)) setSenmlField(draft, label, value, index);
      else (extensions ??= new Map()).set(key, value);
    }
    if (extensions) draft.extensions = extensions;
    checkSenmlRecord(draft, index);
    return draft;
  }
}
