/**
 * The outbox directory's lock (`outbox.lock`): one process at a time on one directory. Two
 * processes on one outbox hand out the same seqs for different payloads, delete each other's
 * records and, sharing the device id, push each other off the broker.
 *
 * Node has no flock(2), so the lock is a file created with O_CREAT|O_EXCL (atomic on a local file
 * system: exactly one creator succeeds) holding one JSON line: the holder's PID, host name, boot id
 * (Linux `/proc/sys/kernel/random/boot_id`) and a random token. It is deleted at close. A process
 * that dies without closing (SIGKILL, power cut) leaves it behind, so a lock is stale, and taken
 * over, when on this host:
 * - the boot id differs (the machine restarted since);
 * - the PID is this process's own (an earlier process with the same PID, e.g. PID 1 in a container);
 * - `process.kill(pid, 0)` says no such process (ESRCH);
 * - the file holds no readable line and is over 10 s old (a crash between create and write).
 * Breaking a stale lock takes `outbox.lock.break` (also O_EXCL) and deletes the lock only if it
 * still holds the stale line, so two processes taking over at once cannot delete each other's new lock.
 *
 * Limits: a lock held on another host (a directory shared over NFS) is never judged stale: remove
 * it by hand once that host's process is gone. O_EXCL is atomic on NFSv3 and later only. Within
 * one boot, a dead holder's PID reused by an unrelated process keeps the lock held until that
 * process ends: the refusal names the PID, so an operator can check it and delete the file.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StateError } from '../../core/errors.js';
import { attempt, storageError } from './storage.js';

export const LOCK_NAME = 'outbox.lock';
export const BREAK_NAME = 'outbox.lock.break';
/** Age after which a lock file without a readable line (its creator died before writing) is stale. */
const UNWRITTEN_STALE_MS = 10_000;

/** What a lock file says about its holder. */
interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly boot: string;
  readonly token: string;
}

/**
 * The lock of one outbox directory, held by this process.
 *
 * @example
 * ```ts
 * const lock = await DirectoryLock.acquire('/var/lib/sensorkit/outbox') // StateError when another process holds it
 * await lock.release()
 * ```
 */
export class DirectoryLock {
  readonly path: string;
  readonly #line: string;

  private constructor(path: string, line: string) {
    this.path = path;
    this.#line = line;
  }

  /**
   * Takes the lock of `dir` (which must exist), taking over a stale one.
   *
   * @throws StateError naming the holder's PID when another live process holds it; StorageError on an I/O error.
   */
  static async acquire(dir: string): Promise<DirectoryLock> {
    const path = join(dir, LOCK_NAME);
    const me: Holder = { pid: process.pid, host: hostname(), boot: bootId(), token: randomBytes(8).toString('hex') };
    const line = `${JSON.stringify(me)}\n`;
    // A few rounds: each lost race (a lock deleted or taken over meanwhile) is judged again.
    for (let round = 0; round < 4; round++) {
      if (await createExclusive(path, line)) return new DirectoryLock(path, line);
      const found = await readIfExists(path);
      if (found === undefined) continue;
      const verdict = await judge(path, found, me);
      if (verdict !== 'stale') throw new StateError(`${dir}: ${verdict}; an outbox directory serves one process at a time`);
      await breakStale(dir, path, found);
    }
    throw new StateError(`${dir}: could not take ${LOCK_NAME}: other processes keep taking it`);
  }

  /** Deletes the lock file, if it is still this process's. Best effort: a lock left behind is stale. */
  async release(): Promise<void> {
    if ((await readIfExists(this.path).catch(() => undefined)) !== this.#line) return;
    await unlink(this.path).catch(() => undefined);
  }
}

/** Creates `path` with `line` unless it exists; true when this call created it. */
async function createExclusive(path: string, line: string): Promise<boolean> {
  const handle = await attempt(path, 'create', () => open(path, 'wx', 0o644)).catch((error: unknown) => {
    if (errnoOf(error) === 'EEXIST') return undefined;
    throw error;
  });
  if (handle === undefined) return false;
  try {
    await attempt(path, 'write', () => handle.writeFile(line));
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw error;
  }
  await handle.close().catch(() => undefined);
  return true;
}

/** 'stale', or who holds the lock (for the refusal). */
async function judge(path: string, text: string, me: Holder): Promise<string> {
  const holder = parse(text);
  if (holder === undefined) {
    const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs;
    return age > UNWRITTEN_STALE_MS ? 'stale' : `${LOCK_NAME} is being created by another process`;
  }
  if (holder.host !== me.host) return `in use by process ${holder.pid} on host ${holder.host} (${LOCK_NAME}; delete it once that process is gone)`;
  if (holder.boot !== '' && me.boot !== '' && holder.boot !== me.boot) return 'stale';
  if (holder.pid === me.pid) return 'stale';
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if (errnoOf(error) === 'ESRCH') return 'stale';
  }
  return `in use by process ${holder.pid} (${LOCK_NAME})`;
}

/** Deletes the stale lock whose text is `stale`, unless it changed meanwhile. */
async function breakStale(dir: string, path: string, stale: string): Promise<void> {
  const breakPath = join(dir, BREAK_NAME);
  let created = await createExclusive(breakPath, `${process.pid}\n`);
  if (!created) {
    // A breaker that died in the few instructions it holds this is long gone after 10 s.
    const age = Date.now() - (await stat(breakPath).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age <= UNWRITTEN_STALE_MS) throw new StateError(`${dir}: another process is taking over the stale ${LOCK_NAME}`);
    await unlink(breakPath).catch(() => undefined);
    created = await createExclusive(breakPath, `${process.pid}\n`);
    if (!created) throw new StateError(`${dir}: another process is taking over the stale ${LOCK_NAME}`);
  }
  try {
    if ((await readIfExists(path)) === stale) await attempt(path, 'unlink of a stale lock', () => unlink(path));
  } finally {
    await unlink(breakPath).catch(() => undefined);
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw storageError(path, 'read', error);
  }
}

function parse(text: string): Holder | undefined {
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    if (!Number.isSafeInteger(value.pid) || value.pid! <= 0 || typeof value.host !== 'string' || typeof value.boot !== 'string' || typeof value.token !== 'string') return undefined;
    return value as Holder;
  } catch {
    return undefined;
  }
}

/** This boot's id on Linux; '' elsewhere (then only the PID decides). */
function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

function errnoOf(error: unknown): string | undefined {
  const cause = error instanceof Error && 'cause' in error && error.cause instanceof Error ? error.cause : error;
  return (cause as NodeJS.ErrnoException | undefined)?.code;
}
