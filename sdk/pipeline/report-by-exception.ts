/**
 * Report-by-exception: send a sample only when it says something new. This is OPC UA's data-change
 * filter with an absolute deadband (IEC 62541-4, OPC UA 1.05 Part 4 §7.22.2): a value is reported
 * when |value − last reported value| > deadband, compared with the last *reported* value so that a
 * slow creep is reported once it has moved by the deadband in total. A change of status is always
 * reported (the filter's default trigger is status-or-value), and a heartbeat bounds the time
 * between reports so that a quiet channel can be told from a dead one.
 *
 * The heartbeat counts from the last report's sample time. When the clock re-bases on a wall-time
 * step, `rebase(stepMs)` moves that reference with it; a sample older than the last report (a step
 * back nobody re-based) is reported, so the heartbeat is anchored again rather than silent until
 * the wall clock catches up.
 */
import { ArgumentError, ValidationError } from '../core/errors.js';
import type { Sample } from '../core/sample.js';
import type { ReportingSpec } from './specs.js';
import { describe, join, rejectUnknownKeys, requireObject } from '../core/check.js';

/** Default heartbeat when a deadband is set, ms (ReportingSpec: 60 s). */
const DEFAULT_HEARTBEAT_MS = 60_000;

/**
 * Options of {@link ReportByException}.
 *
 * @example
 * ```ts
 * const options: ReportByExceptionOptions = resolveDeadband(channel.reporting, channel.range)
 * ```
 */
export interface ReportByExceptionOptions {
  /** Absolute deadband in the channel's unit, ≥ 0. Absent: every sample is reported. */
  readonly deadband?: number;
  /** Report at least this often (ms since the last report), > 0. Absent: no heartbeat. */
  readonly heartbeatMs?: number;
}

/**
 * Decides, sample by sample, whether a sample is reported.
 *
 * Reported: the first sample; a value that moved by more than the deadband from the last reported
 * value (with deadband 0: any change); a value appearing or disappearing (`null`); any change of
 * quality level or reason; a sample `heartbeatMs` or more after the last report. Without a
 * deadband, everything is reported.
 *
 * @example
 * ```ts
 * const rbe = new ReportByException({ deadband: 0.5, heartbeatMs: 60_000 })
 * rbe.decide(sample) // true for the first sample
 * ```
 */
export class ReportByException {
  readonly #deadband: number;
  readonly #heartbeatMs: number;
  #reported = false;
  #lastValue: number | null = null;
  #lastLevel = '';
  #lastReason: string | undefined;
  #lastTime = 0;

  constructor(options: ReportByExceptionOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new ArgumentError(`Expected \`options\` to be an object, got ${describe(options)}`);
    const { deadband, heartbeatMs } = options;
    if (deadband !== undefined && (typeof deadband !== 'number' || !(deadband >= 0 && deadband < Infinity))) {
      throw new ArgumentError(`Expected \`deadband\` to be a finite number from 0 and up, got ${describe(deadband)}`);
    }
    if (heartbeatMs !== undefined && (typeof heartbeatMs !== 'number' || !(heartbeatMs > 0 && heartbeatMs < Infinity))) {
      throw new ArgumentError(`Expected \`heartbeatMs\` to be a finite number above 0, got ${describe(heartbeatMs)}`);
    }
    // -1 encodes "no deadband" and Infinity "no heartbeat", keeping `decide` free of undefined checks.
    this.#deadband = deadband ?? -1;
    this.#heartbeatMs = heartbeatMs ?? Infinity;
  }

