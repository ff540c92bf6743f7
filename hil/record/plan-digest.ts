/**
 * The digest a record carries of its plan: `sha-256:<hex>` of the plan file's bytes, or of the
 * plan's canonical JSON (RFC 8785) when the plan was built in code and has no file. Functions in a
 * plan written in code (custom steps) are digested by their source text, so editing one changes
 * the digest; a device model object is digested by its own members like any other object.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/** Replaces functions by `{ "function": source }` and class instances by their own members. */
function jsonable(value: unknown, seen: Set<object>): unknown {
  if (typeof value === 'function') return { function: value.toString() };
  if (typeof value === 'bigint') return { bigint: value.toString() };
  if (typeof value === 'number' && !Number.isFinite(value)) return { number: String(value) };
  if (typeof value === 'symbol' || typeof value === 'undefined') return undefined;
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return { cycle: true };
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : jsonable(item, seen)));
    if (value instanceof Uint8Array) return { bytes: Buffer.from(value).toString('hex') };
    if (value instanceof Map) return { map: [...value.entries()].map(([k, v]) => [jsonable(k, seen), jsonable(v, seen)]) };
    if (value instanceof Set) return { set: [...value].map((v) => jsonable(v, seen)) };
    if (value instanceof Date) return { date: Number.isNaN(value.getTime()) ? null : value.toISOString() };
    if (value instanceof RegExp) return { regexp: value.toString() };
    const out: Record<string, unknown> = {};
    for (const [name, member] of Object.entries(value)) out[name] = jsonable(member, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * `sha-256:<hex>` of a plan file's bytes (a `Uint8Array`), or of a plan object's canonical JSON.
 *
 * @example
 * ```ts
 * planDigest(await readFile('hil/plans/env-node-temperature.ts')) // 'sha-256:4be1…'
 * planDigest(defineTestPlan(spec))                                // digest of its canonical JSON
 * ```
 */
export function planDigest(plan: Uint8Array | object): string {
  const bytes = plan instanceof Uint8Array ? plan : Buffer.from(canonicalJson(jsonable(plan, new Set())), 'utf8');
  return `sha-256:${createHash('sha256').update(bytes).digest('hex')}`;
}
