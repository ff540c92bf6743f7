/** Run records: the format, canonical JSON, signing and verification, JUnit, output and replay comparison. */
export * from './record.js';
export { canonicalJson, prettyCanonicalJson, memberPath } from './canonical-json.js';
export { planDigest } from './plan-digest.js';
export { recordShapeProblem, isRunRecord } from './record-shape.js';
export {
  signRecord,
  verifyRecord,
  recordText,
  recordKeyId,
  signedBytes,
  shortId,
  type RecordSignature,
  type RecordSignatureAlgorithm,
  type SignedRecord,
  type RecordRefusal,
  type RecordVerification,
} from './sign.js';
export { junitXml, xmlEscape, describeLimits, type JunitOptions } from './junit.js';
export { writeRunOutput, type RunOutput, type RunOutputOptions } from './write-output.js';
export { compareRecords, describeDifference, type RecordDifference } from './compare.js';
