/**
 * A tamper-evident audit log: JSON lines, each holding the SHA-256 (or, with a key, the
 * HMAC-SHA-256) of the previous line's hash and its own canonical content, so changing, removing
 * or reordering any entry breaks the chain from there on (IEC 62443-4-2 CR 2.8/2.9 auditable events,
 * CR 3.9 protection of audit information). Every append is written and fdatasync'd before it
 * resolves. A line torn by a crash at the end of the file is cut off on open and the cut is itself
 * logged, so a crash is visible, never silent.
 *
 * A chain alone cannot show that whole entries were cut off the end: what is left still chains.
 * So after each append the head (entry count and last hash; with a key, an HMAC over both) is
 * written atomically to `<file>.head`, and {@link verifyAuditLog} refuses a log shorter than its
 * head, or a non-empty log without one. A crash between the append and the head write leaves the
 * head one entry behind, which verifies (the log may run ahead of its head, never fall behind).
 * Without a key, whoever can write both files can cut both; copy the head elsewhere (a log server,
 * the campaign server) to detect that. Files are never opened through a symlink (O_NOFOLLOW).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Clock } from '../sdk/core/clock.js';
import { StorageError } from '../sdk/core/errors.js';

/** The chain's starting value: 64 zeros. */
export const AUDIT_GENESIS = '0'.repeat(64);

/** One line of the log. */
export interface AuditEntry {
  /** 1, 2, 3… */
  readonly seq: number;
  /** ISO 8601 UTC time from the injected clock. */
  readonly time: string;
  /** What happened, e.g. `ota.confirmed`. */
  readonly event: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** Hash of the previous entry (or {@link AUDIT_GENESIS}). */
  readonly prev: string;
  /** Hash of `prev` and this entry's content. */
  readonly hash: string;
}

/** Options of {@link AuditLog.open}. */
export interface AuditLogOptions {
  readonly clock: Clock;
  /** HMAC key: without it, anyone who can write the file can rebuild the chain; with it, only the key holder. */
  readonly key?: Uint8Array;
}

/** JSON with object keys sorted at every level, so the hash does not depend on insertion order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function chainHash(prev: string, content: { seq: number; time: string; event: string; data: unknown }, key: Uint8Array | undefined): string {
  const text = `${prev}\n${canonical(content)}`;
  return (key ? createHmac('sha256', key) : createHash('sha256')).update(text).digest('hex');
}

/** The result of {@link verifyAuditLog}. */
export type AuditVerification =
  | { readonly ok: true; readonly entries: readonly AuditEntry[] }
  | { readonly ok: false; readonly line: number; readonly reason: string; readonly entries: readonly AuditEntry[] };

/** What `<file>.head` holds: how many entries the log had and the last one's hash. */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
  /** HMAC-SHA-256 of `seq` and `hash` under the log's key, when it has one. */
  readonly mac?: string;
}

/**
 * The head file of a log.
 *
 * @example
 * ```ts
 * auditHeadFile('/var/lib/device/audit.log') // '/var/lib/device/audit.log.head'
 * ```
 */
export function auditHeadFile(file: string): string {
  return `${file}.head`;
}

