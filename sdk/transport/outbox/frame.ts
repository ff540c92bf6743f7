/**
 * The outbox's on-disk formats: a 16-byte file header and CRC-framed records. All integers are
 * little-endian.
 *
 * File header (every segment and the ack journal start with one):
 * ```
 *  0  8 bytes  ASCII "SKOUTBOX"
 *  8  u8       file kind: 1 = segment, 2 = ack journal
 *  9  u8       format version: 1 or 2 (see below)
 * 10  u16      reserved, 0
 * 12  u32      CRC of bytes [0, 12)
 * ```
 * Record frame (25-byte header, then the payload):
 * ```
 *  0  u8   kind and layout: 0xD1 data record, 0xA1 ack, 0xE1 seq reservation
 *  1  u32  payload length
 *  5  u32  CRC of bytes [0, 5) and [9, 25 + length): the whole frame except this field
 *  9  u64  seq (below 2^53)
 * 17  f64  time, ms since the Unix epoch (appendedAt for data, ack time for acks)
 * 25  ...  payload
 * ```
 * The format versions differ only in the CRC, for the header and every frame of the file:
 * version 1 CRC-32C (Castagnoli), version 2 CRC-32 (IEEE 802.3), which zlib computes natively at
 * about three times the speed of CRC-32C in JS. New files are version 2; a version 1 file (written
 * by sensorkit 0.1.0 until 2026-11-25) is read, and appended to in version 1, until it is deleted or
 * compacted.
 * The kind byte doubles as a sync marker: after corruption a reader looks for the next offset where a
 * kind byte, a plausible length and a matching CRC line up (see {@link scanFrames}).
 */
import { ArgumentError } from '../../core/errors.js';
import { Crc32c, crc32, crc32c } from './crc32.js';

export const FILE_HEADER_BYTES = 16;
export const FRAME_HEADER_BYTES = 25;
/** An outbox file format version: which CRC its header and frames use (see the module comment). */
export type FormatVersion = 1 | 2;
/** The version of the files the outbox creates. */
export const FORMAT_VERSION: FormatVersion = 2;
const FILE_MAGIC = new TextEncoder().encode('SKOUTBOX');

/** What a file holds, per its header. */
export const FileKind = { segment: 1, ackJournal: 2 } as const;
export type FileKind = (typeof FileKind)[keyof typeof FileKind];

/** Record kinds. The high nibble names the kind, the low nibble the frame version. */
export const FrameKind = { data: 0xd1, ack: 0xa1, reserve: 0xe1 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** A decoded record frame. `payload` is a view into the buffer it was read from. */
export interface Frame {
  readonly kind: FrameKind;
  readonly seq: number;
  readonly time: number;
  readonly payload: Uint8Array;
  /** Offset of the frame in its buffer. */
  readonly offset: number;
  /** Frame length in bytes, header included. */
  readonly size: number;
}

/** The file header for `kind`, in format `version` (default: the current one). */
export function encodeFileHeader(kind: FileKind, version: FormatVersion = FORMAT_VERSION): Uint8Array {
  const bytes = new Uint8Array(FILE_HEADER_BYTES);
  bytes.set(FILE_MAGIC, 0);
  bytes[8] = kind;
  bytes[9] = version;
  new DataView(bytes.buffer).setUint32(12, headerCrc(version, bytes), true);
  return bytes;
}

/**
 * Checks a file header; returns the file's format version when it is one of ours of the expected
 * kind, else why not.
 */
export function checkFileHeader(bytes: Uint8Array, kind: FileKind): FormatVersion | string {
  if (bytes.length < FILE_HEADER_BYTES) return `too short for an outbox file header (${bytes.length} bytes)`;
  for (let i = 0; i < FILE_MAGIC.length; i++) {
    if (bytes[i] !== FILE_MAGIC[i]) return 'not an outbox file (no "SKOUTBOX" header)';
  }
  const version = bytes[9];
  if (version !== 1 && version !== 2) return `outbox format version ${String(version)} is not supported (expected 1 or 2)`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, FILE_HEADER_BYTES);
  if (view.getUint32(12, true) !== headerCrc(version, bytes)) return 'outbox file header fails its CRC';
  if (bytes[8] !== kind) {
    const name = (k: number): string => (k === FileKind.segment ? 'a segment' : k === FileKind.ackJournal ? 'an ack journal' : `kind ${k}`);
    return `outbox file is ${name(bytes[8]!)}, expected ${name(kind)}`;
  }
  return version;
}

function headerCrc(version: FormatVersion, bytes: Uint8Array): number {
  return version === 1 ? crc32c(bytes, 0, 12) : crc32(bytes, 0, 12);
}

/** The CRC of the frame at `offset` ending at `end`: every byte but the CRC field's own. */
function frameCrc(version: FormatVersion, bytes: Uint8Array, offset: number, end: number): number {
  if (version === 1) return new Crc32c().update(bytes, offset, offset + 5).update(bytes, offset + 9, end).digest();
  return crc32(bytes, offset + 9, end, crc32(bytes, offset, offset + 5));
}

/**
 * Encodes one record frame into `target` at `offset`, so that many frames can share one buffer (and
 * one write(2)); returns the offset just past it. `target` must have room for the frame.
 * The payload is copied: `target` keeps nothing of the caller's buffer.
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array(2 * FRAME_HEADER_BYTES)
 * const none = new Uint8Array(0)
 * writeFrame(bytes, writeFrame(bytes, 0, FrameKind.ack, 7, now, none), FrameKind.ack, 9, now, none)
 * ```
 */
