/**
 * The ack journal (`acks.log`): an append-only file of CRC-framed acknowledgements, so that a record
 * acknowledged before a crash is not delivered again as new after it. It also holds seq
 * reservations, so seqs handed out but lost in a power cut are never reused.
 *
 * Frames (see frame.ts) carry no payload: an `ack` frame's seq is the acknowledged seq, a `reserve`
 * frame's seq is the highest seq the outbox may hand out before it reserves more. The journal is
 * compacted by rewriting it (atomically, see `replaceFile`) with only the acks that still refer to
 * records on disk.
 *
 * Its operations run one at a time, in call order, whoever calls them (the ack lane writes acks,
 * the append path writes seq reservations): each write goes at the end of the file as it is then.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StorageError } from '../../core/errors.js';
import { FILE_HEADER_BYTES, FORMAT_VERSION, FRAME_HEADER_BYTES, FileKind, FrameKind, checkFileHeader, encodeFileHeader, scanFrames, writeFrame, type FormatVersion } from './frame.js';
import { attempt, replaceFile, storageError, syncDirectory, writeAll } from './storage.js';

export const JOURNAL_NAME = 'acks.log';
const EMPTY = new Uint8Array(0);

/** One journal frame to append: an acknowledged seq, or the highest seq reserved. */
export interface JournalFrame {
  readonly kind: typeof FrameKind.ack | typeof FrameKind.reserve;
  readonly seq: number;
}

/** What recovery read from the journal. */
export interface JournalRecovery {
  readonly journal: AckJournal;
  readonly acked: Set<number>;
  /** Highest seq acknowledged, 0 when none. */
  readonly maxAckedSeq: number;
  /** Highest seq reserved, 0 when none. */
  readonly reservedUpTo: number;
  readonly tornTail: boolean;
  readonly corruptRegions: number;
}

/**
 * The ack journal of one outbox directory.
 *
 * @example
 * ```ts
 * const { journal, acked } = await AckJournal.open(dir, clock.now())
 * await journal.append([{ kind: FrameKind.ack, seq: 42 }], clock.now(), true)
 * ```
 */
export class AckJournal {
  readonly path: string;
  #handle: FileHandle;
  #size: number;
  /** Highest reservation in the file: a compaction must keep it. */
  #reservedUpTo: number;
  /** Tail of the operations in flight: each runs after the one before. */
  #chain: Promise<unknown> = Promise.resolve();
  /** The file's format (frame.ts): appends keep to it, a rewrite moves to the current one. */
  #version: FormatVersion;
  /** False after a rewrite failed, until the directory is fsynced again (see `#follow`). */
  #directoryDurable = true;

  private constructor(path: string, handle: FileHandle, size: number, reservedUpTo: number, version: FormatVersion) {
    this.path = path;
    this.#version = version;
    this.#handle = handle;
    this.#size = size;
    this.#reservedUpTo = reservedUpTo;
  }

  /**
   * Opens the journal in `dir`, creating it when missing; a torn tail is truncated away, a damaged
   * frame in the middle is skipped (its record may then be delivered again: at least once, never lost).
   *
   * @throws StorageError when the file is not an ack journal or cannot be read.
   */
  static async open(dir: string): Promise<JournalRecovery> {
    const path = join(dir, JOURNAL_NAME);
    const bytes = await attempt(path, 'read', () => readFile(path)).catch((error: unknown) => {
      if (error instanceof StorageError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
      throw error;
    });
    if (bytes === undefined) {
      const handle = await replaceFile(path, encodeFileHeader(FileKind.ackJournal));
      return { journal: new AckJournal(path, handle, FILE_HEADER_BYTES, 0, FORMAT_VERSION), acked: new Set(), maxAckedSeq: 0, reservedUpTo: 0, tornTail: false, corruptRegions: 0 };
    }
    const version = checkFileHeader(bytes, FileKind.ackJournal);
    if (typeof version === 'string') throw new StorageError(path, `${version}; the outbox directory must hold only outbox files`);
    const scan = scanFrames(bytes, FILE_HEADER_BYTES, [FrameKind.ack, FrameKind.reserve], 0, false, version);
    const acked = new Set<number>();
    let maxAckedSeq = 0;
    let reservedUpTo = 0;
    for (const frame of scan.frames) {
      if (frame.kind === FrameKind.ack) {
        acked.add(frame.seq);
        maxAckedSeq = Math.max(maxAckedSeq, frame.seq);
      } else {
        reservedUpTo = Math.max(reservedUpTo, frame.seq);
      }
    }
    const handle = await attempt(path, 'open', () => open(path, 'r+'));
    if (scan.tornTail) {
      try {
        await attempt(path, 'truncate of the torn tail', () => handle.truncate(scan.validEnd));
        await attempt(path, 'fsync', () => handle.sync());
      } catch (error) {
        await handle.close().catch(() => undefined);
        throw error;
      }
    }
    const journal = new AckJournal(path, handle, scan.validEnd, reservedUpTo, version);
    return { journal, acked, maxAckedSeq, reservedUpTo, tornTail: scan.tornTail, corruptRegions: scan.corruptRegions };
  }

  /** Bytes in the file. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends `frames` (all stamped `time`) with ONE write(2) and, with `sync`, ONE fdatasync(2): the
   * group commit of every ack queued meanwhile. POSIX fdatasync makes all data written to the file
   * before it durable, so one call covers the whole group. On failure the file is cut back to its
   * previous size, best effort, so a retry does not follow a half frame; none of the frames then counts.
   */
  append(frames: readonly JournalFrame[], time: number, sync: boolean): Promise<void> {
    if (frames.length === 0) return Promise.resolve();
    return this.#serial(async () => {
      const bytes = new Uint8Array(frames.length * FRAME_HEADER_BYTES);
      let offset = 0;
      let reserved = this.#reservedUpTo;
      for (const { kind, seq } of frames) {
        offset = writeFrame(bytes, offset, kind, seq, time, EMPTY, this.#version);
        if (kind === FrameKind.reserve) reserved = Math.max(reserved, seq);
      }
      try {
        if (sync) await this.#ensureDirectoryDurable();
        await writeAll(this.#handle, bytes, this.#size, this.path);
        if (sync) await this.#handle.datasync();
      } catch (error) {
        await this.#handle.truncate(this.#size).catch(() => undefined);
        throw storageError(this.path, sync ? 'write and fdatasync' : 'write', error);
      }
      this.#size += bytes.length;
      this.#reservedUpTo = reserved;
    });
  }

  /** fdatasync(2) of the journal, after the writes issued before it. */
  sync(): Promise<void> {
    return this.#serial(async () => {
      await this.#ensureDirectoryDurable();
      await attempt(this.path, 'fdatasync', () => this.#handle.datasync());
    });
  }

