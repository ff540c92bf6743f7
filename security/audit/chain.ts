/**
 * The audit log's chain: each record holds the SHA-256 (with a key, the HMAC-SHA-256) of the
 * previous record's hash and its own canonical content (JSON with keys sorted at every level,
 * absent fields left out), so changing, removing, inserting or reordering a record breaks the
 * chain from there on (IEC 62443-4-2 CR 3.9, CR 6.1).
 *
 * A file starts either at sequence 1, chained to {@link AUDIT_GENESIS}, or, after a rotation, with
 * an `audit.rotated` record chained to the last record of the file before it (kept as `<log>.1`).
 * Records written before the event shape existed (no category, result, source or actor) hash the
 * same as they always did: absent fields are not part of the canonical content.
 */
import { createHash, createHmac } from 'node:crypto';
import type { AuditCategory, AuditResult } from './event.js';

/** The chain's starting value: 64 zeros. */
export const AUDIT_GENESIS = '0'.repeat(64);

/** The event of the first record of a file started by a rotation. */
export const ROTATED_EVENT = 'audit.rotated';

/** One record (one line) of the log. */
export interface AuditEntry {
  /** 1, 2, 3…, continued across rotated files. */
  readonly seq: number;
  /** ISO 8601 UTC time from the log's clock, when the event was recorded. */
  readonly time: string;
  /** The component that saw the event (absent in records written before the event shape). */
  readonly source?: string;
  readonly actor?: string;
  readonly category?: AuditCategory;
  /** What happened, e.g. `ota.confirmed`, `opcua.session`. */
  readonly event: string;
  readonly result?: AuditResult;
  /** The event's detail. */
  readonly data: Readonly<Record<string, unknown>>;
  /** Hash of the previous record (or {@link AUDIT_GENESIS}). */
  readonly prev: string;
  /** Hash of `prev` and this record's content. */
  readonly hash: string;
}

/** A record's hashed content: everything but `prev` and `hash`. */
export type AuditContent = Omit<AuditEntry, 'prev' | 'hash'>;

/**
 * JSON with object keys sorted at every level, so the hash does not depend on insertion order.
 *
 * @example
 * ```ts
 * canonical({ b: 1, a: [2, { d: 3, c: 4 }] }) // '{"a":[2,{"c":4,"d":3}],"b":1}'
 * ```
 */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The hash of a record chained to `prev`.
 *
 * @example
 * ```ts
 * chainHash(AUDIT_GENESIS, { seq: 1, time: '2026-01-01T00:00:00.000Z', event: 'a', data: {} }, undefined)
 * ```
 */
export function chainHash(prev: string, content: AuditContent, key: Uint8Array | undefined): string {
  const { seq, time, source, actor, category, event, result, data } = content;
  const text = `${prev}\n${canonical({ seq, time, source, actor, category, event, result, data })}`;
  return (key ? createHmac('sha256', key) : createHash('sha256')).update(text).digest('hex');
}

/** The result of checking one file's records. */
export type ChainCheck =
  | { readonly ok: true; readonly entries: readonly AuditEntry[] }
  | { readonly ok: false; readonly line: number; readonly reason: string; readonly entries: readonly AuditEntry[] };

/**
 * Checks the records of one file, from its first line: JSON, sequence numbers one apart, each
 * chained to the one before it and hashed over its content. The first record is at sequence 1
 * chained to the genesis, or an `audit.rotated` record (its link to the file before is checked
 * by whoever has that file). Reports the first bad line, 1-based.
 *
 * @example
 * ```ts
 * const check = checkChain(readFileSync('audit.log', 'utf8'), undefined)
 * if (!check.ok) console.error(`line ${check.line}: ${check.reason}`)
 * ```
 */
export function checkChain(text: string, key: Uint8Array | undefined): ChainCheck {
  const entries: AuditEntry[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prev = AUDIT_GENESIS;
  let expected = 1;
  for (let i = 0; i < lines.length; i++) {
    const fail = (reason: string): ChainCheck => ({ ok: false, line: i + 1, reason, entries });
    let entry: AuditEntry;
    try {
      entry = JSON.parse(lines[i]!) as AuditEntry;
    } catch {
      return fail('not JSON');
    }
    if (typeof entry !== 'object' || entry === null || typeof entry.hash !== 'string' || typeof entry.prev !== 'string') return fail('not an audit record');
    if (i === 0 && entry.event === ROTATED_EVENT && Number.isSafeInteger(entry.seq) && entry.seq > 1) {
      // The first record after a rotation: it continues the file before.
      expected = entry.seq;
      prev = entry.prev;
    }
    if (entry.seq !== expected) return fail(`sequence ${String(entry.seq)}, expected ${expected}`);
    if (entry.prev !== prev) return fail('does not chain to the previous record');
    if (chainHash(prev, entry, key) !== entry.hash) return fail('hash does not match the content');
    entries.push(entry);
    prev = entry.hash;
    expected++;
  }
  return { ok: true, entries };
}
