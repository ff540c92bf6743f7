/**
 * A simulated digital multimeter: DC voltage, DC current and resistance of whatever signal is
 * connected to its inputs, with autoranging, a resolution set by its digits, seeded Gaussian noise
 * and a stated accuracy of ±(% of reading + counts).
 *
 * Resolution: a range R shown with N½ digits resolves R·10^-N (6½ digits on the 10 V range: 10 µV);
 * readings go to 120 % of the range before the next range is chosen. Noise: σ = `noiseCounts`
 * counts of the active range. An open input reads 0 V or 0 A, and an overload for resistance.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { converter } from '../../sdk/core/units.js';
import type { InputSignal } from '../targets/target.js';
import { InstrumentError } from './errors.js';
import { QUANTITY_UNITS, type InstrumentQuantity, type InstrumentReading } from './instrument.js';
import { SimulatedInstrument, nonNegative, quantize, type SimulatedInstrumentOptions } from './sim-common.js';

/** What a DMM measures. */
export type DmmQuantity = 'voltage-dc' | 'current-dc' | 'resistance';

/** A stated accuracy: ±(`percentOfReading` % of the reading + `counts` of the range's resolution). */
export interface DmmAccuracy {
  readonly percentOfReading: number;
  readonly counts: number;
}

/** Default accuracy, typical of a 6½-digit bench DMM's one-year specification. */
export const DEFAULT_DMM_ACCURACY: Readonly<Record<DmmQuantity, DmmAccuracy>> = {
  'voltage-dc': { percentOfReading: 0.0035, counts: 5 },
  'current-dc': { percentOfReading: 0.05, counts: 10 },
  resistance: { percentOfReading: 0.01, counts: 5 },
};

/** Default ranges, in V, A and Ohm. */
export const DEFAULT_DMM_RANGES: Readonly<Record<DmmQuantity, readonly number[]>> = {
  'voltage-dc': [0.1, 1, 10, 100, 1000],
  'current-dc': [0.01, 0.1, 1, 3],
  resistance: [100, 1e3, 10e3, 100e3, 1e6, 10e6, 100e6],
};

/** The fraction of a range a reading may reach (the half digit). */
const OVERRANGE = 1.2;

/** Options of {@link SimulatedDmm}. */
export interface SimulatedDmmOptions extends SimulatedInstrumentOptions {
  /** Display digits, e.g. 6.5 for 6½ (from 3 to 8.5). Default 6.5. */
  readonly digits?: number;
  /** Noise σ in counts of the active range. Default 0.5. */
  readonly noiseCounts?: number;
  /** Stated accuracy per quantity (overrides the defaults per quantity). */
  readonly accuracy?: Readonly<Partial<Record<DmmQuantity, DmmAccuracy>>>;
  /** Ranges per quantity, ascending, in V, A, Ohm (overrides the defaults per quantity). */
  readonly ranges?: Readonly<Partial<Record<DmmQuantity, readonly number[]>>>;
}

const DMM_QUANTITIES: readonly DmmQuantity[] = ['voltage-dc', 'current-dc', 'resistance'];

/**
 * A simulated DMM on the harness's clock. `connect` wires a signal to an input; `measure` reads
 * the signal at the clock's time.
 *
 * @example
 * ```ts
 * const dmm = new SimulatedDmm({ clock, seed: 1 })
 * dmm.connect('current-dc', { valueAt: () => 15 }, 'mA')
 * const reading = await dmm.measure('current-dc') // { value: 0.0150001, unit: 'A', resolution: 1e-7, accuracy: 8.5e-6 }
 * ```
 */
export class SimulatedDmm extends SimulatedInstrument {
  readonly measures: readonly InstrumentQuantity[] = DMM_QUANTITIES;
  readonly sources: readonly InstrumentQuantity[] = [];
  readonly digits: number;
  readonly #noiseCounts: number;
  readonly #accuracy: Readonly<Record<DmmQuantity, DmmAccuracy>>;
  readonly #ranges: Readonly<Record<DmmQuantity, readonly number[]>>;
  readonly #inputs = new Map<DmmQuantity, (timeMs: number) => number>();

