/**
 * The rules that turn a reading (or its failure) into a sample's `Quality`, and the tracker that
 * reports a channel's fault once until it clears.
 *
 * The levels follow NAMUR NE 107's status signals mapped onto OPC UA's status classes
 * (IEC 62541-4 §7.39): a value outside the measuring range is "out of specification" and a
 * calibration past its date needs "maintenance" — the value is still shown, as `uncertain`; a part
 * that does not answer is a "failure" — `bad`, with no value once the last good one is too old to
 * stand in for it. Signals a 4–20 mA part puts outside its valid band (NAMUR NE 43: < 3.6 mA or
 * > 21 mA) arrive here as read failures: the driver rejects them with a `SensorError`.
 */
import { describe } from '../core/check.js';
import { ArgumentError } from '../core/errors.js';
import { GOOD, type Quality } from '../core/sample.js';
import type { PipelineChannelSpec } from './specs.js';

/**
 * `uncertain` because the value is outside the channel's measuring range (NE 107 "out of
 * specification"). Shared and frozen.
 *
 * @example
 * ```ts
 * if (sample.quality === OUT_OF_RANGE) display.mark(sample.channel, 'out of range')
 * ```
 */
export const OUT_OF_RANGE: Quality = Object.freeze({ level: 'uncertain', reason: 'out_of_range' });

/**
 * `uncertain` because the calibration record is past its validity date (NE 107 "maintenance
 * required"). Shared and frozen.
 *
 * @example
 * ```ts
 * if (sample.quality.reason === CALIBRATION_EXPIRED.reason) scheduleRecalibration(sample.channel)
 * ```
 */
export const CALIBRATION_EXPIRED: Quality = Object.freeze({ level: 'uncertain', reason: 'calibration_expired' });

/** Periods of silence after which a repeated value is no longer passed off as `stale` (ChannelSpec default). */
const DEFAULT_STALE_PERIODS = 3;

/**
 * How long the last good value may stand in for failed reads, ms: `staleAfter` seconds, or three
 * sample periods by default.
 *
 * @example
 * ```ts
 * staleAfterMs({ sampleRate: 10 }) // 300
 * staleAfterMs({ sampleRate: 10, staleAfter: 5 }) // 5000
 * ```
 */
export function staleAfterMs(channel: Pick<PipelineChannelSpec, 'sampleRate' | 'staleAfter'>): number {
  return channel.staleAfter !== undefined ? channel.staleAfter * 1000 : (DEFAULT_STALE_PERIODS * 1000) / channel.sampleRate;
}

/**
 * Quality of a successfully read, calibrated value: `out_of_range` outside `range` (bounds
 * included in the range), else `calibration_expired` when the calibration is past its date, else
 * good. Returns shared frozen objects: nothing is allocated on this hot path.
 *
 * @example
 * ```ts
 * valueQuality(130, { min: -40, max: 125 }, false) // OUT_OF_RANGE
 * valueQuality(20, { min: -40, max: 125 }, true)   // CALIBRATION_EXPIRED
 * valueQuality(20, { min: -40, max: 125 }, false)  // GOOD
 * ```
 */
export function valueQuality(value: number, range: { readonly min: number; readonly max: number }, calibrationExpired: boolean): Quality {
  if (value < range.min || value > range.max) return OUT_OF_RANGE;
  return calibrationExpired ? CALIBRATION_EXPIRED : GOOD;
}

/**
 * The last value a successful read produced, and when.
 *
 * @example
 * ```ts
 * const lastGood: LastGood = { value: 21.5, time: clock.now() }
 * ```
 */
export interface LastGood {
  readonly value: number;
  readonly time: number;
}

/**
 * What a failed read becomes: the stand-in value (or null) and its quality.
 *
 * @example
 * ```ts
 * const { value, quality }: FailureOutcome = failureOutcome(error, lastGood, clock.now(), 300)
 * ```
 */
export interface FailureOutcome {
  readonly value: number | null;
  readonly quality: Quality;
}

/**
 * What a failed read at `time` becomes. While the last good value is younger than
 * `staleAfterMs`, it is repeated as `uncertain`/`stale`; after that the sample is `bad`/
 * `sensor_fault` with no value. Either way `detail` carries the error's message.
 *
 * "Last good" means the last value a read produced, whatever its quality: a channel whose
 * calibration has expired still has values worth repeating for a moment.
 *
 * @example
 * ```ts
 * failureOutcome(new BusError('ERR_I2C_NAK', 'no ACK from 0x76'), { value: 21.5, time: 0 }, 100, 300)
 * // { value: 21.5, quality: { level: 'uncertain', reason: 'stale', detail: 'no ACK from 0x76' } }
 * ```
 */
export function failureOutcome(error: unknown, lastGood: LastGood | undefined, time: number, staleAfter: number): FailureOutcome {
  const detail = errorDetail(error);
  if (lastGood !== undefined && time - lastGood.time < staleAfter) {
    return { value: lastGood.value, quality: { level: 'uncertain', reason: 'stale', detail } };
  }
  return { value: null, quality: { level: 'bad', reason: 'sensor_fault', detail } };
}

/**
 * A one-line description of whatever a read rejected with.
 *
 * @example
 * ```ts
 * errorDetail(new BusError('ERR_BUS_TIMEOUT', 'no answer from 0x76')) // 'no answer from 0x76'
 * errorDetail('boom')                                                // 'boom'
 * ```
 */
export function errorDetail(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/**
 * A channel's fault being raised or cleared.
 *
 * @example
 * ```ts
 * { channel: 'temperature', state: 'raised', time: 1767225600000,
 *   quality: { level: 'uncertain', reason: 'stale', detail: 'no ACK from 0x76' } }
 * ```
 */
export interface FaultEvent {
  readonly channel: string;
  readonly state: 'raised' | 'cleared';
  /** The quality of the sample that raised or cleared the fault. */
  readonly quality: Quality;
  readonly time: number;
}

/** Reasons that make a channel faulty: its reads fail, or it measures outside its range. */
function isFault(quality: Quality): boolean {
  const reason = quality.reason;
  return reason === 'stale' || reason === 'sensor_fault' || reason === 'out_of_range';
}

/**
 * Reports a channel's fault once (ESPHome's "warn once, clear on recovery"): `raised` on the first
 * sample that is stale, a sensor fault or out of range; `cleared` on the next sample without a
 * fault; nothing in between, however the fault evolves (stale → sensor_fault is the same fault).
 *
 * A sample that is uncertain only because its calibration expired is not a fault (it needs
 * maintenance, not repair), so it clears a fault like a good sample does — otherwise a channel with
 * an expired certificate could never clear.
 *
 * @example
 * ```ts
 * const faults = new FaultTracker('temperature')
 * faults.update(sample.quality, sample.time) // FaultEvent | undefined
 * ```
 */
export class FaultTracker {
  readonly #channel: string;
  #raised = false;

  constructor(channel: string) {
    if (typeof channel !== 'string' || channel === '') throw new ArgumentError(`Expected \`channel\` to be a non-empty string, got ${describe(channel)}`);
    this.#channel = channel;
  }

  /** Whether a fault is raised and not yet cleared. */
  get raised(): boolean {
    return this.#raised;
  }

  /** Feeds a sample's quality; returns an event when the fault is raised or cleared. */
  update(quality: Quality, time: number): FaultEvent | undefined {
    const faulty = isFault(quality);
    if (faulty === this.#raised) return undefined;
    this.#raised = faulty;
    return { channel: this.#channel, state: faulty ? 'raised' : 'cleared', quality, time };
  }
}
