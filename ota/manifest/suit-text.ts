/**
 * suit-text (SUIT manifest draft §8.4.4): a map from language tags (RFC 9290 Appendix A, Tag 38) to
 * language maps, each holding manifest-wide text under integer keys and per-component text under the
 * component's identifier (an array of byte strings used as a map key).
 *
 * ```
 * { "en": { 1: manifest description, 2: update description,
 *           [h'61707031']: { 5: component description, 6: component version } } }
 * ```
 *
 * The SDK's strict CBOR reader takes only integer and text map keys (so `Map.has` finds duplicates),
 * and component identifiers are arrays; so the two map levels are walked here, with the same
 * deterministic-encoding rules (RFC 8949 §4.2.1: shortest heads, definite lengths, keys unique and in
 * bytewise order of their encodings), and every key and value is handed to the strict reader.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { compareBytes } from '../../sdk/encoding/cbor-reader.js';
import { ManifestError } from '../errors.js';
import { concatBytes, decodeCbor, encodeCbor, encodeHead, type CborValue } from './cbor.js';

/** Manifest-wide text keys (draft §8.4.4). */
export const TEXT_KEYS: Readonly<Record<number, string>> = Object.freeze({ 1: 'manifest-description', 2: 'update-description', 3: 'manifest-json-source', 4: 'manifest-yaml-source' });
/** Per-component text keys (draft §8.4.4). */
export const TEXT_COMPONENT_KEYS: Readonly<Record<number, string>> = Object.freeze({ 1: 'vendor-name', 2: 'model-name', 3: 'vendor-domain', 4: 'model-info', 5: 'component-description', 6: 'component-version' });

/** The text of one component in one language. */
export interface SuitComponentText {
  /** The component identifier (its byte-string segments). */
  readonly componentId: readonly Uint8Array[];
  /** Text by key (5 component description, 6 component version, …). */
  readonly fields: ReadonlyMap<number, string>;
}

/** The text of one language. */
export interface SuitLanguageText {
  /** Manifest-wide text by key (1 manifest description, 2 update description, …). */
  readonly manifest: ReadonlyMap<number, string>;
  readonly components: readonly SuitComponentText[];
}

/** suit-text: language tag → text. */
export type SuitText = ReadonlyMap<string, SuitLanguageText>;

const LANGUAGE_TAG = /^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$/;
const MAX_ENTRIES = 64;

function bad(message: string): ManifestError {
  return new ManifestError('bad-structure', `suit-text: ${message}`);
}

function malformed(message: string, offset: number): ManifestError {
  return new ManifestError('malformed-cbor', `suit-text: ${message} at byte ${offset}`);
}

/** Control characters are refused (they reach terminals and logs); descriptions may hold line breaks and tabs. */
function checkText(value: CborValue, what: string, allowLineBreaks: boolean): string {
  if (typeof value !== 'string') throw bad(`${what} is not text`);
  if ((allowLineBreaks ? /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/ : /[\u0000-\u001f\u007f-\u009f]/).test(value)) throw bad(`${what} holds control characters`);
  return value;
}

/** A head: major type, argument and where the content starts; shortest forms only. */
function readHead(bytes: Uint8Array, pos: number): { major: number; arg: number; next: number } {
  if (pos >= bytes.length) throw malformed('unexpected end', pos);
  const initial = bytes[pos]!;
  const major = initial >> 5;
  const info = initial & 0x1f;
  if (info < 24) return { major, arg: info, next: pos + 1 };
  if (info > 27) throw malformed(info === 31 ? 'an indefinite length (not deterministic, RFC 8949 §4.2.1)' : 'a reserved additional information value', pos);
  const size = 1 << (info - 24);
  if (pos + 1 + size > bytes.length) throw malformed('unexpected end', pos);
  let arg = 0;
  for (let i = 0; i < size; i++) arg = arg * 256 + bytes[pos + 1 + i]!;
  const minimum = [24, 0x100, 0x10000, 0x100000000][info - 24]!;
  if (arg < minimum || (major === 7 && info === 24 && arg < 32)) throw malformed('a longer head than needed (RFC 8949 §4.2.1)', pos);
  if (!Number.isSafeInteger(arg)) throw malformed('an argument beyond 2^53', pos);
  return { major, arg, next: pos + 1 + size };
}

/** Where the item starting at `pos` ends (its content is checked later by the strict reader). */
function itemEnd(bytes: Uint8Array, pos: number, depth: number): number {
  if (depth > 16) throw malformed('nested too deeply', pos);
  const { major, arg, next } = readHead(bytes, pos);
  switch (major) {
    case 2:
    case 3:
      if (next + arg > bytes.length) throw malformed('a string running past the end', pos);
      return next + arg;
    case 4: {
      let at = next;
      for (let i = 0; i < arg; i++) at = itemEnd(bytes, at, depth + 1);
      return at;
    }
    case 5: {
      let at = next;
      for (let i = 0; i < arg * 2; i++) at = itemEnd(bytes, at, depth + 1);
      return at;
    }
    case 6:
      return itemEnd(bytes, next, depth + 1);
    default:
      return next;
  }
}

