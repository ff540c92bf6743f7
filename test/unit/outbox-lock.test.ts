/**
 * The outbox directory's lock file: who holds it and when it is stale (dir-lock.ts). Real child
 * processes: test/integration/outbox-lock.test.ts.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateError } from '../../sdk/core/errors.js';
import { DirectoryLock } from '../../sdk/transport/outbox/dir-lock.js';
import { DurableOutbox } from '../../sdk/transport/outbox/index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-lock-unit-'));
  dirs.push(dir);
  return dir;
}

const BOOT = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const lockLine = (fields: Partial<{ pid: number; host: string; boot: string; token: string }>): string =>
  `${JSON.stringify({ pid: process.ppid, host: hostname(), boot: BOOT, token: 'feedfacefeedface', ...fields })}\n`;

async function holderPid(dir: string): Promise<number> {
  return (JSON.parse(await readFile(join(dir, 'outbox.lock'), 'utf8')) as { pid: number }).pid;
}

describe('DirectoryLock', () => {
  it('refuses a lock held by a live process of this host, naming its PID', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'outbox.lock'), lockLine({}));
    await expect(DirectoryLock.acquire(dir)).rejects.toThrow(new StateError(`${dir}: in use by process ${process.ppid} (outbox.lock); an outbox directory serves one process at a time`));
  });

  it('refuses a lock of another host, which it cannot check, naming the host', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'outbox.lock'), lockLine({ pid: 999_999_999, host: 'other-host' }));
    await expect(DirectoryLock.acquire(dir)).rejects.toThrow(/in use by process 999999999 on host other-host \(outbox\.lock; delete it once that process is gone\)/);
  });

  it.each([
    ['a dead PID', { pid: 999_999_999 }],
    ['this process\'s own PID, from an earlier process (PID 1 in a container)', { pid: process.pid }],
    ['a live PID of an earlier boot', { boot: '00000000-0000-0000-0000-000000000000' }],
  ])('takes over a stale lock: %s', async (_, fields) => {
    const dir = await tempDir();
    await writeFile(join(dir, 'outbox.lock'), lockLine(fields));
    const lock = await DirectoryLock.acquire(dir);
    expect(await holderPid(dir)).toBe(process.pid);
    await lock.release();
    await expect(readFile(join(dir, 'outbox.lock'))).rejects.toThrow(/ENOENT/);
  });

  it('a lock file without a readable line is being created when young, stale after 10 s', async () => {
    const dir = await tempDir();
    const path = join(dir, 'outbox.lock');
    await writeFile(path, '');
    await expect(DirectoryLock.acquire(dir)).rejects.toThrow(/outbox\.lock is being created by another process/);
    const past = new Date(Date.now() - 60_000);
    await utimes(path, past, past);
    const lock = await DirectoryLock.acquire(dir);
    expect(await holderPid(dir)).toBe(process.pid);
    await lock.release();
  });

  it('waits out a breaker of a stale lock for 10 s, then clears its leftover', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'outbox.lock'), lockLine({ pid: 999_999_999 }));
    const breaker = join(dir, 'outbox.lock.break');
    await writeFile(breaker, '999999998\n');
    await expect(DirectoryLock.acquire(dir)).rejects.toThrow(/another process is taking over the stale outbox\.lock/);
    const past = new Date(Date.now() - 60_000);
    await utimes(breaker, past, past);
    const lock = await DirectoryLock.acquire(dir);
    await expect(readFile(breaker)).rejects.toThrow(/ENOENT/);
    await lock.release();
  });

  it('release leaves a lock that is no longer its own', async () => {
    const dir = await tempDir();
    const lock = await DirectoryLock.acquire(dir);
    const other = lockLine({});
    await writeFile(join(dir, 'outbox.lock'), other);
    await lock.release();
    expect(await readFile(join(dir, 'outbox.lock'), 'utf8')).toBe(other);
  });

  it('DurableOutbox holds the lock from open to close, and frees it when the open fails', async () => {
    const dir = await tempDir();
    const outbox = await DurableOutbox.open({ dir, fsync: 'never' });
    expect(await holderPid(dir)).toBe(process.pid);
    await outbox.close();
    await expect(readFile(join(dir, 'outbox.lock'))).rejects.toThrow(/ENOENT/);

    await writeFile(join(dir, 'notes.txt'), 'not the outbox\'s');
    await expect(DurableOutbox.open({ dir })).rejects.toThrow(/notes\.txt: is not an outbox file/);
    await expect(readFile(join(dir, 'outbox.lock'))).rejects.toThrow(/ENOENT/);
  });
});
