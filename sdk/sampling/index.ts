/**
 * sensorkit sampling: the drift-free multi-rate `Sampler`, the sensor-clocked `StreamSampler` for
 * parts with a FIFO, and the `WindowAggregator` for windowed statistics (RMS, peak, crest factor …)
 * that knows how complete each window was.
 *
 * @example
 * ```ts
 * import { Sampler, WindowAggregator } from 'sensorkit/sampling'
 * ```
 */
export { Sampler, type SamplingGroup, type SamplingResult, type SamplingStats } from './sampler.js';
export {
  AGGREGATE_STATISTICS,
  WindowAggregator,
  completenessDetail,
  type AggregateStatistic,
  type WindowAggregatorOptions,
  type WindowCompleteness,
  type WindowResult,
} from './aggregate.js';
export { PartClockModel } from './part-clock.js';
export { StreamSampler, type StreamGroup, type StreamSamplerOptions, type StreamStats } from './stream-sampler.js';
