/**
 * A tamper-evident audit log: JSON lines, each holding the SHA-256 (or, with a key, the
 * HMAC-SHA-256) of the previous line's hash and its own canonical content, so changing, removing,
 * inserting or reordering any record breaks the chain from there on (IEC 62443-4-2 CR 2.8 auditable
 * events, CR 3.9 protection of audit information, CR 6.1 audit log accessibility). Every write is
 * fdatasync'd before it resolves. A line torn by a crash at the end of the file is cut off on open
 * and the cut is itself logged, so a crash is visible, never silent.
 *
 * A chain alone cannot show that whole records were cut off the end: what is left still chains.
 * So after each write the head (last sequence number and hash; with a key, an HMAC over both) is
 * written atomically to `<file>.head`, and verification refuses a log shorter than its head, or a
 * non-empty log without one. A crash between the append and the head write leaves the head one
 * record behind, which verifies (the log may run ahead of its head, never fall behind). Without a
 * key, whoever can write both files can cut both; copy the head elsewhere (a log server, the
 * SIEM the records are published to) to detect that. Files are never opened through a symlink.
 *
 * Rotation (`maxBytes`, CR 2.9 audit storage capacity): the file is renamed `<file>.1` (older ones
 * shift to `.2` … `.<keep>`, the oldest beyond `keep` is removed) and the new file starts with an
 * `audit.rotated` record chained to the last record of the old one, so the chain runs on across
 * files. When the disk is full or a write fails (CR 2.10 response to audit processing failures),
 * nothing that records an event fails or waits: the events are held in memory (at most
 * `memoryRecords`, the oldest dropped and counted), an `alert` is emitted once, and the next
 * event retries; once a write succeeds the held events are written in order, after an
 * `audit.records-dropped` record when some were lost, and a `recovered` alert follows.
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Clock } from '../sdk/core/clock.js';
import { ArgumentError, StorageError } from '../sdk/core/errors.js';
import { TypedEmitter } from '../sdk/core/events.js';
import { AUDIT_GENESIS, chainHash, checkChain, ROTATED_EVENT, type AuditContent, type AuditEntry } from './audit/chain.js';
import { checkAuditEvent, classifyNamedEvent, type AuditEvent, type AuditSink } from './audit/event.js';
import { auditHeadFile, checkHead, headMac, MAX_LOG_BYTES, nodeAuditStorage, readHead, readNoFollow, rotatedAuditFile, type AuditStorage } from './audit/storage.js';
import { verifyAuditFiles } from './audit/verify.js';

export { AUDIT_GENESIS, ROTATED_EVENT, canonical, chainHash, checkChain, type AuditEntry, type AuditContent, type ChainCheck } from './audit/chain.js';
export { auditHeadFile, rotatedAuditFile, nodeAuditStorage, type AuditHead, type AuditStorage } from './audit/storage.js';
export { verifyAuditFiles, auditLogSet, type AuditFilesVerification, type AuditProblem, type VerifiedAuditFile } from './audit/verify.js';

/** Options of {@link AuditLog.open}. */
export interface AuditLogOptions {
  readonly clock: Clock;
  /** HMAC key: without it, anyone who can write the file can rebuild the chain; with it, only the key holder. */
  readonly key?: Uint8Array;
  /** Rotate before a record would make the file larger than this, bytes. Default: never rotate. */
  readonly maxBytes?: number;
  /** Rotated files kept (`<file>.1` … `<file>.<keep>`). Default 8. */
  readonly keep?: number;
  /** Events held in memory while writes fail, at most. Default 1000. */
  readonly memoryRecords?: number;
  /** The writes (a failing one in tests). Default: the local file system. */
  readonly storage?: AuditStorage;
}

/** Something an operator must know about the log itself. */
export interface AuditAlert {
  /** `write-failed`: a record (or the head) could not be written; `rotation-failed`: the file could not be rotated; `records-dropped`: memory was full; `recovered`: writes work again. */
  readonly kind: 'write-failed' | 'rotation-failed' | 'records-dropped' | 'recovered';
  readonly message: string;
  /** Events held in memory, not yet written. */
  readonly pending: number;
  /** Events dropped since writes failed. */
  readonly dropped: number;
}

