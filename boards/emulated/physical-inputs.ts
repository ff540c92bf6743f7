/**
 * Physical inputs of the emulated world: the true quantities a device measures (the air temperature
 * at a BME280, the process pressure at a 4–20 mA transmitter) and the faults a test may switch on
 * (a transmitter signalling failure). A device file's `emulation(board, random, inputs)` wraps each
 * true quantity in `inputs.input(name, signal, unit)`; the signal returned follows `signal` until a
 * test harness sets or drives the input, so without a harness it is a pass-through: the same calls
 * in the same order, and the same values byte for byte for the same seed.
 *
 * Sensor noise and dynamics stay outside the input (wrap the input, not the other way round): the
 * input is the true value, what a reference instrument would read.
 */
import { ArgumentError, ValidationError } from '../../sdk/core/errors.js';
import { describe } from '../../sdk/core/check.js';
import { canConvert, converter, senmlUnitProblem, unitInfo } from '../../sdk/core/units.js';
import type { Signal } from './peripheral.js';

/** A physical input as a harness lists it. */
export interface PhysicalInputInfo {
  /** Name used by test plans, e.g. `temperature`, `pressure`. */
  readonly name: string;
  /** Unit of the values it takes (SenML), e.g. `Cel`, `Pa`. */
  readonly unit: string;
  readonly description?: string;
}

/** A fault a harness may switch on, e.g. a transmitter's NAMUR NE 43 failure signal. */
export interface FaultControlInfo {
  /** Name used by test plans, e.g. `transmitter`. */
  readonly name: string;
  /** The kinds it takes, e.g. `downscale`, `upscale`, `open`. */
  readonly kinds: readonly string[];
  readonly description?: string;
}

/** A declared error on what an input carries: the carried value in, the value the part sees out. */
export type InputDistortion = (value: number, timeMs: number) => number;

interface InputEntry {
  readonly info: PhysicalInputInfo;
  /** What the input follows now: undefined for the device file's own signal. */
  override: Signal | undefined;
  /** A declared error applied on top, if any. */
  distortion: InputDistortion | undefined;
  /** The constant set last, in the input's unit (a reference value for a test). */
  setValue: number | undefined;
}

interface FaultEntry {
  readonly info: FaultControlInfo;
  readonly apply: (kind: string | undefined) => void;
  active: string | undefined;
}

/** Input and fault names: as channel ids (lower case, digits, `_`, `-`). */
const NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * The physical inputs of one emulated world. `emulation()` declares them; a test harness sets them.
 *
 * @example
 * ```ts
 * export function emulation(board: EmulatedBoard, random: SeededRandom, inputs = new PhysicalInputs()): void {
 *   const air = inputs.input('temperature', sine({ offset: 22.5, amplitude: 1.5, periodMs: 600_000 }), 'Cel')
 *   board.attachI2c(new Bme280Peripheral({ address: 0x76, temperature: gaussianNoise(air, { sigma: 0.02, random }) }))
 * }
 * // in a harness:
 * inputs.set('temperature', 25, 'Cel')      // the true air temperature is now 25 °C
 * inputs.release('temperature')             // back to the device file's own signal
 * ```
 */
export class PhysicalInputs {
  readonly #inputs = new Map<string, InputEntry>();
  readonly #faults = new Map<string, FaultEntry>();

  /**
   * Declares an input and returns the signal to use in its place: `signal` until the input is set
   * or driven. Throws `ArgumentError` for a bad name, a unit that is not a unit, or a name declared
   * twice.
   */
  input(name: string, signal: Signal, unit: string, description?: string): Signal {
    this.#checkName(name);
    if (typeof signal?.valueAt !== 'function') throw new ArgumentError(`Expected \`signal\` of input "${name}" to be a Signal (an object with valueAt(timeMs))`);
    if (typeof unit !== 'string' || unitInfo(unit) === undefined) {
      throw new ArgumentError(`Expected \`unit\` of input "${name}" to be a unit such as "Cel" or "Pa", got ${describe(unit)}`);
    }
    const info = Object.freeze({ name, unit, ...(description === undefined ? {} : { description }) });
    const entry: InputEntry = { info, override: undefined, distortion: undefined, setValue: undefined };
    this.#inputs.set(name, entry);
    return {
      valueAt(timeMs: number): number {
        // The own signal is not called while overridden: a stateful signal resumes where it was.
        const value = entry.override === undefined ? signal.valueAt(timeMs) : entry.override.valueAt(timeMs);
        return entry.distortion === undefined ? value : entry.distortion(value, timeMs);
      },
    };
  }

  /**
   * Declares a fault a harness may switch: `apply(kind)` switches it on, `apply(undefined)` off.
   *
   * @example
   * ```ts
   * inputs.fault('transmitter', ['downscale', 'upscale', 'open'], (kind) => loop.setFault(kind as CurrentLoopFault | undefined))
   * ```
   */
  fault(name: string, kinds: readonly string[], apply: (kind: string | undefined) => void, description?: string): void {
    this.#checkName(name);
    if (!Array.isArray(kinds) || kinds.length === 0 || kinds.some((kind) => typeof kind !== 'string' || kind === '' || kind === 'clear')) {
      throw new ArgumentError(`Expected \`kinds\` of fault "${name}" to be a non-empty list of names other than "clear"`);
    }
    if (typeof apply !== 'function') throw new ArgumentError(`Expected \`apply\` of fault "${name}" to be a function`);
    this.#faults.set(name, { info: Object.freeze({ name, kinds: Object.freeze([...kinds]), ...(description === undefined ? {} : { description }) }), apply, active: undefined });
  }

