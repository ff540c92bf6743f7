/**
 * The layering of the code base, checked on its import graph. A folder is a unit: each folder under
 * `sdk/` (core, io, model, …) and each top-level folder beside it (boards, ota, security, hil,
 * examples). Two units that import each other, directly or through others, fail the test, and so
 * does an import against the documented order of layers (a lower layer reaching up).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_FOLDERS = ['sdk', 'boards', 'ota', 'security', 'hil', 'examples'];

/**
 * The layers, lowest first. A unit may import units of its own layer's predecessors only; units in
 * one layer do not import each other. `sdk` is the root barrel (`sdk/index.ts`).
 */
const LAYERS: readonly (readonly string[])[] = [
  ['sdk/core'],
  ['sdk/io'],
  ['sdk/drivers', 'sdk/pipeline'],
  ['sdk/sampling'],
  ['sdk/model'],
  ['sdk/encoding', 'sdk/device', 'boards', 'security'],
  ['sdk/transport', 'ota'],
  ['sdk/runtime'],
  ['hil'],
  ['sdk/cli', 'sdk', 'examples'],
];

/** The unit a repository-relative path belongs to. */
function unitOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'sdk') return parts.length > 2 ? `sdk/${parts[1]}` : 'sdk';
  return parts[0]!;
}

function* sourceFiles(folder: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(join(ROOT, folder), { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'build') yield* sourceFiles(path);
    else if (/\.(ts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/** Static imports, re-exports and dynamic `import('…')` of relative specifiers. */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

interface Edge {
  from: string;
  to: string;
  file: string;
  specifier: string;
}

function importEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const folder of SOURCE_FOLDERS) {
    for (const file of sourceFiles(folder)) {
      const source = readFileSync(join(ROOT, file), 'utf8');
      for (const match of source.matchAll(IMPORT)) {
        const specifier = match[1]!;
        const target = relative(ROOT, normalize(join(ROOT, dirname(file), specifier)));
        const from = unitOf(file);
        const to = unitOf(target);
        if (from !== to) edges.push({ from, to, file, specifier });
      }
    }
  }
  return edges;
}

/** Strongly connected groups of more than one unit (Tarjan), each sorted. */
function cycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (!next.has(from)) next.set(from, new Set());
    if (!next.has(to)) next.set(to, new Set());
    next.get(from)!.add(to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (unit: string): void => {
    index.set(unit, index.size);
    low.set(unit, index.get(unit)!);
    stack.push(unit);
    onStack.add(unit);
    for (const other of next.get(unit)!) {
      if (!index.has(other)) {
        visit(other);
        low.set(unit, Math.min(low.get(unit)!, low.get(other)!));
      } else if (onStack.has(other)) low.set(unit, Math.min(low.get(unit)!, index.get(other)!));
    }
    if (low.get(unit) === index.get(unit)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== unit);
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const unit of next.keys()) if (!index.has(unit)) visit(unit);
  return groups;
}

const layerOf = new Map(LAYERS.flatMap((units, layer) => units.map((unit) => [unit, layer] as const)));

describe('import graph', () => {
  const edges = importEdges();

  it('sees the code base (imports across folders exist)', () => {
    expect(edges.length).toBeGreaterThan(100);
  });

  it('has no two folders that import each other, directly or through others', () => {
    const found = cycles(edges).map((group) => {
      const inside = edges.filter((edge) => group.includes(edge.from) && group.includes(edge.to));
      return `${group.join(' ⇄ ')}: ${inside.map((edge) => `${edge.file} → ${edge.specifier}`).join('; ')}`;
    });
    expect(found).toEqual([]);
  });

  it('imports only downwards through the documented layers', () => {
    const unknown = [...new Set(edges.flatMap((edge) => [edge.from, edge.to]))].filter((unit) => !layerOf.has(unit));
    expect(unknown, 'every folder has a layer').toEqual([]);
    const upward = edges
      .filter((edge) => layerOf.get(edge.to)! >= layerOf.get(edge.from)!)
      .map((edge) => `${edge.file} (${edge.from}) → ${edge.specifier} (${edge.to})`);
    expect(upward).toEqual([]);
  });

  it('detects a cycle when one is there', () => {
    const planted: Edge[] = [
      { from: 'sdk/io', to: 'boards', file: 'sdk/io/x.ts', specifier: '../../boards/y.js' },
      { from: 'boards', to: 'sdk/io', file: 'boards/y.ts', specifier: '../sdk/io/x.js' },
    ];
    expect(cycles(planted)).toEqual([['boards', 'sdk/io']]);
  });
});
