/**
 * A campaign's rollout policy: one JSON declaration saying who is targeted (cohorts), in which
 * steps (waves), how fast (an exponential release rate), what halts it (an error threshold and
 * abort criteria per failure type, each with a minimum sample), when a silent device counts as
 * failed (a timeout), which failures are retried, how long a wave soaks before the next opens, and
 * whether an external health check gates each wave. Parsing fails with a `ValidationError` naming
 * the field, before anything is stored.
 */
import { ValidationError } from '../../../sdk/core/errors.js';

/** Why a device failed an update. `health`: it rolled back; `timeout`: it went silent. */
import { FAILURE_TYPES, type FailureType } from '../../device-protocol.js';

export { FAILURE_TYPES, type FailureType };

/** Devices of one group, optionally of one hardware revision only. */
export interface Cohort {
  readonly group: string;
  readonly hardware?: string;
}

/** Halt when this failure type's share of the finished devices passes `threshold`, once `minSample` have finished. */
export interface AbortCriterion {
  readonly failure: FailureType;
  readonly threshold: number;
  readonly minSample: number;
}

/** Offers released per minute: `start` in the first minute of a wave, ×`factor` each minute after, at most `cap`. */
export interface ReleaseRate {
  readonly start: number;
  readonly factor: number;
  readonly cap: number;
}

/** A parsed rollout policy with every default filled in (see {@link parseRolloutPolicy}). */
export interface RolloutPolicy {
  /** Empty means the campaign's own group (given when the campaign is created). */
  readonly cohorts: readonly Cohort[];
  /** Percent of the cohort devices per wave: integers ≥ 1 summing to 100. */
  readonly waves: readonly number[];
  readonly successThreshold: number;
  readonly errorThreshold: number;
  readonly minSample: number;
  /** Undefined: every device of an open wave is offered at once. */
  readonly rate?: ReleaseRate;
  readonly abort: readonly AbortCriterion[];
  readonly deviceTimeoutS: number;
  readonly retries: Readonly<Partial<Record<FailureType, number>>>;
  readonly soakS: number;
  readonly healthCheck?: 'pause';
  readonly pollIntervalS: number;
  readonly downloadSlotsPerMinute: number;
}

/** The policy of a campaign created without one: its group, one wave, every device at once. */
export const DEFAULT_POLICY: RolloutPolicy = Object.freeze({
  cohorts: [],
  waves: [100],
  successThreshold: 1,
  errorThreshold: 0.2,
  minSample: 10,
  abort: [],
  deviceTimeoutS: 86_400,
  retries: {},
  soakS: 0,
  pollIntervalS: 300,
  downloadSlotsPerMinute: 600,
});

const FIELDS = ['cohorts', 'waves', 'successThreshold', 'errorThreshold', 'minSample', 'rate', 'abort', 'deviceTimeoutS', 'retries', 'soakS', 'healthCheck', 'pollIntervalS', 'downloadSlotsPerMinute'];
/** Longest a timeout, soak or poll interval may be: one year, seconds. */
const MAX_SECONDS = 31_536_000;

/**
 * Parses a rollout policy from JSON text or an already parsed value; fills the defaults. Throws
 * `ValidationError` naming the field for anything unknown or out of range: thresholds outside 0–1,
 * waves that are not integers ≥ 1 summing to 100, times (`deviceTimeoutS`, `soakS`, `pollIntervalS`)
 * that are not whole seconds, a rate factor below 1 or a cap below its start,
 * an unknown failure type, an unknown field.
 *
 * @example
 * ```ts
 * const policy = parseRolloutPolicy('{"waves":[10,90],"successThreshold":0.95,"abort":[{"failure":"download","threshold":0.2}]}')
 * policy.minSample // 10
 * parseRolloutPolicy('{"waves":[10,80]}') // ValidationError: waves: expected percentages summing to 100, got 90
 * ```
 */
export function parseRolloutPolicy(json: string | unknown): RolloutPolicy {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new ValidationError('policy', `not JSON: ${(error as Error).message}`);
    }
  }
  const input = object(value, 'policy');
  for (const key of Object.keys(input)) if (!FIELDS.includes(key)) throw new ValidationError(key, `unknown field; expected one of ${FIELDS.join(', ')}`);
  const policy: { -readonly [K in keyof RolloutPolicy]: RolloutPolicy[K] } = { ...DEFAULT_POLICY };
  if (input.cohorts !== undefined) policy.cohorts = cohorts(input.cohorts);
  if (input.waves !== undefined) policy.waves = waves(input.waves);
  if (input.successThreshold !== undefined) policy.successThreshold = share(input.successThreshold, 'successThreshold');
  if (input.errorThreshold !== undefined) policy.errorThreshold = share(input.errorThreshold, 'errorThreshold');
  if (input.minSample !== undefined) policy.minSample = integer(input.minSample, 'minSample', 1, 1_000_000_000);
  if (input.rate !== undefined) policy.rate = rate(input.rate);
  if (input.abort !== undefined) policy.abort = abort(input.abort);
  if (input.deviceTimeoutS !== undefined) policy.deviceTimeoutS = seconds(input.deviceTimeoutS, 'deviceTimeoutS', 1);
  if (input.retries !== undefined) policy.retries = retries(input.retries);
  if (input.soakS !== undefined) policy.soakS = seconds(input.soakS, 'soakS', 0);
  if (input.healthCheck !== undefined) {
    if (input.healthCheck !== 'pause') throw new ValidationError('healthCheck', `expected "pause", got ${JSON.stringify(input.healthCheck)}`);
    policy.healthCheck = 'pause';
  }
  if (input.pollIntervalS !== undefined) policy.pollIntervalS = seconds(input.pollIntervalS, 'pollIntervalS', 1);
  if (input.downloadSlotsPerMinute !== undefined) policy.downloadSlotsPerMinute = integer(input.downloadSlotsPerMinute, 'downloadSlotsPerMinute', 1, 10_000_000);
  return Object.freeze(policy);
}

