/**
 * The device model declaration: what `defineDevice()` accepts. It is plain data (serialisable), so
 * every export — SenML names, OPC UA address space, MQTT topics, WoT Thing Description, CDDL, HIL
 * plan — is derived from it.
 */
import type { AlarmSpec, CalibrationSpec, FilterSpec, ReportingSpec } from '../pipeline/specs.js';
import type { AggregateStatistic } from '../sampling/aggregate.js';
export type { AggregateStatistic } from '../sampling/aggregate.js';
export type { AlarmSpec, CalibrationMethod, CalibrationPoint, CalibrationSpec, FilterSpec, ReportingSpec } from '../pipeline/specs.js';

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
  /**
   * Digital pin the part's data-ready line is wired to (e.g. the ADS1115's ALERT/RDY on "D2"), for
   * options that need it (an ADS1115 with `acquisition: 'continuous'`); the device counts its
   * falling edges.
   */
  readonly ready?: string;
  /** Part options (coefficients, gains, oversampling …), validated by the driver definition. */
  readonly options?: Readonly<Record<string, unknown>>;
}

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

/**
 * Who may act on a device, lowest first: a viewer reads, an operator runs commands, an engineer
 * changes settings, a security administrator manages keys and users (IEC 62443-4-2 CR 2.1:
 * authorisation enforcement by role). Each role may do what the roles below it may.
 */
export type OperatorRole = 'viewer' | 'operator' | 'engineer' | 'security-admin';

/** A configurable property of the device. */
export interface PropertySpec extends ValueSpec {
  readonly id: string;
  readonly default: number | boolean | string;
  /** Default true. */
  readonly writable?: boolean;
  /** The least role that may change it (signed MQTT writes, OPC UA writes). Default `engineer`. */
  readonly role?: OperatorRole;
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
  /** The least role that may run it (signed MQTT commands, OPC UA method calls). Default `operator`. */
  readonly role?: OperatorRole;
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
