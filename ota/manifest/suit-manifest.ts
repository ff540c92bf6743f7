/**
 * The SUIT manifest of draft-ietf-suit-manifest-37 (§8.4): what sensorkit writes, and the structural
 * reader of any manifest (its members, components and command sequences). What a manifest asks a
 * device to do is worked out in suit-interpret.ts; the envelope and its signature are in
 * suit-envelope.ts.
 *
 * What sensorkit writes, for components 0…n−1 (the `12, i` set-component-index commands only when
 * n > 1):
 * ```
 * manifest = { 1: 1, 2: sequence, 3: bstr .cbor common, 7: bstr .cbor validate,
 *              20: bstr .cbor install (or its SUIT_Digest when severed), ? 23: text (idem) }
 * common   = { 2: [ [ component id bstrs ]… ], 4: bstr .cbor shared }
 * shared   = [ (12, true,) 20, { 1: vendor-id, 2: class-id }, 1, 15, 2, 15,
 *              ((12, i,) 20, { 3: bstr .cbor [-16, sha256], 14: size })… ]
 * validate = [ ((12, i,) 3, 15)… ]                                  (condition-image-match)
 * install  = [ ((12, i,) 20, { 21: uri }, 21, 2, 3, 15)… ]          (fetch, then image-match)
 * text     = { "en": { ? 1: description, ? [id]: { 6: version, ? 5: description } } }
 * ```
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { ManifestError } from '../errors.js';
import { decodeCbor, encodeCbor, type CborValue } from './cbor.js';
import { SUIT_COMMAND_CODES, SUIT_PARAMETER_CODES, parseCommandSequence, REPORT_ALL, type SuitCommand } from './suit-commands.js';
import { decodeText, encodeText, type SuitComponentText, type SuitText } from './suit-text.js';
import { uuidBytes } from './uuid.js';

/** SUIT digest algorithm id of SHA-256 (COSE −16, RFC 9054). */
export const SUIT_SHA256 = -16;

/** Manifest member keys (draft §8.4 and its CDDL). */
export const MANIFEST_KEYS = Object.freeze({
  version: 1, sequenceNumber: 2, common: 3, referenceUri: 4, validate: 7, load: 8, invoke: 9, payloadFetch: 16, install: 20, text: 23,
});
/** The install key of sensorkit's earlier layout (unassigned in the draft). */
export const OLD_INSTALL_KEY = 17;
/** Members that may be severed: their digest in the manifest, their bytes in the envelope (draft §8.4.2). */
export const SEVERABLE_KEYS: readonly number[] = Object.freeze([MANIFEST_KEYS.payloadFetch, MANIFEST_KEYS.install, MANIFEST_KEYS.text]);

/** Command sequence names, by manifest key; `suit-shared-sequence` lives in suit-common. */
export const SEQUENCE_NAMES: Readonly<Record<number, SequenceName>> = Object.freeze({
  7: 'suit-validate', 8: 'suit-load', 9: 'suit-invoke', 16: 'suit-payload-fetch', 20: 'suit-install',
});
/** The command sequences of a manifest. */
export type SequenceName = 'suit-shared-sequence' | 'suit-validate' | 'suit-load' | 'suit-invoke' | 'suit-payload-fetch' | 'suit-install';

const COMMON_COMPONENTS = 2;
const COMMON_SHARED = 4;

/** Upper bound of a sequence number: a safe integer, so a counter file never loses precision. */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

/** One component's image. */
export interface SuitComponentImage {
  /** The component, e.g. `['firmware']` or `['mcu', 'firmware']`; a segment that is not printable UTF-8 reads `h'00'`. */
  readonly componentId: readonly string[];
  /** The identifier's exact byte strings; when signing, default the UTF-8 of `componentId`. */
  readonly componentIdBytes?: readonly Uint8Array[];
  /** SHA-256 of the image. */
  readonly imageDigest: Uint8Array;
  /** Exact image size, bytes. */
  readonly imageSize: number;
  /** Where to fetch the image (may be relative to the manifest's URL). */
  readonly uri?: string;
  /** Human-readable version (suit-text-component-version), e.g. `1.4.0`. */
  readonly version?: string;
  /** Whether the manifest fetches this image (suit-directive-fetch). Default true when signing. */
  readonly fetch?: boolean;
  /** Component description (suit-text-component-description). */
  readonly componentDescription?: string;
}

/**
 * What a manifest says: who it is for, its sequence number and its images. The top-level image
 * fields are those of the first component it fetches (the only one in a single-image manifest);
 * `components` lists them all (decoding always fills it; when signing, it replaces the top-level
 * image fields).
 */
