/**
 * The audit log's files: the log, its head (`<log>.head`: the last record's sequence number and
 * hash, HMAC'd with the log's key) and the rotated files (`<log>.1` newest … `<log>.<keep>`
 * oldest). Nothing is opened through a symlink (O_NOFOLLOW). Writing goes through an
 * {@link AuditStorage}, so that a test can make it fail as a full disk does.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StorageError } from '../../sdk/core/errors.js';
import { AUDIT_GENESIS, type AuditEntry } from './chain.js';

/** What `<file>.head` holds: the last record's sequence number and hash. */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
  /** HMAC-SHA-256 of `seq` and `hash` under the log's key, when it has one. */
  readonly mac?: string;
}

/**
 * The head file of a log.
 *
 * @example
 * ```ts
 * auditHeadFile('/var/lib/device/audit.log') // '/var/lib/device/audit.log.head'
 * ```
 */
export function auditHeadFile(file: string): string {
  return `${file}.head`;
}

/**
 * The `n`-th rotated file of a log (1 the newest).
 *
 * @example
 * ```ts
 * rotatedAuditFile('/var/lib/device/audit.log', 1) // '/var/lib/device/audit.log.1'
 * ```
 */
export function rotatedAuditFile(file: string, n: number): string {
  return `${file}.${n}`;
}

const { O_RDONLY, O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = constants;

/** Largest log file read whole, bytes. */
export const MAX_LOG_BYTES = 256 * 1024 * 1024;
const MAX_HEAD_BYTES = 4096;

/**
 * The head's MAC under `key`.
 *
 * @example
 * ```ts
 * const head = { seq, hash, mac: headMac(seq, hash, key) }
 * ```
 */
export function headMac(seq: number, hash: string, key: Uint8Array): string {
  return createHmac('sha256', key).update(`sensorkit-audit-head\n${seq}\n${hash}`).digest('hex');
}

/**
 * Reads a file without following a link at its name; undefined when it does not exist.
 *
 * @example
 * ```ts
 * const text = await readNoFollow('audit.log', MAX_LOG_BYTES)
 * ```
 */
export async function readNoFollow(file: string, maxBytes: number): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, O_RDONLY | O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new StorageError(file, 'not a regular file');
    if (stats.size > maxBytes) throw new StorageError(file, `larger than ${maxBytes} bytes`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Reads `<file>.head`; undefined when there is none.
 *
 * @example
 * ```ts
 * const head = await readHead('audit.log') // { seq: 12, hash: '…' }
 * ```
 */
export async function readHead(file: string): Promise<AuditHead | undefined> {
  const text = await readNoFollow(auditHeadFile(file), MAX_HEAD_BYTES);
  if (text === undefined) return undefined;
  let head: Partial<AuditHead>;
  try {
    head = JSON.parse(text) as Partial<AuditHead>;
  } catch {
    throw new StorageError(auditHeadFile(file), 'not JSON');
  }
  if (typeof head !== 'object' || head === null || !Number.isSafeInteger(head.seq) || (head.seq as number) < 0 || typeof head.hash !== 'string' || (head.mac !== undefined && typeof head.mac !== 'string')) {
    throw new StorageError(auditHeadFile(file), 'not an audit head');
  }
  return head as AuditHead;
}

/**
 * Why `head` does not fit a file's records, or undefined when it does. The file may run ahead of
 * its head (a crash between the append and the head write), never fall behind it.
 *
 * @example
 * ```ts
 * const problem = checkHead(await readHead(file), entries, key)
 * ```
 */
export function checkHead(head: AuditHead | undefined, entries: readonly AuditEntry[], key: Uint8Array | undefined): string | undefined {
  if (head === undefined) return entries.length === 0 ? undefined : 'no head file: records cut off the end could not be told';
  if (key !== undefined) {
    const expected = Buffer.from(headMac(head.seq, head.hash, key), 'hex');
    const given = Buffer.from(head.mac ?? '', 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the head file is not signed with this key';
  }
  const first = entries[0]?.seq ?? 1;
  const last = first + entries.length - 1;
  if (head.seq > last) return `the head records ${head.seq} entries, the log holds ${last}: entries were cut off the end`;
  if (head.seq < first - 1) return `the head records ${head.seq} entries, older than the file's first record (${first})`;
  const at = head.seq === first - 1 ? (entries[0]?.prev ?? AUDIT_GENESIS) : entries[head.seq - first]!.hash;
  if (at !== head.hash) return `entry ${head.seq} does not match the hash in the head file`;
  return undefined;
}

/** The writes of an audit log; {@link nodeAuditStorage} by default, a failing one in tests. */
export interface AuditStorage {
  /** Appends `text` to `file` (created 0640 if absent: audit information is not for everyone, CR 3.9) and fdatasyncs it. */
  append(file: string, text: string): Promise<void>;
  /** Writes `<file>.head` atomically. */
  writeHead(file: string, head: AuditHead): Promise<void>;
  /** Renames `from` to `to` (replacing `to`), or removes `from` when `to` is undefined. */
  move(from: string, to: string | undefined): Promise<void>;
}

/**
 * The audit log's writes on the local file system: append with O_APPEND and fdatasync; the head
 * through a new temporary file (O_EXCL), fsync, rename and an fsync of the folder.
 *
 * @example
 * ```ts
 * const failing: AuditStorage = { ...nodeAuditStorage, append: async () => { throw Object.assign(new Error('no space'), { code: 'ENOSPC' }) } }
 * ```
 */
export const nodeAuditStorage: AuditStorage = {
  async append(file, text) {
    const handle = await open(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o640);
    try {
      await handle.write(text);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  },
  async writeHead(file, head) {
    const target = auditHeadFile(file);
    const temp = join(dirname(target), `.${basename(target)}.tmp`);
    await rm(temp, { force: true });
    const handle = await open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o640);
    try {
      await handle.writeFile(`${JSON.stringify(head)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    await syncFolder(dirname(target));
  },
  async move(from, to) {
    if (to === undefined) await rm(from, { force: true });
    else {
      try {
        await rename(from, to);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    await syncFolder(dirname(from));
  },
};

async function syncFolder(folder: string): Promise<void> {
  const dir = await open(folder, O_RDONLY | O_DIRECTORY);
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
