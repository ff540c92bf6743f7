/** sensorkit's own version, as the record names it. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The version in sensorkit's package.json, found by walking up from this module (the sources and
 * the built `dist/` alike); `0.0.0-unknown` when there is none.
 *
 * @example
 * ```ts
 * sensorkitVersion() // '0.1.0'
 * ```
 */
export function sensorkitVersion(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'sensorkit' && typeof manifest.version === 'string') return (cached = manifest.version);
    } catch {
      // no package.json here: one folder up
    }
    dir = dirname(dir);
  }
  return (cached = '0.0.0-unknown');
}
