/**
 * One emulated I2C part on an emulated board and a virtual clock: the setup of every driver test.
 */
import type { BoardDefinition } from '../../sdk/io/board-definitions.js';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import type { I2cPeripheral } from '../../boards/emulated/peripheral.js';
import { VirtualClock } from '../../sdk/core/clock.js';

/** Options of {@link i2cRig}. */
export interface I2cRigOptions {
  /** Board definition or built-in id. Default `'raspberry-pi-4'` (bus i2c1). */
  readonly board?: BoardDefinition | string;
  /** Seed of the board's random sources. Default `1`. */
  readonly seed?: number;
  /** Virtual clock start, ms since the epoch. Default: `VirtualClock`'s (2026-01-01T00:00Z). */
  readonly start?: number;
}

/**
 * Attaches `peripheral` to a new emulated board on a new virtual clock and opens it at its address;
 * `io` is what a driver's constructor takes.
 *
 * @example
 * ```ts
 * const { clock, io } = i2cRig(new Ads1115Peripheral({ inputs: [constant(1.25)] }), { seed: 2 })
 * const reading = await clock.runUntilSettled(new Ads1115Driver(io).sample()) // { values: { voltage: 1.25 }, … }
 * ```
 */
export function i2cRig(peripheral: I2cPeripheral, options: I2cRigOptions = {}) {
  const clock = new VirtualClock(options.start === undefined ? {} : { start: options.start });
  const board = new EmulatedBoard({ definition: options.board ?? 'raspberry-pi-4', clock, seed: options.seed ?? 1 });
  board.attachI2c(peripheral);
  const i2c = board.openI2c({ address: peripheral.address });
  return { clock, board, i2c, io: { clock, i2c } };
}
