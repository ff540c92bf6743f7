/**
 * The image store of a device: versioned image directories (`images/<sequence>-<digest prefix>/`
 * with `image.bin` and the `manifest.suit` it was verified against), a `current` and a `previous`
 * symlink that name the active and the fallback image (A/B), and a `staging/` area for downloads.
 * A new image is staged and checked in `staging/` and moved into `images/` by one rename; the
 * switch is one symlink rename. Nothing ever writes into a directory `current` points at.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { StorageError } from '../../sdk/core/errors.js';
import { UpdateError } from '../errors.js';
import type { SuitManifest } from '../manifest/suit-manifest.js';
import { OPEN_FLAGS, readSymlink, switchSymlink, syncDirectory, writeFileAtomic, type OtaFileSystem } from './file-system.js';

/** `<12-digit sequence>-<12 hex digits>`: the only image directory names. */
const IMAGE_NAME = /^\d{12,16}-[0-9a-f]{12}$/;

function checkedName(name: string): string {
  if (!IMAGE_NAME.test(name)) throw new StorageError(name, 'not an image directory name this agent writes (a tampered link or state file?)');
  return name;
}

/** File names inside an image directory: the first component's image, and the envelope. */
export const IMAGE_FILE = 'image.bin';
export const MANIFEST_FILE = 'manifest.suit';

/**
 * The file of component `index` in an image directory: `image.bin` for the first, `component-N.bin`
 * for the others. Names come from the index only, never from a component id a manifest chose.
 *
 * @example
 * ```ts
 * componentFile(1) // 'component-1.bin'
 * ```
 */
export function componentFile(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 255) throw new StorageError(String(index), 'not a component index this agent writes');
  return index === 0 ? IMAGE_FILE : `component-${index}.bin`;
}

/**
 * The image store under one root directory.
 *
 * @example
 * ```ts
 * const slots = new ImageSlots(nodeFileSystem, '/var/lib/device')
 * await slots.current() // '000000000007-3f9a0c1d2e4b'
 * ```
 */
export class ImageSlots {
  readonly #fs: OtaFileSystem;
  readonly root: string;
  readonly imagesDir: string;
  readonly stagingDir: string;

  constructor(fs: OtaFileSystem, root: string) {
    this.#fs = fs;
    this.root = root;
    this.imagesDir = join(root, 'images');
    this.stagingDir = join(root, 'staging');
  }

  async init(): Promise<void> {
    await this.#fs.mkdir(this.imagesDir, { recursive: true });
    await this.#fs.mkdir(this.stagingDir, { recursive: true });
  }

  /** The directory name of an image: sequence (zero-padded, so names sort) and digest prefix. */
  static nameFor(manifest: SuitManifest): string {
    return `${String(manifest.sequence).padStart(12, '0')}-${Buffer.from(manifest.imageDigest).toString('hex').slice(0, 12)}`;
  }

  /**
   * Whether `name` is one {@link nameFor} writes. Names also come back from symlinks and
   * `state/boot.json`, which someone with access to the disk can change; a name such as
   * `../../etc` must never reach a path join, let alone a recursive remove.
   */
  static isImageName(name: string): boolean {
    return IMAGE_NAME.test(name);
  }

  /** The image file of component `index` (default the first) of image directory `name`. */
  imagePath(name: string, index = 0): string {
    return join(this.imagesDir, checkedName(name), componentFile(index));
  }

  manifestPath(name: string): string {
    return join(this.imagesDir, checkedName(name), MANIFEST_FILE);
  }

  /** Where a download of component `index` (default the first) of `name` goes. */
  stagingPart(name: string, index = 0): string {
    return join(this.stagingDir, checkedName(name), componentFile(index));
  }

  async prepareStaging(name: string): Promise<void> {
    await this.#fs.mkdir(join(this.stagingDir, checkedName(name)), { recursive: true });
  }

  /** The image `current` names, or undefined. */
  current(): Promise<string | undefined> {
    return this.#link('current');
  }

  /** The image `previous` names (the fallback), or undefined. */
  previous(): Promise<string | undefined> {
    return this.#link('previous');
  }

