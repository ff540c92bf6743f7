/**
 * One channel's processing chain, in this order:
 *
 *   calibration → quality (range, calibration expiry, read failures) → filters → alarms → report-by-exception
 *
 * - Range is checked on the calibrated value, before filtering: it is a statement about the
 *   measurement, and a filter must not average an excursion away.
 * - Filters see only fresh values (good or uncertain). A failed read never enters them, and neither
 *   does the stale repeat that stands in for it, so a fault cannot poison a running average.
 * - Alarms see the filtered (and, for integer channels, rounded) value that is reported.
 * - `process` is the hot path: it allocates the sample and the output object and nothing else
 *   (shared frozen qualities and an empty alarm list) unless an alarm or fault event occurs.
 */
import { SensorError, ValidationError } from '../core/errors.js';
import type { Provenance, Quality, Sample } from '../core/sample.js';
import type { AlarmSpec, CalibrationSpec, PipelineChannelSpec } from './specs.js';
import { AlarmEvaluator, validateAlarm, type AlarmEvent } from './alarms.js';
import { createCalibration, validateCalibration, type Calibration } from './calibration.js';
import { validatePipelineChannel } from './channel-spec.js';
import { createFilter, type Filter } from './filters.js';
import { failureOutcome, FaultTracker, OUT_OF_RANGE, staleAfterMs, valueQuality, type FaultEvent } from './quality.js';
import { ReportByException, resolveDeadband } from './report-by-exception.js';
import { requireArray, requireObject } from '../core/check.js';

/** Coverage factor of `Sample.uncertainty` (the sample contract states U with k = 2). */
const SAMPLE_COVERAGE_FACTOR = 2;
const NO_ALARMS: readonly AlarmEvent[] = Object.freeze([]);

/**
 * Options of {@link ChannelPipeline}.
 *
 * @example
 * ```ts
 * const options: ChannelPipelineOptions = {
 *   channel: model.channels[0]!,
 *   alarms: model.alarms.filter((alarm) => alarm.channel === model.channels[0]!.id),
 *   calibration: unitCertificate,
 * }
 * ```
 */
export interface ChannelPipelineOptions {
  readonly channel: PipelineChannelSpec;
  /** The alarms on this channel (each one's `channel` must be `channel.id`). */
  readonly alarms?: readonly AlarmSpec[];
  /** Overrides `channel.calibration`, e.g. with the unit's own calibration certificate. */
  readonly calibration?: CalibrationSpec;
}

/**
 * What the pipeline takes: a value already converted to the channel's unit, or a read's error.
 *
 * @example
 * ```ts
 * pipeline.process({ time: reading.time, value: reading.values.temperature!, provenance: reading.provenance })
 * pipeline.process({ time: clock.now(), error: new BusError('ERR_I2C_NAK', 'no ACK from 0x76') })
 * ```
 */
export type PipelineInput =
  | { readonly time: number; readonly value: number; readonly provenance?: Provenance }
  | { readonly time: number; readonly error: unknown; readonly provenance?: Provenance };

/**
 * What one input produced.
 *
 * @example
 * ```ts
 * const { sample, report, alarms, fault } = pipeline.process(input)
 * if (report) outbox.add(sample)
 * for (const alarm of alarms) events.emit('alarm', alarm)
 * if (fault) events.emit('fault', fault)
 * ```
 */
export interface PipelineOutput {
  /** The processed sample (every input produces one). */
  readonly sample: Sample;
  /** Whether report-by-exception selects this sample for reporting. */
  readonly report: boolean;
  /** Alarm transitions this sample caused (usually none: a shared empty array). */
  readonly alarms: readonly AlarmEvent[];
  /** The channel's fault being raised or cleared by this sample. */
  readonly fault?: FaultEvent;
}

type MutableSample = { -readonly [K in keyof Sample]: Sample[K] };