const { O_RDONLY, O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = constants;

/** Largest log read whole (verify and open), bytes; a bigger one is rotated by the operator. */
const MAX_LOG_BYTES = 256 * 1024 * 1024;
const MAX_HEAD_BYTES = 4096;

function headMac(seq: number, hash: string, key: Uint8Array): string {
  return createHmac('sha256', key).update(`sensorkit-audit-head\n${seq}\n${hash}`).digest('hex');
}

/** Reads a file without following a link at its name; undefined when it does not exist. */
async function readNoFollow(file: string, maxBytes: number): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, O_RDONLY | O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new StorageError(file, 'not a regular file');
    if (stats.size > maxBytes) throw new StorageError(file, `larger than ${maxBytes} bytes`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Writes `<file>.head` atomically: a new temporary file (O_EXCL, no link followed), fsync, rename, fsync of the folder. */
async function writeHead(file: string, head: AuditHead): Promise<void> {
  const target = auditHeadFile(file);
  const temp = join(dirname(target), `.${basename(target)}.tmp`);
  await rm(temp, { force: true });
  const handle = await open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  try {
    await handle.writeFile(`${JSON.stringify(head)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, target);
  const dir = await open(dirname(target), O_RDONLY | O_DIRECTORY);
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

async function readHead(file: string): Promise<AuditHead | undefined> {
  const text = await readNoFollow(auditHeadFile(file), MAX_HEAD_BYTES);
  if (text === undefined) return undefined;
  let head: Partial<AuditHead>;
  try {
    head = JSON.parse(text) as Partial<AuditHead>;
  } catch {
    throw new StorageError(auditHeadFile(file), 'not JSON');
  }
  if (typeof head !== 'object' || head === null || !Number.isSafeInteger(head.seq) || (head.seq as number) < 0 || typeof head.hash !== 'string' || (head.mac !== undefined && typeof head.mac !== 'string')) {
    throw new StorageError(auditHeadFile(file), 'not an audit head');
  }
  return head as AuditHead;
}

/** Why `head` does not fit `entries`, or undefined when it does. */
function checkHead(head: AuditHead | undefined, entries: readonly AuditEntry[], key: Uint8Array | undefined): string | undefined {
  if (head === undefined) return entries.length === 0 ? undefined : 'no head file: entries cut off the end could not be told';
  if (key !== undefined) {
    const expected = Buffer.from(headMac(head.seq, head.hash, key), 'hex');
    const given = Buffer.from(head.mac ?? '', 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the head file is not signed with this key';
  }
  if (head.seq > entries.length) return `the head records ${head.seq} entries, the log holds ${entries.length}: entries were cut off the end`;
  const at = head.seq === 0 ? AUDIT_GENESIS : entries[head.seq - 1]!.hash;
  if (at !== head.hash) return `entry ${head.seq} does not match the hash in the head file`;
  return undefined;
}

/**
 * Checks a log's chain from the first line, and that no entry was cut off the end (its head file);
 * reports the first bad line (1-based; one past the last line for a missing or unmatched head).
 *
 * @example
 * ```ts
 * const result = await verifyAuditLog('/var/lib/device/audit.log')
 * if (!result.ok) console.error(`audit log broken at line ${result.line}: ${result.reason}`)
 * ```
 */
export async function verifyAuditLog(file: string, options: { key?: Uint8Array } = {}): Promise<AuditVerification> {
  let text: string | undefined;
  let head: AuditHead | undefined;
  try {
    text = await readNoFollow(file, MAX_LOG_BYTES);
    head = await readHead(file);
  } catch (error) {
    if (error instanceof StorageError) return { ok: false, line: 0, reason: error.message, entries: [] };
    throw new StorageError(file, `read failed: ${(error as Error).message}`, { cause: error });
  }
  const result = verifyLines(text ?? '', options.key);
  if (!result.ok) return result;
  const problem = checkHead(head, result.entries, options.key);
  return problem === undefined ? result : { ok: false, line: result.entries.length + 1, reason: problem, entries: result.entries };
}

function verifyLines(text: string, key: Uint8Array | undefined): AuditVerification {
  const entries: AuditEntry[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prev = AUDIT_GENESIS;
  for (let i = 0; i < lines.length; i++) {
    const fail = (reason: string): AuditVerification => ({ ok: false, line: i + 1, reason, entries });
    let entry: AuditEntry;
    try {
      entry = JSON.parse(lines[i]!) as AuditEntry;
    } catch {
      return fail('not JSON');
    }
    if (typeof entry !== 'object' || entry === null || typeof entry.hash !== 'string') return fail('not an audit entry');
    if (entry.seq !== i + 1) return fail(`sequence ${String(entry.seq)}, expected ${i + 1}`);
    if (entry.prev !== prev) return fail('does not chain to the previous entry');
    const { seq, time, event, data } = entry;
    if (chainHash(prev, { seq, time, event, data }, key) !== entry.hash) return fail('hash does not match the content');
    entries.push(entry);
    prev = entry.hash;
  }
  return { ok: true, entries };
}

/**
 * An append-only, hash-chained audit log file.
 *
 * @example
 * ```ts
 * const log = await AuditLog.open('state/audit.log', { clock: new SystemClock() })
 * await log.append('ota.confirmed', { sequence: 7 })
 * ```
 */
export class AuditLog {
  readonly file: string;
  readonly #clock: Clock;
  readonly #key: Uint8Array | undefined;
  #prev: string;
  #seq: number;
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(file: string, options: AuditLogOptions, prev: string, seq: number) {
    this.file = file;
    this.#clock = options.clock;
    this.#key = options.key;
    this.#prev = prev;
    this.#seq = seq;
  }

  /**
   * Opens (or creates) a log and checks its chain and head. A torn last line is cut off and logged;
   * a missing head (a log written before heads existed, or a deleted one) is rewritten and logged
   * (`audit.head-missing`), so cutting both files leaves a visible entry. Any other break, entries
   * cut off below the head included, throws `StorageError`: appending would hide it.
   */
  static async open(file: string, options: AuditLogOptions): Promise<AuditLog> {
    await mkdir(dirname(file), { recursive: true });
    let text = '';
    let head: AuditHead | undefined;
    try {
      text = (await readNoFollow(file, MAX_LOG_BYTES)) ?? '';
      head = await readHead(file);
    } catch (error) {
      if (error instanceof StorageError) throw error;
      throw new StorageError(file, `read failed: ${(error as Error).message}`, { cause: error });
    }
    let torn = 0;
    if (text.length > 0 && !text.endsWith('\n')) {
      const keep = text.lastIndexOf('\n') + 1;
      torn = Buffer.byteLength(text.slice(keep));
      text = text.slice(0, keep);
      const handle = await open(file, O_WRONLY | O_NOFOLLOW);
      try {
        await handle.truncate(Buffer.byteLength(text));
      } finally {
        await handle.close();
      }
    }
    const result = verifyLines(text, options.key);
    if (!result.ok) throw new StorageError(file, `audit chain broken at line ${result.line}: ${result.reason}`);
    const problem = head === undefined ? undefined : checkHead(head, result.entries, options.key);
    if (problem !== undefined) throw new StorageError(file, problem);
    const last = result.entries[result.entries.length - 1];
    const log = new AuditLog(file, options, last?.hash ?? AUDIT_GENESIS, last?.seq ?? 0);
    if (head === undefined && result.entries.length > 0) await log.append('audit.head-missing', { entries: result.entries.length });
    if (torn > 0) await log.append('audit.torn-tail-dropped', { bytes: torn });
    return log;
  }

  /** Appends one entry; resolves once it is on disk. Appends are serialised in call order. */
  append(event: string, data: Record<string, unknown> = {}): Promise<AuditEntry> {
    const run = this.#tail.then(() => this.#write(event, data));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #write(event: string, data: Record<string, unknown>): Promise<AuditEntry> {
    const seq = this.#seq + 1;
    const time = new Date(this.#clock.now()).toISOString();
    // Round-trip through JSON so what is hashed is exactly what a reader parses back.
    const plain = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
    const hash = chainHash(this.#prev, { seq, time, event, data: plain }, this.#key);
    const entry: AuditEntry = { seq, time, event, data: plain, prev: this.#prev, hash };
    try {
      const handle = await open(this.file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o644);
      try {
        await handle.write(`${JSON.stringify(entry)}\n`);
        await handle.datasync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw new StorageError(this.file, `append failed: ${(error as Error).message}`, { cause: error });
    }
    // The entry is on disk: the chain goes on from it even if the head write below fails.
    this.#seq = seq;
    this.#prev = hash;
    try {
      await writeHead(this.file, { seq, hash, ...(this.#key ? { mac: headMac(seq, hash, this.#key) } : {}) });
    } catch (error) {
      throw new StorageError(auditHeadFile(this.file), `head write failed: ${(error as Error).message}`, { cause: error });
    }
    return entry;
  }
}