/** The entries of the map at `pos`, as byte ranges, checked for unique keys in bytewise order. */
function mapEntries(bytes: Uint8Array, pos: number, what: string): { entries: { key: Uint8Array; keyAt: number; value: Uint8Array }[]; end: number } {
  const { major, arg, next } = readHead(bytes, pos);
  if (major !== 5) throw bad(`${what} is not a map`);
  if (arg > MAX_ENTRIES) throw new ManifestError('limit', `suit-text: ${what} has ${arg} entries, above ${MAX_ENTRIES}`);
  const entries: { key: Uint8Array; keyAt: number; value: Uint8Array }[] = [];
  let at = next;
  for (let i = 0; i < arg; i++) {
    const keyEnd = itemEnd(bytes, at, 1);
    const valueEnd = itemEnd(bytes, keyEnd, 1);
    const key = bytes.subarray(at, keyEnd);
    const previous = entries.at(-1);
    if (previous !== undefined) {
      const order = compareBytes(previous.key, key);
      if (order === 0) throw malformed('a map key appears twice (RFC 8949 §5.6)', at);
      if (order > 0) throw malformed('map keys out of the order of their encodings (RFC 8949 §4.2.1)', at);
    }
    entries.push({ key, keyAt: at, value: bytes.subarray(keyEnd, valueEnd) });
    at = valueEnd;
  }
  return { entries, end: at };
}

function componentIdOf(value: CborValue, what: string): Uint8Array[] {
  if (!Array.isArray(value) || !value.every((segment) => segment instanceof Uint8Array)) throw bad(`${what} is not a component identifier ([* bstr])`);
  return value.map((segment) => Uint8Array.from(segment as Uint8Array));
}

/**
 * Decodes a `SUIT_Text_Map`; throws `ManifestError` (`malformed-cbor`, `bad-structure`, `limit`).
 *
 * @example
 * ```ts
 * const text = decodeText(textBytes)
 * text.get('en')?.manifest.get(1) // the manifest description
 * ```
 */
export function decodeText(bytes: Uint8Array): SuitText {
  const outer = mapEntries(bytes, 0, 'the text map');
  if (outer.end !== bytes.length) throw malformed('trailing bytes', outer.end);
  if (outer.entries.length === 0) throw bad('no language');
  const text = new Map<string, SuitLanguageText>();
  for (const entry of outer.entries) {
    const tag = decodeCbor(entry.key);
    if (typeof tag !== 'string' || !LANGUAGE_TAG.test(tag)) throw bad(`language ${JSON.stringify(tag)} is not a language tag (RFC 9290 Appendix A)`);
    const inner = mapEntries(entry.value, 0, `language ${tag}`);
    const manifest = new Map<number, string>();
    const components: SuitComponentText[] = [];
    for (const field of inner.entries) {
      const key = decodeCbor(field.key);
      if (typeof key === 'number') {
        manifest.set(key, checkText(decodeCbor(field.value), `${tag} ${TEXT_KEYS[key] ?? `text ${key}`}`, true));
      } else if (Array.isArray(key)) {
        const componentId = componentIdOf(key, `${tag}: a component key`);
        const value = decodeCbor(field.value);
        if (!(value instanceof Map)) throw bad(`${tag}: the text of a component is not a map`);
        const fields = new Map<number, string>();
        for (const [k, v] of value) {
          if (typeof k !== 'number') throw bad(`${tag}: component text key ${JSON.stringify(k)} is not an integer`);
          fields.set(k, checkText(v, `${tag} ${TEXT_COMPONENT_KEYS[k] ?? `component text ${k}`}`, k !== 6));
        }
        components.push({ componentId, fields });
      } else {
        throw bad(`${tag}: key ${JSON.stringify(key)} is neither an integer nor a component identifier`);
      }
    }
    text.set(tag, { manifest, components });
  }
  return text;
}

function encodeMap(entries: readonly (readonly [Uint8Array, Uint8Array])[]): Uint8Array {
  const sorted = [...entries].sort((a, b) => compareBytes(a[0], b[0]));
  for (let i = 1; i < sorted.length; i++) if (compareBytes(sorted[i - 1]![0], sorted[i]![0]) === 0) throw new ArgumentError('Expected the keys of a suit-text map to be unique');
  return concatBytes([encodeHead(5, sorted.length), ...sorted.flatMap(([key, value]) => [key, value])]);
}

/**
 * Encodes a `SUIT_Text_Map` deterministically.
 *
 * @example
 * ```ts
 * encodeText(new Map([['en', { manifest: new Map([[1, 'June release']]), components: [] }]]))
 * ```
 */
export function encodeText(text: SuitText): Uint8Array {
  const languages: [Uint8Array, Uint8Array][] = [];
  for (const [tag, language] of text) {
    if (!LANGUAGE_TAG.test(tag)) throw new ArgumentError(`Expected a language tag like en or en-US, got ${JSON.stringify(tag)}`);
    const entries: [Uint8Array, Uint8Array][] = [...language.manifest].map(([key, value]) => [encodeCbor(key), encodeCbor(value)]);
    for (const component of language.components) {
      entries.push([encodeCbor([...component.componentId]), encodeCbor(new Map([...component.fields]))]);
    }
    languages.push([encodeCbor(tag), encodeMap(entries)]);
  }
  return encodeMap(languages);
}
