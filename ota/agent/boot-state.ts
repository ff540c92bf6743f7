/**
 * The agent's boot state, `state/boot.json`, replaced atomically: `stable`, or `trial` while a new
 * image runs on probation (MCUboot's "test" image). `booted` tells a first trial boot (run the
 * health probes) from a restart during the trial (the image never confirmed itself: revert).
 */
import { join } from 'node:path';
import { StorageError } from '../../sdk/core/errors.js';
import { readJson, writeFileAtomic, type OtaFileSystem } from './file-system.js';

/** An image that failed its trial, so the same offer is not installed again and again. */
export interface RejectedImage {
  readonly sequence: number;
  readonly imageDigest: string;
}

/** The boot state. */
export type BootState =
  | { readonly phase: 'stable'; readonly rejected: readonly RejectedImage[] }
  | {
      readonly phase: 'trial';
      readonly rejected: readonly RejectedImage[];
      /** The image on trial. */
      readonly trial: string;
      /** The image to go back to. */
      readonly fallback: string | undefined;
      readonly sequence: number;
      readonly imageDigest: string;
      /** SHA-256 of the manifest (hex), remembered by the counter on confirm. */
      readonly manifestDigest?: string;
      readonly booted: boolean;
    };

/** Most rejected images remembered. */
const MAX_REJECTED = 16;

/**
 * Reads and writes `state/boot.json`.
 *
 * @example
 * ```ts
 * const store = new BootStateStore(fs, 'state')
 * if ((await store.read()).phase === 'trial') await runHealthProbes()
 * ```
 */
export class BootStateStore {
  readonly #fs: OtaFileSystem;
  readonly file: string;

  constructor(fs: OtaFileSystem, stateDir: string) {
    this.#fs = fs;
    this.file = join(stateDir, 'boot.json');
  }

  async read(): Promise<BootState> {
    let state: BootState | undefined;
    try {
      state = await readJson<BootState>(this.#fs, this.file);
    } catch (error) {
      throw new StorageError(this.file, `unreadable boot state: ${(error as Error).message}`, { cause: error });
    }
    return state ?? { phase: 'stable', rejected: [] };
  }

  async write(state: BootState): Promise<void> {
    const rejected = state.rejected.slice(-MAX_REJECTED);
    await writeFileAtomic(this.#fs, this.file, `${JSON.stringify({ ...state, rejected })}\n`);
  }
}
