/**
 * Encodings of sensorkit's payloads: SenML (RFC 8428) records, resolution and the Sample mapping;
 * SenML-CBOR (telemetry) with its strict decoder; SenML-JSON for people. The CDDL of every payload
 * is `sensorkit.cddl` beside this file.
 */
export * from './senml.js';
export * from './senml-cbor.js';
export * from './senml-json.js';
export { DEFAULT_SCAN_LIMITS, SenmlCborScanner, resolveScanLimits, type ScanLimitOptions, type ScanLimits } from './cbor-wellformed.js';
export * from './topics.js';
export * from './wot.js';
export * from './cddl.js';
