/**
 * Decoding of command requests (`.../cmd/<command>` payloads): a CBOR map (RFC 8949) of argument
 * names to scalar values, or a JSON object (RFC 8259) for humans with `mosquitto_pub`.
 *
 * The payload comes from anyone who may publish on the broker, so the decoder is strict and bounded
 * and written for exactly this shape: it never allocates more than the payload's size, rejects
 * indefinite lengths, tags, byte strings, nested items, duplicate keys, non-text keys, invalid UTF-8,
 * reserved additional-information values and trailing bytes, and never throws: the outcome is a value.
 *
 * CDDL (RFC 8610) of a request:
 * ```cddl
 * command-request = { * tstr => int / float / tstr / bool / null }  ; empty payload: no arguments
 * ```
 */

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

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a command request. JSON is recognised by its first byte `{` (0x7b, which in CBOR would
 * start a text string: never a valid request) or by an MQTT 5 content type `application/json`.
 *
 * @example
 * ```ts
 * decodeCommandRequest(Uint8Array.of(0xa1, 0x61, 0x6e, 0x05)) // { ok: true, format: 'cbor', args: { n: 5 } }
 * decodeCommandRequest(new TextEncoder().encode('{"n":5}'))   // { ok: true, format: 'json', args: { n: 5 } }
 * decodeCommandRequest(Uint8Array.of(0xa1))                   // { ok: false, …, message: 'truncated …' }
 * ```
 */
export function decodeCommandRequest(payload: Uint8Array, contentType?: string, limits: CommandRequestLimits = {}): DecodedRequest {
  const maxBytes = limits.maxBytes ?? 4096;
  const maxEntries = limits.maxEntries ?? 32;
  const json = contentType === 'application/json' || payload[0] === 0x7b;
  const format = json ? 'json' : 'cbor';
  if (payload.length > maxBytes) return { ok: false, format, message: `request of ${payload.length} bytes is above the limit of ${maxBytes}` };
  // No arguments: answer in JSON, the format the Thing Description announces, unless CBOR was asked for.
  if (payload.length === 0) return { ok: true, format: contentType === 'application/cbor' ? 'cbor' : 'json', args: Object.create(null) as Record<string, unknown> };
  try {
    return { ok: true, format, args: json ? decodeJson(payload, maxEntries) : new ArgumentMapReader(payload, maxEntries).read() };
  } catch (error) {
    return { ok: false, format, message: error instanceof RequestError ? error.message : `invalid ${format} request` };
  }
}

class RequestError extends Error {}

function decodeJson(payload: Uint8Array, maxEntries: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(payload));
  } catch {
    throw new RequestError('request is not valid UTF-8 JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RequestError('request must be a JSON object of arguments');
  const entries = Object.entries(value);
  if (entries.length > maxEntries) throw new RequestError(`request has ${entries.length} arguments, above the limit of ${maxEntries}`);
  const args = Object.create(null) as Record<string, unknown>;
  for (const [name, argument] of entries) {
    if (typeof argument === 'object' && argument !== null) throw new RequestError(`argument "${name}" must be a number, string, boolean or null`);
    args[name] = argument;
  }
  return args;
}

/** Reads one CBOR map of text keys to scalars, strictly (RFC 8949 §3, §5.3.1 well-formedness). */
class ArgumentMapReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #maxEntries: number;
  #offset = 0;

  constructor(bytes: Uint8Array, maxEntries: number) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#maxEntries = maxEntries;
  }

  read(): Record<string, unknown> {
    const { major, argument } = this.#head();
    if (major !== 5) throw new RequestError(`request must be a CBOR map of arguments, got major type ${major}`);
    if (argument > this.#maxEntries) throw new RequestError(`request has ${argument} arguments, above the limit of ${this.#maxEntries}`);
    const args = Object.create(null) as Record<string, unknown>;
    for (let i = 0; i < argument; i++) {
      const key = this.#head();
      if (key.major !== 3) throw new RequestError(`argument names must be text strings, got major type ${key.major}`);
      const name = this.#text(key.argument);
      if (name in args) throw new RequestError(`duplicate argument "${name}"`);
      args[name] = this.#scalar(name);
    }
    if (this.#offset !== this.#bytes.length) throw new RequestError(`${this.#bytes.length - this.#offset} trailing bytes after the request`);
    return args;
  }

  #scalar(name: string): unknown {
    const start = this.#offset;
    const { major, info, argument } = this.#head();
    switch (major) {
      case 0:
        return this.#safe(argument, name);
      case 1:
        return -1 - this.#safe(argument, name);
      case 3:
        return this.#text(argument);
      case 7:
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        if (info === 25) return halfToNumber(argument);
        if (info === 26) return this.#view.getFloat32(start + 1);
        if (info === 27) return this.#view.getFloat64(start + 1);
        throw new RequestError(`argument "${name}": unsupported simple value ${info}`);
      default:
        throw new RequestError(`argument "${name}" must be a number, text string, boolean or null, got major type ${major}`);
    }
  }

  #safe(value: number, name: string): number {
    if (!Number.isSafeInteger(value)) throw new RequestError(`argument "${name}": integer beyond ±2^53`);
    return value;
  }

  #text(length: number): string {
    const end = this.#offset + length;
    if (end > this.#bytes.length) throw new RequestError(`truncated request: a text of ${length} bytes with ${this.#bytes.length - this.#offset} left`);
    let text: string;
    try {
      text = utf8.decode(this.#bytes.subarray(this.#offset, end));
    } catch {
      throw new RequestError('text string is not valid UTF-8');
    }
    this.#offset = end;
    return text;
  }

  /** Reads an initial byte and its argument (RFC 8949 §3). 64-bit arguments are read as numbers. */
  #head(): { major: number; info: number; argument: number } {
    const initial = this.#bytes[this.#offset];
    if (initial === undefined) throw new RequestError('truncated request');
    this.#offset++;
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (info < 24) return { major, info, argument: info };
    if (info === 31) throw new RequestError('indefinite lengths are not accepted');
    if (info > 27) throw new RequestError(`reserved additional information ${info}`);
    const size = 1 << (info - 24);
    if (this.#offset + size > this.#bytes.length) throw new RequestError('truncated request');
    const at = this.#offset;
    this.#offset += size;
    const view = this.#view;
    const argument = size === 1 ? view.getUint8(at) : size === 2 ? view.getUint16(at) : size === 4 ? view.getUint32(at) : view.getUint32(at) * 2 ** 32 + view.getUint32(at + 4);
    return { major, info, argument };
  }
}

/** IEEE 754 binary16 to a number (RFC 8949 Appendix D). */
function halfToNumber(half: number): number {
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  const value = exponent === 0 ? mantissa * 2 ** -24 : exponent !== 31 ? (mantissa + 1024) * 2 ** (exponent - 25) : mantissa === 0 ? Infinity : Number.NaN;
  return half & 0x8000 ? -value : value;
}
