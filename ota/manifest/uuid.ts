/**
 * Name-based UUIDs, version 5 (RFC 9562 §5.5, formerly RFC 4122 §4.3): SUIT vendor and class
 * identifiers (RFC 9124 §4.2.1) are derived from a vendor's domain name and a model name, so every
 * build tool computes the same 16 bytes without a registry.
 */
import { createHash } from 'node:crypto';
import { ArgumentError } from '../../sdk/core/errors.js';

/**
 * The DNS namespace (RFC 9562 §6.6).
 *
 * @example
 * ```ts
 * uuidV5(NAMESPACE_DNS, 'acme.example')
 * ```
 */
export const NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether `text` is a UUID in its hyphenated form.
 *
 * @example
 * ```ts
 * isUuid(NAMESPACE_DNS) // true
 * ```
 */
export function isUuid(text: string): boolean {
  return UUID.test(text);
}

/**
 * The 16 bytes of a hyphenated UUID; throws `ArgumentError` for anything else.
 *
 * @example
 * ```ts
 * uuidBytes(NAMESPACE_DNS).length // 16
 * ```
 */
export function uuidBytes(uuid: string): Uint8Array {
  if (!isUuid(uuid)) throw new ArgumentError(`Expected a UUID like ${NAMESPACE_DNS}, got ${JSON.stringify(uuid)}`);
  return Uint8Array.from(Buffer.from(uuid.replace(/-/g, ''), 'hex'));
}

/**
 * The hyphenated form of 16 bytes.
 *
 * @example
 * ```ts
 * uuidText(uuidBytes(NAMESPACE_DNS)) === NAMESPACE_DNS // true
 * ```
 */
export function uuidText(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new ArgumentError(`Expected 16 bytes, got ${bytes.length}`);
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The version-5 UUID of `name` in `namespace`: SHA-1 of the namespace bytes and the UTF-8 name,
 * with the version and variant bits set (RFC 9562 §5.5).
 *
 * @example
 * ```ts
 * uuidV5(NAMESPACE_DNS, 'www.example.com') // '2ed6657d-e927-568b-95e1-2665a8aea6a2'
 * const vendor = uuidV5(NAMESPACE_DNS, 'acme.example')
 * const cls = uuidV5(vendor, 'EN-1')
 * ```
 */
export function uuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  const bytes = Uint8Array.from(hash.subarray(0, 16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return uuidText(bytes);
}
