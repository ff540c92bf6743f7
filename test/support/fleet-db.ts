/**
 * The two databases the fleet store runs on, for `describe.each`: PGlite in memory (one instance
 * per test file, its schema dropped for each test: starting PGlite takes seconds), and a
 * throw-away PostgreSQL (one server per test file, a fresh database per test). On a machine
 * without PostgreSQL only PGlite is listed (CI requires both, see peers.ts).
 */
import { afterAll } from 'vitest';
import { openDatabase, type SqlClient } from '../../ota/server/db/sql.js';
import { findPostgres, startPostgres, type TestPostgres } from './postgres.js';

export interface FleetBackend {
  readonly name: 'pglite' | 'postgres';
  /** A fresh, empty database; a second call with the same `shared` key opens the same database again. */
  open(shared?: string): Promise<SqlClient>;
  /** The URL of the database `shared` (PostgreSQL only). */
  url?(shared: string): Promise<string>;
}

let server: Promise<TestPostgres | undefined> | undefined;
let pglite: Promise<SqlClient> | undefined;

/** The file's PGlite with an empty schema; closing the client it returns leaves the instance open. */
async function freshPglite(): Promise<SqlClient> {
  pglite ??= openDatabase(undefined);
  const db = await pglite;
  await db.query('DROP SCHEMA public CASCADE');
  await db.query('CREATE SCHEMA public');
  return { kind: db.kind, query: (sql, params) => db.query(sql, params), transaction: (fn) => db.transaction(fn), close: async () => {} };
}
let counter = 0;
const databases = new Map<string, Promise<string>>();

function postgres(): Promise<TestPostgres | undefined> {
  server ??= startPostgres();
  return server;
}

async function databaseUrl(shared: string | undefined): Promise<string> {
  const pg = await postgres();
  if (pg === undefined) throw new Error('postgresql is not installed');
  const key = shared ?? `db${++counter}`;
  let url = databases.get(key);
  if (url === undefined) {
    url = pg.createDatabase(`fleet_${process.pid}_${key}`.toLowerCase().replace(/[^a-z0-9_]/g, '_'));
    databases.set(key, url);
  }
  return url;
}

/** The backends to test on; registers stopping the PostgreSQL server after the file. */
export function fleetBackends(): FleetBackend[] {
  afterAll(async () => {
    const pg = await server;
    server = undefined;
    const embedded = await pglite;
    pglite = undefined;
    await embedded?.close();
    databases.clear();
    await pg?.stop();
  });
  const backends: FleetBackend[] = [{ name: 'pglite', open: () => freshPglite() }];
  if (findPostgres() !== undefined) {
    backends.push({ name: 'postgres', open: async (shared) => openDatabase(await databaseUrl(shared)), url: (shared) => databaseUrl(shared) });
  }
  return backends;
}
