/**
 * File-system steps the outbox builds on, each turning an OS error into a `StorageError` that names
 * the path and the cause (`ENOSPC`, `EACCES` …).
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { StorageError } from '../../core/errors.js';

/** Wraps an OS error: "<path>: <action> failed: ENOSPC: no space left on device". */
export function storageError(path: string, action: string, cause: unknown): StorageError {
  if (cause instanceof StorageError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new StorageError(path, `${action} failed: ${reason}`, { cause });
}

/** Runs `step`, rethrowing any failure as a `StorageError` for `path`. */
export async function attempt<T>(path: string, action: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw storageError(path, action, error);
  }
}

/**
 * fsyncs a directory, so that entries created, renamed or removed in it survive a power cut. POSIX
 * fsync(2) on a file does not make its directory entry durable; that takes an fsync of the
 * directory itself. (Windows cannot open a directory for this; NTFS journals names, so it is skipped.)
 */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  await attempt(dir, 'fsync of the directory', async () => {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/**
 * Writes all of `bytes` at `position` of the file `path` (a positional write may be short; loop
 * until done). Throws `StorageError` when a write makes no progress.
 */
export async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten === 0) throw new StorageError(path, `write made no progress at byte ${position + done}`);
    done += bytesWritten;
  }
}

/**
 * Creates or replaces `path` with `bytes` atomically: write `<path>.tmp`, fsync it, rename it over
 * `path`, fsync the directory. POSIX rename(2) replaces the target atomically, so a crash leaves
 * either the old file or the complete new one; the fsync before the rename keeps a power cut from
 * exposing a renamed but empty file. Returns the open handle of the new file, positioned for appends.
 */
export async function replaceFile(path: string, bytes: Uint8Array): Promise<FileHandle> {
  const temporary = `${path}.tmp`;
  let handle: FileHandle | undefined;
  try {
    handle = await attempt(temporary, 'create', () => open(temporary, 'w+'));
    await attempt(temporary, 'write', () => writeAll(handle!, bytes, 0, temporary));
    await attempt(temporary, 'fsync', () => handle!.sync());
    await attempt(path, `rename from ${basename(temporary)}`, () => rename(temporary, path));
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  try {
    await syncDirectory(dirname(path));
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  // The handle follows the inode through the rename: it now is `path`.
  return handle;
}

/** Removes `path` and makes the removal durable. */
export async function removeFile(path: string): Promise<void> {
  await attempt(path, 'unlink', () => unlink(path));
  await syncDirectory(dirname(path));
}
