/**
 * Artefacts in a folder of the update server: a key is a relative path under the folder, which
 * the update server serves itself (`/files/<key>`, with ranges). A put writes a temporary file in
 * the target's directory, syncs it and renames it over the target, so a reader sees the old file
 * or the new one, never half of one; a file put is streamed (bounded memory) and hashed on the way.
 *
 * Confinement is checked on real paths, not on the spelling: a key is lexically under the folder
 * (`checkArtefactKey`), and what it resolves to must be too. A read follows symbolic links only
 * while they stay in the folder (the real path of the file); a write resolves the real path of
 * the target's directory, before and after creating it, and writes there (a link in the target's
 * own place is replaced, never written through).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { ArtefactStoreError, checkArtefactKey, checkTtl, type ArtefactStore } from './store.js';

/**
 * An {@link ArtefactStore} in a local folder (created by `check()` or the first `put`).
 *
 * @example
 * ```ts
 * const store = new FolderArtefactStore('/var/lib/sensorkit/artefacts')
 * await store.put('fw-2.bin', '/builds/fw-2.bin')
 * createReadStream(store.pathOf('fw-2.bin')) // what the update server streams for /files/fw-2.bin
 * ```
 */
export class FolderArtefactStore implements ArtefactStore {
  readonly kind = 'folder' as const;
  /** The folder, absolute. */
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /**
   * The absolute path of a key's file (the key checked with {@link checkArtefactKey}; it stays
   * lexically under the root). Spelling only: a symbolic link on the way may lead elsewhere, so
   * open a file through {@link FolderArtefactStore.realPathOf} instead.
   */
  pathOf(key: string): string {
    const path = join(this.root, ...checkArtefactKey(key).split('/'));
    if (!inside(path, this.root)) throw new ArtefactStoreError('io', path, 'outside the artefact folder');
    return path;
  }

  /**
   * The real path (symbolic links resolved) of a key's file, or undefined when there is none.
   * Throws {@link ArtefactStoreError} (`io`, one line) when the path leads out of the folder
   * through a symbolic link, or through one that leads nowhere.
   *
   * @example
   * ```ts
   * const file = await store.realPathOf('images/fw-2.bin') // what to stat and stream, or undefined
   * ```
   */
  async realPathOf(key: string): Promise<string | undefined> {
    const path = this.pathOf(key);
    let real: string;
    let realRoot: string;
    try {
      realRoot = await realpath(this.root);
      real = await realpath(path);
    } catch (error) {
      if (!isMissing(error)) throw ioError(path, error, 'cannot resolve');
      // Missing, or a link to nothing on the way: only the first is "no such artefact".
      if (await this.#danglingLinkOnTheWay(path)) throw leadsOut(path);
      return undefined;
    }
    if (!inside(real, realRoot)) throw leadsOut(path);
    return real;
  }

  async check(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      const info = await stat(this.root);
      if (!info.isDirectory()) throw new ArtefactStoreError('io', this.root, 'not a directory');
      const probe = join(this.root, `.check-${process.pid}-${randomBytes(4).toString('hex')}`);
      await writeAtomically(probe, async (write) => write(Buffer.from('ok')));
      await rm(probe, { force: true });
    } catch (error) {
      throw ioError(this.root, error, 'cannot write');
    }
  }

  async put(key: string, content: Uint8Array | string): Promise<{ size: number; sha256: string }> {
    const target = this.pathOf(key);
    if (typeof content === 'string') await checkSourceFile(content);
    const hash = createHash('sha256');
    let size = 0;
    try {
      const directory = await this.#confinedDirectory(target);
      await writeAtomically(join(directory, basename(target)), async (write) => {
        if (typeof content !== 'string') {
          hash.update(content);
          size = content.byteLength;
          await write(content);
          return;
        }
        for await (const chunk of createReadStream(content)) {
          const bytes = chunk as Buffer;
          hash.update(bytes);
          size += bytes.byteLength;
          await write(bytes);
        }
      });
    } catch (error) {
      throw ioError(target, error, 'cannot write');
    }
    return { size, sha256: hash.digest('hex') };
  }

