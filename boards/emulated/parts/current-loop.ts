/**
 * A 4–20 mA two-wire transmitter and its receiver's shunt resistor: a process value in, the volts
 * across the shunt out, ready for an ADS1115 input or a board's analog pin.
 *
 * Signalling follows NAMUR NE 43: the measurement spans 4…20 mA, is held within 3.8…20.5 mA when
 * the process goes beyond the span, and a failing transmitter drives ≤ 3.6 mA or ≥ 21 mA. A broken
 * wire carries no current at all.
 */
import { ArgumentError } from '../../../sdk/core/errors.js';
import { expectNumber } from '../expect.js';
import type { Signal } from '../peripheral.js';

/** Options of {@link currentLoopTransmitter}. */
export interface CurrentLoopTransmitterOptions {
  /** Process value transmitted as 4 mA, in the value signal's unit. */
  rangeMin: number;
  /** Process value transmitted as 20 mA (may be below `rangeMin` for a reverse-acting transmitter). */
  rangeMax: number;
  /** Shunt resistor of the receiver, Ω (above 0; 250 Ω is the classic 1–5 V receiver). */
  shuntOhms: number;
}

/**
 * A loop fault: `'open'` a broken wire (0 mA), `'downscale'` / `'upscale'` the transmitter's NE 43
 * failure signal (3.5 mA / 21.5 mA).
 */
export type CurrentLoopFault = 'open' | 'downscale' | 'upscale';

/** The loop as a `Signal` in volts across the shunt, with fault control. */
export interface CurrentLoopSignal extends Signal {
  /** Injects a fault from now on, or clears it with `undefined`. */
  setFault(fault: CurrentLoopFault | undefined): void;
  /** The fault in force, if any. */
  readonly fault: CurrentLoopFault | undefined;
  /** Loop current (mA) that a process value maps to, NE 43 limits applied, no fault. */
  currentFor(value: number): number;
}

/** NE 43 signal limits, mA. */
const MEASURING_MIN_MA = 3.8;
const MEASURING_MAX_MA = 20.5;
const FAILURE_MA: Readonly<Record<CurrentLoopFault, number>> = { open: 0, downscale: 3.5, upscale: 21.5 };

/**
 * Wraps a process-value signal into the voltage a 4–20 mA loop develops across a shunt. A value
 * signal that returns a non-finite number (NaN) models a dead transmitter: the loop carries 0 mA,
 * as for `setFault('open')`.
 *
 * @example
 * ```ts
 * const pressure = settable(250_000) // Pa
 * const loop = currentLoopTransmitter(pressure, { rangeMin: 0, rangeMax: 1_000_000, shuntOhms: 250 })
 * loop.valueAt(clock.now()) // 8 mA × 250 Ω = 2 V
 * const adc = new Ads1115Peripheral({ inputs: [loop], vdd: 5 })
 * loop.setFault('open')      // the wire breaks: 0 V
 * ```
 */
export function currentLoopTransmitter(value: Signal, options: CurrentLoopTransmitterOptions): CurrentLoopSignal {
  if (typeof value?.valueAt !== 'function') {
    throw new ArgumentError(`Expected \`value\` to be a Signal (an object with valueAt(timeMs)), got ${String(value)}`);
  }
  const rangeMin = expectNumber('rangeMin', options.rangeMin);
  const rangeMax = expectNumber('rangeMax', options.rangeMax);
  if (rangeMin === rangeMax) throw new ArgumentError(`Expected \`rangeMax\` to differ from \`rangeMin\` (${rangeMin}), got ${rangeMax}`);
  const shuntOhms = expectNumber('shuntOhms', options.shuntOhms, { above: 0 });

  const currentFor = (processValue: number): number => {
    if (!Number.isFinite(processValue)) return FAILURE_MA.open;
    const milliamps = 4 + (16 * (processValue - rangeMin)) / (rangeMax - rangeMin);
    return Math.min(MEASURING_MAX_MA, Math.max(MEASURING_MIN_MA, milliamps));
  };
  let fault: CurrentLoopFault | undefined;
  return {
    valueAt(timeMs: number): number {
      // The process value is read even under a fault, so stateful signals keep their time order.
      const processValue = value.valueAt(timeMs);
      const milliamps = fault === undefined ? currentFor(processValue) : FAILURE_MA[fault];
      return (milliamps / 1000) * shuntOhms;
    },
    setFault(next: CurrentLoopFault | undefined): void {
      if (next !== undefined && !(next in FAILURE_MA)) {
        throw new ArgumentError(`Expected \`fault\` to be "open", "downscale", "upscale" or undefined, got ${String(next)}`);
      }
      fault = next;
    },
    get fault() {
      return fault;
    },
    currentFor,
  };
}