/**
 * Processes one channel's readings into samples, with quality, alarm and fault events, and the
 * report-by-exception decision.
 *
 * The sample's `uncertainty` is the calibration record's expanded uncertainty as stated, rescaled to
 * k = 2 when the record states another coverage factor (GUM §6.2.1: U = k·u_c, so U₂ = 2·U/k). It
 * is not combined with other terms (resolution, drift): the record is what the value is traceable
 * to. Samples of a channel without calibration carry neither `uncertainty` nor `calibrationId`.
 *
 * A read failure becomes an `uncertain`/`stale` sample repeating the last value a read produced
 * (after filters) while that value is younger than `staleAfter` (default 3 sample periods), then a
 * `bad`/`sensor_fault` sample with value `null`. A non-finite reading counts as a read failure.
 *
 * Throws `ValidationError` naming the bad field (`channel.range`, `calibration.high.raw`,
 * `alarms[1].channel` …) at construction.
 *
 * @example
 * ```ts
 * const pipeline = new ChannelPipeline({
 *   channel: { id: 'temperature', quantity: 'temperature', unit: 'Cel', range: { min: -40, max: 125 },
 *     resolution: 0.01, accuracy: { mpe: 0.5 }, sampleRate: 10, driver: { part: 'thermistor', pin: 'A0' },
 *     filters: [{ type: 'moving-average', window: 8 }], reporting: { deadband: 0.2 } },
 *   alarms: [{ id: 'hot', channel: 'temperature', kind: 'high', limit: 80, hysteresis: 2, severity: 700 }],
 * })
 * const { sample, report, alarms, fault } = pipeline.process({ time: clock.now(), value: 21.7 })
 * ```
 */
export class ChannelPipeline {
  readonly #channelId: string;
  readonly #unit: string;
  readonly #range: { readonly min: number; readonly max: number };
  readonly #integer: boolean;
  readonly #calibration: Calibration | undefined;
  readonly #calibrationId: string | undefined;
  readonly #uncertainty: number | undefined;
  readonly #filters: readonly Filter[];
  readonly #alarms: readonly AlarmEvaluator[];
  readonly #report: ReportByException;
  readonly #faults: FaultTracker;
  readonly #staleAfterMs: number;
  #hasLastGood = false;
  #lastGoodValue = 0;
  #lastGoodTime = 0;

