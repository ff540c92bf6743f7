/**
 * Encodings of sensorkit's payloads: SenML (RFC 8428) records, resolution and the Sample mapping;
 * SenML-CBOR (telemetry) with its strict decoder on the one strict CBOR reader (`cbor-reader.ts`, shared
 * with the OTA manifest parser); SenML-JSON for people. The CDDL of every payload
 * is `sensorkit.cddl` beside this file.
 */
export * from './senml.js';
export * from './senml-cbor.js';
export * from './senml-json.js';
export { DEFAULT_SENML_LIMITS, resolveSenmlLimits, type SenmlLimitOptions, type SenmlLimits } from './senml-limits.js';
export { CborReader, CborTagged, compareBytes, decodeStrictCbor, type CborLimits, type CborMap, type CborProfile, type CborValue } from './cbor-reader.js';
export * from './topics.js';
export * from './wot.js';
export * from './cddl.js';