  /** The declared inputs, in declaration order. */
  list(): readonly PhysicalInputInfo[] {
    return [...this.#inputs.values()].map((entry) => entry.info);
  }

  /** The declared faults, in declaration order. */
  faults(): readonly FaultControlInfo[] {
    return [...this.#faults.values()].map((entry) => entry.info);
  }

  /** True when the input `name` is declared. */
  has(name: string): boolean {
    return this.#inputs.has(name);
  }

  /**
   * Holds the input at `value` (in `unit`, converted to the input's unit) from now on. Throws
   * `ValidationError` for an unknown input or a unit that does not convert.
   */
  set(name: string, value: number, unit: string): void {
    const entry = this.#entry(name);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError(`inputs.${name}`, `expected a finite number, got ${describe(value)}`);
    const converted = this.#convert(entry, unit)(value);
    entry.override = { valueAt: () => converted };
    entry.setValue = converted;
  }

  /** Makes the input follow `signal` (values in `unit`) from now on. */
  drive(name: string, signal: Signal, unit: string): void {
    const entry = this.#entry(name);
    if (typeof signal?.valueAt !== 'function') throw new ValidationError(`inputs.${name}`, 'expected a signal (an object with valueAt(timeMs))');
    const convert = this.#convert(entry, unit);
    entry.override = { valueAt: (timeMs) => convert(signal.valueAt(timeMs)) };
    entry.setValue = undefined;
  }

  /** Returns the input to the device file's own signal. */
  release(name: string): void {
    const entry = this.#entry(name);
    entry.override = undefined;
    entry.setValue = undefined;
  }

  /**
   * Applies a declared error to what the input carries (in its unit), whatever it follows: an
   * offset, a gain, a lag … — the truth a measurement method must find when it validates itself.
   * `undefined` removes it. What a plan set stays the reference; only the part sees the error.
   *
   * @example
   * ```ts
   * inputs.distort('temperature', (value) => value + 0.5) // the sensor reads 0.5 °C high
   * inputs.distort('temperature', undefined)
   * ```
   */
  distort(name: string, distortion: InputDistortion | undefined): void {
    const entry = this.#entry(name);
    if (distortion !== undefined && typeof distortion !== 'function') throw new ValidationError(`inputs.${name}`, 'expected a distortion function (value, timeMs) => value');
    entry.distortion = distortion;
  }

  /** The constant the input was last set to, in its unit; undefined when driven or not set. */
  valueOf(name: string): number | undefined {
    return this.#entry(name).setValue;
  }

  /** Switches a declared fault on (`kind`) or off (`undefined`). */
  setFault(name: string, kind: string | undefined): void {
    const entry = this.#faults.get(name);
    if (entry === undefined) {
      const known = [...this.#faults.keys()];
      throw new ValidationError(`faults.${name}`, `no fault "${name}" in this emulation (faults: ${known.length === 0 ? 'none' : known.join(', ')})`);
    }
    if (kind !== undefined && !entry.info.kinds.includes(kind)) {
      throw new ValidationError(`faults.${name}`, `expected one of ${entry.info.kinds.join(', ')} or clear, got ${describe(kind)}`);
    }
    entry.apply(kind);
    entry.active = kind;
  }

  /** The fault kind in force on `name`, if any. */
  activeFault(name: string): string | undefined {
    return this.#faults.get(name)?.active;
  }

  #checkName(name: string): void {
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new ArgumentError(`Expected an input or fault name of lower case letters, digits, "_" or "-", got ${describe(name)}`);
    }
    if (this.#inputs.has(name) || this.#faults.has(name)) throw new ArgumentError(`input or fault "${name}" is declared twice`);
  }

  #entry(name: string): InputEntry {
    const entry = this.#inputs.get(name);
    if (entry === undefined) {
      const known = [...this.#inputs.keys()];
      throw new ValidationError(`inputs.${name}`, `no physical input "${name}" (inputs: ${known.length === 0 ? 'none' : known.join(', ')})`);
    }
    return entry;
  }

  #convert(entry: InputEntry, unit: string): (value: number) => number {
    if (typeof unit !== 'string' || unitInfo(unit) === undefined) {
      throw new ValidationError(`inputs.${entry.info.name}`, typeof unit === 'string' ? senmlUnitProblem(unit)! : `expected a unit, got ${describe(unit)}`);
    }
    if (!canConvert(unit, entry.info.unit)) throw new ValidationError(`inputs.${entry.info.name}`, `${unit} does not convert to the input's unit ${entry.info.unit}`);
    return converter(unit, entry.info.unit);
  }
}
