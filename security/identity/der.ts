/**
 * A small DER writer (ITU-T X.690 §8, §10 distinguished encoding): exactly what X.509 v3
 * certificates (RFC 5280) and PKCS#10 requests (RFC 2986) need. Every function returns the whole
 * TLV as bytes; nothing is parsed here (Node's `X509Certificate` and OpenSSL read what is written).
 */
import { ArgumentError } from '../../sdk/core/errors.js';

/** Universal tags used here (X.680 §8.4). */
const TAG = { boolean: 0x01, integer: 0x02, bitString: 0x03, octetString: 0x04, null: 0x05, oid: 0x06, utf8String: 0x0c, printableString: 0x13, ia5String: 0x16, utcTime: 0x17, generalizedTime: 0x18, sequence: 0x30, set: 0x31 } as const;

/** The length octets, definite form, shortest (X.690 §8.1.3, §10.1). */
function length(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.from([0x80 | bytes.length, ...bytes]);
}

/**
 * One TLV: `tag`, the length of `content`, `content`.
 *
 * @example
 * ```ts
 * tlv(0x04, Uint8Array.of(1, 2)) // 04 02 01 02
 * ```
 */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  return Buffer.concat([Uint8Array.of(tag), length(content.length), content]);
}

/**
 * A SEQUENCE of already encoded items.
 *
 * @example
 * ```ts
 * sequence(integer(1n), nullValue())
 * ```
 */
export function sequence(...items: Uint8Array[]): Uint8Array {
  return tlv(TAG.sequence, Buffer.concat(items));
}

/**
 * A SET OF: members sorted by their encodings (X.690 §11.6).
 *
 * @example
 * ```ts
 * set(sequence(oid('2.5.4.3'), utf8String('device')))
 * ```
 */
export function set(...items: Uint8Array[]): Uint8Array {
  return tlv(TAG.set, Buffer.concat([...items].sort((a, b) => Buffer.compare(a, b))));
}

/**
 * An INTEGER from a bigint (two's complement, shortest) or unsigned big-endian bytes.
 *
 * @example
 * ```ts
 * integer(2n) // 02 01 02
 * ```
 */
export function integer(value: bigint | Uint8Array): Uint8Array {
  let bytes: number[];
  if (typeof value === 'bigint') {
    if (value < 0n) throw new ArgumentError(`Expected a non-negative integer, got ${value}`);
    bytes = [];
    for (let v = value; v > 0n; v >>= 8n) bytes.unshift(Number(v & 0xffn));
  } else {
    bytes = [...value];
    while (bytes.length > 1 && bytes[0] === 0) bytes.shift();
  }
  if (bytes.length === 0) bytes = [0];
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(TAG.integer, Uint8Array.from(bytes));
}

/**
 * An OBJECT IDENTIFIER from its dotted form (X.690 §8.19).
 *
 * @example
 * ```ts
 * oid('1.2.840.10045.4.3.2') // ecdsa-with-SHA256
 * ```
 */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((arc) => {
    if (!/^\d+$/.test(arc)) throw new ArgumentError(`Expected a dotted object identifier, got ${JSON.stringify(dotted)}`);
    return BigInt(arc);
  });
  if (arcs.length < 2) throw new ArgumentError(`Expected a dotted object identifier, got ${JSON.stringify(dotted)}`);
  const bytes: number[] = [];
  for (const arc of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(TAG.oid, Uint8Array.from(bytes));
}

/**
 * A BIT STRING with no unused bits.
 *
 * @example
 * ```ts
 * bitString(signature) // 03 len 00 …signature
 * ```
 */
export function bitString(bytes: Uint8Array): Uint8Array {
  return tlv(TAG.bitString, Buffer.concat([Uint8Array.of(0), bytes]));
}

/**
 * A named BIT STRING from the bit numbers set (bit 0 the most significant), trailing zero bits
 * removed (X.690 §11.2.2), as KeyUsage wants.
 *
 * @example
 * ```ts
 * namedBits([0]) // digitalSignature: 03 02 07 80
 * ```
 */