/** Whether a failure type is one sensorkit knows. */
export function isFailureType(value: unknown): value is FailureType {
  return typeof value === 'string' && (FAILURE_TYPES as readonly string[]).includes(value);
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(path, `expected an object, got ${shown(value)}`);
  return value as Record<string, unknown>;
}

function cohorts(value: unknown): Cohort[] {
  if (!Array.isArray(value) || value.length === 0) throw new ValidationError('cohorts', `expected a non-empty array, got ${shown(value)}`);
  return value.map((item, i) => {
    const path = `cohorts[${i}]`;
    const cohort = object(item, path);
    for (const key of Object.keys(cohort)) if (key !== 'group' && key !== 'hardware') throw new ValidationError(`${path}.${key}`, 'unknown field; expected group, hardware');
    const group = name(cohort.group, `${path}.group`);
    return cohort.hardware === undefined ? { group } : { group, hardware: name(cohort.hardware, `${path}.hardware`) };
  });
}

function waves(value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 100) throw new ValidationError('waves', `expected an array of 1 to 100 percentages, got ${shown(value)}`);
  const result = value.map((item, i) => integer(item, `waves[${i}]`, 1, 100));
  const sum = result.reduce((a, b) => a + b, 0);
  if (sum !== 100) throw new ValidationError('waves', `expected percentages summing to 100, got ${sum}`);
  return result;
}

function rate(value: unknown): ReleaseRate {
  const input = object(value, 'rate');
  for (const key of Object.keys(input)) if (!['start', 'factor', 'cap'].includes(key)) throw new ValidationError(`rate.${key}`, 'unknown field; expected start, factor, cap');
  const start = integer(input.start, 'rate.start', 1, 10_000_000);
  const factor = input.factor === undefined ? 1 : number(input.factor, 'rate.factor', 1, 1000);
  const cap = input.cap === undefined ? start : integer(input.cap, 'rate.cap', 1, 10_000_000);
  if (cap < start) throw new ValidationError('rate.cap', `expected at least rate.start (${start}), got ${cap}`);
  return { start, factor, cap };
}

function abort(value: unknown): AbortCriterion[] {
  if (!Array.isArray(value)) throw new ValidationError('abort', `expected an array, got ${shown(value)}`);
  return value.map((item, i) => {
    const path = `abort[${i}]`;
    const input = object(item, path);
    for (const key of Object.keys(input)) if (!['failure', 'threshold', 'minSample'].includes(key)) throw new ValidationError(`${path}.${key}`, 'unknown field; expected failure, threshold, minSample');
    if (!isFailureType(input.failure)) throw new ValidationError(`${path}.failure`, `expected one of ${FAILURE_TYPES.join(', ')}, got ${shown(input.failure)}`);
    return { failure: input.failure, threshold: share(input.threshold, `${path}.threshold`), minSample: input.minSample === undefined ? DEFAULT_POLICY.minSample : integer(input.minSample, `${path}.minSample`, 1, 1_000_000_000) };
  });
}

function retries(value: unknown): Partial<Record<FailureType, number>> {
  const input = object(value, 'retries');
  const result: Partial<Record<FailureType, number>> = {};
  for (const [key, count] of Object.entries(input)) {
    if (!isFailureType(key)) throw new ValidationError(`retries.${key}`, `unknown failure type; expected one of ${FAILURE_TYPES.join(', ')}`);
    result[key] = integer(count, `retries.${key}`, 0, 100);
  }
  return result;
}

function name(value: unknown, path: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(value)) throw new ValidationError(path, `expected 1 to 128 of A-Z a-z 0-9 . _ : -, got ${shown(value)}`);
  return value;
}

function share(value: unknown, path: string): number {
  return number(value, path, 0, 1);
}

/**
 * A time in whole seconds. The store keeps times as integer milliseconds (SQL bigint) and works
 * them out as `seconds * 1000`; a fraction of a second (1.0005, or 1.1, whose ×1000 is not exact
 * in floating point) would reach SQL as a non-integer, so it is refused rather than rounded.
 */
function seconds(value: unknown, path: string, min: number): number {
  if (typeof value === 'number' && Number.isFinite(value) && !Number.isInteger(value)) throw new ValidationError(path, `expected whole seconds from ${min} to ${MAX_SECONDS}, got ${shown(value)}`);
  return integer(value, path, min, MAX_SECONDS);
}

function number(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) throw new ValidationError(path, `expected a number from ${min} to ${max}, got ${shown(value)}`);
  return value;
}

function integer(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new ValidationError(path, `expected an integer from ${min} to ${max}, got ${shown(value)}`);
  return value;
}

function shown(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
