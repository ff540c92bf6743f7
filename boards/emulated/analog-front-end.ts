/**
 * The analog side of the emulated board: one ADC model per analog pin, the signals attached to the
 * pins, and the injected faults applied between them. Both the IO-plugin path (`analogRead`) and
 * the bus path (`AnalogInput`) convert through here, so a fault looks the same to both.
 */
import type { AnalogInput } from '../../sdk/io/board.js';
import type { AnalogPinDefinition, BoardDefinition } from '../../sdk/io/board-definitions.js';
import type { Clock } from '../../sdk/core/clock.js';
import { steadyNow } from '../../sdk/core/wall-clock-watch.js';
import { BusError, StateError } from '../../sdk/core/errors.js';
import type { SeededRandom } from '../../sdk/core/random.js';
import type { Signal } from './peripheral.js';
import { AdcModel } from './adc.js';
import type { FaultInjector, InjectedFault } from './faults.js';

/** Options of {@link AnalogFrontEnd}. */
export interface AnalogFrontEndOptions {
  readonly definition: BoardDefinition;
  readonly clock: Clock;
  /** The board's root generator; each pin's ADC forks `adc:<pin>` from it. */
  readonly random: SeededRandom;
  /** Input-referred ADC noise σ, V. */
  readonly noiseVolts: number;
  /** Where the pins' faults are looked up, by pin name. */
  readonly faults: FaultInjector;
}

/**
 * The analog pins of an emulated board.
 *
 * @example
 * ```ts
 * const analog = new AnalogFrontEnd({ definition: ARDUINO_UNO, clock, random: new SeededRandom(1), noiseVolts: 0, faults })
 * analog.attach(ARDUINO_UNO.analogPins[0]!, constant(2.5))
 * analog.convert(ARDUINO_UNO.analogPins[0]!) // 512
 * ```
 */
export class AnalogFrontEnd {
  readonly #options: AnalogFrontEndOptions;
  readonly #adcs = new Map<string, AdcModel>();
  readonly #signals = new Map<string, Signal>();

  constructor(options: AnalogFrontEndOptions) {
    this.#options = options;
    const adc = options.definition.adc;
    if (adc === undefined) return;
    for (const pin of options.definition.analogPins) {
      const model = new AdcModel({
        resolution: adc.resolution,
        referenceVoltage: adc.referenceVoltage,
        noiseVolts: options.noiseVolts,
        random: options.random.fork(`adc:${pin.name}`),
      });
      this.#adcs.set(pin.name, model);
    }
  }

  /** Connects a signal (volts) to a pin; replaces any previous one. */
  attach(pin: AnalogPinDefinition, signalVolts: Signal): void {
    this.#signals.set(pin.name, signalVolts);
  }

  /**
   * One conversion through the pin's faults and ADC: counts, or the `BusError` of a dropout.
   * An unattached pin reads 0 V, as if tied to ground.
   */
  convert(pin: AnalogPinDefinition): number | BusError {
    const adc = this.#adc(pin);
    const faults = this.#options.faults.on(pin.name);
    let volts: number | undefined;
    for (const fault of faults) {
      const spec = fault.spec;
      if (spec.kind === 'dropout') {
        const p = spec.probability ?? 1;
        if (p >= 1 || fault.random.next() < p) return new BusError('ERR_BUS_TIMEOUT', `analog input ${pin.name} did not convert (injected dropout)`);
      }
      if (spec.kind === 'open-circuit') volts = spec.wiring === 'pull-down' ? 0 : adc.referenceVoltage;
    }
    volts ??= faults.find((fault) => fault.kind === 'stuck')?.frozenVolts;
    volts ??= this.#volts(pin.name);
    for (const fault of faults) if (fault.spec.kind === 'noise-burst') volts += fault.random.gaussian(0, fault.spec.sigma);
    return adc.convert(volts);
  }

  /** Freezes the pin voltage of an analog `stuck` fault at the moment it starts. */
  captureStuck(fault: InjectedFault): void {
    if (fault.kind === 'stuck' && fault.parsed.type === 'analog') fault.frozenVolts = this.#volts(fault.parsed.pin);
  }

  /** An ECMA-419 `AnalogInput` on `pin`; `isOpen` tells whether the board still is. */
  open(pin: AnalogPinDefinition, isOpen: () => boolean): AnalogInput {
    const adc = this.#adc(pin);
    let open = true;
    return {
      pin: pin.name,
      resolution: adc.resolution,
      referenceVoltage: adc.referenceVoltage,
      read: async () => {
        if (!open) throw new StateError(`analog input ${pin.name} is closed`);
        if (!isOpen()) throw new StateError('the board is closed');
        const counts = this.convert(pin);
        if (counts instanceof BusError) throw counts;
        return counts;
      },
      close: () => {
        open = false;
      },
    };
  }

  #volts(name: string): number {
    // The emulated world runs on steady time, as the I2C parts do: a wall-time step moves no signal.
    return this.#signals.get(name)?.valueAt(steadyNow(this.#options.clock)) ?? 0;
  }

  #adc(pin: AnalogPinDefinition): AdcModel {
    const adc = this.#adcs.get(pin.name);
    if (adc === undefined) throw new StateError(`pin ${pin.name} has no ADC model`); // a definition without `adc` has no analog pins
    return adc;
  }
}
