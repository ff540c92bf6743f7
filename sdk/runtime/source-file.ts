/**
 * The limits on a device or configuration file before it is read or imported: a regular file (a
 * path such as `/dev/zero` or a FIFO would be read without end) of at most 1 MiB, some hundred
 * times the largest example's device file. Only the named file is checked; the modules a device
 * file imports are its own code.
 */
import { statSync } from 'node:fs';

/** Largest device or configuration file, bytes (1 MiB). */
export const MAX_SOURCE_FILE_BYTES = 1024 * 1024;

/**
 * Why the file at `path` cannot be a device or configuration file, or undefined when it can (or
 * does not exist: the caller says so in its own words).
 *
 * @example
 * ```ts
 * sourceFileProblem('/dev/zero', 'device file') // 'not a regular file (a device file must be a file of at most 1 MiB)'
 * ```
 */
export function sourceFileProblem(path: string, kind: 'device file' | 'configuration file'): string | undefined {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats === undefined) return undefined;
  if (!stats.isFile()) return `not a regular file (a ${kind} must be a file of at most 1 MiB)`;
  if (stats.size > MAX_SOURCE_FILE_BYTES) return `${(stats.size / MAX_SOURCE_FILE_BYTES).toFixed(1)} MiB; a ${kind} may be at most 1 MiB`;
  return undefined;
}
