/**
 * Generators of damaged inputs: byte-level mutations of valid encodings (bit flips, byte changes,
 * truncations, insertions, deletions, duplications and splices between samples), random bytes biased
 * to the bytes parsers branch on, and structural mutations of plain-data trees (device files).
 */
import fc from 'fast-check';

/** Bytes that parsers branch on: CBOR heads (RFC 8949 §3: 1-, 2-, 4-, 8-byte arguments, indefinite, break, floats, tags) and Firmata command bytes. */
export const INTERESTING_BYTES: readonly number[] = [
  0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x20, 0x38, 0x3b, 0x40, 0x58, 0x5b, 0x5f, 0x60, 0x78, 0x7b, 0x7f, 0x80, 0x98, 0x9b, 0x9f, 0xa0,
  0xb8, 0xbb, 0xbf, 0xc0, 0xd1, 0xd2, 0xd8, 0xdb, 0xe0, 0xf0, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xff,
];

/** A byte, one time in three from {@link INTERESTING_BYTES}. */
export const byteArb: fc.Arbitrary<number> = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 255 }), weight: 2 }, { arbitrary: fc.constantFrom(...INTERESTING_BYTES), weight: 1 });

/** Random bytes of up to `maxLength`, biased to interesting ones. */
export function randomBytes(maxLength = 256): fc.Arbitrary<Uint8Array> {
  return fc.array(byteArb, { maxLength }).map((bytes) => Uint8Array.from(bytes));
}

/** One edit of a byte string. Positions are taken modulo the current length, so any edit applies to any input. */
export type ByteMutation =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'set'; readonly at: number; readonly value: number }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly op: 'delete'; readonly at: number; readonly length: number }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'duplicate'; readonly at: number; readonly length: number }
  | { readonly op: 'splice'; readonly at: number; readonly source: number; readonly from: number; readonly length: number };

const at = fc.nat();
const span = fc.integer({ min: 1, max: 64 });

export const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('set' as const), at, value: byteArb }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('insert' as const), at, bytes: fc.array(byteArb, { minLength: 1, maxLength: 16 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('delete' as const), at, length: span }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('truncate' as const), at }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('duplicate' as const), at, length: span }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('splice' as const), at, source: fc.nat(), from: fc.nat(), length: span }), weight: 1 },
);

/** Applies `mutations` in order to a copy of `base`; `sources` feed splices. */
export function applyMutations(base: Uint8Array, mutations: readonly ByteMutation[], sources: readonly Uint8Array[]): Uint8Array {
  let bytes = Array.from(base);
  for (const m of mutations) {
    const position = m.at % (bytes.length + 1);
    const inside = bytes.length === 0 ? -1 : m.at % bytes.length;
    switch (m.op) {
      case 'flip':
        if (inside >= 0) bytes[inside] = bytes[inside]! ^ (1 << m.bit);
        break;
      case 'set':
        if (inside >= 0) bytes[inside] = m.value;
        break;
      case 'insert':
        bytes.splice(position, 0, ...m.bytes);
        break;
      case 'delete':
        if (inside >= 0) bytes.splice(inside, m.length);
        break;
      case 'truncate':
        bytes = bytes.slice(0, position);
        break;
      case 'duplicate':
        if (inside >= 0) bytes.splice(inside, 0, ...bytes.slice(inside, inside + m.length));
        break;
      case 'splice': {
        const source = sources[m.source % sources.length];
        if (source === undefined || source.length === 0) break;
        const from = m.from % source.length;
        bytes.splice(position, 0, ...source.subarray(from, from + m.length));
        break;
      }
    }
  }
  return Uint8Array.from(bytes);
}

/** One of `bases` with 1 to `maxMutations` edits (splices take from the other bases). */
export function mutatedBytes(bases: readonly Uint8Array[], maxMutations = 6): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.nat({ max: bases.length - 1 }), fc.array(byteMutationArb, { minLength: 1, maxLength: maxMutations }))
    .map(([index, mutations]) => applyMutations(bases[index]!, mutations, bases));
}

