/**
 * One SQL interface over the two databases the update server runs on: PGlite (PostgreSQL compiled
 * to WebAssembly, embedded, in a directory or in memory) and PostgreSQL through a `pg` pool. The
 * same SQL runs on both. Both packages are optional peer dependencies, loaded when a database is
 * opened: a device never needs them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, realpathSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
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
 * A PGlite directory is one process's: opening takes the lock file `DIR/.sensorkit-lock` (see
 * {@link PGLITE_LOCK_FILE}) and `close()` gives it back. While another live process (or this one)
 * holds it, opening fails with one `DatabaseError` line saying to use the running server's
 * management API (`--server URL --token T`). A lock left by a process that is gone (killed, or a
 * reboot since) is taken over.
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
  const unlock = dir === undefined ? () => {} : lockDirectory(dir);
  let db: PgliteInstance;
  try {
    db = new PGlite(dir);
    await db.waitReady;
  } catch (error) {
    unlock();
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
      try {
        await db.close();
      } finally {
        unlock();
      }
    },
  };
  return client;
}

/** The file in a PGlite directory naming the process that has it open. */
export const PGLITE_LOCK_FILE = '.sensorkit-lock';

/** Who holds a directory: pid and host, plus what tells a live process from a reused pid. */
interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** Linux boot id: a different one means the machine rebooted since. */
  readonly boot?: string;
  /** Linux start time of the process (clock ticks since boot): a different one means the pid was reused. */
  readonly started?: string;
}

/** Directories this process holds (real paths) → their release functions. */
const held = new Map<string, () => void>();
let exitHookInstalled = false;

/**
 * Takes `DIR/.sensorkit-lock` for this process or throws `DatabaseError`. The file is written whole
 * under a unique name and then hard-linked into place, so it appears atomically with its content (a
 * reader never sees a half-written owner). A lock whose owner is gone is renamed aside (one taker
 * wins) and taken. Returns the release function; the lock is also released when the process exits.
 */
function lockDirectory(dir: string): () => void {
  let real: string;
  try {
    mkdirSync(dir, { recursive: true });
    real = realpathSync(dir);
  } catch (error) {
    throw new DatabaseError(`cannot open the database in ${dir}: ${oneLine(error)}`, { cause: error });
  }
  const path = join(real, PGLITE_LOCK_FILE);
  const me = self(process.pid);
  if (held.has(real)) throw inUse(dir, me);
  const mine = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}`;
    try {
      writeFileSync(temporary, mine, { mode: 0o644 });
      linkSync(temporary, path);
      const release = (): void => {
        if (held.get(real) !== release) return;
        held.delete(real);
        try {
          if (readFileSync(path, 'utf8') === mine) unlinkSync(path);
        } catch {
          // Already gone: nothing to give back.
        }
      };
      held.set(real, release);
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.once('exit', () => {
          for (const free of [...held.values()]) free();
        });
      }
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new DatabaseError(`cannot lock the database in ${dir}: ${oneLine(error)}`, { cause: error });
    } finally {
      try {
        unlinkSync(temporary);
      } catch {
        // Not written.
      }
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
      throw new DatabaseError(`cannot lock the database in ${dir}: ${oneLine(error)}`, { cause: error });
    }
    const owner = parseOwner(text);
    if (owner !== undefined && alive(owner)) throw inUse(dir, owner, path);
    // Gone: move it aside under a unique name (only one taker's rename succeeds), check that what
    // moved is the lock judged stale, and try again.
    const aside = `${path}.stale.${process.pid}.${randomBytes(6).toString('hex')}`;
    try {
      renameSync(path, aside);
    } catch {
      continue;
    }
    let moved = '';
    try {
      moved = readFileSync(aside, 'utf8');
    } catch {
      // Unreadable: treat as what was judged.
    }
    if (moved !== '' && moved !== text) {
      // A live process took the lock between the read and the rename: put it back and refuse.
      try {
        linkSync(aside, path);
      } catch {
        // A third process holds it now; its lock stands.
      }
      try {
        unlinkSync(aside);
      } catch {
        // Already gone.
      }
      throw inUse(dir, parseOwner(moved) ?? { pid: 0, host: '?' }, path);
    }
    try {
      unlinkSync(aside);
    } catch {
      // Already gone.
    }
  }
  throw new DatabaseError(`cannot lock the database in ${dir}: ${path} keeps changing`);
}

function inUse(dir: string, owner: LockOwner, path?: string): DatabaseError {
  const local = owner.host === hostname();
  const who = local && owner.pid === process.pid ? 'this process' : `another process (pid ${owner.pid}${local ? '' : ` on ${owner.host}`})`;
  const stale = local || path === undefined ? '' : `; remove ${path} only if that process is gone`;
  return new DatabaseError(`the database in ${dir} is in use by ${who}: while 'ota serve' runs on it, use --server URL --token T instead of --db${stale}`);
}

function self(pid: number): LockOwner {
  const boot = bootId();
  const started = startTime(pid);
  return { pid, host: hostname(), ...(boot === undefined ? {} : { boot }), ...(started === undefined ? {} : { started }) };
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner> | null;
    if (value === null || typeof value !== 'object' || !Number.isInteger(value.pid) || typeof value.host !== 'string') return undefined;
    return value as LockOwner;
  } catch {
    return undefined;
  }
}

/** Whether the lock's owner may still run. An owner on another host cannot be checked: it counts as alive. */
function alive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  const boot = bootId();
  if (owner.boot !== undefined && boot !== undefined && owner.boot !== boot) return false;
  // This pid with no lock held here: an earlier process that had the same pid (a container restart).
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const started = startTime(owner.pid);
  return owner.started === undefined || started === undefined || owner.started === started;
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the fields after the command name's closing parenthesis start at field 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
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
      const once = async (): Promise<Awaited<ReturnType<typeof fn>>> => {
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
      };
      try {
        return await once();
      } catch (error) {
        // Two instances racing for the same rows: one transaction loses (a deadlock, a
        // serialization failure, or the unique index that keeps a device active in one campaign).
        // Run it again once, from the start: it then sees what the winner committed.
        if (!RETRIED_SQLSTATES.has(String((error as { code?: unknown }).code))) throw error;
        return once();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

/** SQLSTATEs after which a PostgreSQL transaction is run once more: unique_violation, deadlock_detected, serialization_failure. */
const RETRIED_SQLSTATES: ReadonlySet<string> = new Set(['23505', '40P01', '40001']);

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
