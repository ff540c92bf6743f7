/**
 * The strict SenML-CBOR decoder (RFC 8428 §6): `SenmlCborScanner` checks the exact bytes received
 * (well-formedness, deterministic lengths, duplicates, limits, labels), then a per-instance cbor-x
 * `Decoder` builds the values, then every field's type is checked (`setSenmlField`). Exported from
 * `senml-cbor.ts` beside the encoder.
 */
import { Decoder } from 'cbor-x';
import { DecodeError } from '../core/errors.js';
import { describe } from '../core/check.js';
import { SenmlCborScanner, resolveScanLimits, type ScanLimitOptions, type ScanLimits } from './cbor-wellformed.js';
import { SENML_LABELS, SENSORKIT_LABELS, checkSenmlRecord, setSenmlField, type SenmlRecord, type SenmlRecordDraft } from './senml.js';

/**
 * Options of {@link SenmlCborDecoder}: the limits every received pack is held to.
 *
 * @example
 * ```ts
 * new SenmlCborDecoder({ maxBytes: 256 * 1024, maxRecords: 5000, maxStringLength: 256, maxDepth: 8 })
 * ```
 */
export interface SenmlCborDecoderOptions extends ScanLimitOptions {
  /** Largest pack in bytes. Default 1,048,576. */
  readonly maxBytes?: number;
  /** Most records in a pack. Default 10,000. */
  readonly maxRecords?: number;
  /** Longest text or byte string in bytes. Default 1,024. */
  readonly maxStringLength?: number;
  /** Deepest nesting: the pack is 1, a record 2, a field value 3 (from 3 to 64). Default 16. */
  readonly maxDepth?: number;
}

// Registered labels by CBOR key + 6 (keys −6…8).
const LABEL_BY_KEY: readonly string[] = Object.entries(SENML_LABELS)
  .sort((a, b) => a[1] - b[1])
  .map(([label]) => label);
const SENSORKIT: ReadonlySet<string> = new Set(Object.values(SENSORKIT_LABELS));

/**
 * Decodes SenML-CBOR packs strictly (see `cbor-wellformed.ts` for what is refused). Every refusal is
 * a `DecodeError` with a `reason`; no other exception escapes, whatever the input.
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
  readonly #limits: ScanLimits;
  readonly #scanner: SenmlCborScanner;
  readonly #cbor = new Decoder({ useRecords: false, mapsAsObjects: false, copyBuffers: true });

  constructor(options: SenmlCborDecoderOptions = {}) {
    this.#limits = Object.freeze(resolveScanLimits(options));
    this.#scanner = new SenmlCborScanner(this.#limits);
  }

  /** The limits in force. */
  get limits(): Readonly<ScanLimits> {
    return this.#limits;
  }

  /** The records of one pack, as received (not resolved; see `resolveSenml`). */
  decode(bytes: Uint8Array): SenmlRecord[] {
    if (!(bytes instanceof Uint8Array)) throw new DecodeError('wrong-type', `expected the bytes of a pack, got ${describe(bytes)}`);
    this.#scanner.scan(bytes);
    let pack: unknown;
    try {
      pack = this.#cbor.decode(bytes);
    } catch (error) {
      // The scanner accepts only what cbor-x decodes; this is a guard, not a path.
      throw new DecodeError('not-well-formed', `cbor-x refused the pack: ${(error as Error).message}`, { cause: error });
    }
    if (!Array.isArray(pack)) throw new DecodeError('wrong-type', 'a SenML pack is an array (RFC 8428 §6)');
    const records: SenmlRecord[] = new Array(pack.length);
    for (let index = 0; index < pack.length; index++) records[index] = this.#record(pack[index], index);
    return records;
  }

  #record(map: unknown, index: number): SenmlRecord {
    if (!(map instanceof Map)) throw new DecodeError('wrong-type', `record ${index} is not a map`);
    const draft: SenmlRecordDraft = {};
    let extensions: Map<string, unknown> | undefined;
    (map as Map<unknown, unknown>).forEach((value, key) => {
      if (typeof key === 'number') {
        const label = LABEL_BY_KEY[key + 6];
        if (label === undefined) throw new DecodeError('unknown-label', `record ${index}: integer label ${key} is not in RFC 8428 Table 4`);
        setSenmlField(draft, label, value, index);
      } else if (typeof key !== 'string') {
        throw new DecodeError('wrong-type', `record ${index}: a label must be an integer or a text string`);
      } else if (SENSORKIT.has(key)) {
        setSenmlField(draft, key, value, index);
      } else {
        (extensions ??= new Map()).set(key, value);
      }
    });
    if (extensions) draft.extensions = extensions;
    checkSenmlRecord(draft, index);
    return draft;
  }
}
