/**
 * Turns a sampling group's results into pipeline inputs for each channel that reads the group:
 * unit conversion from the part's output unit, and windowed aggregates (vibration RMS …) that know
 * how many samples they expected and got.
 */
import { SensorError } from '../core/errors.js';
import type { Provenance, Quality } from '../core/sample.js';
import type { ChannelModel } from '../model/define-device.js';
import { converter } from '../core/units.js';
import type { PipelineInput } from '../pipeline/channel-pipeline.js';
import { WindowAggregator, completenessDetail, type WindowCompleteness, type WindowResult } from '../sampling/aggregate.js';
import type { SamplingResult } from '../sampling/sampler.js';


/**
 * One pipeline input of a channel, with what the pipeline cannot see from the value alone: a
 * quality the acquisition gave it (a loss before it, an incomplete window) and, for an aggregate,
 * the window's completeness.
 */
export interface ChannelUpdate {
  readonly input: PipelineInput;
  readonly quality?: Quality;
  readonly completeness?: WindowCompleteness;
}

const NONE: readonly ChannelUpdate[] = Object.freeze([]);

/**
 * One channel's view of its part: picks its output from each reading, converts it to the channel's
 * unit, and for aggregate channels reduces a window of raw readings to one value.
 *
 * A window spans `windowSize` samples of the part's time: samples reported missing
 * (`missedBefore`: overruns of a timed group, frames lost from a FIFO) take their places, so a
 * window with a hole closes on time, with `uncertain` quality and its completeness
 * (`completeness 0.987 (987/1000)`); one with no sample at all is a failure.
 */
export class ChannelInput {
  readonly channel: ChannelModel;
  readonly #toChannelUnit: (value: number) => number;
  readonly #aggregator: WindowAggregator | undefined;
  readonly #windowSize: number;
  readonly #sensorClocked: boolean;
  #windowTicks = 0;
  #windowFailure: unknown = undefined;
  #lastFailureTime = -Infinity;

  /**
   * @param sensorClocked whether the channel's part is drained sensor-clocked: then a failure does
   * not fail a window (lost frames arrive as `missedBefore`), it is shown at once, at most once a
   * window's duration, so that a part that stopped answering does not go silent.
   */
  constructor(channel: ChannelModel, sensorClocked = false) {
    this.channel = channel;
    this.#sensorClocked = sensorClocked;
    const aggregate = channel.aggregate;
    // A crest factor is a ratio of two values in the same unit: no conversion applies.
    this.#toChannelUnit = aggregate?.statistic === 'crest-factor' ? (value) => value : converter(channel.binding.outputSpec.unit, channel.unit);
    this.#windowSize = aggregate ? Math.round(aggregate.rawRate / channel.sampleRate) : 1;
    this.#aggregator = aggregate
      ? new WindowAggregator({ statistic: aggregate.statistic, windowSize: this.#windowSize, acCoupled: aggregate.acCoupled ?? false })
      : undefined;
  }

  /**
   * The clock re-based on a wall-time step of `stepMs`: the last shown failure's time moves with
   * it, so that a step back does not hide the failures of the next 2 h.
   *
   * @example
   * ```ts
   * const off = onClockStep(clock, ({ stepMs }) => input.rebase(stepMs))
   * ```
   */
  rebase(stepMs: number): void {
    this.#lastFailureTime += stepMs;
  }

  /** Returns the pipeline inputs for this result: none while an aggregate window fills. */
  accept(result: SamplingResult): readonly ChannelUpdate[] {
    const provenance: Provenance | undefined = result.ok ? result.reading.provenance : undefined;
    const aggregator = this.#aggregator;
    if (aggregator === undefined) {
      if (!result.ok) return [{ input: { time: result.time, error: result.error } }];
      const input = withProvenance({ time: result.reading.time, value: this.#value(result) }, provenance);
      return [result.quality === undefined ? { input } : { input, quality: result.quality }];
    }
    if (!result.ok && this.#sensorClocked) {
      const windowMs = (this.#windowSize * 1000) / this.channel.aggregate!.rawRate;
      if (result.time - this.#lastFailureTime < windowMs) return NONE;
      this.#lastFailureTime = result.time;
      return [{ input: { time: result.time, error: result.error } }];
    }
    if (!result.ok) {
      // A failed read fails its window: reported once, at the window's end.
      this.#windowFailure ??= result.error;
      return this.#countTick(result.time, NONE);
    }
    const time = result.reading.time;
    let updates: readonly ChannelUpdate[] = NONE;
    const missed = result.missedBefore ?? 0;
    if (this.#windowFailure !== undefined) {
      // The window already failed: missing samples only move it towards its end.
      this.#windowTicks = Math.min(this.#windowSize - 1, this.#windowTicks + missed);
      return this.#countTick(time, NONE);
    }
    if (missed > 0) {
      updates = aggregator.miss(missed).map((window) => this.#windowUpdate(window, time, provenance));
      this.#windowTicks = aggregator.count + aggregator.missed;
    }
    const window = aggregator.add(this.#value(result));
    if (window !== undefined) updates = [...updates, this.#windowUpdate(window, time, provenance)];
    return this.#countTick(time, updates);
  }

  /** Counts a tick; ends a failed window on its last tick, reporting the failure once. */
  #countTick(time: number, updates: readonly ChannelUpdate[]): readonly ChannelUpdate[] {
    this.#windowTicks++;
    if (this.#windowTicks < this.#windowSize) return updates;
    this.#windowTicks = 0;
    if (this.#windowFailure === undefined) return updates;
    const error = this.#windowFailure;
    this.#windowFailure = undefined;
    this.#aggregator!.reset();
    return [...updates, { input: { time, error } }];
  }

  #windowUpdate(window: WindowResult, time: number, provenance: Provenance | undefined): ChannelUpdate {
    const completeness = { expected: window.expected, received: window.received };
    if (window.received === 0) {
      return { input: { time, error: new SensorError(`no samples in the window: ${completenessDetail(window)}`) }, completeness };
    }
    const input = withProvenance({ time, value: window.value }, provenance);
    if (window.received >= window.expected) return { input, completeness };
    return { input, completeness, quality: { level: 'uncertain', reason: 'incomplete', detail: completenessDetail(window) } };
  }

  #value(result: SamplingResult & { ok: true }): number {
    const raw = result.reading.values[this.channel.binding.output];
    return raw === undefined ? Number.NaN : this.#toChannelUnit(raw);
  }
}

function withProvenance(input: { time: number; value: number }, provenance: Provenance | undefined): PipelineInput {
  return provenance === undefined ? input : { ...input, provenance };
}