  async head(key: string): Promise<{ size: number } | undefined> {
    const path = this.pathOf(key);
    const real = await this.realPathOf(key);
    if (real === undefined) return undefined;
    try {
      const info = await stat(real);
      return info.isFile() ? { size: info.size } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw ioError(path, error, 'cannot stat');
    }
  }

  async presignGet(key: string, ttlS: number): Promise<string | undefined> {
    this.pathOf(key);
    checkTtl(ttlS);
    return undefined;
  }

  async get(key: string): Promise<Uint8Array> {
    const path = this.pathOf(key);
    const real = await this.realPathOf(key);
    if (real === undefined) throw new ArtefactStoreError('not-found', path, 'no such artefact');
    try {
      return new Uint8Array(await readFile(real));
    } catch (error) {
      if (isMissing(error)) throw new ArtefactStoreError('not-found', path, 'no such artefact');
      throw ioError(path, error, 'cannot read');
    }
  }

  /**
   * The real path of `target`'s directory, created when missing, checked to be in the folder:
   * the nearest existing ancestor before anything is created (so no directory is made through a
   * link out of the folder), and the directory itself after.
   */
  async #confinedDirectory(target: string): Promise<string> {
    const directory = dirname(target);
    await mkdir(this.root, { recursive: true });
    const realRoot = await realpath(this.root);
    let existing = directory;
    while (existing !== this.root && !(await exists(existing))) existing = dirname(existing);
    if (existing !== this.root) {
      const real = await realpath(existing).catch((error: unknown) => {
        if (isMissing(error)) throw leadsOut(target); // a link to nothing
        throw error;
      });
      if (!inside(real, realRoot)) throw leadsOut(target);
    }
    await mkdir(directory, { recursive: true });
    const real = await realpath(directory);
    if (!inside(real, realRoot)) throw leadsOut(target);
    return real;
  }

  /** Whether an entry between the root and `path` (included) is a symbolic link that leads nowhere. */
  async #danglingLinkOnTheWay(path: string): Promise<boolean> {
    for (let at = path; at !== this.root && inside(at, this.root); at = dirname(at)) {
      const info = await lstat(at).catch(() => undefined);
      if (info?.isSymbolicLink() && !(await exists(at, true))) return true;
    }
    return false;
  }
}

/** Whether `path` is `root` or under it (both absolute, normalised or real). */
function inside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** Whether an entry exists at `path` (a symbolic link counts itself, or with `follow` its target). */
async function exists(path: string, follow = false): Promise<boolean> {
  try {
    await (follow ? stat(path) : lstat(path));
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

function leadsOut(path: string): ArtefactStoreError {
  return new ArtefactStoreError('io', path, 'refused: a symbolic link leads out of the artefact folder');
}

/**
 * Writes `target` through a temporary sibling: filled by `fill`, synced, renamed over the target.
 * The sibling's name starts with "." so no key names it and the device listener never serves it.
 */
async function writeAtomically(target: string, fill: (write: (bytes: Uint8Array) => Promise<void>) => Promise<void>): Promise<void> {
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
  const handle = await open(temporary, 'wx');
  try {
    await fill(async (bytes) => {
      let offset = 0;
      while (offset < bytes.byteLength) offset += (await handle.write(bytes, offset)).bytesWritten;
    });
    await handle.sync();
    await handle.close();
    await rename(temporary, target);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}

/** A file to put must be a regular file: one line naming it otherwise. */
async function checkSourceFile(path: string): Promise<void> {
  try {
    if (!(await stat(path)).isFile()) throw new ArtefactStoreError('io', path, 'cannot read: not a regular file');
  } catch (error) {
    throw ioError(path, error, 'cannot read');
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function ioError(path: string, error: unknown, what: string): ArtefactStoreError {
  if (error instanceof ArtefactStoreError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ENOENT') return new ArtefactStoreError('io', path, `${what}: no such file or directory`, { cause: error });
  return new ArtefactStoreError('io', path, `${what}: ${code ?? message}`, { cause: error });
}