  /** Whether `sample` is reported; a reported sample becomes the new reference. */
  decide(sample: Sample): boolean {
    if (this.#reported && this.#deadband >= 0 && !this.#changed(sample)) return false;
    this.#reported = true;
    this.#lastValue = sample.value;
    this.#lastLevel = sample.quality.level;
    this.#lastReason = sample.quality.reason;
    this.#lastTime = sample.time;
    return true;
  }

  /**
   * Moves the last report's time by `stepMs`: the clock re-based on a wall-time step.
   *
   * @example
   * ```ts
   * onClockStep(clock, ({ stepMs }) => rbe.rebase(stepMs))
   * ```
   */
  rebase(stepMs: number): void {
    this.#lastTime += stepMs;
  }

  /** Forgets the last report; the next sample is reported. */
  reset(): void {
    this.#reported = false;
  }

  #changed(sample: Sample): boolean {
    const { quality, value } = sample;
    if (quality.level !== this.#lastLevel || quality.reason !== this.#lastReason) return true;
    const last = this.#lastValue;
    if (value === null || last === null) {
      if (value !== last) return true;
    } else if (Math.abs(value - last) > this.#deadband) {
      return true;
    }
    const sinceReport = sample.time - this.#lastTime;
    return sinceReport >= this.#heartbeatMs || (sinceReport < 0 && this.#heartbeatMs !== Infinity);
  }
}

const REPORTING_FIELDS = ['deadband', 'deadbandPercent', 'heartbeat'];

/**
 * Checks a channel's reporting declaration; throws `ValidationError` naming the bad field under
 * `path`. The one check of it: `defineDevice` runs it on `channels[i].reporting`, and
 * {@link resolveDeadband} (so `ChannelPipeline`) on what it is given. Returns the declaration, typed.
 *
 * @example
 * ```ts
 * validateReporting({ deadband: -1 }, 'channels[2].reporting')
 * // throws ValidationError: channels[2].reporting.deadband: must be a finite number from 0 and up, got -1
 * ```
 */
export function validateReporting(reporting: unknown, path: string): ReportingSpec {
  const spec = requireObject(reporting, path);
  rejectUnknownKeys(spec, REPORTING_FIELDS, path, { list: true });
  const { deadband, deadbandPercent, heartbeat } = spec;
  if (deadband !== undefined && deadbandPercent !== undefined) {
    throw new ValidationError(join(path, 'deadbandPercent'), 'cannot be combined with deadband; set one of them');
  }
  if (deadband !== undefined && (typeof deadband !== 'number' || !(deadband >= 0 && deadband < Infinity))) {
    throw new ValidationError(join(path, 'deadband'), `must be a finite number from 0 and up, got ${describe(deadband)}`);
  }
  if (deadbandPercent !== undefined && (typeof deadbandPercent !== 'number' || !(deadbandPercent >= 0 && deadbandPercent <= 100))) {
    throw new ValidationError(join(path, 'deadbandPercent'), `must be a number from 0 to 100, got ${describe(deadbandPercent)}`);
  }
  if (heartbeat !== undefined && (typeof heartbeat !== 'number' || !(heartbeat > 0 && heartbeat < Infinity))) {
    throw new ValidationError(join(path, 'heartbeat'), `must be a number of seconds above 0, got ${describe(heartbeat)}`);
  }
  return spec as ReportingSpec;
}

/**
 * Turns a channel's reporting declaration into {@link ReportByException} options: a percent
 * deadband becomes an absolute one over the measuring range's span (the OPC UA percent deadband,
 * IEC 62541-8 §6.2, over EURange), and the heartbeat defaults to 60 s when a deadband is set.
 * Throws `ValidationError` under `path` for a bad declaration (see {@link validateReporting}), and
 * `ArgumentError` for a range that is not finite with min below max and a finite span (±1e308:
 * both bounds finite, max − min Infinity).
 *
 * @example
 * ```ts
 * resolveDeadband({ deadbandPercent: 0.5 }, { min: -40, max: 85 })
 * // { deadband: 0.625, heartbeatMs: 60000 }
 * ```
 */
export function resolveDeadband(
  reporting: ReportingSpec | undefined,
  range: { readonly min: number; readonly max: number },
  path = 'reporting',
): ReportByExceptionOptions {
  if (reporting === undefined) return {};
  const { deadband, deadbandPercent, heartbeat } = validateReporting(reporting, path);
  let absolute = deadband;
  if (deadbandPercent !== undefined) {
    if (!(Number.isFinite(range.max - range.min) && range.min < range.max)) {
      throw new ArgumentError(`Expected \`range\` to have finite min below max and a finite span, got min ${String(range.min)}, max ${String(range.max)}`);
    }
    absolute = (deadbandPercent / 100) * (range.max - range.min);
  }
  let heartbeatMs: number | undefined;
  if (heartbeat !== undefined) heartbeatMs = heartbeat * 1000;
  else if (absolute !== undefined) heartbeatMs = DEFAULT_HEARTBEAT_MS;
  return {
    ...(absolute === undefined ? {} : { deadband: absolute }),
    ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
  };
}
