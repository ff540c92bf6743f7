/**
 * One PGlite directory, one process: `ota serve --db DIR` holds it, and a second process (the CLI
 * with `--db DIR`, or a second server) is refused with one line pointing at the management API.
 * The server's data survives its restart; a lock left by a killed server is taken over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { DatabaseError } from '../../ota/server/db/errors.js';
import { PGLITE_LOCK_FILE, openDatabase } from '../../ota/server/db/sql.js';
import { FleetStore } from '../../ota/server/fleet-store.js';
import { BIN, ROOT, expectOneLine, runSensorkit, type CliRun } from '../support/cli.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';

const key = makeKey();
const image = makeImage(20_000, 5);
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-db-lock-'));
  await writeFile(join(dir, 'fw.bin'), image);
  await writeFile(join(dir, 'fw.suit'), envelopeFor(image, 2, key, { uri: 'fw.bin' }));
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ota = (args: string[]): Promise<CliRun> => runSensorkit(['ota', ...args]);

/** `sensorkit ota serve ARGS` until it prints its management listener's URL. */
async function serve(args: string[]): Promise<{ child: ChildProcess; admin: string }> {
  const child = spawn(process.execPath, [BIN, 'ota', 'serve', ...args], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const admin = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^management API on (\S+) /m.exec(stdout);
      if (match && /^device API on /m.test(stdout)) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`ota serve exited with ${code}: ${stderr}`)));
  });
  return { child, admin };
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const IN_USE = /^sensorkit: the database in \S+ is in use by another process \(pid \d+\): while 'ota serve' runs on it, use --server URL --token T instead of --db$/;

