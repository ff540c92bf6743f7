/**
 * The package's entry points resolve by name and export what the README shows. Each entry names the
 * compiled JavaScript and its declarations in dist/, mirroring the source path, and the
 * "sensorkit-source" condition that resolves to the TypeScript source inside the repository (these
 * imports use it, so they test the sources, never a stale dist/).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXPECTED_EXPORTS, specifierOf } from '../package/expected-exports.js';

interface ExportEntry {
  readonly 'sensorkit-source': string;
  readonly types: string;
  readonly default: string;
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, ExportEntry> };

describe('package exports', () => {
  it('lists exactly the documented entry points', () => {
    expect(Object.keys(pkg.exports).sort()).toEqual(Object.keys(EXPECTED_EXPORTS).sort());
  });

  it.each(Object.entries(pkg.exports))('%s names its source, then types and JavaScript in dist/', (_subpath, entry) => {
    // Node and TypeScript take the first matching condition, so the order is part of the contract.
    expect(Object.keys(entry)).toEqual(['sensorkit-source', 'types', 'default']);
    const source = entry['sensorkit-source'];
    expect(source).toMatch(/^\.\/.+\.ts$/);
    expect(existsSync(new URL(`../../${source}`, import.meta.url)), `${source} exists`).toBe(true);
    const compiled = `./dist/${source.slice(2, -3)}`;
    expect(entry.types).toBe(`${compiled}.d.ts`);
    expect(entry.default).toBe(`${compiled}.js`);
  });

  it.each(Object.entries(EXPECTED_EXPORTS))('sensorkit%s exports its API by package name', async (subpath, names) => {
    const specifier = specifierOf(subpath);
    const module = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
    for (const name of names) expect(module[name], `${specifier} exports ${name}`).toBeDefined();
  });
});
