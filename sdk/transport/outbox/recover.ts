/**
 * Recovery of an outbox directory at open: what survives a crash at any instant is turned back into
 * segments, the ack journal and the next seq, and steps a crash interrupted are finished.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StorageError } from '../../core/errors.js';
import { AckJournal, JOURNAL_NAME } from './ack-journal.js';
import { BREAK_NAME, LOCK_NAME } from './dir-lock.js';
import { FileKind } from './frame.js';
import type { OutboxSettings } from './options.js';
import { DAMAGED_MARK, salvageIfDamaged } from './salvage.js';
import { Segment, parseSegmentName } from './segment.js';
import { attempt, removeFile, syncDirectory } from './storage.js';

/** The recovered state of an outbox directory. */
export interface RecoveredOutbox {
  /** Sorted by `baseSeq`; never empty; the last one is open for appends. */
  readonly segments: Segment[];
  readonly journal: AckJournal;
  readonly nextSeq: number;
  readonly reservedUpTo: number;
  readonly tornTails: number;
  readonly corruptRegions: number;
  /** Copies of files whose header was damaged, set aside (salvage.ts); their readable records were kept. */
  readonly setAside: readonly string[];
}

/**
 * Recovers `settings.dir`, creating it when missing.
 *
 * Steps, each safe to repeat if a crash interrupts it:
 * 1. Leftover `*.tmp` files (an interrupted create or compaction) are deleted: the rename that
 *    would have published them never happened, so nothing refers to them.
 * 2. A file whose header is damaged (or that is empty or truncated) is set aside as a copy and
 *    rewritten with its readable frames (salvage.ts), so that one bad byte does not fail every start.
 * 3. The ack journal is read (torn tail cut off).
 * 4. Segments are read oldest first (torn tails cut off, damaged regions skipped), acknowledged
 *    records are left out of the pending index.
 * 5. The next seq is above everything any file has seen: the last segment's name and records, the
 *    acks and the seq reservation, so no seq is ever handed out twice.
 * 6. Older segments with nothing pending are deleted (an interrupted deletion), and the journal is
 *    rewritten without acks of records no longer on disk.
 *
 * @throws StorageError when a file in the directory is not the outbox's, or on an I/O error.
 */
export async function recoverOutbox(settings: OutboxSettings): Promise<RecoveredOutbox> {
  const { dir } = settings;
  await makeDirectory(dir);
  const listing = await attempt(dir, 'list directory', () => readdir(dir, { withFileTypes: true }));
  const files: Array<{ base: number; name: string }> = [];
  for (const item of listing) {
    const { name } = item;
    const base = parseSegmentName(name);
    if (item.isFile() && base !== undefined && Number.isSafeInteger(base)) files.push({ base, name });
    else if (item.isFile() && (name === JOURNAL_NAME || name === LOCK_NAME || name === BREAK_NAME)) continue;
    else if (item.isFile() && name.includes(DAMAGED_MARK) && isOurs(name.slice(0, name.indexOf(DAMAGED_MARK)))) continue;
    else if (item.isFile() && name.endsWith('.tmp') && isOurs(name.slice(0, -4))) await removeFile(join(dir, name));
    else throw new StorageError(join(dir, name), 'is not an outbox file; the outbox needs a directory of its own');
  }
  files.sort((a, b) => a.base - b.base);

  const setAside: string[] = [];
  const salvage = async (name: string, kind: FileKind, minSeq: number): Promise<void> => {
    const aside = await salvageIfDamaged(join(dir, name), kind, minSeq, settings.clock.now());
    if (aside !== undefined) setAside.push(aside);
  };
  if (listing.some((item) => item.isFile() && item.name === JOURNAL_NAME)) await salvage(JOURNAL_NAME, FileKind.ackJournal, 0);
  for (const file of files) await salvage(file.name, FileKind.segment, file.base);

  const read = await AckJournal.open(dir);
  const segments: Segment[] = [];
  try {
    let tornTails = read.tornTail ? 1 : 0;
    let corruptRegions = read.corruptRegions;
    // Every seq read so far: a copy of a segment under another name hands out none of them twice.
    const seen = new Set<number>();
    for (const [index, file] of files.entries()) {
      const found = await Segment.recover(join(dir, file.name), file.base, read.acked, index === files.length - 1, seen);
      segments.push(found.segment);
      if (found.tornTail) tornTails++;
      corruptRegions += found.corruptRegions;
    }
    const last = segments.at(-1);
    const nextSeq = Math.max(1, last?.baseSeq ?? 1, (last?.lastSeq ?? 0) + 1, read.maxAckedSeq + 1, read.reservedUpTo + 1);

    // Everything but the newest segment is deleted once nothing in it is pending; the newest stays,
    // its name and records bound the next seq.
    for (const segment of segments.slice(0, -1)) {
      if (segment.pendingCount > 0) continue;
      await segment.remove();
      segments.splice(segments.indexOf(segment), 1);
    }
    if (segments.length === 0) segments.push(await Segment.create(dir, nextSeq));

    let liveAcks = 0;
    for (const segment of segments) liveAcks += segment.recordCount - segment.pendingCount;
    if (read.acked.size !== liveAcks || read.corruptRegions > 0) {
      await read.journal.rewrite(ackedSeqs(segments), settings.clock.now());
    }
    return { segments, journal: read.journal, nextSeq, reservedUpTo: read.reservedUpTo, tornTails, corruptRegions, setAside };
  } catch (error) {
    await Promise.allSettled([read.journal.close(), ...segments.map((segment) => segment.seal())]);
    throw error;
  }
}

/**
 * Creates `dir` when missing (the caller locks it before recovering it), durably.
 *
 * @example
 * ```ts
 * await makeDirectory('/var/lib/sensorkit/outbox')
 * ```
 */
export async function makeDirectory(dir: string): Promise<void> {
  const created = await attempt(dir, 'create directory', () => mkdir(dir, { recursive: true }));
  if (created === undefined) return;
  // Each new directory's entry lives in its parent: fsync the parents, deepest first, up to the
  // one that existed before, so the directory itself survives a power cut.
  for (let child = dir; ; child = dirname(child)) {
    await syncDirectory(dirname(child));
    if (child === created || dirname(child) === child) break;
  }
}

function isOurs(name: string): boolean {
  return name === JOURNAL_NAME || parseSegmentName(name) !== undefined;
}

function* ackedSeqs(segments: readonly Segment[]): IterableIterator<number> {
  for (const segment of segments) yield* segment.ackedSeqs();
}
