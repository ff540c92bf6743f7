/**
 * The SUIT manifest (SUIT manifest draft §8.4, RFC 9124 information model) this profile writes and
 * reads: one component, vendor-id and class-id conditions, image digest and size, a payload URI
 * and optional text. Encoding and decoding of the manifest alone; the envelope and its signature
 * are in suit-envelope.ts.
 *
 * ```
 * manifest = { 1: 1 (version), 2: sequence, 3: bstr .cbor common, 17: bstr .cbor install, ? 23: bstr .cbor text }
 * common   = { 2: [ [ component id bstrs ] ], 4: bstr .cbor shared-sequence }
 * shared   = [ 20, { 1: vendor-id, 2: class-id, 3: bstr .cbor [-16, sha256], 14: size }, 1, 15, 2, 15 ]
 * install  = [ 20, { 21: uri }, 21, 15, 3, 15 ]       (override uri, fetch, check image digest)
 * text     = { ? 1: description, ? 6: version }
 * ```
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { ManifestError } from '../errors.js';
import { decodeCbor, encodeCbor, type CborMap, type CborValue } from './cbor.js';
import { uuidBytes, uuidText } from './uuid.js';

/** SUIT digest algorithm id of SHA-256 (COSE −16, RFC 9054). */
export const SUIT_SHA256 = -16;

// Manifest keys (SUIT manifest draft §8.4).
const MANIFEST_VERSION = 1;
const SEQUENCE_NUMBER = 2;
const COMMON = 3;
const INSTALL = 17;
const TEXT = 23;
// Common keys.
const COMPONENTS = 2;
const SHARED_SEQUENCE = 4;
// Commands (draft §8.4.10): conditions 1–3, directives 20–21; 15 = report policy "all".
const CONDITION_VENDOR = 1;
const CONDITION_CLASS = 2;
const CONDITION_IMAGE = 3;
const DIRECTIVE_OVERRIDE = 20;
const DIRECTIVE_FETCH = 21;
const REPORT_ALL = 15;
// Parameters (draft §8.4.8).
const PARAM_VENDOR = 1;
const PARAM_CLASS = 2;
const PARAM_DIGEST = 3;
const PARAM_SIZE = 14;
const PARAM_URI = 21;
// Text (draft §8.4.4).
const TEXT_DESCRIPTION = 1;
const TEXT_VERSION = 6;

/** Upper bound of a sequence number: a safe integer, so a counter file never loses precision. */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

