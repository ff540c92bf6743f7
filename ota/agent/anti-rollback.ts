/**
 * The anti-rollback counter (RFC 9124 §4.3.1): the highest manifest sequence number this device has
 * confirmed, with that image's digest. It is replaced atomically (temp, fsync, rename, fsync dir)
 * and only ever raised: a rollback to the previous image leaves it as it is, so an old manifest
 * can never be installed again, even after a failed update.
 */
import { join } from 'node:path';
import { StorageError } from '../../sdk/core/errors.js';
import type { AcceptedState } from '../manifest/policy.js';
import { readJson, writeFileAtomic, type OtaFileSystem } from './file-system.js';

/** Manifest digests remembered for replay detection. */
const MAX_SEEN = 32;

/**
 * The counter file of one device.
 *
 * @example
 * ```ts
 * const counter = new AntiRollbackCounter(fs, '/var/lib/device/state')
 * await counter.raise(7, digestHex)
 * ```
 */
export class AntiRollbackCounter {
  readonly #fs: OtaFileSystem;
  readonly file: string;

  constructor(fs: OtaFileSystem, stateDir: string) {
    this.#fs = fs;
    this.file = join(stateDir, 'counter.json');
  }

  /**
   * The accepted state, with the digests of the last manifests accepted (to tell a replay of one of
   * them from a newly signed downgrade); sequence 0 when nothing was ever installed. Throws
   * `StorageError` on a damaged file.
   */
  async read(): Promise<AcceptedState & { readonly seen: readonly string[]; readonly stored: boolean }> {
    let value: (Partial<AcceptedState> & { seen?: unknown }) | undefined;
    try {
      value = await readJson<Partial<AcceptedState> & { seen?: unknown }>(this.#fs, this.file);
    } catch (error) {
      // Written atomically, so a damaged file means tampering or a broken disk: refuse, never reset to 0.
      throw new StorageError(this.file, `unreadable anti-rollback counter: ${(error as Error).message}`, { cause: error });
    }
    // `stored: false` means no file: the caller decides whether that can be a fresh device.
    if (value === undefined) return { sequence: 0, seen: [], stored: false };
    if (typeof value !== 'object' || value === null) throw new StorageError(this.file, 'the anti-rollback counter is not an object');
    if (!Number.isSafeInteger(value.sequence) || (value.sequence as number) < 0) throw new StorageError(this.file, 'the anti-rollback counter is not a sequence number');
    if (value.imageDigest !== undefined && (typeof value.imageDigest !== 'string' || !/^[0-9a-f]{64}$/.test(value.imageDigest))) throw new StorageError(this.file, 'the anti-rollback counter names a malformed image digest');
    if (value.seen !== undefined && (!Array.isArray(value.seen) || !value.seen.every((d) => typeof d === 'string'))) throw new StorageError(this.file, 'the anti-rollback counter has a malformed `seen` list');
    const seen = (value.seen ?? []) as string[];
    const sequence = value.sequence as number;
    return value.imageDigest === undefined ? { sequence, seen, stored: true } : { sequence, imageDigest: value.imageDigest, seen, stored: true };
  }

  /** Raises the counter to `sequence`; never lowers it (a lower or equal value is a no-op). */
  async raise(sequence: number, imageDigest: string, manifestDigest?: string): Promise<void> {
    const current = await this.read();
    if (sequence <= current.sequence) return;
    const seen = [...current.seen, ...(manifestDigest === undefined ? [] : [manifestDigest])].slice(-MAX_SEEN);
    await writeFileAtomic(this.#fs, this.file, `${JSON.stringify({ sequence, imageDigest, seen })}\n`);
  }
}
