/**
 * The driver contract, after ECMA-419's sensor class pattern: a driver is constructed with its IO
 * (the bus or pin the board hands it, and the clock), then `configure(options)`, `sample()` and
 * `close()`. It never opens hardware itself.
 *
 * A `DriverDefinition` describes a part to the rest of sensorkit: its outputs with units, ranges and
 * stated tolerance, its maximum rate (which can depend on its options) and the IO it needs. The
 * device model is validated against it and the generic emulator sweep checks the driver against its
 * stated tolerance.
 */
import type { AnalogInput, I2cDevice } from '../io/board.js';
import type { Clock } from '../core/clock.js';
import type { Provenance } from '../core/sample.js';

/** One reading of every output of a part, in the outputs' units. */
export interface Reading<Output extends string = string> {
  /** Clock time at which the conversion was taken, ms since the epoch. */
  readonly time: number;
  readonly values: Readonly<Record<Output, number>>;
  readonly provenance: Provenance;
}

/** A running driver instance. */
export interface SensorDriver<Output extends string = string> {
  /** Changes options at run time; throws `ValidationError` for bad options. */
  configure(options: Readonly<Record<string, unknown>>): Promise<void>;
  /**
   * Takes one reading. Rejects with `BusError` when the bus fails and `SensorError` when the part
   * answers with data that cannot be right (e.g. an open 4–20 mA loop); the sampler turns both into
   * a bad-quality sample.
   */
  sample(): Promise<Reading<Output>>;
  /** Releases the bus; further `sample()` calls reject with `StateError`. */
  close(): void;
  /**
   * Present when the part samples on its own clock (a FIFO, or continuous conversion) and this
   * instance is configured for it: the sampler then drains the part instead of timing reads.
   */
  readonly acquisition?: SensorClockedAcquisition<Output> | undefined;
}

/**
 * How a sensor-clocked part buffers its samples (Zephyr's "FIFO watermark"/"data ready" triggers):
 * `fifo`: the part queues frames in its own buffer and the host drains it in bursts (MPU-6050);
 * `continuous`: the part converts back to back into one result register that the host must read
 * once per conversion (ADS1115 continuous mode).
 */
export type AcquisitionMode = 'fifo' | 'continuous';

/**
 * What one drain of a sensor-clocked part returned.
 *
 * @example
 * ```ts
 * const batch = await driver.acquisition!.drain()
 * for (const frame of batch.frames) console.log(frame['acceleration-z'])
 * if (batch.overflow) console.warn('the FIFO overflowed: frames were lost before these')
 * ```
 */
export interface AcquisitionBatch<Output extends string = string> {
  /**
   * Host clock time at which the part's buffer level was read, ms (the frames are all older); on
   * an overflow without frames, the time the driver restarted the buffer (every frame taken before
   * it is lost).
   */
  readonly time: number;
  /** Frames in the order the part took them, oldest first, in the outputs' units. */
  readonly frames: readonly Readonly<Record<Output, number>>[];
  /**
   * The part reported lost data since the previous drain (FIFO overflow): an unknown number of
   * frames are missing before `frames`. With frames, they are the newest the part still held when
   * its level was read at `time` (the driver realigned the buffer); without, the driver restarted it.
   */
  readonly overflow: boolean;
  /**
   * Frames the part is known to have produced and overwritten before `frames` were read (a
   * continuous-conversion part read too late, counted on its data-ready line). Absent: none.
   */
  readonly missed?: number;
  readonly provenance: Provenance;
}

/**
 * A driver's sensor-clocked acquisition: the part samples at `outputRateHz` on its own oscillator
 * (which drifts against the host clock), and the host drains what it buffered.
 *
 * @example
 * ```ts
 * const acquisition = driver.acquisition
 * if (acquisition) {
 *   await acquisition.start()
 *   const batch = await acquisition.drain() // every frame since start()
 * }
 * ```
 */
