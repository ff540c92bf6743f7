/**
 * A tamper-evident audit log: JSON lines, each holding the SHA-256 (or, with a key, the
 * HMAC-SHA-256) of the previous line's hash and its own canonical content, so changing, removing
 * or reordering any entry breaks the chain from there on (IEC 62443-4-2 CR 2.8/2.9 auditable events,
 * CR 3.9 protection of audit information). Every append is written and fdatasync'd before it
 * resolves. A line torn by a crash at the end of the file is cut off on open and the cut is itself
 * logged, so a crash is visible, never silent.
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdir, open, readFile, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
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

/**
 * Checks a log's chain from the first line; reports the first bad line (1-based).
 *
 * @example
 * ```ts
 * const result = await verifyAuditLog('/var/lib/device/audit.log')
 * if (!result.ok) console.error(`audit log broken at line ${result.line}: ${result.reason}`)
 * ```
 */
export async function verifyAuditLog(file: string, options: { key?: Uint8Array } = {}): Promise<AuditVerification> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, entries: [] };
    throw new StorageError(file, `read failed: ${(error as Error).message}`, { cause: error });
  }
  return verifyLines(text, options.key);
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
   * Opens (or creates) a log and checks its chain. A torn last line is cut off and logged; any other
   * break throws `StorageError`, because appending to a broken chain would hide the break.
   */
  static async open(file: string, options: AuditLogOptions): Promise<AuditLog> {
    await mkdir(dirname(file), { recursive: true });
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new StorageError(file, `read failed: ${(error as Error).message}`, { cause: error });
    }
    let torn = 0;
    if (text.length > 0 && !text.endsWith('\n')) {
      const keep = text.lastIndexOf('\n') + 1;
      torn = Buffer.byteLength(text.slice(keep));
      text = text.slice(0, keep);
      await truncate(file, Buffer.byteLength(text));
    }
    const result = verifyLines(text, options.key);
    if (!result.ok) throw new StorageError(file, `audit chain broken at line ${result.line}: ${result.reason}`);
    const last = result.entries[result.entries.length - 1];
    const log = new AuditLog(file, options, last?.hash ?? AUDIT_GENESIS, last?.seq ?? 0);
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
      const handle = await open(this.file, 'a');
      try {
        await handle.write(`${JSON.stringify(entry)}\n`);
        await handle.datasync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw new StorageError(this.file, `append failed: ${(error as Error).message}`, { cause: error });
    }
    this.#seq = seq;
    this.#prev = hash;
    return entry;
  }
}
