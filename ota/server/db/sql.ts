/**
 * One SQL interface over the two databases the update server runs on: PGlite (PostgreSQL compiled
 * to WebAssembly, embedded, in a directory or in memory) and PostgreSQL through a `pg` pool. The
 * same SQL runs on both. Both packages are optional peer dependencies, loaded when a database is
 * opened: a device never needs them.
 */
import { createHash } from 'node:crypto';
import { TimeoutError } from '../../../sdk/core/errors.js';
import { importOptional } from '../../../sdk/core/optional-package.js';
import { DatabaseError, redactUrl } from './errors.js';

/** A query's rows and the number of rows it returned or changed. */
export interface SqlResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** A connection (or pool) that runs parameterised SQL. */
export interface SqlClient {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<SqlResult<Row>>;
  /** Runs fn in one transaction (BEGIN … COMMIT, ROLLBACK on throw) on one connection. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  readonly kind: 'pglite' | 'postgres';
}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** How long to wait for PostgreSQL to answer, ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Largest number of pooled PostgreSQL connections. Default 10. */
  readonly poolSize?: number;
}

/**
 * Opens the update server's database: undefined → PGlite in memory; a directory → PGlite stored
 * there; `postgres://` or `postgresql://` → a PostgreSQL pool, checked with one query. Throws
 * `DatabaseError` (one line, password hidden) when PostgreSQL does not answer within
 * `connectTimeoutMs`, and `MissingPackageError` when the package it needs is not installed.
 *
 * @example
 * ```ts
 * const db = await openDatabase('postgres://ota:secret@db.plant:5432/ota')
 * const { rows } = await db.query<{ n: number }>('SELECT $1::int AS n', [1])
 * await db.close()
 * ```
 */
export async function openDatabase(url: string | undefined, options: OpenDatabaseOptions = {}): Promise<SqlClient> {
  if (url !== undefined && /^postgres(ql)?:\/\//i.test(url)) return openPostgres(url, options);
  if (url !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new DatabaseError(`unsupported database URL ${redactUrl(url)}: expected postgres://…, postgresql://… or a directory`);
  return openPglite(url);
}

interface PgliteTransaction {
  query<Row>(sql: string, params?: unknown[]): Promise<{ rows: Row[]; affectedRows?: number }>;
}
interface PgliteInstance extends PgliteTransaction {
  readonly waitReady: Promise<void>;
  transaction<T>(fn: (tx: PgliteTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

async function openPglite(dir: string | undefined): Promise<SqlClient> {
  const { PGlite } = await importOptional<{ PGlite: new (dataDir?: string) => PgliteInstance }>('@electric-sql/pglite', 'the embedded update server database', 'or give --db postgres://…');
  let db: PgliteInstance;
  try {
    db = new PGlite(dir);
    await db.waitReady;
  } catch (error) {
    throw new DatabaseError(`cannot open the database in ${dir ?? 'memory'}: ${oneLine(error)}`, { cause: error });
  }
  const wrap = (runner: PgliteTransaction): SqlClient['query'] => async <Row>(sql: string, params?: readonly unknown[]) => {
    const result = await runner.query<Row>(sql, params === undefined ? undefined : [...params]);
    return { rows: result.rows, rowCount: result.rows.length > 0 ? result.rows.length : (result.affectedRows ?? 0) };
  };
  let closed = false;
  const client: SqlClient = {
    kind: 'pglite',
    query: wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(inTransaction(wrap(tx), 'pglite'))),
    close: async () => {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
  return client;
}

/** A client bound to a running transaction: a nested `transaction` joins it. */
function inTransaction(query: SqlClient['query'], kind: SqlClient['kind']): SqlClient {
  const tx: SqlClient = { kind, query, transaction: (fn) => fn(tx), close: async () => {} };
  return tx;
}

interface PgQueryable {
  query(config: { text: string; values?: unknown[] | undefined; name?: string }): Promise<{ rows: unknown[]; rowCount: number | null }>;
}
interface PgPoolClient extends PgQueryable {
  release(destroy?: boolean | Error): void;
}
interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}
type PgModule = { Pool: new (config: Record<string, unknown>) => PgPool };

async function openPostgres(url: string, options: OpenDatabaseOptions): Promise<SqlClient> {
  const loaded = await importOptional<PgModule & { default?: PgModule }>('pg', 'the update server on PostgreSQL', 'or give --db DIR for the embedded database');
  const { Pool } = loaded.default ?? loaded;
  const timeout = options.connectTimeoutMs ?? 5000;
  const pool = new Pool({ connectionString: url, connectionTimeoutMillis: timeout, max: options.poolSize ?? 10, query_timeout: 60_000 });
  // An idle connection that breaks (the server restarted) is dropped by the pool; the next query reconnects.
  pool.on('error', () => {});
  const shown = redactUrl(url);
  try {
    await withDeadline(pool.query({ text: 'SELECT 1' }), timeout + 500);
  } catch (error) {
    await pool.end().catch(() => {});
    throw new DatabaseError(`cannot reach ${shown}: ${oneLine(error)}`, { cause: error });
  }
  const run = (target: PgQueryable): SqlClient['query'] => async <Row>(sql: string, params?: readonly unknown[]) => {
    const result = await target.query({ text: sql, values: params === undefined ? undefined : [...params], name: statementName(sql) });
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
  };
  let closed = false;
  return {
    kind: 'postgres',
    query: run(pool),
    async transaction(fn) {
      const connection = await pool.connect();
      let broken = false;
      try {
        await connection.query({ text: 'BEGIN' });
        const result = await fn(inTransaction(run(connection), 'postgres'));
        await connection.query({ text: 'COMMIT' });
        return result;
      } catch (error) {
        await connection.query({ text: 'ROLLBACK' }).catch(() => {
          broken = true;
        });
        throw error;
      } finally {
        connection.release(broken);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

/** A prepared statement's name per SQL text: each connection parses and plans it once. */
const names = new Map<string, string>();
function statementName(sql: string): string {
  let name = names.get(sql);
  if (name === undefined) {
    name = `sk_${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`;
    names.set(sql, name);
  }
  return name;
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** An error as one short line: its code when it has one (ECONNREFUSED), else its first line. */
function oneLine(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  if (error instanceof AggregateError && error.errors.length > 0) return oneLine(error.errors[0]);
  return message || 'no answer';
}
