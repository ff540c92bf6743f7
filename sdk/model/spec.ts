/**
 * The device model declaration: what `defineDevice()` accepts. It is plain data (serialisable), so
 * every export — SenML names, OPC UA address space, MQTT topics, WoT Thing Description, CDDL, HIL
 * plan — is derived from it.
 */

/** Who made the device and what it is (OPC UA DI identification, IEC 62541-100 §5.3). */
export interface IdentitySpec {
  readonly manufacturer: string;
  readonly model: string;
  readonly productCode: string;
  readonly hardwareRevision: string;
  readonly softwareRevision: string;
  /** Revision of the device as a whole; default: the software revision. */
  readonly deviceRevision?: string;
  readonly manufacturerUri?: string;
  /**
   * Where the serial number comes from: a fixed string (lab prototypes), the environment variable
   * `SENSORKIT_SERIAL` ("env"), or the board (its unique id, "board").
   */
  readonly serialNumber: string | { readonly source: 'env' | 'board' };
}

/** Binds a channel to one output of a part. */
export interface DriverBinding {
  /** Driver part id from the driver registry, e.g. "bme280", "thermistor". */
  readonly part: string;
  /** Output of the part this channel reads; default: the part's only output. */
  readonly output?: string;
  /** Analog pin for `io: 'analog'` parts, e.g. "A0". */
  readonly pin?: string;
  /** I2C bus for `io: 'i2c'` parts; default: the board's first bus. */
  readonly bus?: string;
  /** I2C address; default: the part's first address. */
  readonly address?: number;
  /** Part options (coefficients, gains, oversampling …), validated by the driver definition. */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Statistic of a windowed aggregate channel (vibration RMS, peak, crest factor …). */
export type AggregateStatistic = 'mean' | 'min' | 'max' | 'rms' | 'peak' | 'peak-to-peak' | 'crest-factor';

/**
 * Samples the part at `rawRate` and reports one statistic per window of 1/`sampleRate` s.
 * With `acCoupled`, the window's mean is removed first (vibration on top of gravity).
 */
export interface AggregateSpec {
  readonly statistic: AggregateStatistic;
  /** Raw sample rate, Hz. */
  readonly rawRate: number;
  readonly acCoupled?: boolean;
}

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

/** A measured channel. */
export interface ChannelSpec {
  /** Identifier: lower case, digits, `_` and `-`; becomes the SenML name `<deviceId>/<id>`. */
  readonly id: string;
  readonly description?: string;
  /** What is measured, e.g. "temperature", "pressure", "vibration-velocity". */
  readonly quantity: string;
  /** SenML unit (RFC 8428 §12.1, RFC 8798). */
  readonly unit: string;
  /** Default "float". */
  readonly dataType?: 'float' | 'integer';
  /** Measuring range, in `unit`. */
  readonly range: { readonly min: number; readonly max: number };
  /** Smallest distinguishable change, in `unit`. */
  readonly resolution: number;
  /** Maximum permissible error (absolute, in `unit`). */
  readonly accuracy: { readonly mpe: number };
  /** Reported sample rate, Hz. */
  readonly sampleRate: number;
  /** Raw readings averaged into each sample (burst oversampling). Default 1. */
  readonly oversampling?: number;
  /** A windowed statistic over raw samples, instead of one reading per sample. */
  readonly aggregate?: AggregateSpec;
  readonly driver: DriverBinding;
  readonly calibration?: CalibrationSpec;
  readonly filters?: readonly FilterSpec[];
  readonly reporting?: ReportingSpec;
  /** A repeated value is `stale` after this many seconds without a fresh reading. Default: 3 periods. */
  readonly staleAfter?: number;
}

/** Value types of properties and command arguments. */
export type ValueType = 'number' | 'integer' | 'boolean' | 'string';

/** A typed value with optional unit, range and enumeration. */
export interface ValueSpec {
  readonly type: ValueType;
  readonly unit?: string;
  readonly range?: { readonly min: number; readonly max: number };
  readonly enum?: readonly string[];
  readonly description?: string;
}

/** A configurable property of the device. */
export interface PropertySpec extends ValueSpec {
  readonly id: string;
  readonly default: number | boolean | string;
  /** Default true. */
  readonly writable?: boolean;
}

/** A named command argument. */
export interface ArgumentSpec extends ValueSpec {
  readonly name: string;
  /** Default true. */
  readonly required?: boolean;
}

/** A command the device accepts. */
export interface CommandSpec {
  readonly id: string;
  readonly description?: string;
  readonly arguments?: readonly ArgumentSpec[];
  readonly result?: ValueSpec;
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

/** The whole declaration. */
export interface DeviceSpec {
  /** Device type id: lower case, digits and `-`, e.g. "env-node". */
  readonly id: string;
  readonly description?: string;
  /** Board definition id the device is designed for, e.g. "arduino-uno" or "raspberry-pi-4". */
  readonly board: string;
  readonly identity: IdentitySpec;
  readonly channels: readonly ChannelSpec[];
  readonly properties?: readonly PropertySpec[];
  readonly commands?: readonly CommandSpec[];
  readonly alarms?: readonly AlarmSpec[];
}
