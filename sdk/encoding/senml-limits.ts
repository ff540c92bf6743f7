/**
 * The limits every received SenML pack is held to, CBOR or JSON: bytes, records, string length and
 * nesting. They bound what hostile input can make a decoder walk or allocate.
 */
import { ArgumentError } from '../core/errors.js';
import type { CborLimits } from './cbor-reader.js';

/**
 * The limits in force in a SenML decoder.
 *
 * @example
 * ```ts
 * const limits: SenmlLimits = { ...DEFAULT_SENML_LIMITS, maxRecords: 100 }
 * ```
 */
export interface SenmlLimits {
  /** Largest pack in bytes. */
  readonly maxBytes: number;
  /** Most records in a pack, and most items of any array or map inside a record. */
  readonly maxRecords: number;
  /** Longest text or byte string in bytes. */
  readonly maxStringLength: number;
  /** Deepest nesting: the pack is 1, a record 2, a field value 3. */
  readonly maxDepth: number;
}

/**
 * Decode limits as options: each optional, validated by {@link resolveSenmlLimits}.
 *
 * @example
 * ```ts
 * const options: SenmlLimitOptions = { maxBytes: 65_536 }
 * ```
 */
export type SenmlLimitOptions = { readonly [K in keyof SenmlLimits]?: number };

/**
 * Defaults: 1 MiB, 10,000 records, 1,024-byte strings, nesting 16 (pack 1, record 2, value 3…).
 *
 * @example
 * ```ts
 * DEFAULT_SENML_LIMITS.maxRecords // 10000
 * ```
 */
export const DEFAULT_SENML_LIMITS: Readonly<SenmlLimits> = Object.freeze({ maxBytes: 1_048_576, maxRecords: 10_000, maxStringLength: 1024, maxDepth: 16 });

const LIMIT_RANGES: Readonly<Record<keyof SenmlLimits, readonly [number, number]>> = {
  maxBytes: [1, 2 ** 31 - 1],
  maxRecords: [1, 2 ** 31 - 1],
  maxStringLength: [1, 2 ** 31 - 1],
  maxDepth: [3, 64],
};

/**
 * Fills in and validates decode limits; throws a precise `ArgumentError` for a bad option.
 *
 * @example
 * ```ts
 * resolveSenmlLimits({ maxRecords: 100 }) // { maxBytes: 1048576, maxRecords: 100, maxStringLength: 1024, maxDepth: 16 }
 * resolveSenmlLimits({ maxDepth: 2 })     // ArgumentError: Expected `maxDepth` to be an integer from 3 to 64, got 2
 * ```
 */
export function resolveSenmlLimits(options: SenmlLimitOptions): SenmlLimits {
  if (typeof options !== 'object' || options === null) throw new ArgumentError(`Expected \`options\` to be an object, got ${String(options)}`);
  const limits = { ...DEFAULT_SENML_LIMITS };
  for (const name of Object.keys(LIMIT_RANGES) as Array<keyof SenmlLimits>) {
    const value = options[name];
    if (value === undefined) continue;
    const [min, max] = LIMIT_RANGES[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new ArgumentError(`Expected \`${name}\` to be an integer from ${min} to ${max}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
    }
    limits[name] = value;
  }
  return limits;
}

/**
 * The CBOR reader's limits for SenML limits: `maxRecords` bounds every array and map.
 *
 * @example
 * ```ts
 * cborLimitsOf(DEFAULT_SENML_LIMITS) // { maxBytes: 1048576, maxItems: 10000, maxDepth: 16, maxStringLength: 1024 }
 * ```
 */
export function cborLimitsOf(limits: SenmlLimits): CborLimits {
  return { maxBytes: limits.maxBytes, maxItems: limits.maxRecords, maxDepth: limits.maxDepth, maxStringLength: limits.maxStringLength };
}
