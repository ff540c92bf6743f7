/**
 * Writing a small JSON file (users, tokens, trust stores) so that a reader sees the old or the new
 * file, never half of one: written beside it, given its mode, then renamed over it.
 */
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StorageError } from './errors.js';

/**
 * Writes `value` as indented JSON to `path` atomically, with `mode` (0o600 for secrets), creating
 * the folder owner-only when it is missing. Throws `StorageError` naming the file.
 *
 * @example
 * ```ts
 * await writeJsonFileAtomic('/etc/sensorkit/opcua-users.json', { version: 1, users }, 0o600)
 * ```
 */
export async function writeJsonFileAtomic(path: string, value: unknown, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode });
    // The mode of writeFile is filtered by the umask; the file must have exactly this one.
    await chmod(temporary, mode);
    await rename(temporary, path);
  } catch (error) {
    throw new StorageError(path, `cannot write: ${(error as Error).message}`, { cause: error });
  }
}
