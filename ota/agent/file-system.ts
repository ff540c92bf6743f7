/**
 * The file operations the update agent uses, injected so tests can make a disk fail (ENOSPC, EIO)
 * at any write, plus the two crash-safe primitives everything persistent goes through:
 * an atomic file replace (write a temporary file, fsync it, rename it over the old one, fsync the
 * directory) and an atomic symlink switch (the same with a symlink). POSIX rename(2) replaces the
 * name in one step, so after a crash the name points at the old or the new object, never at
 * neither; the directory fsync makes the rename itself durable.
 *
 * The agent runs as root, so no open under its root follows a symlink (`O_NOFOLLOW`, open(2)): a
 * link planted at a file name makes the open fail with ELOOP instead of writing through it, and a
 * new file is created with `O_EXCL`. Links at directory components are found by {@link findForeignLink}.
 */
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { StorageError } from '../../sdk/core/errors.js';

const { O_RDONLY, O_RDWR, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = constants;

/**
 * open(2) flags that never follow a symlink at the last component: read, read-write (resume),
 * or create a new file (fails if anything, a link included, has the name).
 *
 * @example
 * ```ts
 * const handle = await fs.open('staging/000000000007-3f9a0c1d2e4b/image.bin', OPEN_FLAGS.update)
 * ```
 */
export const OPEN_FLAGS = {
  read: O_RDONLY | O_NOFOLLOW,
  update: O_RDWR | O_NOFOLLOW,
  create: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
  createReadWrite: O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW,
} as const;

/**
 * The subset of node:fs/promises the agent needs.
 *
 * @example
 * ```ts
 * const fs: OtaFileSystem = { ...nodeFileSystem, open: failingOpen }
 * ```
 */
export type OtaFileSystem = Pick<typeof fsp, 'open' | 'mkdir' | 'readFile' | 'rename' | 'symlink' | 'readlink' | 'unlink' | 'rm' | 'stat' | 'lstat' | 'statfs' | 'readdir'>;

/**
 * The real file system.
 *
 * @example
 * ```ts
 * new UpdateAgent({ fs: nodeFileSystem, ... })
 * ```
 */
export const nodeFileSystem: OtaFileSystem = {
  open: fsp.open,
  mkdir: fsp.mkdir,
  readFile: fsp.readFile,
  rename: fsp.rename,
  symlink: fsp.symlink,
  readlink: fsp.readlink,
  unlink: fsp.unlink,
  rm: fsp.rm,
  stat: fsp.stat,
  lstat: fsp.lstat,
  statfs: fsp.statfs,
  readdir: fsp.readdir,
};

/**
 * fsyncs a directory, so renames and new names in it survive a power cut.
 *
 * @example
 * ```ts
 * await syncDirectory(fs, '/var/lib/device/images')
 * ```
 */
export async function syncDirectory(fs: OtaFileSystem, dir: string): Promise<void> {
  // Following a link here is harmless (fsync writes nothing) and the root itself may be one the
  // operator chose (/var/lib/device -> /data/device).
  const handle = await fs.open(dir, O_RDONLY | O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `file` with `data` atomically: temp file, fsync, rename, fsync of the directory.
 *
 * @example
 * ```ts
 * await writeFileAtomic(fs, 'state/counter.json', JSON.stringify({ sequence: 7 }))
 * ```
 */
export async function writeFileAtomic(fs: OtaFileSystem, file: string, data: string | Uint8Array): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.tmp`);
  // rm removes a link itself, never its target; O_EXCL then creates a fresh file or fails.
  await fs.rm(temp, { force: true });
  const handle = await fs.open(temp, OPEN_FLAGS.create, 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, file);
  await syncDirectory(fs, dirname(file));
}

/**
 * Points symlink `link` at `target` atomically: a temporary symlink renamed over the old one, then
 * fsync of the directory.
 *
 * @example
 * ```ts
 * await switchSymlink(fs, '/var/lib/device/current', 'images/000007-3f9a0c1d')
 * ```
 */
export async function switchSymlink(fs: OtaFileSystem, link: string, target: string): Promise<void> {
  const temp = join(dirname(link), `.${basename(link)}.tmp`);
  await fs.rm(temp, { force: true });
  await fs.symlink(target, temp);
  await fs.rename(temp, link);
  await syncDirectory(fs, dirname(link));
}

/**
 * The target of a symlink, or undefined when it does not exist.
 *
 * @example
 * ```ts
 * await readSymlink(fs, 'current') // 'images/000007-3f9a0c1d'
 * ```
 */
export async function readSymlink(fs: OtaFileSystem, link: string): Promise<string | undefined> {
  try {
    return await fs.readlink(link);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Reads a JSON file, or returns undefined when it does not exist.
 *
 * @example
 * ```ts
 * const state = await readJson<{ sequence: number }>(fs, 'state/counter.json')
 * ```
 */
export async function readJson<T>(fs: OtaFileSystem, file: string): Promise<T | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileBounded(fs, file, MAX_STATE_FILE_BYTES);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as T;
}

/** Largest state file (counter, boot state, trust list, part meta) read, bytes. */
export const MAX_STATE_FILE_BYTES = 1_048_576;

/**
 * A file holds more than a bounded read takes (see {@link readFileBounded}).
 *
 * @example
 * ```ts
 * if (error instanceof FileTooLargeError) console.warn(`${error.path}: more than ${error.maxBytes} bytes`)
 * ```
 */
export class FileTooLargeError extends StorageError {
  readonly maxBytes: number;

  constructor(file: string, maxBytes: number) {
    super(file, `larger than ${maxBytes} bytes`);
    this.maxBytes = maxBytes;
  }
}

/**
 * Reads at most `maxBytes` of a file, failing (`FileTooLargeError`) when there is more, without reading or
 * allocating beyond the cap first: a replaced file cannot exhaust memory. Only a regular file is
 * read (`StorageError` for a FIFO, a device such as `/dev/zero` or a folder), and a symlink at its
 * name is refused (ELOOP) unless `followLinks` (for paths a user names on the command line).
 *
 * @example
 * ```ts
 * const envelope = await readFileBounded(fs, 'images/…/manifest.suit', 16_384)
 * ```
 */
export async function readFileBounded(fs: OtaFileSystem, file: string, maxBytes: number, options: { followLinks?: boolean } = {}): Promise<Uint8Array> {
  const handle = await fs.open(file, options.followLinks === true ? constants.O_RDONLY : OPEN_FLAGS.read);
  try {
    if (!(await handle.stat()).isFile()) throw new StorageError(file, 'not a regular file');
    const buffer = Buffer.allocUnsafe(Math.min(maxBytes + 1, 65_536));
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw new FileTooLargeError(file, maxBytes);
      parts.push(Buffer.from(buffer.subarray(0, bytesRead)));
    }
    return Buffer.concat(parts, total);
  } finally {
    await handle.close();
  }
}

/** A symlink under the root that the agent did not make. */
export interface ForeignLink {
  readonly path: string;
  readonly target: string;
}

/**
 * The agent's own entries in the root that hold no link it makes. Anything else there (other
 * services' files) is not looked at; `current` and `previous` are links it makes, whose targets are
 * checked where they are read (image-slots.ts: a target outside `images/` is never followed).
 */
const OWN_ENTRIES = ['images', 'staging', 'state', 'audit.log', 'audit.log.head', '.audit.log.head.tmp'];

/** Most entries inspected: images and staging hold a handful of small directories. */
const MAX_ENTRIES = 10_000;

/**
 * The first symlink under `root` the agent did not make, or undefined: `images/`, `staging/`, `state/`
 * or `audit.log` being a link, or a link anywhere inside those folders. lstat(2) never follows links,
 * so nothing outside the root is touched while looking.
 *
 * @example
 * ```ts
 * const link = await findForeignLink(nodeFileSystem, '/var/lib/device')
 * if (link) throw new UpdateError('unsafe-root', `${link.path} is a symlink to ${link.target}`)
 * ```
 */
export async function findForeignLink(fs: OtaFileSystem, root: string): Promise<ForeignLink | undefined> {
  let seen = 0;
  const visit = async (path: string): Promise<ForeignLink | undefined> => {
    if (++seen > MAX_ENTRIES) throw new StorageError(root, `more than ${MAX_ENTRIES} entries under the agent's directories`);
    let stats;
    try {
      stats = await fs.lstat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    if (stats.isSymbolicLink()) return { path, target: await fs.readlink(path) };
    if (!stats.isDirectory()) return undefined;
    for (const name of await fs.readdir(path)) {
      const found = await visit(join(path, name));
      if (found !== undefined) return found;
    }
    return undefined;
  };
  for (const name of OWN_ENTRIES) {
    const found = await visit(join(root, name));
    if (found !== undefined) return found;
  }
  return undefined;
}