  /**
   * The image a link names. A target this agent would not have written (absolute, `..`, outside
   * `images/`) comes back as it is, so callers see a name that fails {@link isImageName} and
   * refuse it instead of following it.
   */
  async #link(name: string): Promise<string | undefined> {
    const target = await readSymlink(this.#fs, join(this.root, name));
    if (target === undefined) return undefined;
    const match = /^images\/(.*)$/s.exec(target);
    return match !== null && ImageSlots.isImageName(match[1]!) ? match[1]! : target;
  }

  /** Points `current` (or `previous`) at an image, atomically and durably. */
  async point(link: 'current' | 'previous', name: string): Promise<void> {
    await switchSymlink(this.#fs, join(this.root, link), `images/${checkedName(name)}`);
  }

  /**
   * Moves a complete download into `images/<name>` with its manifest: manifest written and synced,
   * then one rename of the staging directory, then fsync of both parents.
   */
  async commitStaged(name: string, envelope: Uint8Array, components = 1): Promise<void> {
    const dir = join(this.stagingDir, checkedName(name));
    for (let i = 0; i < components; i++) await this.#fs.rm(`${this.stagingPart(name, i)}.meta.json`, { force: true });
    await writeFileAtomic(this.#fs, join(dir, MANIFEST_FILE), envelope);
    const target = join(this.imagesDir, name);
    // A leftover of an interrupted attempt (never current: boot() would have moved off it).
    await this.#fs.rm(target, { recursive: true, force: true });
    await this.#fs.rename(dir, target);
    await syncDirectory(this.#fs, this.imagesDir);
    await syncDirectory(this.#fs, this.stagingDir);
  }

  /** SHA-256 of the image file of component `index` (default the first), streamed; undefined when the file is missing. */
  async hashImage(name: string, index = 0): Promise<{ digest: Buffer; size: number } | undefined> {
    let handle;
    try {
      handle = await this.#fs.open(this.imagePath(name, index), OPEN_FLAGS.read);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      if (!(await handle.stat()).isFile()) throw new StorageError(this.imagePath(name, index), 'not a regular file');
      const hash = createHash('sha256');
      const buffer = Buffer.allocUnsafe(1 << 20);
      let size = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, size);
        if (bytesRead === 0) break;
        hash.update(buffer.subarray(0, bytesRead));
        size += bytesRead;
      }
      return { digest: hash.digest(), size };
    } finally {
      await handle.close();
    }
  }

  /** Removes an image directory; throws `StorageError` for a name it did not write. */
  async remove(name: string): Promise<void> {
    await this.#fs.rm(join(this.imagesDir, checkedName(name)), { recursive: true, force: true });
  }

  /** Removes every image and staging directory not in `keep`. */
  async prune(keep: readonly string[]): Promise<void> {
    // readdir names are single path components, so they join safely whatever they are.
    for (const name of await this.#fs.readdir(this.imagesDir)) if (!keep.includes(name)) await this.#fs.rm(join(this.imagesDir, name), { recursive: true, force: true });
    for (const name of await this.#fs.readdir(this.stagingDir)) await this.#fs.rm(join(this.stagingDir, name), { recursive: true, force: true });
  }

  /**
   * Throws `UpdateError` `no-space` unless the file system has room for the rest of image `name`
   * (what its staging parts lack of their sizes, one size per component) plus `marginBytes`.
   */
  async checkSpace(name: string, size: number | readonly number[], marginBytes: number): Promise<void> {
    const sizes = typeof size === 'number' ? [size] : size;
    let needed = marginBytes;
    for (const [index, wanted] of sizes.entries()) {
      let have = 0;
      try {
        have = (await this.#fs.stat(this.stagingPart(name, index))).size;
      } catch {
        have = 0;
      }
      needed += wanted - Math.min(have, wanted);
    }
    const free = await this.freeBytes();
    if (free < needed) throw new UpdateError('no-space', `${needed} bytes needed, ${free} free on ${this.root}`);
  }

  /** Bytes free for unprivileged writes on the root's file system. */
  async freeBytes(): Promise<number> {
    const stats = await this.#fs.statfs(this.root);
    return Number(stats.bavail) * Number(stats.bsize);
  }
}