/** Events of an {@link AuditLog}. */
export interface AuditLogEvents {
  /** A record was written. */
  entry: [entry: AuditEntry];
  alert: [alert: AuditAlert];
}

/** The result of {@link verifyAuditLog}: the first bad record (1-based line) when not ok. */
export type AuditVerification =
  | { readonly ok: true; readonly entries: readonly AuditEntry[] }
  | { readonly ok: false; readonly line: number; readonly reason: string; readonly entries: readonly AuditEntry[] };

/**
 * Checks one log file's chain from its first line, and that no record was cut off the end (its
 * head file); reports the first bad line (1-based; one past the last line for a missing or
 * unmatched head). A file started by a rotation verifies on its own; its link to the file before
 * is checked by {@link verifyAuditFiles} given both.
 *
 * @example
 * ```ts
 * const result = await verifyAuditLog('/var/lib/device/audit.log')
 * if (!result.ok) console.error(`audit log broken at line ${result.line}: ${result.reason}`)
 * ```
 */
export async function verifyAuditLog(file: string, options: { key?: Uint8Array } = {}): Promise<AuditVerification> {
  const result = await verifyAuditFiles([file], options);
  const entries = result.files[0]?.entries ?? [];
  return result.ok ? { ok: true, entries } : { ok: false, line: result.problem!.record, reason: result.problem!.reason, entries };
}

interface Pending {
  readonly time: string;
  readonly content: Omit<AuditContent, 'seq' | 'time'>;
  entry?: AuditEntry;
}

/**
 * An append-only, hash-chained audit log file, and the sink of every security event.
 *
 * @example
 * ```ts
 * const log = await AuditLog.open('state/audit.log', { clock: new SystemClock(), maxBytes: 1_048_576 })
 * log.on('alert', (alert) => console.error(`audit log: ${alert.message}`))
 * await log.record({ category: 'login', event: 'opcua.session', result: 'denied', source: 'opcua', actor: 'alice' })
 * await log.append('ota.confirmed', { sequence: 7 })
 * ```
 */
