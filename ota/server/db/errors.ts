/**
 * The update server's database errors: one line each, the URL shown without its password.
 */
import { SensorkitError } from '../../../sdk/core/errors.js';

/**
 * The database could not be reached, refused the credentials, or holds a schema this sensorkit
 * cannot use. `code` is `ERR_STORAGE`; the message is one line.
 *
 * @example
 * ```ts
 * try { await openDatabase('postgres://ota@127.0.0.1:5999/ota') } catch (e) {
 *   if (e instanceof DatabaseError) console.error(e.message) // "cannot reach postgres://…@127.0.0.1:5999/ota: ECONNREFUSED"
 * }
 * ```
 */
export class DatabaseError extends SensorkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STORAGE', message, options);
  }
}

/**
 * A database URL for messages and logs: scheme, host, port and database name only. The user and
 * password become `…@`; query parameters (`?password=…`, `?sslkey=…`) and fragments are dropped.
 * A URL that does not parse unambiguously (a password with an unencoded `/`, `?`, `#` or `@` in
 * odd places) is shown as `postgres://(unparsable URL)`: the input is never echoed.
 *
 * @example
 * ```ts
 * redactUrl('postgres://ota:secret@db:5432/ota') // 'postgres://…@db:5432/ota'
 * redactUrl('postgres://ota@db/ota?password=secret') // 'postgres://…@db/ota'
 * redactUrl('postgres://ota:se/cret@db/ota') // 'postgres://(unparsable URL)'
 * ```
 */
export function redactUrl(url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase() ?? 'postgres';
  const unparsable = `${scheme}://(unparsable URL)`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return unparsable;
  }
  const credentials = parsed.username !== '' || parsed.password !== '';
  // An '@' that did not end up separating the credentials from the host means a password the
  // parser cut elsewhere (at a '/', '?' or '#'): part of it would show in the host or the path.
  const authority = url.slice(url.indexOf('//') + 2).split(/[/?#]/)[0] ?? '';
  if (url.includes('@') && (!credentials || !authority.includes('@'))) return unparsable;
  if (/[@:]/.test(decodeURIComponent(parsed.pathname.replace(/%(?![0-9a-f]{2})/gi, '%25')))) return unparsable;
  return `${parsed.protocol}//${credentials ? '…@' : ''}${parsed.host}${parsed.pathname}`;
}