export interface SuitManifest extends SuitComponentImage {
  /** Strictly increasing per device: the anti-rollback counter (RFC 9124 §4.2.1 "Monotonic Sequence Number"). */
  readonly sequence: number;
  /** UUID v5 of the vendor (RFC 9124 §4.2.1). */
  readonly vendorId: string;
  /** UUID v5 of the device class. */
  readonly classId: string;
  /** Manifest description (suit-text-manifest-description). */
  readonly description?: string;
  /** Every component with an image, in the manifest's order. */
  readonly components?: readonly SuitComponentImage[];
  /** suit-reference-uri, when present. */
  readonly referenceUri?: string;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The printable form of a component identifier segment: its text when it is printable UTF-8, else
 * `h'…'` (CBOR diagnostic notation).
 *
 * @example
 * ```ts
 * segmentText(Uint8Array.of(0)) // "h'00'"
 * ```
 */
export function segmentText(segment: Uint8Array): string {
  try {
    const text = utf8Decoder.decode(segment);
    if (text !== '' && !/[\u0000-\u001f\u007f-\u009f]/.test(text) && !/^h'/.test(text)) return text;
  } catch {
    // not UTF-8: shown as hex
  }
  return `h'${Buffer.from(segment).toString('hex')}'`;
}

/**
 * The byte strings of a component identifier: `componentIdBytes`, else the UTF-8 of `componentId`.
 *
 * @example
 * ```ts
 * componentIdBytesOf({ componentId: ['mcu', 'fw'], imageDigest, imageSize: 10 }) // [bytes 'mcu', bytes 'fw']
 * ```
 */
export function componentIdBytesOf(component: SuitComponentImage): Uint8Array[] {
  return component.componentIdBytes !== undefined ? component.componentIdBytes.map((s) => Uint8Array.from(s)) : component.componentId.map((s) => utf8.encode(s));
}

/**
 * The components a manifest describes, for signing: `components`, or the top-level image.
 *
 * @example
 * ```ts
 * componentsOf(manifest).length // 1 for a single-image manifest
 * ```
 */
export function componentsOf(manifest: SuitManifest): readonly SuitComponentImage[] {
  return manifest.components ?? [manifest];
}

function checkComponent(component: SuitComponentImage, i: number): void {
  const what = `components[${i}]`;
  if (!Number.isSafeInteger(component.imageSize) || component.imageSize < 0) throw new ArgumentError(`Expected \`${what}.imageSize\` to be an integer from 0, got ${component.imageSize}`);
  if (component.imageDigest.length !== 32) throw new ArgumentError(`Expected \`${what}.imageDigest\` to be 32 bytes (SHA-256), got ${component.imageDigest.length}`);
  if (componentIdBytesOf(component).length === 0) throw new ArgumentError(`Expected \`${what}.componentId\` to have at least one segment`);
}

function sameId(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((s, i) => Buffer.from(s).equals(Buffer.from(b[i]!)));
}

/**
 * The manifest's members as sensorkit writes them (each command sequence and the text already
 * bstr-wrapped): the envelope severs some of them before it encodes the map.
 *
 * @example
 * ```ts
 * const members = manifestMembers(manifest) // Map { 1 => 1, 2 => 7, 3 => bstr, 7 => bstr, 20 => bstr, 23 => bstr }
 * ```
 */
export function manifestMembers(manifest: SuitManifest): Map<number, CborValue> {
  if (!Number.isSafeInteger(manifest.sequence) || manifest.sequence < 0) throw new ArgumentError(`Expected \`sequence\` to be an integer from 0 to 2^53 − 1, got ${manifest.sequence}`);
  const components = componentsOf(manifest);
  if (components.length === 0) throw new ArgumentError('Expected at least one component');
  components.forEach(checkComponent);
  const ids = components.map(componentIdBytesOf);
  for (let i = 1; i < ids.length; i++) for (let j = 0; j < i; j++) if (sameId(ids[i]!, ids[j]!)) throw new ArgumentError(`Expected component ids to be unique; components[${i}] repeats components[${j}]`);
  const many = components.length > 1;
  const select = (i: number): CborValue[] => (many ? [SUIT_COMMAND_CODES.setComponentIndex, i] : []);
  const shared: CborValue[] = [
    ...(many ? [SUIT_COMMAND_CODES.setComponentIndex, true] : []),
    SUIT_COMMAND_CODES.overrideParameters, new Map<number, CborValue>([[SUIT_PARAMETER_CODES.vendorId, uuidBytes(manifest.vendorId)], [SUIT_PARAMETER_CODES.classId, uuidBytes(manifest.classId)]]),
    SUIT_COMMAND_CODES.vendorIdentifier, REPORT_ALL, SUIT_COMMAND_CODES.classIdentifier, REPORT_ALL,
  ];
  const validate: CborValue[] = [];
  const install: CborValue[] = [];
  components.forEach((component, i) => {
    shared.push(...select(i), SUIT_COMMAND_CODES.overrideParameters, new Map<number, CborValue>([[SUIT_PARAMETER_CODES.imageDigest, encodeCbor([SUIT_SHA256, component.imageDigest])], [SUIT_PARAMETER_CODES.imageSize, component.imageSize]]));
    validate.push(...select(i), SUIT_COMMAND_CODES.imageMatch, REPORT_ALL);
    if (component.fetch !== false) install.push(...select(i), SUIT_COMMAND_CODES.overrideParameters, new Map([[SUIT_PARAMETER_CODES.uri, component.uri ?? '']]), SUIT_COMMAND_CODES.fetch, 2, SUIT_COMMAND_CODES.imageMatch, REPORT_ALL);
  });
  const common = new Map<number, CborValue>([[COMMON_COMPONENTS, ids], [COMMON_SHARED, encodeCbor(shared)]]);
  const members = new Map<number, CborValue>([
    [MANIFEST_KEYS.version, 1],
    [MANIFEST_KEYS.sequenceNumber, manifest.sequence],
    [MANIFEST_KEYS.common, encodeCbor(common)],
    [MANIFEST_KEYS.validate, encodeCbor(validate)],
  ]);
  if (manifest.referenceUri !== undefined) members.set(MANIFEST_KEYS.referenceUri, manifest.referenceUri);
  if (install.length > 0) members.set(MANIFEST_KEYS.install, encodeCbor(install));
  const text = textOf(manifest, components, ids);
  if (text !== undefined) members.set(MANIFEST_KEYS.text, encodeText(text));
  return members;
}

function textOf(manifest: SuitManifest, components: readonly SuitComponentImage[], ids: readonly Uint8Array[][]): SuitText | undefined {
  const own = new Map<number, string>();
  if (manifest.description !== undefined) own.set(1, manifest.description);
  const perComponent: SuitComponentText[] = [];
  components.forEach((component, i) => {
    const fields = new Map<number, string>();
    if (component.componentDescription !== undefined) fields.set(5, component.componentDescription);
    if (component.version !== undefined) fields.set(6, component.version);
    if (fields.size > 0) perComponent.push({ componentId: ids[i]!, fields });
  });
  if (own.size === 0 && perComponent.length === 0) return undefined;
  return new Map([['en', { manifest: own, components: perComponent }]]);
}

/**
 * Encodes a manifest deterministically with every member inline (the bytes whose bstr-wrapped form
 * the SUIT digest covers when nothing is severed).
 *
 * @example
 * ```ts
 * const bytes = encodeManifest({ sequence: 7, componentId: ['firmware'], vendorId, classId, imageDigest, imageSize: 1024 })
 * ```
 */
export function encodeManifest(manifest: SuitManifest): Uint8Array {
  return encodeCbor(manifestMembers(manifest));
}

/** A member that may be severed, as the manifest holds it. */
export interface SeverableMember {
  readonly key: number;
  readonly name: string;
  /** The SUIT_Digest the manifest holds, when the member is severed; undefined when it is inline. */
  readonly digest?: { readonly algorithm: number; readonly bytes: Uint8Array };
  /** Whether the envelope carries the member (only meaningful for a severed one). */
  readonly inEnvelope: boolean;
}

/** A manifest read structurally: every member, every command sequence parsed, nothing executed. */
export interface SuitManifestDocument {
  readonly version: number;
  readonly sequence: number;
  /** The component identifiers of suit-common. */
  readonly componentIds: readonly (readonly Uint8Array[])[];
  readonly referenceUri?: string;
  /** The command sequences present (severed ones only when the envelope holds them), in the order of their keys. */
  readonly sequences: ReadonlyMap<SequenceName, readonly SuitCommand[]>;
  /** The severable members (payload-fetch, install, text) present in the manifest, inline or severed. */
  readonly severable: readonly SeverableMember[];
  readonly text?: SuitText;
}

function bad(message: string): ManifestError {
  return new ManifestError('bad-structure', message);
}

const MEMBER_NAMES: Readonly<Record<number, string>> = Object.freeze({ 16: 'suit-payload-fetch', 20: 'suit-install', 23: 'suit-text' });

function asBytes(value: CborValue | undefined, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw bad(`${what} is not a byte string`);
  return value;
}

/**
 * A SUIT_Digest held where a severable member would be (draft §8.4.2: an array, where the inline
 * member is a bstr); throws `ManifestError` `bad-structure` naming `what` for anything else.
 *
 * @example
 * ```ts
 * parseSuitDigest([-16, digestBytes], 'suit-install') // { algorithm: -16, bytes: digestBytes }
 * ```
 */
export function parseSuitDigest(value: CborValue, what: string): { algorithm: number; bytes: Uint8Array } {
  if (!Array.isArray(value) || value.length < 2 || typeof value[0] !== 'number' || !(value[1] instanceof Uint8Array)) throw bad(`${what} is not a SUIT_Digest [algorithm, bytes]`);
  return { algorithm: value[0], bytes: value[1] };
}

/**
 * Reads a manifest's members without executing anything. `envelopeMembers` are the severable members
 * the envelope carries, already checked against their digests by the caller (suit-envelope.ts).
 * Throws `ManifestError`: `old-layout` for sensorkit's earlier layout (install at key 17),
 * `bad-structure` for an unknown member or a malformed one.
 *
 * @example
 * ```ts
 * const document = readManifestDocument(manifestBytes)
 * document.sequences.get('suit-install')?.map((c) => c.name)
 * ```
 */
export function readManifestDocument(bytes: Uint8Array, envelopeMembers: ReadonlyMap<number, Uint8Array> = new Map()): SuitManifestDocument {
  const fields = decodeCbor(bytes);
  if (!(fields instanceof Map)) throw bad('the manifest is not a map');
  if (fields.has(OLD_INSTALL_KEY)) throw new ManifestError('old-layout', 'old sensorkit SUIT layout (install at key 17); re-sign with this version');
  const known = Object.values(MANIFEST_KEYS) as number[];
  for (const key of fields.keys()) if (typeof key !== 'number' || !known.includes(key)) throw bad(`manifest key ${JSON.stringify(key)} is not understood`);
  if (fields.get(MANIFEST_KEYS.version) !== 1) throw bad('suit-manifest-version must be 1');
  const sequence = fields.get(MANIFEST_KEYS.sequenceNumber);
  if (typeof sequence !== 'number' || sequence < 0) throw bad('suit-manifest-sequence-number is not an unsigned integer');
  const common = decodeCbor(asBytes(fields.get(MANIFEST_KEYS.common), 'suit-common'));
  if (!(common instanceof Map)) throw bad('suit-common is not a map');
  for (const key of common.keys()) if (key !== COMMON_COMPONENTS && key !== COMMON_SHARED) throw bad(`suit-common key ${JSON.stringify(key)} is not understood`);
  const components = common.get(COMMON_COMPONENTS);
  if (!Array.isArray(components) || components.length === 0) throw bad('suit-components is not a non-empty list');
  const componentIds = components.map((id, i) => {
    if (!Array.isArray(id) || !id.every((segment) => segment instanceof Uint8Array)) throw bad(`component ${i} is not a component identifier ([* bstr])`);
    return id.map((segment) => Uint8Array.from(segment as Uint8Array));
  });
  const sequences = new Map<SequenceName, SuitCommand[]>();
  if (common.has(COMMON_SHARED)) sequences.set('suit-shared-sequence', parseCommandSequence(asBytes(common.get(COMMON_SHARED), 'suit-shared-sequence'), 'suit-shared-sequence'));
  const referenceUri = fields.get(MANIFEST_KEYS.referenceUri);
  if (referenceUri !== undefined && typeof referenceUri !== 'string') throw bad('suit-reference-uri is not text');
  const severable: SeverableMember[] = [];
  let text: SuitText | undefined;
  for (const key of [...fields.keys()].sort((a, b) => (a as number) - (b as number)) as number[]) {
    const value = fields.get(key)!;
    let member: Uint8Array | undefined;
    if (SEVERABLE_KEYS.includes(key)) {
      const name = MEMBER_NAMES[key]!;
      if (value instanceof Uint8Array) {
        if (envelopeMembers.has(key)) throw bad(`the envelope carries ${name} (key ${key}) but the manifest holds it inline, not its digest`);
        severable.push({ key, name, inEnvelope: false });
        member = value;
      } else {
        const digest = parseSuitDigest(value, name);
        member = envelopeMembers.get(key);
        severable.push({ key, name, digest, inEnvelope: member !== undefined });
      }
    } else if (SEQUENCE_NAMES[key] !== undefined) {
      member = asBytes(value, SEQUENCE_NAMES[key]);
    }
    if (member === undefined) continue;
    if (key === MANIFEST_KEYS.text) text = decodeText(member);
    else sequences.set(SEQUENCE_NAMES[key]!, parseCommandSequence(member, SEQUENCE_NAMES[key]!));
  }
  for (const key of envelopeMembers.keys()) if (!fields.has(key)) throw bad(`the envelope carries member ${key} but the manifest holds no digest of it`);
  return {
    version: 1,
    sequence,
    componentIds,
    ...(referenceUri === undefined ? {} : { referenceUri }),
    sequences,
    severable,
    ...(text === undefined ? {} : { text }),
  };
}

// The interpreter reads this module's documents; its entry points are part of the manifest API.
export { decodeManifest, interpretManifest, unsupportedIn } from './suit-interpret.js';
