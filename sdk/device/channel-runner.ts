/**
 * Turns a sampling group's results into pipeline inputs for each channel that reads the group:
 * unit conversion from the part's output unit, and windowed aggregates (vibration RMS …).
 */
import type { Provenance } from '../core/sample.js';
import type { ChannelModel } from '../model/define-device.js';
import { converter } from '../core/units.js';
import type { PipelineInput } from '../pipeline/channel-pipeline.js';
import { WindowAggregator } from '../sampling/aggregate.js';
import type { SamplingResult } from '../sampling/sampler.js';

/**
 * One channel's view of its part: picks its output from each reading, converts it to the channel's
 * unit, and for aggregate channels reduces a window of raw readings to one value.
 */
export class ChannelInput {
  readonly channel: ChannelModel;
  readonly #toChannelUnit: (value: number) => number;
  readonly #aggregator: WindowAggregator | undefined;
  readonly #windowSize: number;
  #windowTicks = 0;
  #windowFailure: unknown = undefined;

  constructor(channel: ChannelModel) {
    this.channel = channel;
    const aggregate = channel.aggregate;
    // A crest factor is a ratio of two values in the same unit: no conversion applies.
    this.#toChannelUnit = aggregate?.statistic === 'crest-factor' ? (value) => value : converter(channel.binding.outputSpec.unit, channel.unit);
    this.#windowSize = aggregate ? Math.round(aggregate.rawRate / channel.sampleRate) : 1;
    this.#aggregator = aggregate
      ? new WindowAggregator({ statistic: aggregate.statistic, windowSize: this.#windowSize, acCoupled: aggregate.acCoupled ?? false })
      : undefined;
  }

  /** Returns the pipeline input for this result, or undefined while an aggregate window fills. */
  accept(result: SamplingResult): PipelineInput | undefined {
    const provenance: Provenance | undefined = result.ok ? result.reading.provenance : undefined;
    if (this.#aggregator === undefined) {
      if (!result.ok) return { time: result.time, error: result.error };
      return withProvenance({ time: result.reading.time, value: this.#value(result) }, provenance);
    }
    // Aggregates: a window with any failed read reports the failure once, at the window's end,
    // instead of a statistic over a gappy window.
    this.#windowTicks++;
    let input: PipelineInput | undefined;
    if (!result.ok) {
      this.#windowFailure ??= result.error;
    } else if (this.#windowFailure === undefined) {
      const statistic = this.#aggregator.push(this.#value(result));
      if (statistic !== undefined) input = withProvenance({ time: result.reading.time, value: statistic }, provenance);
    }
    if (this.#windowTicks >= this.#windowSize) {
      if (this.#windowFailure !== undefined) {
        input = { time: result.ok ? result.reading.time : result.time, error: this.#windowFailure };
        this.#aggregator.reset();
      }
      this.#windowTicks = 0;
      this.#windowFailure = undefined;
    }
    return input;
  }

  #value(result: SamplingResult & { ok: true }): number {
    const raw = result.reading.values[this.channel.binding.output];
    return raw === undefined ? Number.NaN : this.#toChannelUnit(raw);
  }
}

function withProvenance(input: { time: number; value: number }, provenance: Provenance | undefined): PipelineInput {
  return provenance === undefined ? input : { ...input, provenance };
}
