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
  async read(): Promise<AcceptedState & { readonly seen: readonly string[] }> {
    let value: (Partial<AcceptedState> & { seen?: unknown }) | undefined;
    try {
      value = await readJson<Partial<AcceptedState> & { seen?: unknown }>(this.#fs, this.file);
    } catch (error) {
      // Written atomically, so a damaged file means tampering or a broken disk: refuse, never reset to 0.
      throw new StorageError(this.file, `unreadable anti-rollback counter: ${(error as Error).message}`, { cause: error });
    }
    if (value === undefined) return { sequence: 0, seen: [] };
    if (!Number.isSafeInteger(value.sequence) || (value.sequence as number) < 0) throw new StorageError(this.file, 'the anti-rollback counter is not a sequence number');
    const seen = Array.isArray(value.seen) ? value.seen.filter((d): d is string => typeof d === 'string') : [];
    const sequence = value.sequence as number;
    return value.imageDigest === undefined ? { sequence, seen } : { sequence, imageDigest: value.imageDigest, seen };
  }

  /** Raises the counter to `sequence`; never lowers it (a lower or equal value is a no-op). */
  async raise(sequence: number, imageDigest: string, manifestDigest?: string): Promise<void> {
    const current = await this.read();
    if (sequence <= current.sequence) return;
    const seen = [...current.seen, ...(manifestDigest === undefined ? [] : [manifestDigest])].slice(-MAX_SEEN);
    await writeFileAtomic(this.#fs, this.file, `${JSON.stringify({ sequence, imageDigest, seen })}\n`);
  }
}