  /**
   * Replaces the journal with one that holds only `ackedSeqs` (read when the rewrite runs, after
   * the writes issued before it) and the highest reservation written so far.
   * The new file is complete and fsynced before it replaces the old one (rename(2) is atomic), so a
   * crash leaves either journal, both of which are correct for the segments on disk, provided the
   * caller has already durably deleted the segments whose acks are being forgotten.
   */
  rewrite(ackedSeqs: Iterable<number>, time: number): Promise<void> {
    return this.#serial(() => this.#rewrite(ackedSeqs, time));
  }

  async #rewrite(ackedSeqs: Iterable<number>, time: number): Promise<void> {
    const reservedUpTo = this.#reservedUpTo;
    const seqs = [...ackedSeqs];
    const bytes = new Uint8Array(FILE_HEADER_BYTES + (seqs.length + (reservedUpTo > 0 ? 1 : 0)) * FRAME_HEADER_BYTES);
    bytes.set(encodeFileHeader(FileKind.ackJournal), 0);
    let offset = FILE_HEADER_BYTES;
    if (reservedUpTo > 0) offset = writeFrame(bytes, offset, FrameKind.reserve, reservedUpTo, time, EMPTY);
    for (const seq of seqs) offset = writeFrame(bytes, offset, FrameKind.ack, seq, time, EMPTY);
    let handle: FileHandle;
    try {
      handle = await replaceFile(this.path, bytes);
    } catch (error) {
      await this.#follow();
      throw error;
    }
    const old = this.#handle;
    this.#handle = handle;
    this.#size = bytes.length;
    this.#version = FORMAT_VERSION;
    await old.close().catch(() => undefined);
  }

  /**
   * After a failed rewrite: the new journal may already have been renamed into place (the fsync of
   * the directory failed). Either journal at the path is correct; what must not happen is writing on
   * to the replaced file through the old handle, where later acks and seq reservations would be
   * lost. So reopen whatever is at the path, and make the directory durable before the next write
   * that must be durable (a reservation: a seq handed out must never be handed out again).
   */
  async #follow(): Promise<void> {
    this.#directoryDurable = false;
    let handle: FileHandle | undefined;
    try {
      handle = await open(this.path, 'r+');
      const header = new Uint8Array(FILE_HEADER_BYTES);
      await handle.read(header, 0, FILE_HEADER_BYTES, 0);
      const version = checkFileHeader(header, FileKind.ackJournal);
      if (typeof version === 'string') throw new StorageError(this.path, version);
      const { size } = await handle.stat();
      const old = this.#handle;
      this.#handle = handle;
      this.#size = size;
      this.#version = version;
      await old.close().catch(() => undefined);
    } catch {
      // Keep the old handle: the next write fails or succeeds on its own, and reports itself.
      await handle?.close().catch(() => undefined);
    }
  }

  /** After a failed rewrite, makes the directory (the rename) durable before a durable write. */
  async #ensureDirectoryDurable(): Promise<void> {
    if (this.#directoryDurable) return;
    await syncDirectory(dirname(this.path));
    this.#directoryDurable = true;
  }

  /** Closes the file once the operations issued before have run. */
  close(): Promise<void> {
    return this.#serial(() => attempt(this.path, 'close', () => this.#handle.close()));
  }

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(operation);
    this.#chain = run.catch(() => undefined);
    return run;
  }
}