describe('a PGlite directory held by ota serve', () => {
  it('refuses the CLI on the same directory with one line (exit 1); the server changes nothing it did not do, and keeps its data across a restart', async () => {
    const db = join(dir, 'db');
    const store = join(dir, 'store');
    const tokens = join(dir, 'tokens.json');
    const token = (await ota(['token', 'create', 'root', '--role', 'admin', '--tokens', tokens])).stdout.trim();
    expect((await ota(['device', 'add', '--db', db, '--group', 'line-3', 'en-1', 'en-2'])).code).toBe(0);
    const created = await ota(['campaign', 'create', '--db', db, '--name', 'fw 2', '--group', 'line-3', '--envelope', join(dir, 'fw.suit'), '--payload', join(dir, 'fw.bin'), '--store', store]);
    expect(created.code, created.stderr).toBe(0);
    const id = String((JSON.parse(created.stdout) as { id: number }).id);
    const args = ['--db', db, '--store', store, '--device-port', '0', '--admin-port', '0', '--admin-tokens', tokens];

    const server = await serve(args);
    const lock = JSON.parse(await readFile(join(db, PGLITE_LOCK_FILE), 'utf8')) as { pid: number; host: string };
    expect(lock).toMatchObject({ pid: server.child.pid, host: hostname() });
    const halt = await ota(['campaign', 'halt', id, '--db', db, '--reason', 'field returns']);
    expect(halt.code).toBe(1);
    expect(halt.stdout).toBe('');
    expectOneLine(halt, IN_USE);
    expect(halt.stderr).toContain(`(pid ${server.child.pid})`);
    for (const other of [['device', 'add', '--db', db, '--group', 'line-3', 'en-3'], ['device', 'list', '--db', db], ['fleet', 'stop', '--db', db]]) {
      const run = await ota(other);
      expect(run.code, other.join(' ')).toBe(1);
      expectOneLine(run, IN_USE);
    }
    // A second server on the same directory is refused the same way, before it listens.
    const second = await ota(['serve', ...args]);
    expect(second.code).toBe(1);
    expect(second.stdout).toBe('');
    expectOneLine(second, IN_USE);
    // What the refusal says to do works: the halt through the management API.
    const remote = await ota(['campaign', 'halt', id, '--server', server.admin, '--token', token, '--reason', 'field returns']);
    expect(remote.code, remote.stderr).toBe(0);
    expect(JSON.parse(remote.stdout)).toMatchObject({ state: 'halted', reason: 'field returns' });

    server.child.kill('SIGTERM');
    expect(await exited(server.child)).toBe(0);
    // The server gave the directory back: the CLI opens it and finds everything.
    const status = await ota(['campaign', 'status', id, '--db', db]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'halted', reason: 'field returns', targeted: 2 });
    const restarted = await serve(args);
    const after = await ota(['campaign', 'status', '--server', restarted.admin, '--token', token, '--json']);
    expect(after.code, after.stderr).toBe(0);
    expect((JSON.parse(after.stdout) as { id: number; state: string }[]).map((c) => [String(c.id), c.state])).toEqual([[id, 'halted']]);
    const devices = await ota(['device', 'list', '--server', restarted.admin, '--token', token]);
    expect((JSON.parse(devices.stdout) as { id: string }[]).map((d) => d.id)).toEqual(['en-1', 'en-2']);
  }, 180_000);

  it('takes over the lock of a server that was killed', async () => {
    const db = join(dir, 'killed-db');
    const store = join(dir, 'killed-store');
    expect((await ota(['device', 'add', '--db', db, '--group', 'line-3', 'en-1'])).code).toBe(0);
    const server = await serve(['--db', db, '--store', store, '--device-port', '0', '--admin-port', '0']);
    expectOneLine(await ota(['device', 'list', '--db', db]), IN_USE);
    server.child.kill('SIGKILL');
    await exited(server.child);
    expect(JSON.parse(await readFile(join(db, PGLITE_LOCK_FILE), 'utf8'))).toMatchObject({ pid: server.child.pid });
    const list = await ota(['device', 'list', '--db', db]);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([{ id: 'en-1', group: 'line-3' }]);
    await expect(readFile(join(db, PGLITE_LOCK_FILE), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  }, 120_000);
});

describe('openDatabase on a directory', () => {
  it('refuses a second open in the same process until the first is closed', async () => {
    const db = join(dir, 'twice');
    const first = await openDatabase(db);
    const refused = await openDatabase(db).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DatabaseError);
    expect((refused as Error).message).toBe(`the database in ${db} is in use by this process: while 'ota serve' runs on it, use --server URL --token T instead of --db`);
    await first.query('CREATE TABLE t (v text)');
    await first.query("INSERT INTO t VALUES ('kept')");
    await first.close();
    const again = await openDatabase(db);
    expect((await again.query<{ v: string }>('SELECT v FROM t')).rows).toEqual([{ v: 'kept' }]);
    await again.close();
  }, 60_000);

  it('takes over a lock whose pid is gone or from before a reboot; refuses one from another host, naming the file', async () => {
    const db = join(dir, 'stale');
    const store = await FleetStore.open(await openDatabase(db), new VirtualClock());
    await store.assign('g', ['a']);
    await store.close();
    const gone = spawn(process.execPath, ['-e', '']);
    await exited(gone);
    const lockPath = join(db, PGLITE_LOCK_FILE);
    for (const owner of [{ pid: gone.pid, host: hostname() }, { pid: process.ppid, host: hostname(), boot: 'an earlier boot' }, { pid: process.pid, host: hostname() }]) {
      await writeFile(lockPath, `${JSON.stringify(owner)}\n`);
      const reopened = await FleetStore.open(await openDatabase(db), new VirtualClock());
      expect(await reopened.devices()).toEqual([{ id: 'a', group: 'g', hardware: null }]);
      await reopened.close();
    }
    await writeFile(lockPath, `${JSON.stringify({ pid: process.ppid, host: hostname() })}\n`);
    expect(((await openDatabase(db).catch((e: unknown) => e)) as Error).message).toMatch(new RegExp(`in use by another process \\(pid ${process.ppid}\\)`));
    await writeFile(lockPath, `${JSON.stringify({ pid: 4242, host: 'plant-server-2' })}\n`);
    const foreign = await openDatabase(db).catch((e: unknown) => e);
    expect(foreign).toBeInstanceOf(DatabaseError);
    expect((foreign as Error).message).toBe(`the database in ${db} is in use by another process (pid 4242 on plant-server-2): while 'ota serve' runs on it, use --server URL --token T instead of --db; remove ${join(db, PGLITE_LOCK_FILE)} only if that process is gone`);
    await rm(lockPath);
  }, 60_000);
});
