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
  /** Why: `health-check-failed`, or `restarted during the trial`. */
  readonly why?: string;
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
    if (state === undefined) return { phase: 'stable', rejected: [] };
    const problem = validate(state);
    if (problem !== undefined) throw new StorageError(this.file, `damaged boot state: ${problem}`);
    return state;
  }

  async write(state: BootState): Promise<void> {
    const rejected = state.rejected.slice(-MAX_REJECTED);
    await writeFileAtomic(this.#fs, this.file, `${JSON.stringify({ ...state, rejected })}\n`);
  }
}

const IMAGE_NAME = /^\d{12,16}-[0-9a-f]{12}$/;
const DIGEST = /^[0-9a-f]{64}$/;

/** What is wrong with a parsed boot state, or undefined. Names reach path joins: check them. */
function validate(state: unknown): string | undefined {
  if (typeof state !== 'object' || state === null) return 'not an object';
  const s = state as Record<string, unknown>;
  if (!Array.isArray(s.rejected)) return '`rejected` is not a list';
  for (const r of s.rejected as unknown[]) {
    const entry = r as Partial<RejectedImage> | null;
    if (typeof entry !== 'object' || entry === null || !Number.isSafeInteger(entry.sequence) || typeof entry.imageDigest !== 'string' || !DIGEST.test(entry.imageDigest)) return 'a malformed `rejected` entry';
  }
  if (s.phase === 'stable') return undefined;
  if (s.phase !== 'trial') return `phase ${JSON.stringify(s.phase)}`;
  if (typeof s.trial !== 'string' || !IMAGE_NAME.test(s.trial)) return `trial image name ${JSON.stringify(s.trial)}`;
  if (s.fallback !== undefined && (typeof s.fallback !== 'string' || !IMAGE_NAME.test(s.fallback))) return `fallback image name ${JSON.stringify(s.fallback)}`;
  if (!Number.isSafeInteger(s.sequence) || typeof s.imageDigest !== 'string' || !DIGEST.test(s.imageDigest) || typeof s.booted !== 'boolean') return 'malformed trial fields';
  return undefined;
}
