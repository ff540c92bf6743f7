/**
 * A throw-away PostgreSQL for tests: `initdb` and `pg_ctl` run as the `postgres` user (PostgreSQL
 * refuses to run as root) on a temporary data directory that user owns, on a free port of
 * 127.0.0.1, with its socket in the same directory and fsync off. When PostgreSQL is not installed
 * the helper answers undefined, so a suite runs its PGlite half on a bare machine; with
 * SENSORKIT_REQUIRE_PEERS=1 (CI) a missing PostgreSQL is a failure.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PEERS_REQUIRED } from './peers.js';
import { freePort } from './net.js';

const run = promisify(execFile);

/** Where Debian and this image install PostgreSQL's server programs. */
const BIN_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/14/bin', '/usr/local/bin', '/usr/bin'];

/** A running PostgreSQL: its URL (database `postgres`, user `postgres`, no password) and how to stop it. */
export interface TestPostgres {
  readonly url: string;
  readonly port: number;
  /** Creates another database on the same server and returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The directory with initdb and pg_ctl, or undefined (a failure under SENSORKIT_REQUIRE_PEERS=1).
 *
 * @example
 * ```ts
 * if (findPostgres() === undefined) console.log('PGlite only')
 * ```
 */
export function findPostgres(): string | undefined {
  const dir = BIN_DIRS.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
  if (dir === undefined && PEERS_REQUIRED) throw new Error('postgresql is required (SENSORKIT_REQUIRE_PEERS=1) but not installed: apt-get install -y postgresql');
  return dir;
}

/** Whether the current user can run programs as `postgres` (root with runuser), or is `postgres`. */
function asPostgres(bin: string, args: string[]): [string, string[]] {
  const uid = process.getuid?.();
  if (uid === 0) return ['runuser', ['-u', 'postgres', '--', bin, ...args]];
  return [bin, args];
}

/**
 * Starts a throw-away PostgreSQL; undefined when it is not installed (and not required).
 *
 * @example
 * ```ts
 * const pg = await startPostgres()
 * if (pg) { const db = await openDatabase(pg.url); …; await pg.stop() }
 * ```
 */
export async function startPostgres(): Promise<TestPostgres | undefined> {
  const bin = findPostgres();
  if (bin === undefined) return undefined;
  const root = await mkdtemp(join(tmpdir(), 'sensorkit-pg-'));
  const data = join(root, 'data');
  const uid = process.getuid?.();
  if (uid === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(root, Number(stdout.trim()), Number(gid.trim()));
  }
  await chmod(root, 0o700);
  const port = await freePort();
  const [initdb, initArgs] = asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  await run(initdb, initArgs);
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100`;
  const [pgCtl, startArgs] = asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(root, 'log'), '-w', '-t', '60', 'start']);
  await run(pgCtl, startArgs);
  let stopped = false;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    async createDatabase(name) {
      const { default: pg } = (await import('pg')) as unknown as { default: { Client: new (url: string) => { connect(): Promise<void>; query(sql: string): Promise<unknown>; end(): Promise<void> } } };
      const client = new pg.Client(url);
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const [ctl, stopArgs] = asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      await run(ctl, stopArgs).catch(() => {});
      await rm(root, { recursive: true, force: true });
    },
  };
}