export interface SensorClockedAcquisition<Output extends string = string> {
  readonly mode: AcquisitionMode;
  /** The part's nominal output data rate as configured, Hz (its own clock may be off by some ppm). */
  readonly outputRateHz: number;
  /** Frames the part can hold before it loses data; the host must drain well before that. */
  readonly capacityFrames: number;
  /** Configures the part for acquisition and starts it (resets and enables the buffer). */
  start(): Promise<void>;
  /** Reads every frame buffered since the previous drain. Rejects with `BusError` or `SensorError`. */
  drain(): Promise<AcquisitionBatch<Output>>;
  /** Stops acquisition (the buffer is disabled); `sample()` works as before. */
  stop(): Promise<void>;
}

/** The stated accuracy of an output: |error| ≤ absolute + relative × |true value|. */
export interface Tolerance {
  readonly absolute: number;
  readonly relative?: number;
}

/** One output of a part. */
export interface DriverOutput {
  /** SenML unit of the values `sample()` returns. */
  readonly unit: string;
  readonly quantity: string;
  /** Range the part can measure, in `unit`. */
  readonly range: { readonly min: number; readonly max: number };
  /** Accuracy the driver states for this output over its range (used by the generic sweep). */
  readonly tolerance: Tolerance;
}

/** What a driver is handed at construction. */
export interface DriverIo {
  readonly clock: Clock;
  /** Present for parts bound to a pin (`io: 'analog'`). */
  readonly analog?: AnalogInput;
  /** Present for parts bound to a bus address (`io: 'i2c'`). */
  readonly i2c?: I2cDevice;
  /**
   * The part's data-ready line on an interrupt-capable input, counting its pulses (e.g. the
   * ADS1115's ALERT/RDY): lets a driver tell a new conversion from one already read, and count the
   * ones it missed. Optional; drivers that need it say so.
   */
  readonly ready?: ReadyLine;
}

/**
 * A data-ready line whose pulses the host counts (an edge-counting GPIO interrupt).
 *
 * @example
 * ```ts
 * const ready: ReadyLine = { pulses: () => edgesSeenOnGpio17 }
 * ```
 */
export interface ReadyLine {
  /** Pulses counted so far (monotonic). */
  pulses(): number;
}

/** Describes a part to sensorkit. */
export interface DriverDefinition<Output extends string = string> {
  /** Part id used in device models, e.g. "bme280". */
  readonly part: string;
  readonly description: string;
  /** The IO the part needs. */
  readonly io: 'analog' | 'i2c';
  /** I2C addresses the part can have; the first is the default. */
  readonly addresses?: readonly number[];
  /** Highest sample rate the driver can deliver with its fastest options, Hz. */
  readonly maxRateHz: number;
  /**
   * Highest rate with these (validated) options, Hz; default `maxRateHz`. For a part whose
   * conversion time depends on its options (oversampling, data rate).
   */
  maxRateFor?(options: Readonly<Record<string, unknown>>): number;
  /**
   * Names the options `maxRateFor` depends on, with their values, for messages: e.g.
   * "oversampling t×16 p×16 h×16" in "bme280 with oversampling t×16 p×16 h×16 can deliver at most
   * 8.8 readings/s".
   */
  describeRateOptions?(options: Readonly<Record<string, unknown>>): string;
  readonly outputs: Readonly<Record<Output, DriverOutput>>;
  /**
   * Checks options at definition time; throws `ValidationError` with `path` prefixed to the field.
   * Returns the outputs as configured (ranges can depend on options, e.g. a 4–20 mA span).
   */
  validateOptions(options: Readonly<Record<string, unknown>>, path: string): Readonly<Record<Output, DriverOutput>>;
  create(io: DriverIo, options: Readonly<Record<string, unknown>>): SensorDriver<Output>;
  /**
   * The acquisition mode these (validated) options select, or undefined for timed reads. A part that
   * can run sensor-clocked states it here, so the device can choose the sampler before it opens the
   * bus.
   */
  acquisitionFor?(options: Readonly<Record<string, unknown>>): AcquisitionMode | undefined;
  /**
   * Whether these (validated) options need the part's data-ready line (`DriverIo.ready`), and why,
   * for messages: e.g. "acquisition \"continuous\" counts conversions on ALERT/RDY". Undefined: the
   * part uses no ready line with these options. A device model then names the digital pin the
   * line is wired to (`driver.ready`), and the device opens an edge counter on it.
   */
  readyLineFor?(options: Readonly<Record<string, unknown>>): string | undefined;
}
