/**
 * The shape of a run record as read from a file: the members every reader of a record (verify,
 * replay, JUnit, the report) relies on, checked after parsing so that a file that merely carries
 * the format name, signed or not, is refused with one line instead of failing deep inside a reader.
 */
import { RECORD_FORMAT, type RunRecord } from './record.js';

const OUTCOMES: readonly string[] = ['pass', 'fail', 'conditional-pass', 'conditional-fail', 'skipped', 'aborted', 'recorded'];

type Check = (value: unknown) => boolean;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const string: Check = (value) => typeof value === 'string';
const number: Check = (value) => typeof value === 'number' && Number.isFinite(value);
const boolean: Check = (value) => typeof value === 'boolean';
const outcome: Check = (value) => typeof value === 'string' && OUTCOMES.includes(value);
const verdict: Check = (value) => value === 'pass' || value === 'fail';

/** The first member of `value` (at `path`) that `fields` does not accept, or undefined. */
function firstBad(value: Record<string, unknown>, path: string, fields: Readonly<Record<string, Check>>, optional: Readonly<Record<string, Check>> = {}): string | undefined {
  for (const [name, check] of Object.entries(fields)) {
    if (!(name in value)) return `missing ${path}${name}`;
    if (!check(value[name])) return `${path}${name} is not of the expected type`;
  }
  for (const [name, check] of Object.entries(optional)) {
    if (value[name] !== undefined && !check(value[name])) return `${path}${name} is not of the expected type`;
  }
  return undefined;
}

function objectProblem(value: unknown, path: string, fields: Readonly<Record<string, Check>>, optional?: Readonly<Record<string, Check>>): string | undefined {
  if (!isObject(value)) return `${path.replace(/\.$/, '')} is not an object`;
  return firstBad(value, path, fields, optional);
}

function arrayProblem(value: unknown, path: string, item: (entry: unknown, at: string) => string | undefined): string | undefined {
  if (!Array.isArray(value)) return `${path} is not an array`;
  for (const [index, entry] of value.entries()) {
    const problem = item(entry, `${path}[${index}]`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function measurementProblem(value: unknown, path: string): string | undefined {
  return objectProblem(value, `${path}.`, { id: string, unit: string, outcome, time: number, value: (v) => v === null || number(v) }, { channel: string, reason: string, samples: number, decisionRule: string, limits: isObject, reference: isObject, uncertainty: isObject, series: Array.isArray });
}

function phaseProblem(value: unknown, path: string): string | undefined {
  return (
    objectProblem(value, `${path}.`, { id: string, name: string, iteration: number, outcome, start: number, duration: number, measurements: Array.isArray, log: Array.isArray }, { reason: string }) ??
    arrayProblem((value as Record<string, unknown>).measurements, `${path}.measurements`, measurementProblem) ??
    arrayProblem((value as Record<string, unknown>).log, `${path}.log`, (entry, at) => objectProblem(entry, `${at}.`, { time: number, message: string }))
  );
}

/**
 * What is wrong with the shape of a parsed `record.json`, in a few words (`missing plan`,
 * `phases[0].outcome is not of the expected type`), or undefined when it is shaped like a run
 * record of {@link RECORD_FORMAT}. The values are not judged: a record of a failed run is a record.
 *
 * @example
 * ```ts
 * recordShapeProblem({ format: 'sensorkit-hil-record/1' }) // 'missing plan'
 * recordShapeProblem(JSON.parse(await readFile('out/record.json', 'utf8'))) // undefined
 * ```
 */
export function recordShapeProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'not a JSON object';
  if (value.format !== RECORD_FORMAT) return typeof value.format === 'string' ? `format "${value.format}", expected "${RECORD_FORMAT}"` : 'no format member';
  return (
    firstBad(value, '', {
      plan: isObject,
      target: isObject,
      device: isObject,
      instruments: Array.isArray,
      seed: number,
      clock: isObject,
      context: isObject,
      startedAt: string,
      finishedAt: string,
      wallDuration: number,
      outcome,
      phases: Array.isArray,
    }, { reason: string, injected: Array.isArray, sensorkit: isObject, report: isObject, conditionalOutcomes: isObject }) ??
    objectProblem(value.plan, 'plan.', { id: string, name: string, version: string, digest: string }, { file: string }) ??
    objectProblem(value.target, 'target.', { kind: string, description: string, observation: string, virtualTime: boolean }) ??
    objectProblem(value.device, 'device.', { id: string, manufacturer: string, model: string, serialNumber: string }) ??
    objectProblem(value.clock, 'clock.', { kind: (v) => v === 'virtual' || v === 'system', start: string, duration: number }) ??
    arrayProblem(value.instruments, 'instruments', (entry, at) => objectProblem(entry, `${at}.`, { id: string, connection: string, manufacturer: string, model: string, serialNumber: string, firmware: string, simulated: boolean })) ??
    arrayProblem(value.injected ?? [], 'injected', (entry, at) => objectProblem(entry, `${at}.`, { channel: string, kind: string, value: number })) ??
    (value.conditionalOutcomes === undefined ? undefined : objectProblem(value.conditionalOutcomes, 'conditionalOutcomes.', {}, { pass: verdict, fail: verdict })) ??
    arrayProblem(value.phases, 'phases', phaseProblem)
  );
}

/**
 * Narrows a parsed value to a {@link RunRecord} when {@link recordShapeProblem} finds nothing.
 *
 * @example
 * ```ts
 * if (isRunRecord(value)) console.log(value.plan.id)
 * ```
 */
export function isRunRecord(value: unknown): value is RunRecord {
  return recordShapeProblem(value) === undefined;
}