  constructor(options: ChannelPipelineOptions) {
    requireObject(options, 'options');
    // Validates the channel's calibration, filters and reporting too, under `channel.`.
    const channel = validatePipelineChannel(options.channel, 'channel');
    this.#channelId = channel.id;
    this.#unit = channel.unit;
    this.#range = { min: channel.range.min, max: channel.range.max };
    this.#staleAfterMs = staleAfterMs(channel);
    this.#integer = channel.dataType === 'integer';

    if (options.calibration !== undefined) validateCalibration(options.calibration, 'calibration');
    const calibrationSpec = options.calibration ?? channel.calibration;
    if (calibrationSpec !== undefined) {
      const calibration = createCalibration(calibrationSpec);
      this.#calibration = calibration;
      this.#calibrationId = calibration.id;
      if (calibration.expandedUncertainty !== undefined) {
        this.#uncertainty = (calibration.expandedUncertainty * SAMPLE_COVERAGE_FACTOR) / calibration.coverageFactor;
      }
    }

    this.#filters = (channel.filters ?? []).map((spec) => createFilter(spec));

    const alarms = options.alarms === undefined ? [] : requireArray(options.alarms, 'alarms');
    this.#alarms = alarms.map((raw, i) => {
      const spec = validateAlarm(raw, `alarms[${i}]`);
      if (spec.channel !== this.#channelId) {
        throw new ValidationError(`alarms[${i}].channel`, `is "${spec.channel}", not this pipeline's channel "${this.#channelId}"`);
      }
      return new AlarmEvaluator(spec);
    });

    this.#report = new ReportByException(resolveDeadband(channel.reporting, this.#range, 'channel.reporting'));
    this.#faults = new FaultTracker(this.#channelId);
  }

  /** The channel's id. */
  get channel(): string {
    return this.#channelId;
  }

  /**
   * The clock re-based on a wall-time step of `stepMs` (`Clock`'s `step` event): moves the times
   * the pipeline measures ages from (the last good value's, the last report's), so that a step is
   * not taken for time passing (a stale value after +2 h) or running back (a heartbeat silent for
   * 2 h after −2 h). A calibration's expiry is a date and stays.
   *
   * @example
   * ```ts
   * const off = onClockStep(clock, ({ stepMs }) => pipeline.rebase(stepMs))
   * ```
   */
  rebase(stepMs: number): void {
    if (this.#hasLastGood) this.#lastGoodTime += stepMs;
    this.#report.rebase(stepMs);
  }

  /** Processes one reading or read failure. */
  process(input: PipelineInput): PipelineOutput {
    const { time, provenance } = input;
    if ('error' in input) return this.#failure(time, input.error, provenance);
    const raw = input.value;
    if (!Number.isFinite(raw)) return this.#failure(time, new SensorError(`non-finite reading (${raw})`), provenance);
    const calibration = this.#calibration;
    let value = raw;
    let quality: Quality;
    if (calibration === undefined) {
      quality = valueQuality(value, this.#range, false);
    } else {
      value = calibration.apply(raw);
      if (!Number.isFinite(value)) {
        return this.#failure(time, new SensorError(`calibration "${calibration.id}" gave a non-finite value for ${raw}`), provenance);
      }
      // A table clamps beyond its points: the clamped value is not a measurement, flag it.
      quality = calibration.covers(raw) ? valueQuality(value, this.#range, calibration.isExpired(time)) : OUT_OF_RANGE;
    }

    const filters = this.#filters;
    for (let i = 0; i < filters.length; i++) {
      const out = filters[i]!.push(value);
      // A stage that withholds a value (ESPHome's "return nothing"; no built-in stage does):
      // the sample shows the value so far, but it is neither reported nor checked against alarms.
      if (out === undefined) return this.#withheld(time, value, quality, provenance);
      value = out;
    }
    if (this.#integer) value = Math.round(value);
    this.#hasLastGood = true;
    this.#lastGoodValue = value;
    this.#lastGoodTime = time;

    const sample = this.#sample(time, value, quality, provenance);
    let alarms = NO_ALARMS;
    const evaluators = this.#alarms;
    for (let i = 0; i < evaluators.length; i++) {
      const event = evaluators[i]!.update(value, time);
      if (event !== undefined) alarms = alarms === NO_ALARMS ? [event] : [...alarms, event];
    }
    const fault = this.#faults.update(quality, time);
    const report = this.#report.decide(sample);
    return fault === undefined ? { sample, report, alarms } : { sample, report, alarms, fault };
  }

  #failure(time: number, error: unknown, provenance: Provenance | undefined): PipelineOutput {
    const lastGood = this.#hasLastGood ? { value: this.#lastGoodValue, time: this.#lastGoodTime } : undefined;
    const { value, quality } = failureOutcome(error, lastGood, time, this.#staleAfterMs);
    const sample = this.#sample(time, value, quality, provenance);
    const fault = this.#faults.update(quality, time);
    const report = this.#report.decide(sample);
    return fault === undefined ? { sample, report, alarms: NO_ALARMS } : { sample, report, alarms: NO_ALARMS, fault };
  }

  #withheld(time: number, value: number, quality: Quality, provenance: Provenance | undefined): PipelineOutput {
    return { sample: this.#sample(time, value, quality, provenance), report: false, alarms: NO_ALARMS };
  }

  #sample(time: number, value: number | null, quality: Quality, provenance: Provenance | undefined): Sample {
    // Properties are always added in the same order, so samples of one pipeline share a shape.
    const sample: MutableSample = { channel: this.#channelId, time, value, unit: this.#unit, quality };
    if (value !== null && this.#calibrationId !== undefined) {
      if (this.#uncertainty !== undefined) sample.uncertainty = this.#uncertainty;
      sample.calibrationId = this.#calibrationId;
    }
    if (provenance !== undefined) sample.provenance = provenance;
    return sample;
  }
}
