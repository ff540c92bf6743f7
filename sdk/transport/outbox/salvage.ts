/**
 * An outbox file whose 16-byte header does not read (a damaged byte, a zero-filled, empty or
 * truncated file): a copy of it is set aside as `<name>.damaged-<UTC time>`, and the file is
 * replaced by one with a good header and every frame of the old one that still reads, so that the
 * outbox opens and keeps every readable record instead of failing every start.
 *
 * The frames carry their own CRC (frame.ts), so they are trusted without the header; its format
 * version is unknown, so the body is read in both (a random frame passes the wrong CRC at 2^-32)
 * and the one with more valid frames wins. Segment frames below the name's `baseSeq` are left
 * out (they cannot be this file's). An ack journal that lost frames forgets those acks: their
 * records are delivered again (at least once, with their seqs), never lost.
 *
 * A header with a valid CRC but an unsupported version is not damage (a newer sensorkit's file):
 * it is refused as before, untouched. One of a supported version but the other kind (a segment
 * copied to `acks.log`, a journal under a segment's name) is set aside like a damaged one: its
 * frames are not of this file's kind, so the file is replaced by an empty one of its kind (a lost
 * journal means its acked records still on disk are delivered again; the copy keeps every byte).
 *
 * Crash safety: the copy is made before the replacement (`replaceFile`: complete, fsynced, renamed
 * over), so a crash in between leaves the damaged file in place, and the next open sets it aside again.
 * Set-aside files are not counted in `maxBytes`, and stay until an operator deletes them.
 */
import { constants } from 'node:fs';
import { copyFile, open, readFile } from 'node:fs/promises';
import { StorageError } from '../../core/errors.js';
import { crc32, crc32c } from './crc32.js';
import { FILE_HEADER_BYTES, FileKind, FrameKind, checkFileHeader, encodeFileHeader, scanFrames, type Frame, type FormatVersion } from './frame.js';
import { attempt, replaceFile, storageError } from './storage.js';

/** What marks a set-aside file's name: `000000000001.seg.damaged-20261205T024500.123Z`. */
export const DAMAGED_MARK = '.damaged-';

/** Largest payload length a reader accepts as plausible (as segment.ts). */
const MAX_PAYLOAD_READ = 1 << 30;

/**
 * Checks the header of the outbox file `path` (of `kind`); when it is damaged, sets a copy aside
 * and rewrites the file with its readable frames. Returns the copy's path, or undefined when the
 * header was fine. `minSeq`: for a segment, its name's `baseSeq`.
 *
 * @example
 * ```ts
 * const aside = await salvageIfDamaged(join(dir, 'acks.log'), FileKind.ackJournal, 0, clock.now())
 * if (aside) warn(`damaged outbox file set aside as ${aside}`)
 * ```
 *
 * @throws StorageError on an I/O error, or for a header that is intact but not one this version reads.
 */
export async function salvageIfDamaged(path: string, kind: FileKind, minSeq: number, now: number): Promise<string | undefined> {
  const header = await readHeader(path);
  const verdict = checkFileHeader(header, kind);
  if (typeof verdict !== 'string') return undefined;
  if (intactButForeign(header) && header[9] !== 1 && header[9] !== 2) throw new StorageError(path, `${verdict}; the outbox directory must hold only outbox files`);

  const bytes = await attempt(path, 'read', () => readFile(path));
  const { version, frames } = readableFrames(bytes, kind, minSeq);
  let length = FILE_HEADER_BYTES;
  for (const frame of frames) length += frame.size;
  const repaired = new Uint8Array(length);
  repaired.set(encodeFileHeader(kind, version), 0);
  let offset = FILE_HEADER_BYTES;
  for (const frame of frames) {
    repaired.set(bytes.subarray(frame.offset, frame.offset + frame.size), offset);
    offset += frame.size;
  }

  const aside = await setAside(path, new Date(now).toISOString().replace(/[-:]/g, ''));
  const handle = await replaceFile(path, repaired);
  await attempt(path, 'close', () => handle.close());
  return aside;
}

/** Copies `path` to a new `<path>.damaged-<stamp>[-n]` (a copy from an interrupted open may hold the name). */
async function setAside(path: string, stamp: string): Promise<string> {
  for (let n = 1; ; n++) {
    const aside = `${path}${DAMAGED_MARK}${stamp}${n === 1 ? '' : `-${n}`}`;
    try {
      await copyFile(path, aside, constants.COPYFILE_EXCL);
      return aside;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 100) throw storageError(aside, `copy of damaged ${path}`, error);
    }
  }
}

async function readHeader(path: string): Promise<Uint8Array> {
  return attempt(path, 'read', async () => {
    const handle = await open(path, 'r');
    try {
      const header = new Uint8Array(FILE_HEADER_BYTES);
      const { bytesRead } = await handle.read(header, 0, FILE_HEADER_BYTES, 0);
      return header.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  });
}

/** A full header with our magic whose CRC holds (in either format's CRC): written so on purpose. */
function intactButForeign(header: Uint8Array): boolean {
  if (header.length < FILE_HEADER_BYTES) return false;
  if (new TextDecoder().decode(header.subarray(0, 8)) !== 'SKOUTBOX') return false;
  const stored = new DataView(header.buffer, header.byteOffset, FILE_HEADER_BYTES).getUint32(12, true);
  return stored === crc32(header, 0, 12) || stored === crc32c(header, 0, 12);
}

/** The body's valid frames in the format version under which more of them read. */
function readableFrames(bytes: Uint8Array, kind: FileKind, minSeq: number): { version: FormatVersion; frames: Frame[] } {
  const segment = kind === FileKind.segment;
  let best: { version: FormatVersion; frames: Frame[] } = { version: 2, frames: [] };
  if (bytes.length <= FILE_HEADER_BYTES) return best;
  for (const version of [2, 1] as const) {
    const scan = segment
      ? scanFrames(bytes, FILE_HEADER_BYTES, [FrameKind.data], MAX_PAYLOAD_READ, true, version)
      : scanFrames(bytes, FILE_HEADER_BYTES, [FrameKind.ack, FrameKind.reserve], 0, false, version);
    const frames = segment ? scan.frames.filter((frame) => frame.seq >= minSeq) : scan.frames;
    if (frames.length > best.frames.length) best = { version, frames };
  }
  return best;
}