/** What one manifest says about one image. */
export interface SuitManifest {
  /** Strictly increasing per device: the anti-rollback counter (RFC 9124 §4.2.1 "Monotonic Sequence Number"). */
  readonly sequence: number;
  /** The component the image is for, e.g. `['firmware']` (one element per path segment). */
  readonly componentId: readonly string[];
  /** UUID v5 of the vendor (RFC 9124 §4.2.1). */
  readonly vendorId: string;
  /** UUID v5 of the device class. */
  readonly classId: string;
  /** SHA-256 of the image. */
  readonly imageDigest: Uint8Array;
  /** Exact image size, bytes. */
  readonly imageSize: number;
  /** Where to fetch the image (may be relative to the manifest's URL). */
  readonly uri?: string;
  /** Human-readable version, e.g. `1.4.0`. */
  readonly version?: string;
  /** Free text. */
  readonly description?: string;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes a manifest deterministically (the bytes that the SUIT digest covers).
 *
 * @example
 * ```ts
 * const bytes = encodeManifest({ sequence: 7, componentId: ['firmware'], vendorId, classId, imageDigest, imageSize: 1024 })
 * ```
 */
export function encodeManifest(manifest: SuitManifest): Uint8Array {
  if (!Number.isSafeInteger(manifest.sequence) || manifest.sequence < 0) throw new ArgumentError(`Expected \`sequence\` to be an integer from 0 to 2^53 − 1, got ${manifest.sequence}`);
  if (!Number.isSafeInteger(manifest.imageSize) || manifest.imageSize < 0) throw new ArgumentError(`Expected \`imageSize\` to be an integer from 0, got ${manifest.imageSize}`);
  if (manifest.imageDigest.length !== 32) throw new ArgumentError(`Expected \`imageDigest\` to be 32 bytes (SHA-256), got ${manifest.imageDigest.length}`);
  if (manifest.componentId.length === 0) throw new ArgumentError('Expected `componentId` to have at least one segment');
  const digest = encodeCbor([SUIT_SHA256, manifest.imageDigest]);
  const parameters: CborMap = new Map<number, CborValue>([
    [PARAM_VENDOR, uuidBytes(manifest.vendorId)],
    [PARAM_CLASS, uuidBytes(manifest.classId)],
    [PARAM_DIGEST, digest],
    [PARAM_SIZE, manifest.imageSize],
  ]);
  const shared = encodeCbor([DIRECTIVE_OVERRIDE, parameters, CONDITION_VENDOR, REPORT_ALL, CONDITION_CLASS, REPORT_ALL]);
  const common = encodeCbor(new Map<number, CborValue>([
    [COMPONENTS, [manifest.componentId.map((segment) => utf8.encode(segment))]],
    [SHARED_SEQUENCE, shared],
  ]));
  const install = encodeCbor([DIRECTIVE_OVERRIDE, new Map([[PARAM_URI, manifest.uri ?? '']]), DIRECTIVE_FETCH, REPORT_ALL, CONDITION_IMAGE, REPORT_ALL]);
  const fields = new Map<number, CborValue>([
    [MANIFEST_VERSION, 1],
    [SEQUENCE_NUMBER, manifest.sequence],
    [COMMON, common],
    [INSTALL, install],
  ]);
  const text = new Map<number, CborValue>();
  if (manifest.description !== undefined) text.set(TEXT_DESCRIPTION, manifest.description);
  if (manifest.version !== undefined) text.set(TEXT_VERSION, manifest.version);
  if (text.size > 0) fields.set(TEXT, encodeCbor(text));
  return encodeCbor(fields);
}

function bad(message: string): ManifestError {
  return new ManifestError('bad-structure', message);
}

function asMap(value: CborValue | undefined, what: string, allowed: readonly number[]): CborMap {
  if (!(value instanceof Map)) throw bad(`${what} is not a map`);
  for (const key of value.keys()) if (typeof key !== 'number' || !allowed.includes(key)) throw bad(`${what}: key ${JSON.stringify(key)} is not understood`);
  return value;
}

function asBytes(value: CborValue | undefined, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw bad(`${what} is not a byte string`);
  return value;
}

function asUint(value: CborValue | undefined, what: string): number {
  if (typeof value !== 'number' || value < 0) throw bad(`${what} is not an unsigned integer`);
  return value;
}

function asText(value: CborValue | undefined, what: string, allowLineBreaks = false): string {
  if (typeof value !== 'string') throw bad(`${what} is not text`);
  // Control characters (ANSI escapes, NUL, bidi-less C1) reach terminals, logs and file names.
  if ((allowLineBreaks ? /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/ : /[\u0000-\u001f\u007f-\u009f]/).test(value)) throw bad(`${what} holds control characters`);
  return value;
}

function asArray(value: CborValue | undefined, what: string): CborValue[] {
  if (!Array.isArray(value)) throw bad(`${what} is not an array`);
  return value;
}

/**
 * Checks a command sequence is command/argument pairs holding exactly the `expected` commands, each
 * once. A processor must fail on a command it does not understand (SUIT manifest draft §8.4.10 and
 * its processing rules): skipping one would install an image under conditions nobody checked. A
 * condition's argument is its reporting policy, an unsigned integer.
 */
function commands(bytes: Uint8Array, what: string, expected: readonly number[]): CborValue[] {
  const sequence = asArray(decodeCbor(bytes), what);
  if (sequence.length % 2 !== 0) throw bad(`${what} is not a sequence of command/argument pairs`);
  const present = new Set<number>();
  for (let i = 0; i < sequence.length; i += 2) {
    const command = sequence[i];
    if (typeof command !== 'number' || !(command === DIRECTIVE_OVERRIDE || expected.includes(command))) throw bad(`${what}: command ${JSON.stringify(command)} is not understood`);
    if (present.has(command)) throw bad(`${what}: command ${command} appears twice`);
    present.add(command);
    if (command !== DIRECTIVE_OVERRIDE) asUint(sequence[i + 1], `${what}: the reporting policy of command ${command}`);
  }
  for (const command of expected) if (!present.has(command)) throw bad(`${what} lacks command ${command}`);
  return sequence;
}

function overrideParameters(sequence: CborValue[], what: string, allowed: readonly number[]): CborMap {
  const index = sequence.indexOf(DIRECTIVE_OVERRIDE);
  if (index < 0 || index % 2 !== 0) throw bad(`${what} lacks suit-directive-override-parameters`);
  return asMap(sequence[index + 1], `${what} parameters`, allowed);
}

/**
 * Decodes manifest bytes (already authenticated: call only after the signature and digest check).
 * Throws `ManifestError` for malformed CBOR or a structure this profile does not accept.
 *
 * @example
 * ```ts
 * const manifest = decodeManifest(manifestBytes)
 * manifest.sequence // 7
 * ```
 */
export function decodeManifest(bytes: Uint8Array): SuitManifest {
  const fields = asMap(decodeCbor(bytes), 'the manifest', [MANIFEST_VERSION, SEQUENCE_NUMBER, COMMON, INSTALL, TEXT]);
  if (fields.get(MANIFEST_VERSION) !== 1) throw bad('suit-manifest-version must be 1');
  const sequence = asUint(fields.get(SEQUENCE_NUMBER), 'suit-manifest-sequence-number');
  const common = asMap(decodeCbor(asBytes(fields.get(COMMON), 'suit-common')), 'suit-common', [COMPONENTS, SHARED_SEQUENCE]);
  const components = asArray(common.get(COMPONENTS), 'suit-components');
  if (components.length !== 1) throw bad(`this profile updates one component, got ${components.length}`);
  const componentId = asArray(components[0], 'the component id').map((segment, i) => {
    let text: string;
    try {
      text = utf8Decoder.decode(asBytes(segment, `component id segment ${i}`));
    } catch (error) {
      throw error instanceof ManifestError ? error : bad(`component id segment ${i} is not UTF-8`);
    }
    return asText(text, `component id segment ${i}`);
  });
  if (componentId.length === 0) throw bad('the component id is empty');
  const shared = commands(asBytes(common.get(SHARED_SEQUENCE), 'suit-shared-sequence'), 'suit-shared-sequence', [CONDITION_VENDOR, CONDITION_CLASS]);
  const parameters = overrideParameters(shared, 'suit-shared-sequence', [PARAM_VENDOR, PARAM_CLASS, PARAM_DIGEST, PARAM_SIZE]);
  const vendor = asBytes(parameters.get(PARAM_VENDOR), 'vendor-id');
  const cls = asBytes(parameters.get(PARAM_CLASS), 'class-id');
  if (vendor.length !== 16 || cls.length !== 16) throw bad('vendor-id and class-id must be 16-byte UUIDs');
  const digest = asArray(decodeCbor(asBytes(parameters.get(PARAM_DIGEST), 'image-digest')), 'image-digest');
  if (digest.length !== 2 || digest[0] !== SUIT_SHA256) throw bad('image-digest must be [-16 (SHA-256), bytes]');
  const imageDigest = asBytes(digest[1], 'image-digest bytes');
  if (imageDigest.length !== 32) throw bad('a SHA-256 image digest is 32 bytes');
  const imageSize = asUint(parameters.get(PARAM_SIZE), 'image-size');
  const install = commands(asBytes(fields.get(INSTALL), 'suit-install'), 'suit-install', [DIRECTIVE_FETCH, CONDITION_IMAGE]);
  const uri = asText(overrideParameters(install, 'suit-install', [PARAM_URI]).get(PARAM_URI), 'uri');
  const manifest: { -readonly [K in keyof SuitManifest]: SuitManifest[K] } = {
    sequence,
    componentId,
    vendorId: uuidText(vendor),
    classId: uuidText(cls),
    imageDigest: Uint8Array.from(imageDigest),
    imageSize,
  };
  if (uri !== '') manifest.uri = uri;
  if (fields.has(TEXT)) {
    const text = asMap(decodeCbor(asBytes(fields.get(TEXT), 'suit-text')), 'suit-text', [TEXT_DESCRIPTION, TEXT_VERSION]);
    if (text.has(TEXT_DESCRIPTION)) manifest.description = asText(text.get(TEXT_DESCRIPTION), 'description', true);
    if (text.has(TEXT_VERSION)) manifest.version = asText(text.get(TEXT_VERSION), 'version');
  }
  return manifest;
}
