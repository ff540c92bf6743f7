/**
 * Options of the durable outbox, validated once at open with a precise `ArgumentError`.
 */
import { resolve } from 'node:path';
import { SystemClock, type Clock } from '../../core/clock.js';
import { describe } from '../../core/check.js';
import { ArgumentError } from '../../core/errors.js';

/**
 * When record appends and acks are fsynced, and what each policy may lose:
 * - `'always'`: `append` and `ack` resolve after fdatasync(2). Nothing they resolved is lost, even
 *   on a power cut. POSIX fdatasync(2) makes durable all data written to the file before it (and
 *   the size needed to read it back), so one call covers every record of a group.
 * - `'batch'` (default): they resolve after write(2); an fdatasync follows within `fsyncIntervalMs`.
 *   A process crash loses nothing (the data is in the kernel's page cache); a power cut or kernel
 *   crash may lose the last `fsyncIntervalMs` of appends (lost) and acks (delivered again).
 * - `'never'`: the outbox never calls fsync for records or acks; the kernel writes them back on its
 *   own schedule (Linux: `vm.dirty_expire_centisecs`, 30 s by default). A process crash loses
 *   nothing; a power cut may lose that long.
 */
export type FsyncPolicy = 'always' | 'batch' | 'never';

/**
 * Options of `DurableOutbox.open`.
 *
 * @example
 * ```ts
 * const options: OutboxOptions = { dir: '/var/lib/sensorkit/outbox', maxBytes: 16 * 2 ** 20, segmentBytes: 2 ** 20, fsync: 'always' }
 * ```
 */
export interface OutboxOptions {
  /** Directory of the outbox; created if missing. It must hold nothing but the outbox's files. */
  dir: string;
  /** Bound on the segment files' total size, bytes; at least 2 × `segmentBytes`. Default 64 MiB. */
  maxBytes?: number;
  /** Size at which a segment is closed and a new one started, bytes, 1 KiB to 1 GiB. Default 4 MiB. */
  segmentBytes?: number;
  /** Default `'batch'`. */
  fsync?: FsyncPolicy;
  /** Longest delay of the fsync after a write under `'batch'`, ms, 1 to 60 000. Default 100. */
  fsyncIntervalMs?: number;
  /**
   * Clock for `appendedAt` and the batch timer. Default: a `SystemClock` without precision waits
   * (an fsync timer needs no sub-millisecond accuracy).
   */
  clock?: Clock;
}

/** Options with defaults applied and `dir` made absolute. */
export interface OutboxSettings {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
  readonly clock: Clock;
}

const KEYS = ['dir', 'maxBytes', 'segmentBytes', 'fsync', 'fsyncIntervalMs', 'clock'];
const POLICIES: readonly FsyncPolicy[] = ['always', 'batch', 'never'];

/** Applies defaults and checks every option. */
export function validateOptions(options: OutboxOptions): OutboxSettings {
  if (typeof options !== 'object' || options === null) throw new ArgumentError(`Expected \`options\` to be an object, got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) throw new ArgumentError(`Unknown outbox option \`${key}\`; expected one of ${KEYS.map((k) => `\`${k}\``).join(', ')}`);
  }
  const { dir, maxBytes = 64 * 2 ** 20, segmentBytes = 4 * 2 ** 20, fsync = 'batch', fsyncIntervalMs = 100, clock } = options;
  if (typeof dir !== 'string' || dir === '') throw new ArgumentError(`Expected \`dir\` to be a non-empty string, got ${describe(dir)}`);
  if (!Number.isInteger(segmentBytes) || segmentBytes < 1024 || segmentBytes > 2 ** 30) {
    throw new ArgumentError(`Expected \`segmentBytes\` to be an integer from 1024 to 2^30, got ${describe(segmentBytes)}`);
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 2 * segmentBytes) {
    throw new ArgumentError(`Expected \`maxBytes\` to be an integer of at least 2 × segmentBytes (${2 * segmentBytes}), got ${describe(maxBytes)}`);
  }
  if (!POLICIES.includes(fsync)) throw new ArgumentError(`Expected \`fsync\` to be one of "always", "batch", "never", got ${describe(fsync)}`);
  if (typeof fsyncIntervalMs !== 'number' || !(fsyncIntervalMs >= 1 && fsyncIntervalMs <= 60_000)) {
    throw new ArgumentError(`Expected \`fsyncIntervalMs\` to be a number from 1 to 60000, got ${describe(fsyncIntervalMs)}`);
  }
  if (clock !== undefined && (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function' || typeof clock.schedule !== 'function')) {
    throw new ArgumentError(`Expected \`clock\` to be a Clock (now() and schedule()), got ${describe(clock)}`);
  }
  return { dir: resolve(dir), maxBytes, segmentBytes, fsync, fsyncIntervalMs, clock: clock ?? new SystemClock({ precisionWindowMs: 0 }) };
}
