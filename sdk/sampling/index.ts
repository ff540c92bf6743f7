/**
 * sensorkit sampling: the drift-free multi-rate `Sampler` and the `WindowAggregator` for windowed
 * statistics (RMS, peak, crest factor …).
 *
 * @example
 * ```ts
 * import { Sampler, WindowAggregator } from 'sensorkit/sampling'
 * ```
 */
export { Sampler, type SamplingGroup, type SamplingResult, type SamplingStats } from './sampler.js';
export { AGGREGATE_STATISTICS, WindowAggregator, type AggregateStatistic, type WindowAggregatorOptions } from './aggregate.js';
