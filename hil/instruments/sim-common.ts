/**
 * What the simulated instruments share: the clock they read time from, seeded randomness (one
 * stream per instrument, forked from the run's seed by the instrument's kind and id, so adding an
 * instrument does not change another's readings), units per quantity, and their identity.
 */
import type { Clock } from '../../sdk/core/clock.js';
import { ArgumentError, NotSupportedError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { converter, convertDifference } from '../../sdk/core/units.js';
import { InstrumentError } from './errors.js';
import { QUANTITIES, QUANTITY_UNITS, type Instrument, type InstrumentIdentity, type InstrumentQuantity, type InstrumentReading, type InstrumentSignal } from './instrument.js';

export type { InstrumentSignal } from './instrument.js';

/** Options every simulated instrument takes. */
export interface SimulatedInstrumentOptions {
  /** The clock of the harness (a `VirtualClock` for an emulated target): readings carry its time. */
  readonly clock: Clock;
  /** Seed of the instrument's noise; same seed and same clock ⇒ same readings. */
  readonly seed: number;
  /** The plan's role for it. Default: the kind (`dmm`, `calibrator`, `supply`, `chamber`). */
  readonly id?: string;
  /** Serial number in the identity. Default `SIM-<seed>`. */
  readonly serialNumber?: string;
}

/** sensorkit's simulated firmware revision, reported in `*IDN?`. */
export const SIMULATED_FIRMWARE = '1.0';

/**
 * Base of the simulated instruments: identity, closed state, unit conversion. A subclass lists what
 * it `measures` and `sources` and implements `read` and `apply` in the quantity's internal unit.
 *
 * @example
 * ```ts
 * const instruments: SimulatedInstrument[] = [new SimulatedDmm({ clock, seed }), new SimulatedChamber({ clock, seed })]
 * for (const instrument of instruments) console.log(instrument.id, instrument.measures)
 * ```
 */
export abstract class SimulatedInstrument implements Instrument {
  readonly id: string;
  readonly clock: Clock;
  /** The instrument's own random stream. */
  protected readonly random: SeededRandom;
  readonly #identity: InstrumentIdentity;
  #closed = false;

  protected constructor(kind: string, model: string, options: SimulatedInstrumentOptions, certificate?: InstrumentIdentity['certificate']) {
    if (options === null || typeof options !== 'object') throw new ArgumentError(`Expected options with \`clock\` and \`seed\`, got ${String(options)}`);
    if (typeof options.clock?.now !== 'function') throw new ArgumentError('Expected `clock` to be a Clock');
    if (!Number.isInteger(options.seed)) throw new ArgumentError(`Expected \`seed\` to be an integer, got ${String(options.seed)}`);
    this.id = options.id ?? kind;
    this.clock = options.clock;
    this.random = new SeededRandom(options.seed).fork(`instrument:${kind}:${this.id}`);
    this.#identity = {
      manufacturer: 'sensorkit',
      model,
      serialNumber: options.serialNumber ?? `SIM-${options.seed}`,
      firmware: SIMULATED_FIRMWARE,
      simulated: true,
      ...(certificate === undefined ? {} : { certificate }),
    };
  }

  /** The quantities `measure` takes. */
  abstract readonly measures: readonly InstrumentQuantity[];
  /** The quantities `source` takes. */
  abstract readonly sources: readonly InstrumentQuantity[];

  async identify(): Promise<InstrumentIdentity> {
    this.assertOpen('identify');
    return this.#identity;
  }

  async measure(quantity: InstrumentQuantity): Promise<InstrumentReading> {
    this.assertOpen(`measure ${quantity}`);
    if (!this.measures.includes(quantity)) throw new NotSupportedError(`${this.id}: ${this.#identity.model} cannot measure ${describeQuantity(quantity)} (it measures ${this.measures.join(', ')})`);
    return this.read(quantity);
  }

  async source(quantity: InstrumentQuantity, value: number, unit: string): Promise<void> {
    this.assertOpen(`source ${quantity}`);
    if (!this.sources.includes(quantity)) {
      throw new NotSupportedError(`${this.id}: ${this.#identity.model} cannot source ${describeQuantity(quantity)}${this.sources.length ? ` (it sources ${this.sources.join(', ')})` : ''}`);
    }
    if (!Number.isFinite(value)) throw new ArgumentError(`Expected a finite value to source for ${quantity}, got ${String(value)}`);
    this.apply(quantity, toInternal(quantity, value, unit));
  }

  /** The physical output of `quantity` as a signal; `NotSupportedError` where there is none. */
  output(quantity: InstrumentQuantity): InstrumentSignal {
    throw new NotSupportedError(`${this.id}: ${this.#identity.model} has no ${describeQuantity(quantity)} output`);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** One reading of a quantity in `measures`. */
  protected abstract read(quantity: InstrumentQuantity): InstrumentReading;
  /** Sets an output of a quantity in `sources`, the value in the quantity's internal unit. */
  protected abstract apply(quantity: InstrumentQuantity, value: number): void;

  protected assertOpen(command: string): void {
    if (this.#closed) throw new InstrumentError('closed', { instrument: this.id, command }, 'the instrument is closed');
  }
}

/**
 * Converts a value in `unit` to the quantity's internal unit; `UnitError` when it cannot.
 *
 * @example
 * ```ts
 * toInternal('current-dc', 20, 'mA') // 0.02
 * ```
 */
export function toInternal(quantity: InstrumentQuantity, value: number, unit: string): number {
  const internal = QUANTITY_UNITS[quantity];
  if (internal === undefined) throw new ArgumentError(`Expected a quantity (${QUANTITIES.join(', ')}), got ${String(quantity)}`);
  return converter(unit, internal)(value);
}

/**
 * Converts a difference (a rate, a tolerance) in `unit` to the quantity's internal unit.
 *
 * @example
 * ```ts
 * differenceToInternal('temperature', 0.5, 'K') // 0.5 (Cel)
 * ```
 */
export function differenceToInternal(quantity: InstrumentQuantity, value: number, unit: string): number {
  return convertDifference(value, unit, QUANTITY_UNITS[quantity]);
}

/**
 * Rounds `value` to a multiple of `resolution` (0: unrounded), without `-0`.
 *
 * @example
 * ```ts
 * quantize(1.234567, 1e-5) // 1.23457
 * ```
 */
export function quantize(value: number, resolution: number): number {
  if (!(resolution > 0)) return value;
  const steps = Math.round(value / resolution);
  // Decimal resolutions (1e-5) are not exact in binary: round the product to the resolution's digits.
  const digits = Math.max(0, Math.min(15, Math.ceil(-Math.log10(resolution)) + 1));
  const rounded = Number((steps * resolution).toFixed(digits));
  return rounded === 0 ? 0 : rounded;
}

/**
 * Validates a non-negative finite option (`ArgumentError` naming it), or takes the fallback.
 *
 * @example
 * ```ts
 * const noise = nonNegative('noiseCounts', options.noiseCounts, 0.5)
 * ```
 */
export function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result < 0) throw new ArgumentError(`Expected \`${name}\` to be a finite number from 0 and up, got ${String(value)}`);
  return result;
}

function describeQuantity(quantity: string): string {
  return QUANTITIES.includes(quantity as InstrumentQuantity) ? quantity : `"${String(quantity)}" (not a quantity)`;
}