export function writeFrame(target: Uint8Array, offset: number, kind: FrameKind, seq: number, time: number, payload: Uint8Array, version: FormatVersion = FORMAT_VERSION): number {
  const end = offset + FRAME_HEADER_BYTES + payload.length;
  if (end > target.length) throw new ArgumentError(`Expected room for a ${end - offset}-byte frame at offset ${offset}, the buffer holds ${target.length} bytes`);
  const view = new DataView(target.buffer, target.byteOffset + offset, FRAME_HEADER_BYTES);
  view.setUint8(0, kind);
  view.setUint32(1, payload.length, true);
  // u64 as two u32 halves: seq < 2^53, so no BigInt on the hot path.
  view.setUint32(9, seq % 0x1_0000_0000, true);
  view.setUint32(13, Math.floor(seq / 0x1_0000_0000), true);
  view.setFloat64(17, time, true);
  target.set(payload, offset + FRAME_HEADER_BYTES);
  view.setUint32(5, frameCrc(version, target, offset, end), true);
  return end;
}

/** Why a frame could not be read at an offset. */
type FrameFault = 'short' | 'kind' | 'length' | 'crc';

/** Reads the frame at `offset`, or says why there is none. */
export function decodeFrame(bytes: Uint8Array, offset: number, kinds: readonly FrameKind[], maxPayload: number, version: FormatVersion): Frame | FrameFault {
  if (bytes.length - offset < FRAME_HEADER_BYTES) return 'short';
  const kind = bytes[offset] as FrameKind;
  if (!kinds.includes(kind)) return 'kind';
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, FRAME_HEADER_BYTES);
  const length = view.getUint32(1, true);
  if (length > maxPayload) return 'length';
  const end = offset + FRAME_HEADER_BYTES + length;
  if (end > bytes.length) return 'short';
  if (frameCrc(version, bytes, offset, end) !== view.getUint32(5, true)) return 'crc';
  const high = view.getUint32(13, true);
  if (high >= 0x20_0000) return 'crc'; // seq ≥ 2^53: never written by us, treat as damage
  return {
    kind,
    seq: high * 0x1_0000_0000 + view.getUint32(9, true),
    time: view.getFloat64(17, true),
    payload: bytes.subarray(offset + FRAME_HEADER_BYTES, end),
    offset,
    size: end - offset,
  };
}

/** The result of reading every frame of a file body. */
export interface FrameScan {
  /** Valid frames, in file order. */
  readonly frames: Frame[];
  /** Damaged regions in the middle that were skipped by resynchronising on a later valid frame. */
  readonly corruptRegions: number;
  /** Where the valid data ends: a torn or damaged tail starts here (equals the length when clean). */
  readonly validEnd: number;
  /** Whether bytes after `validEnd` were dropped as a torn tail. */
  readonly tornTail: boolean;
}

/**
 * Reads frames from `start` to the end of `bytes`. With `increasingSeq` (segments), a frame must
 * have a seq above the previous frame's; the ack journal records acks in any order.
 *
 * A frame that is short, has an unknown kind byte, an implausible length or a wrong CRC is damage.
 * The reader then looks, byte by byte, for the next offset holding a valid frame whose seq continues
 * the sequence (with `increasingSeq`: above the last good seq, so a frame embedded in a payload is
 * not mistaken for a record). If it finds one, the bytes in between are one corrupt region and reading
 * continues there. If it finds none, everything from the damage on is a torn tail: what a crash in
 * the middle of `write(2)` leaves behind, since POSIX does not make a regular-file write atomic.
 * A false resync needs a random match of kind byte, length and a 32-bit CRC: about 2^-40 per offset.
 */
export function scanFrames(bytes: Uint8Array, start: number, kinds: readonly FrameKind[], maxPayload: number, increasingSeq: boolean, version: FormatVersion): FrameScan {
  const frames: Frame[] = [];
  let lastSeq = -1;
  let corruptRegions = 0;
  const accept = (frame: Frame): boolean => !increasingSeq || frame.seq > lastSeq;
  let offset = start;
  while (offset < bytes.length) {
    const frame = decodeFrame(bytes, offset, kinds, maxPayload, version);
    if (typeof frame !== 'string' && accept(frame)) {
      frames.push(frame);
      lastSeq = frame.seq;
      offset += frame.size;
      continue;
    }
    const next = resync(bytes, offset + 1, kinds, maxPayload, version, accept);
    if (next === undefined) return { frames, corruptRegions, validEnd: offset, tornTail: true };
    corruptRegions++;
    offset = next;
  }
  return { frames, corruptRegions, validEnd: offset, tornTail: false };
}

function resync(bytes: Uint8Array, from: number, kinds: readonly FrameKind[], maxPayload: number, version: FormatVersion, accept: (frame: Frame) => boolean): number | undefined {
  for (let offset = from; offset + FRAME_HEADER_BYTES <= bytes.length; offset++) {
    if (!kinds.includes(bytes[offset] as FrameKind)) continue;
    const frame = decodeFrame(bytes, offset, kinds, maxPayload, version);
    if (typeof frame !== 'string' && accept(frame)) return offset;
  }
  return undefined;
}
