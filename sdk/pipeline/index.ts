/**
 * sensorkit pipeline: single-purpose stages (calibration, quality, filters, alarms,
 * report-by-exception) and the `ChannelPipeline` that chains them for one channel.
 *
 * @example
 * ```ts
 * import { ChannelPipeline } from 'sensorkit/pipeline'
 * const pipeline = new ChannelPipeline({ channel })
 * const { sample, report } = pipeline.process({ time: clock.now(), value: 21.5 })
 * ```
 */
export { AlarmEvaluator, validateAlarm, type AlarmEvent } from './alarms.js';
export { createCalibration, validateCalibration, type Calibration } from './calibration.js';
export { validatePipelineChannel } from './channel-spec.js';
export {
  ChannelPipeline,
  type ChannelPipelineOptions,
  type PipelineInput,
  type PipelineOutput,
} from './channel-pipeline.js';
export { createFilter, validateFilter, type Filter } from './filters.js';
export { parseIsoInstant, type IsoInstant } from './iso-time.js';
export {
  CALIBRATION_EXPIRED,
  errorDetail,
  failureOutcome,
  FaultTracker,
  OUT_OF_RANGE,
  staleAfterMs,
  valueQuality,
  type FailureOutcome,
  type FaultEvent,
  type LastGood,
} from './quality.js';
export { ReportByException, resolveDeadband, validateReporting, type ReportByExceptionOptions } from './report-by-exception.js';
export type * from './specs.js';
