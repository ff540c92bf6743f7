/**
 * Loading a plan file: a TypeScript or JavaScript module whose default export is a plan from
 * `defineTestPlan()` (TypeScript needs the ts-node loader the `sensorkit` binary registers), or a
 * JSON file holding the declaration. A relative device path in the plan resolves against the plan
 * file's folder. The device file is loaded and the plan checked against it, so a plan naming a
 * channel the device lacks is refused here, before any target opens.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SensorkitError, ValidationError } from '../../sdk/core/errors.js';
import { importFailure } from '../../sdk/runtime/import-error.js';
import { resolveDevice } from '../../sdk/runtime/device-source.js';
import { checkPlan } from './check-plan.js';
import { defineTestPlan, TestPlan } from './define-test-plan.js';
import type { TestPlanSpec } from './spec.js';

/** Largest plan file, bytes (1 MiB). */
export const MAX_PLAN_FILE_BYTES = 1024 * 1024;

const PLAN_EXTENSIONS = ['.ts', '.js', '.mjs', '.json'];

/**
 * A plan file that is missing, does not parse or import, or declares an invalid plan. The message
 * is one line: the file, then the reason (with the field path for a validation error).
 *
 * @example
 * ```ts
 * // PlanFileError: plans/bad.json: phases[1].steps[2].limits: a limit without a unit
 * if (error instanceof PlanFileError) console.error(error.message)
 * ```
 */
export class PlanFileError extends ValidationError {
  /** The plan file as named by the caller. */
  readonly file: string;

  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(file, reason, options);
    this.file = file;
  }
}

/** A loaded plan: the plan (its device file loaded), the file's absolute path and its bytes (for the record's digest). */
export interface LoadedPlan {
  readonly plan: TestPlan;
  readonly path: string;
  readonly bytes: Uint8Array;
}

/**
 * Loads and checks a plan file. Every failure is a one-line `PlanFileError` naming the file (a
 * device file that does not load is the device file's `DeviceFileError`).
 *
 * @example
 * ```ts
 * const { plan, path, bytes } = await loadTestPlan('hil/plans/env-node-temperature.ts')
 * const record = await runTestPlan(plan, { target: createEmulatedTarget({ device: plan.device, seed: 1 }), seed: 1, planFile: { path, bytes } })
 * ```
 */
export async function loadTestPlan(path: string): Promise<LoadedPlan> {
  if (typeof path !== 'string' || path === '') throw new PlanFileError(String(path), 'expected the path of a plan file');
  const file = resolve(path);
  const stats = statSync(file, { throwIfNoEntry: false });
  if (stats === undefined) throw new PlanFileError(path, 'no such file');
  if (!stats.isFile()) throw new PlanFileError(path, 'not a regular file (a plan file is a .ts, .js, .mjs or .json file of at most 1 MiB)');
  if (stats.size > MAX_PLAN_FILE_BYTES) throw new PlanFileError(path, `${(stats.size / MAX_PLAN_FILE_BYTES).toFixed(1)} MiB; a plan file may be at most 1 MiB`);
  const extension = extname(file).toLowerCase();
  if (!PLAN_EXTENSIONS.includes(extension)) throw new PlanFileError(path, `expected a ${PLAN_EXTENSIONS.join(', ')} file`);
  const bytes = new Uint8Array(readFileSync(file));
  const declared = extension === '.json' ? parseJsonPlan(path, bytes) : await importPlan(path, file);

  // A relative device path is the plan file's, not the working directory's.
  const device = typeof declared.device === 'string' && !isAbsolute(declared.device) ? resolve(dirname(file), declared.device) : declared.device;
  const resolved = await resolveDevice(device);
  const plan = declared.withDevice(resolved);
  try {
    checkPlan(plan, resolved.model);
  } catch (error) {
    throw new PlanFileError(path, error instanceof Error ? error.message : String(error), { cause: error });
  }
  return { plan, path: file, bytes };
}

function parseJsonPlan(path: string, bytes: Uint8Array): TestPlan {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new PlanFileError(path, `not valid JSON: ${importFailure(error)}`, { cause: error });
  }
  return define(path, parsed);
}

async function importPlan(path: string, file: string): Promise<TestPlan> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new PlanFileError(path, error instanceof SensorkitError ? error.message : importFailure(error), { cause: error });
  }
  const exported = module.default ?? module.plan;
  if (exported instanceof TestPlan) return exported;
  // A plan built by another copy of sensorkit (a project's own node_modules): checked again here.
  if (typeof exported === 'object' && exported !== null && 'spec' in exported && 'phases' in exported) return define(path, (exported as { spec: unknown }).spec);
  throw new PlanFileError(path, 'must export a plan as default (export default defineTestPlan({ … }))');
}

function define(path: string, spec: unknown): TestPlan {
  try {
    return defineTestPlan(spec as TestPlanSpec);
  } catch (error) {
    throw new PlanFileError(path, error instanceof Error ? error.message : String(error), { cause: error });
  }
}
