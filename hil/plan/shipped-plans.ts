/**
 * The plans shipped in `hil/plans/` (`dist/hil/plans/` in the package): every plan file there,
 * with the one-line `description` it exports, found relative to this module. A module without a
 * `description` export (a plan's helpers) is not a plan.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A shipped plan. */
export interface ShippedPlan {
  /** The file name without its extension, e.g. `env-node-temperature`. */
  readonly id: string;
  /** Absolute path of the plan file. */
  readonly file: string;
  /** What it tests, in one line (the file's `export const description`). */
  readonly description: string;
}

/** `export const description = '…'` (or "…" or `…`), in the source and in the compiled module alike. */
const DESCRIPTION = /export\s+const\s+description(?:\s*:\s*string)?\s*=\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/;

/** Else the `description` field of the plan the module exports: `export default defineTestPlan({ … description: '…'`. */
const PLAN_DESCRIPTION = /export\s+default\s+defineTestPlan\(\{[^]*?\bdescription\s*:\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/;

/**
 * The shipped plans, sorted by id.
 *
 * @example
 * ```ts
 * shippedPlans().map((plan) => plan.id) // ['communications', 'env-node-temperature', 'pressure-transmitter-loop']
 * ```
 */
export function shippedPlans(): readonly ShippedPlan[] {
  const folder = fileURLToPath(new URL('../plans/', import.meta.url));
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const plans: ShippedPlan[] = [];
  for (const name of names.sort()) {
    const match = /^(.+)\.(ts|js|mjs|json)$/.exec(name);
    if (match === null || name.endsWith('.d.ts')) continue;
    const id = match[1]!;
    if (plans.some((plan) => plan.id === id)) continue;
    const file = join(folder, name);
    const description = descriptionOf(file, match[2]!);
    if (description !== undefined) plans.push({ id, file, description });
  }
  return plans;
}

function descriptionOf(file: string, extension: string): string | undefined {
  const text = readFileSync(file, 'utf8');
  if (extension === 'json') {
    try {
      const parsed = JSON.parse(text) as { description?: unknown; name?: unknown };
      return typeof parsed.description === 'string' ? parsed.description : typeof parsed.name === 'string' ? parsed.name : undefined;
    } catch {
      return undefined;
    }
  }
  const found = DESCRIPTION.exec(text) ?? PLAN_DESCRIPTION.exec(text);
  return found === null ? undefined : found[2]!.replace(/\\(.)/g, '$1');
}