export class AuditLog extends TypedEmitter<AuditLogEvents> implements AuditSink {
  readonly file: string;
  readonly #clock: Clock;
  readonly #key: Uint8Array | undefined;
  readonly #storage: AuditStorage;
  readonly #maxBytes: number | undefined;
  readonly #keep: number;
  readonly #memory: number;
  #prev: string;
  #seq: number;
  #size: number;
  #startNewFile: boolean;
  #pending: Pending[] = [];
  #dropped = 0;
  #failure: StorageError | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(file: string, options: AuditLogOptions, state: { prev: string; seq: number; size: number; startNewFile: boolean }) {
    super();
    this.file = file;
    this.#clock = options.clock;
    this.#key = options.key;
    this.#storage = options.storage ?? nodeAuditStorage;
    this.#maxBytes = options.maxBytes;
    this.#keep = options.keep ?? 8;
    this.#memory = options.memoryRecords ?? 1000;
    this.#prev = state.prev;
    this.#seq = state.seq;
    this.#size = state.size;
    this.#startNewFile = state.startNewFile;
  }

  /**
   * Opens (or creates) a log and checks its chain and head. A torn last line is cut off and logged;
   * a missing head (a log written before heads existed, or a deleted one) is rewritten and logged
   * (`audit.head-missing`), so cutting both files leaves a visible record. Any other break, records
   * cut off below the head included, throws `StorageError`: appending would hide it. An empty file
   * beside a `<file>.1` (a crash right after a rotation) continues that file's chain.
   */
  static async open(file: string, options: AuditLogOptions): Promise<AuditLog> {
    checkOptions(options);
    await mkdir(dirname(file), { recursive: true });
    let text = '';
    let head;
    let older: string | undefined;
    try {
      text = (await readNoFollow(file, MAX_LOG_BYTES)) ?? '';
      head = await readHead(file);
      if (text === '') older = await readNoFollow(rotatedAuditFile(file, 1), MAX_LOG_BYTES);
    } catch (error) {
      if (error instanceof StorageError) throw error;
      throw new StorageError(file, `read failed: ${(error as Error).message}`, { cause: error });
    }
    let torn = 0;
    if (text.length > 0 && !text.endsWith('\n')) {
      const keep = text.lastIndexOf('\n') + 1;
      torn = Buffer.byteLength(text.slice(keep));
      text = text.slice(0, keep);
      const { open } = await import('node:fs/promises');
      const handle = await open(file, 'r+');
      try {
        await handle.truncate(Buffer.byteLength(text));
      } finally {
        await handle.close();
      }
    }
    const result = checkChain(text, options.key);
    if (!result.ok) throw new StorageError(file, `audit chain broken at line ${result.line}: ${result.reason}`);
    let entries = result.entries;
    let startNewFile = false;
    if (entries.length === 0 && older !== undefined) {
      const before = checkChain(older, options.key);
      if (!before.ok) throw new StorageError(rotatedAuditFile(file, 1), `audit chain broken at line ${before.line}: ${before.reason}`);
      entries = before.entries;
      startNewFile = entries.length > 0;
    }
    const problem = head === undefined ? undefined : checkHead(head, entries, options.key);
    if (problem !== undefined) throw new StorageError(file, problem);
    const last = entries[entries.length - 1];
    const log = new AuditLog(file, options, { prev: last?.hash ?? AUDIT_GENESIS, seq: last?.seq ?? 0, size: Buffer.byteLength(text), startNewFile });
    if (head === undefined && result.entries.length > 0) await log.append('audit.head-missing', { entries: result.entries.length });
    if (torn > 0) await log.append('audit.torn-tail-dropped', { bytes: torn });
    return log;
  }

  /** Events held in memory because writes failed. */
  get pending(): number {
    return this.#pending.length;
  }

  /**
   * Records an event (the {@link AuditSink} contract). Resolves with the written record, or with
   * undefined when it could not be written and is held in memory; never rejects on a storage
   * failure (that is an `alert`). Throws `ArgumentError` for a malformed event.
   */
  record(event: AuditEvent): Promise<AuditEntry | undefined> {
    checkAuditEvent(event);
    const { category, event: name, result, source, actor, detail } = event;
    const item = this.#hold({ category, event: name, result, ...(source === undefined ? {} : { source }), ...(actor === undefined ? {} : { actor }), data: plain(detail ?? {}) });
    return this.#serial().then(() => item.entry);
  }

  /**
   * Appends an event named only (category `ota` for `ota.*`, else `system`; see
   * `classifyNamedEvent`); resolves once it is on disk. Rejects with `StorageError` when it could
   * not be written (it stays held in memory and is written with the next success).
   */
  async append(event: string, data: Record<string, unknown> = {}): Promise<AuditEntry> {
    const item = this.#hold({ ...classifyNamedEvent(event), event, data: plain(data) });
    await this.#serial();
    if (item.entry === undefined) throw this.#failure ?? new StorageError(this.file, 'append failed');
    return item.entry;
  }

  /** Retries writing the events held in memory; resolves with how many are still held. */
  async flush(): Promise<number> {
    await this.#serial();
    return this.#pending.length;
  }

  #hold(content: Pending['content']): Pending {
    const item: Pending = { time: new Date(this.#clock.now()).toISOString(), content };
    this.#pending.push(item);
    if (this.#pending.length > this.#memory) {
      this.#pending.shift();
      this.#dropped++;
      if (this.#dropped === 1) this.#alert('records-dropped', `${this.#memory} events held in memory: the oldest are dropped until writes work again`);
    }
    return item;
  }

  #serial(): Promise<void> {
    const run = this.#tail.then(() => this.#drain());
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      try {
        if (this.#dropped > 0) {
          await this.#write(new Date(this.#clock.now()).toISOString(), { category: 'system', event: 'audit.records-dropped', result: 'failure', source: 'audit', data: { count: this.#dropped } });
          this.#dropped = 0;
        }
        const item = this.#pending[0]!;
        item.entry = await this.#write(item.time, item.content);
        this.#pending.shift();
      } catch (error) {
        const failure = error instanceof StorageError ? error : new StorageError(this.file, `append failed: ${(error as Error).message}`, { cause: error });
        if (this.#failure === undefined) this.#alert('write-failed', `${failure.message}; events are held in memory (at most ${this.#memory}) and written when writes work again`);
        this.#failure = failure;
        return;
      }
    }
    if (this.#failure !== undefined) {
      this.#failure = undefined;
      this.#alert('recovered', 'writes work again; the events held in memory were written');
    }
  }

  async #write(time: string, content: Pending['content']): Promise<AuditEntry> {
    if (!this.#startNewFile && this.#maxBytes !== undefined && this.#size > 0 && this.#size + this.#lineOf(time, content).length > this.#maxBytes) {
      this.#startNewFile = await this.#rotateFiles();
    }
    if (this.#startNewFile) {
      const data = { previous: basename(rotatedAuditFile(this.file, 1)), last: this.#seq };
      await this.#writeEntry(new Date(this.#clock.now()).toISOString(), { category: 'system', event: ROTATED_EVENT, result: 'success', source: 'audit', data });
      this.#startNewFile = false;
    }
    return this.#writeEntry(time, content);
  }

  #lineOf(time: string, content: Pending['content']): string {
    const seq = this.#seq + 1;
    const hash = chainHash(this.#prev, { seq, time, ...content }, this.#key);
    return `${JSON.stringify({ seq, time, ...content, prev: this.#prev, hash })}\n`;
  }

  async #writeEntry(time: string, content: Pending['content']): Promise<AuditEntry> {
    const line = this.#lineOf(time, content);
    try {
      await this.#storage.append(this.file, line);
    } catch (error) {
      throw new StorageError(this.file, `append failed: ${(error as Error).message}`, { cause: error });
    }
    const entry = JSON.parse(line) as AuditEntry;
    // The record is on disk: the chain goes on from it even if the head write below fails.
    this.#seq = entry.seq;
    this.#prev = entry.hash;
    this.#size += Buffer.byteLength(line);
    try {
      await this.#storage.writeHead(this.file, { seq: entry.seq, hash: entry.hash, ...(this.#key ? { mac: headMac(entry.seq, entry.hash, this.#key) } : {}) });
    } catch (error) {
      this.#alert('write-failed', `${auditHeadFile(this.file)}: head write failed: ${(error as Error).message}`);
    }
    this.emit('entry', entry);
    return entry;
  }

  /** Shifts the rotated files and moves the log to `<file>.1`; false (and an alert) when that fails. */
  async #rotateFiles(): Promise<boolean> {
    try {
      await this.#storage.move(rotatedAuditFile(this.file, this.#keep), undefined);
      for (let n = this.#keep - 1; n >= 1; n--) await this.#storage.move(rotatedAuditFile(this.file, n), rotatedAuditFile(this.file, n + 1));
      await this.#storage.move(this.file, rotatedAuditFile(this.file, 1));
    } catch (error) {
      this.#alert('rotation-failed', `${this.file}: rotation failed: ${(error as Error).message}; the file grows past ${this.#maxBytes} bytes`);
      return false;
    }
    this.#size = 0;
    return true;
  }

  #alert(kind: AuditAlert['kind'], message: string): void {
    this.emit('alert', { kind, message, pending: this.#pending.length, dropped: this.#dropped });
  }
}

/** Round-trips through JSON, so that what is hashed is exactly what a reader parses back. */
function plain(data: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
}

function checkOptions(options: AuditLogOptions): void {
  const integer = (name: string, value: number | undefined, min: number): void => {
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= min)) throw new ArgumentError(`Expected \`${name}\` to be an integer from ${min} and up, got ${String(value)}`);
  };
  integer('maxBytes', options.maxBytes, 1024);
  integer('keep', options.keep, 1);
  integer('memoryRecords', options.memoryRecords, 1);
}