export function namedBits(bits: readonly number[]): Uint8Array {
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  const unused = 7 - (highest & 7);
  return tlv(TAG.bitString, Buffer.concat([Uint8Array.of(unused), bytes]));
}

/**
 * An OCTET STRING.
 *
 * @example
 * ```ts
 * octetString(Uint8Array.of(1, 2)) // 04 02 01 02
 * ```
 */
export function octetString(bytes: Uint8Array): Uint8Array {
  return tlv(TAG.octetString, bytes);
}

/**
 * A BOOLEAN (TRUE is 0xff in DER, X.690 §11.1).
 *
 * @example
 * ```ts
 * boolean(true) // 01 01 ff
 * ```
 */
export function boolean(value: boolean): Uint8Array {
  return tlv(TAG.boolean, Uint8Array.of(value ? 0xff : 0));
}

/**
 * NULL.
 *
 * @example
 * ```ts
 * nullValue() // 05 00
 * ```
 */
export function nullValue(): Uint8Array {
  return tlv(TAG.null, new Uint8Array(0));
}

/**
 * A UTF8String.
 *
 * @example
 * ```ts
 * utf8String('Acme Sensors')
 * ```
 */
export function utf8String(text: string): Uint8Array {
  return tlv(TAG.utf8String, Buffer.from(text, 'utf8'));
}

/**
 * A PrintableString; throws `ArgumentError` for characters outside its set (X.680 §41.4).
 *
 * @example
 * ```ts
 * printableString('EMU-1')
 * ```
 */
export function printableString(text: string): Uint8Array {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) throw new ArgumentError(`Expected PrintableString characters (letters, digits, space and '()+,-./:=?), got ${JSON.stringify(text)}`);
  return tlv(TAG.printableString, Buffer.from(text, 'ascii'));
}

/**
 * An IA5String (ASCII).
 *
 * @example
 * ```ts
 * ia5String('urn:sensorkit:device:env-node-EMU-1')
 * ```
 */
export function ia5String(text: string): Uint8Array {
  if (!/^[\x00-\x7f]*$/.test(text)) throw new ArgumentError(`Expected ASCII text, got ${JSON.stringify(text)}`);
  return tlv(TAG.ia5String, Buffer.from(text, 'ascii'));
}

/**
 * A certificate time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), whole
 * seconds, UTC.
 *
 * @example
 * ```ts
 * time(new Date('2026-01-01T00:00:00Z')) // UTCTime "260101000000Z"
 * ```
 */
export function time(date: Date): Uint8Array {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new ArgumentError(`Expected a certificate time from 1950 to 9999, got ${iso}`);
  return year < 2050 ? tlv(TAG.utcTime, Buffer.from(digits.slice(2), 'ascii')) : tlv(TAG.generalizedTime, Buffer.from(digits, 'ascii'));
}

/**
 * A context-specific tag `[n]`: EXPLICIT wraps an encoding (constructed); IMPLICIT replaces the
 * tag of `inner`, keeping its constructed bit.
 *
 * @example
 * ```ts
 * contextTag(0, integer(2n), 'explicit') // [0] EXPLICIT INTEGER 2: the certificate version v3
 * ```
 */
export function contextTag(n: number, inner: Uint8Array, mode: 'explicit' | 'implicit'): Uint8Array {
  if (mode === 'explicit') return tlv(0xa0 | n, inner);
  const out = Uint8Array.from(inner);
  out[0] = (inner[0]! & 0x20) | 0x80 | n;
  return out;
}

/**
 * PEM text of DER bytes (RFC 7468), 64 characters a line.
 *
 * @example
 * ```ts
 * pem('CERTIFICATE', der)
 * ```
 */
export function pem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${base64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

/**
 * The DER bytes of the first PEM block with `label`, or undefined.
 *
 * @example
 * ```ts
 * const der = pemBlock(text, 'CERTIFICATE REQUEST')
 * ```
 */
export function pemBlock(text: string, label: string): Uint8Array | undefined {
  const match = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(text);
  return match ? Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64') : undefined;
}
