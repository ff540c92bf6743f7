/**
 * A simulated multifunction reference source (calibrator): DC voltage, DC current, temperature (a
 * dry-block) and pressure, each with the expanded uncertainty its calibration certificate states
 * (k = 2). Its physical output differs from the set value by a seeded error drawn from the
 * certificate's distribution (normal, σ = U / k) at each set point, as a real source's does; its
 * readings state the set value with U, which is what an uncertainty budget takes.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { convertDifference } from '../../sdk/core/units.js';
import { InstrumentError } from './errors.js';
import { QUANTITY_UNITS, type CertificateUncertainty, type InstrumentCertificate, type InstrumentQuantity, type InstrumentReading } from './instrument.js';
import { SimulatedInstrument, type InstrumentSignal, type SimulatedInstrumentOptions } from './sim-common.js';

/** The quantities the calibrator sources, with its output range and display resolution (internal units). */
const OUTPUTS: Readonly<Partial<Record<InstrumentQuantity, { min: number; max: number; resolution: number }>>> = {
  'voltage-dc': { min: -100, max: 100, resolution: 1e-6 },
  'current-dc': { min: -0.1, max: 0.1, resolution: 1e-9 },
  temperature: { min: -30, max: 660, resolution: 0.001 },
  pressure: { min: 0, max: 20e6, resolution: 0.1 },
};

/**
 * The certificate of a simulated calibrator: U (k = 2) of 10 ppm + 2 µV, 50 ppm + 0.2 µA, 0.04 K,
 * 50 ppm + 2 Pa.
 *
 * @example
 * ```ts
 * const certificate = { ...defaultCalibratorCertificate('SN1'), id: 'DKD-K-12345 2026-03' }
 * const reference = new SimulatedCalibrator({ clock, seed: 1, certificate })
 * ```
 */
export function defaultCalibratorCertificate(serialNumber: string): InstrumentCertificate {
  return {
    id: `SK-CAL-${serialNumber}`,
    coverageFactor: 2,
    uncertainty: {
      'voltage-dc': { relative: 10e-6, absolute: 2e-6, unit: 'V' },
      'current-dc': { relative: 50e-6, absolute: 0.2e-6, unit: 'A' },
      temperature: { relative: 0, absolute: 0.04, unit: 'K' },
      pressure: { relative: 50e-6, absolute: 2, unit: 'Pa' },
    },
  };
}

/** Options of {@link SimulatedCalibrator}. */
export interface SimulatedCalibratorOptions extends SimulatedInstrumentOptions {
  /** The certificate (its uncertainties bound the output error). Default {@link defaultCalibratorCertificate}. */
  readonly certificate?: InstrumentCertificate;
  /**
   * Whether the physical output deviates from the set value by a seeded error (normal, σ = U / k,
   * drawn at each `source`). Default `true`; `false` makes the output exactly the set value.
   */
  readonly outputError?: boolean;
}

interface SetPoint {
  readonly at: number;
  readonly nominal: number;
  readonly actual: number;
}

/**
 * A simulated calibrator on the harness's clock.
 *
 * @example
 * ```ts
 * const reference = new SimulatedCalibrator({ clock: target.clock, seed: 1, id: 'reference' })
 * await reference.source('temperature', 25, 'Cel')
 * await target.drive('temperature', reference.output('temperature'), 'Cel') // the device feels the block
 * const stated = await reference.measure('temperature') // { value: 25, unit: 'Cel', uncertainty: { expanded: 0.04, coverageFactor: 2 } }
 * ```
 */
export class SimulatedCalibrator extends SimulatedInstrument {
  readonly measures: readonly InstrumentQuantity[] = Object.keys(OUTPUTS) as InstrumentQuantity[];
  readonly sources: readonly InstrumentQuantity[] = this.measures;
  readonly certificate: InstrumentCertificate;
  readonly #outputError: boolean;
  readonly #history = new Map<InstrumentQuantity, SetPoint[]>();

  constructor(options: SimulatedCalibratorOptions) {
    const serial = options?.serialNumber ?? `SIM-${String(options?.seed)}`;
    const certificate = options?.certificate ?? defaultCalibratorCertificate(serial);
    super('calibrator', 'SIM-CAL', options, certificate);
    if (!(certificate.coverageFactor > 0)) throw new ArgumentError(`Expected the certificate's \`coverageFactor\` to be above 0, got ${String(certificate.coverageFactor)}`);
    this.certificate = certificate;
    this.#outputError = options.outputError ?? true;
  }

  /** The expanded uncertainty U (k of the certificate) at `value`, in the quantity's internal unit. */
  expandedUncertainty(quantity: InstrumentQuantity, value: number): number {
    const entry: CertificateUncertainty | undefined = this.certificate.uncertainty[quantity];
    if (entry === undefined) return 0;
    return Math.abs(value) * entry.relative + convertDifference(entry.absolute, entry.unit, QUANTITY_UNITS[quantity]);
  }

  /**
   * The physical output of `quantity` as a signal (in the quantity's SenML unit): what a device
   * connected to the calibrator feels. 0 until the first `source`.
   */
  override output(quantity: InstrumentQuantity): InstrumentSignal {
    if (OUTPUTS[quantity] === undefined) return super.output(quantity);
    return {
      quantity,
      unit: QUANTITY_UNITS[quantity],
      valueAt: (timeMs) => this.#at(quantity, timeMs)?.actual ?? 0,
    };
  }

  protected apply(quantity: InstrumentQuantity, value: number): void {
    const range = OUTPUTS[quantity]!;
    if (value < range.min || value > range.max) {
      throw new InstrumentError('instrument-error', { instrument: this.id, command: `source ${quantity}` }, `-222,"Data out of range" (${value} ${QUANTITY_UNITS[quantity]} is outside ${range.min} to ${range.max})`, {
        instrumentCode: -222,
        instrumentMessage: 'Data out of range',
      });
    }
    const sigma = this.expandedUncertainty(quantity, value) / this.certificate.coverageFactor;
    const actual = this.#outputError ? value + this.random.gaussian(0, sigma) : value;
    const history = this.#history.get(quantity) ?? [];
    history.push({ at: this.clock.now(), nominal: value, actual });
    this.#history.set(quantity, history);
  }

  protected read(quantity: InstrumentQuantity): InstrumentReading {
    const nominal = this.#at(quantity, this.clock.now())?.nominal ?? 0;
    return {
      quantity,
      value: nominal,
      unit: QUANTITY_UNITS[quantity],
      time: this.clock.now(),
      resolution: OUTPUTS[quantity]!.resolution,
      uncertainty: { expanded: this.expandedUncertainty(quantity, nominal), coverageFactor: this.certificate.coverageFactor },
    };
  }

  /** The set point in force at `timeMs`. */
  #at(quantity: InstrumentQuantity, timeMs: number): SetPoint | undefined {
    const history = this.#history.get(quantity);
    if (history === undefined) return undefined;
    for (let i = history.length - 1; i >= 0; i--) if (history[i]!.at <= timeMs) return history[i];
    return undefined;
  }
}
