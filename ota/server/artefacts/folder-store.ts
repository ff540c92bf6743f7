/**
 * Artefacts in a folder of the update server: a key is a relative path under the folder, which
 * the update server serves itself (`/files/<key>`, with ranges). A put writes a temporary file in
 * the target's directory, syncs it and renames it over the target, so a reader sees the old file
 * or the new one, never half of one; a file put is streamed (bounded memory) and hashed on the way.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
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

  /** The absolute path of a key's file (the key checked with {@link checkArtefactKey}; it stays under the root). */
  pathOf(key: string): string {
    const path = join(this.root, ...checkArtefactKey(key).split('/'));
    if (!path.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep)) throw new ArtefactStoreError('io', path, 'outside the artefact folder');
    return path;
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
      await mkdir(dirname(target), { recursive: true });
      await writeAtomically(target, async (write) => {
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
    try {
      const info = await stat(path);
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
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      if (isMissing(error)) throw new ArtefactStoreError('not-found', path, 'no such artefact');
      throw ioError(path, error, 'cannot read');
    }
  }
}

/** Writes `target` through a temporary sibling: filled by `fill`, synced, renamed over the target. */
async function writeAtomically(target: string, fill: (write: (bytes: Uint8Array) => Promise<void>) => Promise<void>): Promise<void> {
  const temporary = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.part`;
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
