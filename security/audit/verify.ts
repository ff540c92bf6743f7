/**
 * Verifying a log and its rotated files together: each file's chain, each file's first record
 * chained to the last record of the file before it, and the live file's head. A problem is told
 * by file and record number (1-based line of that file).
 */
import { basename } from 'node:path';
import { StorageError } from '../../sdk/core/errors.js';
import { checkChain, ROTATED_EVENT, type AuditEntry } from './chain.js';
import { checkHead, MAX_LOG_BYTES, readHead, readNoFollow } from './storage.js';

/** One file as verified. */
export interface VerifiedAuditFile {
  readonly file: string;
  /** Sequence numbers of its first and last records (0 and −1 when empty). */
  readonly first: number;
  readonly last: number;
  readonly entries: readonly AuditEntry[];
}

/** Where and why the verification failed. */
export interface AuditProblem {
  readonly file: string;
  /** Record (line) number in that file, 1-based; one past the last for a problem at the end; 0 for the file as a whole. */
  readonly record: number;
  readonly reason: string;
}

/** The result of {@link verifyAuditFiles}. */
export interface AuditFilesVerification {
  readonly ok: boolean;
  /** The files in chain order (oldest first), as far as they were read. */
  readonly files: readonly VerifiedAuditFile[];
  readonly problem?: AuditProblem;
  /** When the oldest file given continues one not given: that file's last sequence number. */
  readonly continues?: number;
}

/** A rotated file's name ends in `.<n>`: it has no head of its own (the next file's first record holds its last hash). */
const ROTATED_NAME = /\.\d+$/;

/**
 * Verifies a log's files, given in any order: they are put in chain order by their first sequence
 * number. Finds an edited, deleted, inserted or reordered record (the chain), a file missing
 * between two (the link), records cut off the live file's end (its head).
 *
 * @example
 * ```ts
 * const result = await verifyAuditFiles(['audit.log', 'audit.log.1'])
 * if (!result.ok) console.error(`${result.problem!.file}: record ${result.problem!.record}: ${result.problem!.reason}`)
 * ```
 */
export async function verifyAuditFiles(files: readonly string[], options: { key?: Uint8Array } = {}): Promise<AuditFilesVerification> {
  const read: VerifiedAuditFile[] = [];
  for (const file of files) {
    let text: string | undefined;
    let head;
    try {
      text = await readNoFollow(file, MAX_LOG_BYTES);
      head = await readHead(file);
    } catch (error) {
      const reason = error instanceof StorageError ? error.message : `cannot read: ${(error as Error).message}`;
      return { ok: false, files: read, problem: { file, record: 0, reason } };
    }
    if (text === undefined) return { ok: false, files: read, problem: { file, record: 0, reason: 'no such file' } };
    const check = checkChain(text, options.key);
    const entries = check.entries;
    const first = entries[0]?.seq ?? 0;
    const verified = { file, first, last: first + entries.length - 1, entries };
    if (!check.ok) return { ok: false, files: [...read, verified], problem: { file, record: check.line, reason: check.reason } };
    if (head !== undefined || !ROTATED_NAME.test(basename(file))) {
      const problem = checkHead(head, entries, options.key);
      if (problem !== undefined) return { ok: false, files: [...read, verified], problem: { file, record: entries.length + 1, reason: problem } };
    }
    read.push(verified);
  }
  const ordered = read.filter((f) => f.entries.length > 0).sort((a, b) => a.first - b.first);
  for (let i = 1; i < ordered.length; i++) {
    const before = ordered[i - 1]!;
    const after = ordered[i]!;
    const firstEntry = after.entries[0]!;
    if (after.first <= before.last) return { ok: false, files: ordered, problem: { file: after.file, record: 1, reason: `sequence ${after.first} overlaps ${before.file} (records ${before.first}–${before.last})` } };
    if (after.first !== before.last + 1) {
      return { ok: false, files: ordered, problem: { file: after.file, record: 1, reason: `records ${before.last + 1}–${after.first - 1} are missing between ${before.file} and this file` } };
    }
    if (firstEntry.event !== ROTATED_EVENT || firstEntry.prev !== before.entries[before.entries.length - 1]!.hash) {
      return { ok: false, files: ordered, problem: { file: after.file, record: 1, reason: `does not chain to the last record of ${before.file}` } };
    }
  }
  const oldest = ordered[0];
  const continues = oldest !== undefined && oldest.first > 1 ? oldest.first - 1 : undefined;
  return { ok: true, files: ordered, ...(continues === undefined ? {} : { continues }) };
}

/**
 * A log's files in chain order, oldest first: the rotated `<file>.<n>` that exist (highest `n`
 * first), then `file`.
 *
 * @example
 * ```ts
 * await auditLogSet('/var/lib/device/audit.log') // ['…/audit.log.2', '…/audit.log.1', '…/audit.log']
 * ```
 */
export async function auditLogSet(file: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const { dirname, join } = await import('node:path');
  const name = basename(file);
  let names: string[] = [];
  try {
    names = await readdir(dirname(file));
  } catch {
    return [file];
  }
  const rotated = names
    .map((n) => (n.startsWith(`${name}.`) && /^\d+$/.test(n.slice(name.length + 1)) ? Number(n.slice(name.length + 1)) : undefined))
    .filter((n): n is number => n !== undefined)
    .sort((a, b) => b - a);
  return [...rotated.map((n) => join(dirname(file), `${name}.${n}`)), file];
}
