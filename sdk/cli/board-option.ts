/**
 * `--board`: which board `sensorkit run` drives. Each kind of board is opened here, so that `run`
 * only sees a `Board` and a line that describes it.
 */
import type { Board } from '../../boards/contract.js';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import type { Clock } from '../core/clock.js';
import { DeviceFileError } from '../core/errors.js';
import { SeededRandom } from '../core/random.js';
import type { DeviceModule } from '../device/load.js';
import { UsageError } from './usage.js';

/** The board kinds `--board` accepts, for `--help` and error messages. */
export const BOARD_CHOICES = ['emulated'] as const;

/** An opened board with a description for the start line ("the emulated Raspberry Pi 4"). */
export interface OpenedBoard {
  readonly board: Board;
  readonly description: string;
}

/**
 * Opens the board named by `--board` for the loaded device. On the emulated board the device file's
 * `emulation()` wires the emulated parts, seeded with `seed`.
 *
 * @example
 * ```ts
 * const { board, description } = await openBoard('emulated', { loaded, clock, seed: 1, warn })
 * ```
 */
export async function openBoard(
  spec: string,
  options: { loaded: DeviceModule; clock: Clock; seed: number; warn: (line: string) => void },
): Promise<OpenedBoard> {
  const { loaded, clock, seed } = options;
  if (spec !== 'emulated') throw new UsageError(`--board: unknown board "${spec}"; available: ${BOARD_CHOICES.join(', ')}`);
  const board = new EmulatedBoard({ definition: loaded.model.board, clock, seed });
  try {
    if (loaded.emulation) await inDeviceFile(loaded, 'emulation', () => loaded.emulation!(board, new SeededRandom(seed).fork('emulation')));
    else options.warn(`${loaded.file} exports no \`emulation\`: the emulated board has no parts attached, so readings will be sensor faults`);
  } catch (error) {
    await board.close();
    throw error;
  }
  return { board, description: `the emulated ${loaded.model.board.name}, seed ${seed}` };
}

/**
 * Runs the device file's own code; what it throws (or rejects with, should it return a promise)
 * becomes a `DeviceFileError`, printed as one line naming the file.
 */
export async function inDeviceFile(loaded: DeviceModule, hook: 'emulation' | 'setup', run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DeviceFileError(loaded.file, `${hook}() failed: ${message.split('\n')[0]}`, { cause: error });
  }
}