/** Whether two byte strings are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * Values a device file (a JavaScript module) can hold where a valid one has something else: JSON
 * values, numbers at the edges of float64, long strings, arrays with holes, `undefined`, functions.
 */
export const hostileValueArb: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 4 },
  { arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e308, -1e308, -0, 2 ** 53, -(2 ** 53), Number.MIN_VALUE, 0.1, -1, 1, 2 ** 31), weight: 3 },
  { arbitrary: fc.constantFrom('', ' ', '\u0000', '/', 'a/b', '💥', 'x'.repeat(100_000), '__proto__', 'constructor'), weight: 2 },
  { arbitrary: fc.constantFrom(null, undefined, true, false), weight: 2 },
  {
    arbitrary: fc.constantFrom<() => unknown>(
      () => [],
      () => ({}),
      // eslint-disable-next-line no-sparse-arrays
      () => [, 'c'],
      () => new Array(3),
      () => () => 1,
      () => new Date(0),
      () => new Map(),
    ).map((make) => make()),
    weight: 2,
  },
);

/** One structural edit of a plain-data tree, at the node a path of child choices leads to. */
export interface TreeMutation {
  readonly path: readonly number[];
  readonly action: 'replace' | 'delete' | 'add' | 'hole' | 'duplicate';
  readonly key: string;
  readonly value: unknown;
}

const KEY_NAMES = ['id', 'unit', 'range', 'min', 'max', 'driver', 'part', 'pin', 'address', 'options', 'window', 'deadband', 'deadbandPercent', 'heartbeat', 'type', 'extra', '__proto__'];

export const treeMutationArb: fc.Arbitrary<TreeMutation> = fc.record({
  path: fc.array(fc.nat(), { maxLength: 6 }),
  action: fc.constantFrom('replace', 'replace', 'replace', 'delete', 'add', 'hole', 'duplicate'),
  key: fc.oneof(fc.constantFrom(...KEY_NAMES), fc.string({ maxLength: 8 })),
  value: hostileValueArb,
});

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null && (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype);
}

/** Deep copy of plain objects and arrays (holes kept); other values are shared. */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) if (i in value) out[i] = copy(value[i]);
    return out;
  }
  if (isContainer(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)]));
  return value;
}

/** A copy of `tree` with `mutations` applied. */
export function applyTreeMutations(tree: unknown, mutations: readonly TreeMutation[]): unknown {
  const root = { root: copy(tree) } as Record<string, unknown>;
  for (const m of mutations) {
    let parent: Record<string, unknown> | unknown[] = root;
    let key: string | number = 'root';
    for (const step of m.path) {
      const node: unknown = (parent as Record<string | number, unknown>)[key];
      if (!isContainer(node)) break;
      const keys = Array.isArray(node) ? [...node.keys()] : Object.keys(node);
      if (keys.length === 0) break;
      parent = node;
      key = keys[step % keys.length]!;
    }
    const target = parent as Record<string | number, unknown>;
    const node = target[key];
    switch (m.action) {
      case 'replace':
        target[key] = m.value;
        break;
      case 'delete':
        if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
        else delete target[key];
        break;
      case 'add':
        if (Array.isArray(node)) node.push(m.value);
        else if (isContainer(node)) Object.defineProperty(node, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
        else target[key] = m.value;
        break;
      case 'hole':
        if (Array.isArray(node)) node.length += 1 + (m.path.length % 3);
        else if (Array.isArray(parent) && typeof key === 'number') delete parent[key];
        break;
      case 'duplicate':
        if (Array.isArray(node) && node.length > 0) node.push(copy(node[0]));
        else if (Array.isArray(parent)) parent.push(copy(node));
        break;
    }
  }
  return root.root;
}

/** `tree` with 1 to `maxMutations` structural edits. */
export function mutatedTree(tree: unknown, maxMutations = 4): fc.Arbitrary<unknown> {
  return fc.array(treeMutationArb, { minLength: 1, maxLength: maxMutations }).map((mutations) => applyTreeMutations(tree, mutations));
}
