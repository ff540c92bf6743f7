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
 * A database URL without its user and password, for messages and logs.
 *
 * @example
 * ```ts
 * redactUrl('postgres://ota:secret@db:5432/ota') // 'postgres://…@db:5432/ota'
 * ```
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/i, '$1…@');
}
