/**
 * The instrument contract: a reference source (calibrator), a DMM, a power supply, a climatic
 * chamber, simulated on the harness's clock or real over SCPI. Quantities are named as below and
 * every value carries its SenML unit.
 */
import type { InputSignal } from '../targets/target.js';

/** What an instrument measures or sources. */
export type InstrumentQuantity =
  | 'voltage-dc'
  | 'current-dc'
  | 'resistance'
  | 'temperature'
  | 'relative-humidity'
  | 'pressure';

/** The unit every instrument's value of each quantity carries (SenML), and simulated ones work in. */
export const QUANTITY_UNITS: Readonly<Record<InstrumentQuantity, string>> = {
  'voltage-dc': 'V',
  'current-dc': 'A',
  resistance: 'Ohm',
  temperature: 'Cel',
  'relative-humidity': '%RH',
  pressure: 'Pa',
};

/** Every quantity name, for validation. */
export const QUANTITIES = Object.keys(QUANTITY_UNITS) as readonly InstrumentQuantity[];

/**
 * A physical output of an instrument (a calibrator's source, a supply's output voltage, a chamber's
 * air temperature) as a signal a target's input can follow: `target.drive(input, signal, signal.unit)`.
 */
export interface InstrumentSignal extends InputSignal {
  readonly quantity: InstrumentQuantity;
  /** The unit of `valueAt`'s values (SenML). */
  readonly unit: string;
}

/** What `identify()` returns: `*IDN?`'s four fields for SCPI instruments. */
export interface InstrumentIdentity {
  readonly manufacturer: string;
  readonly model: string;
  readonly serialNumber: string;
  readonly firmware: string;
  /** True for an instrument simulated by sensorkit (records say so). */
  readonly simulated: boolean;
  /** The calibration certificate the instrument's readings rely on, when it has one. */
  readonly certificate?: InstrumentCertificate;
}

/**
 * The expanded uncertainty of a quantity on a calibration certificate: U = relative·|value| +
 * absolute, at the coverage factor `k` (GUM, JCGM 100 §6.2; usually k = 2, about 95 %).
 */
export interface CertificateUncertainty {
  /** Part of U proportional to the value, as a fraction (5e-6 is 5 ppm). */
  readonly relative: number;
  /** Fixed part of U, in `unit`. */
  readonly absolute: number;
  readonly unit: string;
}

/** A calibration certificate: its number, coverage factor and expanded uncertainty per quantity. */
export interface InstrumentCertificate {
  readonly id: string;
  /** Coverage factor of every uncertainty it states, e.g. 2. */
  readonly coverageFactor: number;
  readonly uncertainty: Readonly<Partial<Record<InstrumentQuantity, CertificateUncertainty>>>;
}

/** An expanded uncertainty U of one reading with its coverage factor k (u = U / k). */
export interface ExpandedUncertainty {
  /** U, in the reading's unit. */
  readonly expanded: number;
  readonly coverageFactor: number;
}

/** One reading of an instrument. */
export interface InstrumentReading {
  readonly quantity: InstrumentQuantity;
  readonly value: number;
  /** SenML unit, e.g. `V`, `A`, `Ohm`, `Cel`, `%RH`, `Pa`. */
  readonly unit: string;
  /** Time of the reading on the harness's clock, ms. */
  readonly time: number;
  /**
   * The instrument's stated accuracy for this reading as a half-width in `unit` (a type B
   * contribution for the uncertainty budget: rectangular unless the certificate says otherwise).
   */
  readonly accuracy?: number;
  /** The display resolution in `unit`. */
  readonly resolution?: number;
  /**
   * The certificate's expanded uncertainty of this reading (a reference source): a normal
   * contribution with u = U / k, where `accuracy` is rectangular.
   */
  readonly uncertainty?: ExpandedUncertainty;
}

/**
 * One instrument, opened. `close()` is idempotent. Methods reject with a typed error naming the
 * instrument and the command for a timeout, a garbled answer or an error in the instrument's
 * error queue.
 *
 * @example
 * ```ts
 * const dmm: Instrument = …
 * console.log(await dmm.identify())                      // { manufacturer: 'sensorkit', model: 'SIM-DMM', … }
 * const reading = await dmm.measure('current-dc')        // { value: 0.012, unit: 'A', … }
 * await calibrator.source('temperature', 25, 'Cel')
 * await dmm.close()
 * ```
 */
export interface Instrument {
  /** The role the plan gives it, e.g. `dmm`, `reference`, `supply`, `chamber`. */
  readonly id: string;
  identify(): Promise<InstrumentIdentity>;
  /** Takes one reading of `quantity`. Rejects with `NotSupportedError` if the instrument cannot. */
  measure(quantity: InstrumentQuantity): Promise<InstrumentReading>;
  /** Sets an output (supply voltage, calibrator value, chamber set point) in `unit`. */
  source(quantity: InstrumentQuantity, value: number, unit: string): Promise<void>;
  /**
   * The physical output of `quantity` as a signal on the harness's clock, for a target to `drive`
   * an emulated input from. Simulated instruments only (a real instrument's output reaches the
   * device through wires); throws `NotSupportedError` for a quantity the instrument does not put out.
   */
  output?(quantity: InstrumentQuantity): InstrumentSignal;
  close(): Promise<void>;
}
