/**
 * A fixture of the generic driver sweep (after Zephyr's emulator sweep): which part and output to
 * sweep, on which board, and how to wire an emulation that turns the true value into what the part
 * sees. Each module in `test/contract/fixtures/` default-exports one fixture or an array of them.
 */
import type { EmulatedBoard } from '../../boards/emulated/board.js';
import type { Signal } from '../../boards/emulated/peripheral.js';
import type { SeededRandom } from '../../sdk/core/random.js';

/**
 * One sweep.
 *
 * @example
 * ```ts
 * const fixture: SweepFixture = {
 *   part: 'analog-voltage', output: 'voltage', board: 'arduino-uno', pin: 'A0',
 *   attach: (board, truth) => board.attachAnalog('A0', truth),
 * }
 * export default fixture
 * ```
 */
export interface SweepFixture {
  /** Registered part id. */
  part: string;
  /** The output swept, one of the part's outputs. */
  output: string;
  /** Driver options, as in a device model. */
  options?: Record<string, unknown>;
  board: 'arduino-uno' | 'raspberry-pi-4';
  /** Analog pin for `io: 'analog'` parts. Default: the board's first analog pin. */
  pin?: string;
  /** I2C bus for `io: 'i2c'` parts. Default: the board's first bus. */
  bus?: string;
  /** I2C address. Default: the part's first address. */
  address?: number;
  /** Points across the range, at least 21 (the default). */
  points?: number;
  /**
   * Wires the emulation: `truth` is the true physical value in the output's unit; attach whatever
   * turns it into what the part sees (a signal on a pin, a peripheral on the bus).
   */
  attach(board: EmulatedBoard, truth: Signal, random: SeededRandom): void;
}
