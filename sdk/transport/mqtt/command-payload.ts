/**
 * Decoding of command requests (`.../cmd/<command>` payloads): a CBOR map (RFC 8949) of argument
 * names to scalar values, or a JSON object (RFC 8259) for humans with `mosquitto_pub`.
 *
 * The payload comes from anyone who may publish on the broker, so it is read strictly and bounded,
 * and the outcome is a value, never an exception. CBOR goes through the project's one strict reader
 * (`decodeStrictCbor`: definite lengths, no duplicate keys, valid UTF-8, no trailing bytes) under a command-request profile (no tags; floats allowed) and the request limits; JSON is
 * parsed by `JSON.parse` and its keys are checked for duplicates, which `JSON.parse` silently drops
 * (RFC 8259 §4: names SHOULD be unique; a later one would otherwise win unseen). Either way, only
 * text names and scalar values.
 *
 * CDDL (RFC 8610) of a request:
 * ```cddl
 * command-request = { * tstr => int / float / tstr / bool / null }  ; empty payload: no arguments
 * ```
 */
import { DecodeError } from '../../core/errors.js';
import { decodeStrictCbor, type CborProfile, type CborValue } from '../../encoding/cbor-reader.js';

/** Limits of {@link decodeCommandRequest}. */
export interface CommandRequestLimits {
  /** Largest payload accepted, bytes. Default 4096. */
  readonly maxBytes?: number;
  /** Most arguments in one request. Default 32. */
  readonly maxEntries?: number;
}

/** The outcome of decoding a request: the arguments, or why they are rejected. */
export type DecodedRequest =
  | { readonly ok: true; readonly format: 'cbor' | 'json'; readonly args: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly format: 'cbor' | 'json'; readonly message: string };

/**
 * What a CBOR request may hold beyond integers, text, maps and simple values. Heads longer than
 * needed are taken (well-formed, RFC 8949 §3): cbor-x, a common client encoder, writes them.
 */
const COMMAND_REQUEST: CborProfile = { format: 'command requests', tags: [], floats: true, sortedKeys: false, copyBytes: false, longHeads: true };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a command request. The format is the MQTT 5 Content Type when it is `application/json`
 * or `application/cbor`; else the first byte decides: a CBOR map head (0xa0–0xbf, major type 5) is
 * CBOR, and a byte that starts JSON text (`{`, `[`, `"`, a digit, `-`, `t`, `f`, `n`, white space)
 * is JSON, so `[]` is a JSON array (refused: not an object), not a CBOR byte string (0x5b is major
 * type 2). Anything else is read as CBOR and refused as not a map.
 *
 * @example
 * ```ts
 * decodeCommandRequest(Uint8Array.of(0xa1, 0x61, 0x6e, 0x05)) // { ok: true, format: 'cbor', args: { n: 5 } }
 * decodeCommandRequest(new TextEncoder().encode('{"n":5}'))   // { ok: true, format: 'json', args: { n: 5 } }
 * decodeCommandRequest(Uint8Array.of(0xa1))                   // { ok: false, …, message: 'invalid CBOR request: truncated: …' }
 * ```
 */
export function decodeCommandRequest(payload: Uint8Array, contentType?: string, limits: CommandRequestLimits = {}): DecodedRequest {
  const maxBytes = limits.maxBytes ?? 4096;
  const maxEntries = limits.maxEntries ?? 32;
  const format = formatOf(payload, contentType);
  if (payload.length > maxBytes) return { ok: false, format, message: `request of ${payload.length} bytes is above the limit of ${maxBytes}` };
  // No arguments: answer in JSON, the format the Thing Description announces, unless CBOR was asked for.
  if (payload.length === 0) return { ok: true, format: contentType === 'application/cbor' ? 'cbor' : 'json', args: Object.create(null) as Record<string, unknown> };
  try {
    return { ok: true, format, args: format === 'json' ? decodeJson(payload, maxEntries) : decodeCbor(payload, maxBytes, maxEntries) };
  } catch (error) {
    if (error instanceof RequestError) return { ok: false, format, message: error.message };
    if (error instanceof DecodeError) return { ok: false, format, message: `invalid CBOR request: ${error.message}` };
    return { ok: false, format, message: `invalid ${format} request` };
  }
}

/** First bytes of JSON text (RFC 8259 §2: a value, optionally after white space). */
const JSON_START = new Set([...'{["-0123456789tfn \t\r\n'].map((c) => c.charCodeAt(0)));

function formatOf(payload: Uint8Array, contentType: string | undefined): 'cbor' | 'json' {
  if (contentType === 'application/json') return 'json';
  if (contentType === 'application/cbor') return 'cbor';
  const first = payload[0];
  return first !== undefined && JSON_START.has(first) ? 'json' : 'cbor';
}

class RequestError extends Error {}

function decodeCbor(payload: Uint8Array, maxBytes: number, maxEntries: number): Record<string, unknown> {
  // Depth 2: the map and its values; a nested container's items would be at depth 3.
  const value = decodeStrictCbor(payload, { maxBytes, maxItems: maxEntries, maxDepth: 2, maxStringLength: maxBytes }, COMMAND_REQUEST);
  if (!(value instanceof Map)) throw new RequestError(`request must be a CBOR map of arguments, got ${cborKind(value)}`);
  const args = Object.create(null) as Record<string, unknown>;
  for (const [name, argument] of value) {
    if (typeof name !== 'string') throw new RequestError(`argument names must be text strings, got the integer ${name}`);
    if (!isScalar(argument)) throw new RequestError(`argument "${name}" must be a number, text string, boolean or null, got ${cborKind(argument)}`);
    args[name] = argument;
  }
  return args;
}

function decodeJson(payload: Uint8Array, maxEntries: number): Record<string, unknown> {
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(payload);
    value = JSON.parse(text);
  } catch {
    throw new RequestError('request is not valid UTF-8 JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RequestError(`request must be a JSON object of arguments, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}`);
  }
  const entries = Object.entries(value);
  if (entries.length > maxEntries) throw new RequestError(`request has ${entries.length} arguments, above the limit of ${maxEntries}`);
  const duplicate = duplicateKey(text);
  if (duplicate !== undefined) throw new RequestError(`duplicate argument ${JSON.stringify(duplicate)}`);
  const args = Object.create(null) as Record<string, unknown>;
  for (const [name, argument] of entries) {
    if (typeof argument === 'object' && argument !== null) throw new RequestError(`argument "${name}" must be a number, string, boolean or null`);
    args[name] = argument;
  }
  return args;
}

/**
 * The first name that appears twice among the top-level names of a JSON object text, compared
 * after unescaping (`"a"` and `"\u0061"` are the same name), or undefined. Runs on text that
 * `JSON.parse` accepted, so a string starts at each unescaped `"` and a name is a string followed
 * by `:` at depth 1.
 */
function duplicateKey(text: string): string | undefined {
  const names = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (depth !== 1) continue;
      let next = i + 1;
      while (text[next] === ' ' || text[next] === '\t' || text[next] === '\n' || text[next] === '\r') next++;
      if (text[next] !== ':') continue;
      const name = JSON.parse(text.slice(start, i + 1)) as string;
      if (names.has(name)) return name;
      names.add(name);
    }
  }
  return undefined;
}

function isScalar(value: CborValue): boolean {
  return typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' || value === null;
}

function cborKind(value: CborValue): string {
  if (value instanceof Uint8Array) return 'a byte string';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Map) return 'a map';
  if (value === null) return 'null';
  if (typeof value === 'object') return `tag ${value.tag}`;
  return `a ${typeof value === 'number' ? 'number' : typeof value}`;
}
