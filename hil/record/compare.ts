/**
 * Differences between two run records, as a replay reports them: every value that differs, with its
 * JSON path, apart from the wall-clock fields ({@link WALL_CLOCK_FIELDS}) and the signature, which
 * differ between any two runs. Numbers compare exactly: a replay of an emulated run reproduces its
 * results byte for byte, so any difference at all is worth reporting.
 */
import { memberPath } from './canonical-json.js';
import { WALL_CLOCK_FIELDS, type RunRecord } from './record.js';

/** One difference between two records. */
export interface RecordDifference {
  /** JSON path of the value, e.g. `$.phases[1].measurements[0].value`. */
  readonly path: string;
  /** `changed` (both have it), `removed` (only the first has it) or `added` (only the second). */
  readonly kind: 'changed' | 'removed' | 'added';
  /** The value in the first record (absent when added). */
  readonly a?: unknown;
  /** The value in the second record (absent when removed). */
  readonly b?: unknown;
}

const IGNORED: ReadonlySet<string> = new Set<string>([...WALL_CLOCK_FIELDS, 'signature']);

function kindOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function walk(a: unknown, b: unknown, path: string, out: RecordDifference[]): void {
  const kind = kindOf(a);
  if (kind !== kindOf(b)) {
    out.push({ path, kind: 'changed', a, b });
    return;
  }
  if (kind === 'array') {
    const left = a as readonly unknown[];
    const right = b as readonly unknown[];
    for (let i = 0; i < Math.max(left.length, right.length); i++) {
      const itemPath = `${path}[${i}]`;
      if (i >= right.length) out.push({ path: itemPath, kind: 'removed', a: left[i] });
      else if (i >= left.length) out.push({ path: itemPath, kind: 'added', b: right[i] });
      else walk(left[i], right[i], itemPath, out);
    }
    return;
  }
  if (kind === 'object') {
    const left = a as Readonly<Record<string, unknown>>;
    const right = b as Readonly<Record<string, unknown>>;
    const top = path === '$';
    const names = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort();
    for (const name of names) {
      if (top && IGNORED.has(name)) continue;
      const inLeft = Object.hasOwn(left, name) && left[name] !== undefined;
      const inRight = Object.hasOwn(right, name) && right[name] !== undefined;
      const memberAt = memberPath(path, name);
      if (inLeft && !inRight) out.push({ path: memberAt, kind: 'removed', a: left[name] });
      else if (!inLeft && inRight) out.push({ path: memberAt, kind: 'added', b: right[name] });
      else if (inLeft && inRight) walk(left[name], right[name], memberAt, out);
    }
    return;
  }
  if (a !== b && !Object.is(a, b)) out.push({ path, kind: 'changed', a, b });
}

/**
 * The differences between two records (a run and its replay), in document order, ignoring the
 * wall-clock fields and the signature. Empty when the replay reproduced the run.
 *
 * @example
 * ```ts
 * const differences = compareRecords(original, replayed)
 * for (const d of differences) console.log(`${d.path}: ${JSON.stringify(d.a)} → ${JSON.stringify(d.b)}`)
 * ```
 */
export function compareRecords(a: RunRecord, b: RunRecord): RecordDifference[] {
  const out: RecordDifference[] = [];
  walk(a, b, '$', out);
  return out;
}

/**
 * One line for a difference: `$.phases[0].measurements[2].value: 25.03 → 25.04`.
 *
 * @example
 * ```ts
 * compareRecords(a, b).map(describeDifference).join('\n')
 * ```
 */
export function describeDifference(difference: RecordDifference): string {
  const show = (value: unknown): string => {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  };
  switch (difference.kind) {
    case 'changed':
      return `${difference.path}: ${show(difference.a)} → ${show(difference.b)}`;
    case 'removed':
      return `${difference.path}: ${show(difference.a)} → (absent)`;
    case 'added':
      return `${difference.path}: (absent) → ${show(difference.b)}`;
  }
}
