/**
 * The one check of the channel fields a pipeline reads (`PipelineChannelSpec`): id, unit, data
 * type, measuring range, sample rate, staleness, and the calibration, filter and reporting
 * declarations through their own validators. `defineDevice` runs it on `channels[i]` and adds what
 * only a device model knows (quantity, accuracy, driver binding); `ChannelPipeline` runs it on its
 * `channel` option. Unknown fields are left to the caller: a model's channel has more of them.
 */
import { ValidationError } from '../core/errors.js';
import { describe, join, rejectUnknownKeys, requireArray, requireIdentifier, requireNumber, requireObject, requireString } from '../core/check.js';
import { senmlUnitProblem } from '../core/units.js';
import { validateCalibration } from './calibration.js';
import { validateFilter } from './filters.js';
import { validateReporting } from './report-by-exception.js';
import type { PipelineChannelSpec } from './specs.js';

/**
 * Checks the pipeline's fields of a channel declaration; throws `ValidationError` naming the bad
 * field under `path`. Returns the declaration, typed.
 *
 * @example
 * ```ts
 * validatePipelineChannel({ id: 'temperature', unit: 'Cel', range: { min: 85, max: -40 }, sampleRate: 1 }, 'channels[0]')
 * // throws ValidationError: channels[0].range: inverted or empty range: min (85) must be below max (-40)
 * ```
 */
export function validatePipelineChannel(raw: unknown, path: string): PipelineChannelSpec {
  const channel = requireObject(raw, path);
  requireIdentifier(channel.id, join(path, 'id'));
  const unit = requireString(channel.unit, join(path, 'unit'));
  const unitProblem = senmlUnitProblem(unit);
  if (unitProblem) throw new ValidationError(join(path, 'unit'), unitProblem);
  if (channel.dataType !== undefined && channel.dataType !== 'float' && channel.dataType !== 'integer') {
    throw new ValidationError(join(path, 'dataType'), `must be "float" or "integer", got ${describe(channel.dataType)}`);
  }
  validateRange(channel.range, join(path, 'range'));
  const sampleRate = requireNumber(channel.sampleRate, join(path, 'sampleRate'));
  if (!(sampleRate > 0)) throw new ValidationError(join(path, 'sampleRate'), `must be above 0 Hz, got ${sampleRate}`);
  if (channel.staleAfter !== undefined) {
    const staleAfter = requireNumber(channel.staleAfter, join(path, 'staleAfter'));
    if (!(staleAfter > 0)) throw new ValidationError(join(path, 'staleAfter'), `must be a number of seconds above 0, got ${staleAfter}`);
  }
  if (channel.calibration !== undefined) validateCalibration(channel.calibration, join(path, 'calibration'));
  if (channel.filters !== undefined) {
    requireArray(channel.filters, join(path, 'filters')).forEach((filter, i) => validateFilter(filter, `${join(path, 'filters')}[${i}]`));
  }
  if (channel.reporting !== undefined) validateReporting(channel.reporting, join(path, 'reporting'));
  return channel as unknown as PipelineChannelSpec;
}

/**
 * A measuring range: `{ min, max }`, finite, with min below max and a finite span: the span is what
 * a percent deadband and OPC UA's EURange percent deadband (IEC 62541-8 §6.2) are taken of, and
 * two finite bounds such as ±1e308 can still be Infinity apart.
 */
function validateRange(raw: unknown, path: string): void {
  const range = requireObject(raw, path);
  rejectUnknownKeys(range, ['min', 'max'], path);
  const min = requireNumber(range.min, join(path, 'min'));
  const max = requireNumber(range.max, join(path, 'max'));
  if (!(min < max)) throw new ValidationError(path, `inverted or empty range: min (${min}) must be below max (${max})`);
  if (!Number.isFinite(max - min)) throw new ValidationError(path, `the span max − min (${max} − ${min}) is not a finite number; narrow the range`);
}
