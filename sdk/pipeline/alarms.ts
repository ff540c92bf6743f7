/**
 * Limit alarms with hysteresis (deadband), as ISA-18.2 / IEC 62682 recommend against chattering: a
 * high alarm becomes active above its limit and clears only once the value is back below
 * `limit − hysteresis`; a low alarm mirrors it. An event is produced on each transition only, so a
 * value dithering around the limit raises one activation and, later, one clear.
 */
import { ValidationError } from '../core/errors.js';
import type { AlarmSpec } from './specs.js';
import { describe, join, rejectUnknownKeys, requireIdentifier, requireNumber, requireObject, requireString } from '../core/check.js';

const FIELDS = ['id', 'channel', 'kind', 'limit', 'hysteresis', 'severity', 'message'];

/**
 * An alarm's transition.
 *
 * @example
 * ```ts
 * { alarm: 'hot', channel: 'temperature', state: 'active', value: 81.2, limit: 80, severity: 700,
 *   time: 1767225600000, message: 'temperature above 80 (81.2)' }
 * ```
 */
export interface AlarmEvent {
  /** The alarm's id. */
  readonly alarm: string;
  readonly channel: string;
  readonly state: 'active' | 'cleared';
  /** The value that caused the transition. */
  readonly value: number;
  readonly limit: number;
  /** 1 … 1000 (OPC UA event severity). */
  readonly severity: number;
  readonly message: string;
  /** Time of the sample that caused the transition, ms since the epoch. */
  readonly time: number;
}

/**
 * Checks an alarm declaration; throws `ValidationError` naming the bad field under `path`. The one
 * check of an alarm: `defineDevice` runs it on `alarms[i]` (and then checks that the channel
 * exists), `ChannelPipeline` and `AlarmEvaluator` on what they are given. Returns the declaration,
 * typed.
 *
 * @example
 * ```ts
 * validateAlarm({ id: 'hot', channel: 'temp', kind: 'high', limit: 80, severity: 0 }, 'alarms[0]')
 * // throws ValidationError: alarms[0].severity: must be an integer from 1 to 1000, got 0
 * ```
 */
export function validateAlarm(spec: unknown, path: string): AlarmSpec {
  const record = requireObject(spec, path);
  rejectUnknownKeys(record, FIELDS, path, { list: true });
  // An identifier, as every id of a device model: safe in topics, SenML names and URLs.
  requireIdentifier(record.id, join(path, 'id'));
  requireString(record.channel, join(path, 'channel'));
  if (record.kind !== 'high' && record.kind !== 'low') {
    throw new ValidationError(join(path, 'kind'), `must be "high" or "low", got ${describe(record.kind)}`);
  }
  requireNumber(record.limit, join(path, 'limit'));
  if (record.hysteresis !== undefined && requireNumber(record.hysteresis, join(path, 'hysteresis')) < 0) {
    throw new ValidationError(join(path, 'hysteresis'), `must not be negative, got ${describe(record.hysteresis)}`);
  }
  const severity = record.severity;
  if (!Number.isInteger(severity) || (severity as number) < 1 || (severity as number) > 1000) {
    throw new ValidationError(join(path, 'severity'), `must be an integer from 1 to 1000, got ${describe(severity)}`);
  }
  if (record.message !== undefined && typeof record.message !== 'string') {
    throw new ValidationError(join(path, 'message'), `must be a string, got ${describe(record.message)}`);
  }
  return record as unknown as AlarmSpec;
}

/**
 * Evaluates one alarm against a channel's values (validated at construction, errors under the
 * path `alarm`).
 *
 * Without a `message`, events say what happened: "temperature above 80 (81.2)" when a high alarm
 * activates, "temperature back below 78 (77.9)" when it clears.
 *
 * @example
 * ```ts
 * const hot = new AlarmEvaluator({ id: 'hot', channel: 'temperature', kind: 'high', limit: 80, hysteresis: 2, severity: 700 })
 * hot.update(81, t)   // { state: 'active', … }
 * hot.update(79, t)   // undefined (still above 78)
 * hot.update(77.5, t) // { state: 'cleared', … }
 * ```
 */
export class AlarmEvaluator {
  readonly #spec: AlarmSpec;
  readonly #high: boolean;
  /** Where the alarm clears: limit ∓ hysteresis. */
  readonly #clearAt: number;
  #active = false;

  constructor(spec: AlarmSpec) {
    validateAlarm(spec, 'alarm');
    this.#spec = spec;
    this.#high = spec.kind === 'high';
    const hysteresis = spec.hysteresis ?? 0;
    this.#clearAt = this.#high ? spec.limit - hysteresis : spec.limit + hysteresis;
  }

  /** The alarm's id. */
  get id(): string {
    return this.#spec.id;
  }

  /** Whether the alarm is active. */
  get active(): boolean {
    return this.#active;
  }

  /** Feeds a value; returns an event when the alarm changes state, otherwise undefined. NaN is ignored. */
  update(value: number, time: number): AlarmEvent | undefined {
    const { limit } = this.#spec;
    if (!this.#active) {
      if (this.#high ? value > limit : value < limit) {
        this.#active = true;
        return this.#event('active', value, time);
      }
    } else if (this.#high ? value < this.#clearAt : value > this.#clearAt) {
      this.#active = false;
      return this.#event('cleared', value, time);
    }
    return undefined;
  }

  #event(state: AlarmEvent['state'], value: number, time: number): AlarmEvent {
    const spec = this.#spec;
    let message = spec.message;
    if (message === undefined) {
      const [bound, where] = state === 'active' ? [spec.limit, this.#high ? 'above' : 'below'] : [this.#clearAt, this.#high ? 'back below' : 'back above'];
      message = `${spec.channel} ${where} ${bound} (${value})`;
    }
    return { alarm: spec.id, channel: spec.channel, state, value, limit: spec.limit, severity: spec.severity, message, time };
  }
}
