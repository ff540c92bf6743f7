/**
 * The declarations the pipeline's stages take: calibration, filters, report-by-exception and
 * alarms, and the fields of a channel the pipeline reads. The device model's `ChannelSpec` and
 * `AlarmSpec` are these types, so a model's channel is handed to a pipeline as it is.
 */

/** A calibration point: what the instrument read, and the reference value. */
export interface CalibrationPoint {
  readonly raw: number;
  readonly reference: number;
}

/** Calibration methods (applied to the value in the channel's unit). */
export type CalibrationMethod =
  | { readonly method: 'offset'; readonly offset: number }
  | { readonly method: 'gain'; readonly gain: number }
  | { readonly method: 'linear'; readonly gain: number; readonly offset: number }
  | { readonly method: 'two-point'; readonly low: CalibrationPoint; readonly high: CalibrationPoint }
  /** y = c0 + c1·x + c2·x² + … */
  | { readonly method: 'polynomial'; readonly coefficients: readonly number[] }
  /** Piecewise-linear interpolation through points sorted by `raw`; clamps outside. */
  | { readonly method: 'table'; readonly points: readonly CalibrationPoint[] };

/**
 * A calibration record: the correction, its id, its uncertainty and validity.
 *
 * @example
 * ```ts
 * { id: 'CAL-2026-0042', method: 'two-point', low: { raw: 4.02, reference: 4 }, high: { raw: 19.95, reference: 20 },
 *   uncertainty: { expanded: 0.05, coverageFactor: 2 }, validUntil: '2027-06-30' }
 * ```
 */
export type CalibrationSpec = CalibrationMethod & {
  readonly id: string;
  /** Expanded uncertainty of the calibrated value in the channel's unit (GUM, coverage factor k). */
  readonly uncertainty?: { readonly expanded: number; readonly coverageFactor?: number };
  /** ISO 8601 date; after it, samples are `uncertain` with reason `calibration_expired`. */
  readonly validUntil?: string;
  readonly performedBy?: string;
  readonly date?: string;
};

/** Filter stages (ESPHome-style: each returns a value or nothing). */
export type FilterSpec =
  | { readonly type: 'median'; readonly window: number }
  | { readonly type: 'moving-average'; readonly window: number }
  /** Exponential moving average: y += alpha·(x − y). */
  | { readonly type: 'ema'; readonly alpha: number };

/** Report-by-exception: report when the value moved by more than the deadband, or at the heartbeat. */
export interface ReportingSpec {
  /** Absolute deadband in the channel's unit. */
  readonly deadband?: number;
  /** Deadband as a percentage of the measuring range (OPC UA percent deadband, IEC 62541-8 §6.2). */
  readonly deadbandPercent?: number;
  /** Report at least every `heartbeat` seconds even without change. Default: 60 when a deadband is set. */
  readonly heartbeat?: number;
}

/** An alarm on a channel's value with hysteresis (ISA-18.2 / IEC 62682 style limits). */
export interface AlarmSpec {
  readonly id: string;
  readonly channel: string;
  /** 'high': active above `limit`; 'low': active below `limit`. */
  readonly kind: 'high' | 'low';
  /** Limit in the channel's unit. */
  readonly limit: number;
  /** The alarm clears only once the value is back past `limit ∓ hysteresis`. Default 0. */
  readonly hysteresis?: number;
  /** 1 (lowest) … 1000 (highest), as OPC UA event severity. */
  readonly severity: number;
  readonly message?: string;
}

/** The fields of a channel that a `ChannelPipeline` reads (a model's `ChannelSpec` has them all). */
export interface PipelineChannelSpec {
  readonly id: string;
  /** SenML unit (RFC 8428 §12.1, RFC 8798). */
  readonly unit: string;
  /** Default "float". */
  readonly dataType?: 'float' | 'integer';
  /** Measuring range, in `unit`. */
  readonly range: { readonly min: number; readonly max: number };
  /** Reported sample rate, Hz. */
  readonly sampleRate: number;
  readonly calibration?: CalibrationSpec;
  readonly filters?: readonly FilterSpec[];
  readonly reporting?: ReportingSpec;
  /** A repeated value is `stale` after this many seconds without a fresh reading. Default: 3 periods. */
  readonly staleAfter?: number;
}