  constructor(options: SimulatedDmmOptions) {
    super('dmm', 'SIM-DMM', options);
    const digits = options.digits ?? 6.5;
    if (!Number.isFinite(digits) || digits < 3 || digits > 8.5 || (digits * 2) % 1 !== 0) {
      throw new ArgumentError(`Expected \`digits\` to be a number from 3 to 8.5 in steps of 0.5, got ${String(options.digits)}`);
    }
    this.digits = digits;
    this.#noiseCounts = nonNegative('noiseCounts', options.noiseCounts, 0.5);
    const accuracy = { ...DEFAULT_DMM_ACCURACY, ...options.accuracy };
    const ranges = { ...DEFAULT_DMM_RANGES, ...options.ranges };
    for (const quantity of DMM_QUANTITIES) {
      const a = accuracy[quantity];
      nonNegative(`accuracy.${quantity}.percentOfReading`, a.percentOfReading, 0);
      nonNegative(`accuracy.${quantity}.counts`, a.counts, 0);
      const r = ranges[quantity];
      if (!Array.isArray(r) || r.length === 0 || r.some((v, i) => !(v > 0) || !Number.isFinite(v) || (i > 0 && v <= r[i - 1]!))) {
        throw new ArgumentError(`Expected \`ranges.${quantity}\` to be ascending positive numbers, got ${JSON.stringify(r)}`);
      }
    }
    this.#accuracy = accuracy;
    this.#ranges = ranges;
  }

  /**
   * Connects a signal to the input of `quantity` (its values in `unit`, default the quantity's SenML
   * unit: V, A, Ohm). Returns a function that disconnects it.
   */
  connect(quantity: DmmQuantity, signal: InputSignal, unit: string = QUANTITY_UNITS[quantity]): () => void {
    if (!DMM_QUANTITIES.includes(quantity)) throw new ArgumentError(`Expected a DMM input (${DMM_QUANTITIES.join(', ')}), got ${String(quantity)}`);
    if (typeof signal?.valueAt !== 'function') throw new ArgumentError('Expected `signal` to have a valueAt(timeMs) function');
    const toInternal = converter(unit, QUANTITY_UNITS[quantity]);
    const read = (timeMs: number): number => toInternal(signal.valueAt(timeMs));
    this.#inputs.set(quantity, read);
    return () => {
      if (this.#inputs.get(quantity) === read) this.#inputs.delete(quantity);
    };
  }

  /** The resolution on the range that shows `value`, or undefined when it is over every range. */
  resolutionFor(quantity: DmmQuantity, value: number): number | undefined {
    const range = this.#ranges[quantity].find((r) => Math.abs(value) <= r * OVERRANGE);
    return range === undefined ? undefined : range * 10 ** -Math.floor(this.digits);
  }

  /** The stated accuracy (half-width) of a reading `value` shown with `resolution`. */
  accuracyOf(quantity: DmmQuantity, value: number, resolution: number): number {
    const spec = this.#accuracy[quantity];
    return (Math.abs(value) * spec.percentOfReading) / 100 + spec.counts * resolution;
  }

  protected apply(): void {
    // `sources` is empty: the base class refuses every source() before this.
  }

  protected read(quantity: InstrumentQuantity): InstrumentReading {
    const q = quantity as DmmQuantity;
    const time = this.clock.now();
    const input = this.#inputs.get(q);
    const command = `measure ${quantity}`;
    if (input === undefined && q === 'resistance') throw new InstrumentError('overload', { instrument: this.id, command }, 'open input (overload): nothing is connected');
    const truth = input === undefined ? 0 : input(time);
    if (!Number.isFinite(truth)) throw new InstrumentError('overload', { instrument: this.id, command }, `the input is not a finite value (${String(truth)})`);
    const resolution = this.resolutionFor(q, truth);
    if (resolution === undefined) {
      const top = this.#ranges[q].at(-1)! * OVERRANGE;
      throw new InstrumentError('overload', { instrument: this.id, command }, `over range: |${truth}| ${QUANTITY_UNITS[q]} is above ${top} ${QUANTITY_UNITS[q]}`);
    }
    const value = quantize(truth + this.random.gaussian(0, this.#noiseCounts * resolution), resolution);
    return { quantity, value, unit: QUANTITY_UNITS[q], time, resolution, accuracy: this.accuracyOf(q, value, resolution) };
  }
}
