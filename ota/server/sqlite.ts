/**
 * better-sqlite3 (version 12; 13 crashes on Node 20) behind the few typed calls the campaign store
 * uses. The package ships no type declarations and @types/better-sqlite3 is not a dependency, so
 * the surface is declared here and the module is loaded with `require` (it is CommonJS). It is an
 * optional peer dependency (a C++ build): only the OTA campaign server needs it.
 */
import { requireOptional } from '../../sdk/core/optional-package.js';

/** A prepared statement. */
export interface SqliteStatement {
  run(...parameters: unknown[]): { readonly lastInsertRowid: number | bigint; readonly changes: number };
  get(...parameters: unknown[]): unknown;
  all(...parameters: unknown[]): unknown[];
}

/** An open database. */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  pragma(pragma: string): unknown;
  transaction<F extends (...args: never[]) => unknown>(fn: F): F;
  close(): void;
}

/**
 * Opens (or creates) a database file; `':memory:'` for a throw-away one. Throws
 * `MissingPackageError` when better-sqlite3 is not installed.
 *
 * @example
 * ```ts
 * const db = openSqlite(':memory:')
 * db.exec('CREATE TABLE t (x)')
 * ```
 */
export function openSqlite(file: string): SqliteDatabase {
  const Database = requireOptional<new (file: string) => SqliteDatabase>('better-sqlite3', 'the OTA campaign store');
  return new Database(file);
}
