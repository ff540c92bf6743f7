/**
 * A test station file for `sensorkit hil run --station FILE`: the fixtures of a station, each a
 * named target with its own seed and instruments, run in parallel.
 *
 * ```json
 * {
 *   "name": "line-3",
 *   "targets": [
 *     { "name": "fixture-1", "target": "emulated", "seed": 1 },
 *     { "name": "fixture-2", "target": "firmata:/dev/ttyACM0", "instruments": { "reference": "scpi-tcp:10.0.0.7" } }
 *   ]
 * }
 * ```
 */
import { readFile } from 'node:fs/promises';
import { StorageError, ValidationError } from '../../core/errors.js';

/** One fixture of a station. */
export interface StationTarget {
  /** Names the fixture's output folder, `DIR/<name>/`: letters, digits, `.`, `_`, `-`. */
  readonly name: string;
  /** A `--target` spec: `emulated`, `firmata:PATH`, `serial:PATH`, `linux`. */
  readonly target: string;
  /** Seed of this fixture's emulated world (default: `--seed`). */
  readonly seed?: number;
  /** Instruments of this fixture by role, as `--instrument ROLE=SPEC` gives them. */
  readonly instruments: Readonly<Record<string, string>>;
}

/** A station file, checked. */
export interface Station {
  /** Recorded as the records' `context.station` (default: the file's name). */
  readonly name?: string;
  readonly targets: readonly StationTarget[];
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a parsed station file; throws `ValidationError` with the path of the bad field.
 *
 * @example
 * ```ts
 * checkStation({ targets: [{ name: 'a', target: 'emulated' }] }) // { targets: [{ name: 'a', target: 'emulated', instruments: {} }] }
 * ```
 */
export function checkStation(value: unknown): Station {
  if (!isObject(value)) throw new ValidationError('', 'expected a JSON object with "targets"');
  for (const key of Object.keys(value)) if (key !== 'name' && key !== 'targets') throw new ValidationError(key, 'unknown member; expected name or targets');
  if (value.name !== undefined && (typeof value.name !== 'string' || value.name === '')) throw new ValidationError('name', 'expected a non-empty string');
  if (!Array.isArray(value.targets) || value.targets.length === 0) throw new ValidationError('targets', 'expected a non-empty array of targets');
  const names = new Set<string>();
  const targets = value.targets.map((raw: unknown, index): StationTarget => {
    const path = `targets[${index}]`;
    if (!isObject(raw)) throw new ValidationError(path, 'expected an object with name and target');
    for (const key of Object.keys(raw)) {
      if (!['name', 'target', 'seed', 'instruments'].includes(key)) throw new ValidationError(`${path}.${key}`, 'unknown member; expected name, target, seed or instruments');
    }
    if (typeof raw.name !== 'string' || !NAME.test(raw.name)) throw new ValidationError(`${path}.name`, 'expected a folder name of letters, digits, ".", "_" and "-" (at most 64)');
    if (names.has(raw.name)) throw new ValidationError(`${path}.name`, `"${raw.name}" names two targets`);
    names.add(raw.name);
    if (typeof raw.target !== 'string' || raw.target === '') throw new ValidationError(`${path}.target`, 'expected a target spec such as "emulated" or "firmata:/dev/ttyACM0"');
    if (raw.seed !== undefined && (typeof raw.seed !== 'number' || !Number.isSafeInteger(raw.seed) || raw.seed < 0)) throw new ValidationError(`${path}.seed`, 'expected a non-negative integer');
    const instruments: Record<string, string> = {};
    if (raw.instruments !== undefined) {
      if (!isObject(raw.instruments)) throw new ValidationError(`${path}.instruments`, 'expected an object of role: spec');
      for (const [role, spec] of Object.entries(raw.instruments)) {
        if (typeof spec !== 'string' || spec === '') throw new ValidationError(`${path}.instruments.${role}`, 'expected an instrument spec such as "sim:dmm" or "scpi-tcp:HOST[:PORT]"');
        instruments[role] = spec;
      }
    }
    return { name: raw.name, target: raw.target, ...(raw.seed === undefined ? {} : { seed: raw.seed as number }), instruments };
  });
  return { ...(value.name === undefined ? {} : { name: value.name as string }), targets };
}

/**
 * Reads and checks a station file; errors name the file and the field.
 *
 * @example
 * ```ts
 * const station = await loadStation('station.json')
 * ```
 */
export async function loadStation(file: string): Promise<Station> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new StorageError(file, `cannot read --station: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(file, `not JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  try {
    return checkStation(value);
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError(error.path ? `${file}: ${error.path}` : file, error.reason);
    throw error;
  }
}
