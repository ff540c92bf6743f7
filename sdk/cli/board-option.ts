/**
 * `--board`: which board `sensorkit run` drives. Each kind of board is opened here, so that `run`
 * only sees a `Board` and a line that describes it.
 *
 *   emulated              the in-process emulated board (the device file's `emulation()`)
 *   firmata:PATH          a Firmata 2.x board on a serial port (an Arduino, or `sensorkit emulate firmata`)
 *   firmata:PATH@BAUD     … at another baud rate (default 57600)
 *   linux[:ROOT]          this Linux board: IIO, hwmon, /dev/i2c-N (ROOT: a sysfs/dev root, for tests)
 */
import type { Board } from '../io/board.js';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { FirmataBoard } from '../../boards/firmata/firmata-board.js';
import { FIRMATA_BAUD, serialLine } from '../../boards/firmata/serial-line.js';
import { LinuxBoard } from '../../boards/linux/linux-board.js';
import type { Clock } from '../core/clock.js';
import { DeviceFileError } from '../core/errors.js';
import { SeededRandom } from '../core/random.js';
import type { DeviceModule } from '../runtime/device-file.js';
import { UsageError } from './usage.js';

/** The board kinds `--board` accepts, for `--help` and error messages. */
export const BOARD_CHOICES = ['emulated', 'firmata:PATH[@BAUD]', 'linux'] as const;

/** An opened board with a description for the start line ("the emulated Raspberry Pi 4"). */
export interface OpenedBoard {
  readonly board: Board;
  readonly description: string;
}

/**
 * Opens the board named by `--board` for the loaded device. On the emulated board the device file's
 * `emulation()` wires the emulated parts, seeded with `seed`. A Firmata board takes the model's
 * pin names, checked against the board's capability reply.
 *
 * @example
 * ```ts
 * const { board, description } = await openBoard('firmata:/dev/ttyACM0', { loaded, clock, seed: 1, warn })
 * ```
 */
export async function openBoard(
  spec: string,
  options: { loaded: DeviceModule; clock: Clock; seed: number; warn: (line: string) => void },
): Promise<OpenedBoard> {
  const { loaded, clock, seed } = options;
  if (spec === 'emulated') {
    const board = await createEmulatedBoard(loaded, clock, seed, options.warn);
    return { board, description: `the emulated ${loaded.model.board.name}, seed ${seed}` };
  }
  if (spec.startsWith('firmata:')) {
    const { path, baud } = parseFirmataSpec(spec);
    const describe = `${path} at ${baud} baud`;
    const board = await FirmataBoard.open({ line: serialLine(path, baud), describe, clock, definition: loaded.model.board });
    board.on('disconnect', (reason: string) => options.warn(`Firmata line lost (${reason}); reconnecting`));
    board.on('reconnect', () => options.warn('Firmata line restored'));
    return { board, description: `Firmata board "${board.identity.firmware.name}" on ${describe} (as ${loaded.model.board.name})` };
  }
  if (spec === 'linux' || spec.startsWith('linux:')) {
    const root = spec === 'linux' ? undefined : spec.slice('linux:'.length);
    if (root === '') throw new UsageError('--board linux:ROOT: ROOT is empty');
    const board = new LinuxBoard({ definition: loaded.model.board, clock, ...(root === undefined ? {} : { root }) });
    return { board, description: `this Linux board (${root === undefined ? '/sys, /dev' : `root ${root}`}) as ${loaded.model.board.name}` };
  }
  throw new UsageError(`--board: unknown board "${spec}"; available: ${BOARD_CHOICES.join(', ')}`);
}

/**
 * `firmata:PATH[@BAUD]` → path and baud; `UsageError` when malformed.
 *
 * @example
 * ```ts
 * parseFirmataSpec('firmata:/dev/ttyACM0@115200') // { path: '/dev/ttyACM0', baud: 115200 }
 * ```
 */
export function parseFirmataSpec(spec: string): { path: string; baud: number } {
  const rest = spec.slice('firmata:'.length);
  const at = rest.lastIndexOf('@');
  const path = at >= 0 && /^\d+$/.test(rest.slice(at + 1)) ? rest.slice(0, at) : rest;
  const baud = path === rest ? FIRMATA_BAUD : Number(rest.slice(at + 1));
  if (path === '') throw new UsageError('--board firmata:PATH: the serial port path is missing (e.g. firmata:/dev/ttyACM0)');
  if (!(baud >= 300 && baud <= 4_000_000)) throw new UsageError(`--board ${spec}: baud rate must be from 300 to 4000000`);
  return { path, baud };
}

/**
 * The emulated board of a device file: its model's board definition, wired by its `emulation()`
 * with a generator forked from `seed` (the same wiring `run` and `emulate firmata` use, so the two
 * see the same world for the same seed).
 *
 * @example
 * ```ts
 * const board = await createEmulatedBoard(await loadDeviceFile('examples/env-node'), clock, 1, console.warn)
 * ```
 */
export async function createEmulatedBoard(loaded: DeviceModule, clock: Clock, seed: number, warn: (line: string) => void): Promise<EmulatedBoard> {
  const board = new EmulatedBoard({ definition: loaded.model.board, clock, seed });
  try {
    if (loaded.emulation) await inDeviceFile(loaded, 'emulation', () => loaded.emulation!(board, new SeededRandom(seed).fork('emulation')));
    else warn(`${loaded.file} exports no \`emulation\`: the emulated board has no parts attached, so readings will be sensor faults`);
  } catch (error) {
    await board.close();
    throw error;
  }
  return board;
}

/**
 * Runs the device file's own code; what it throws (or rejects with, should it return a promise)
 * becomes a `DeviceFileError`, printed as one line naming the file.
 *
 * @example
 * ```ts
 * await inDeviceFile(loaded, 'setup', () => loaded.setup?.(device))
 * ```
 */
export async function inDeviceFile(loaded: DeviceModule, hook: 'emulation' | 'setup', run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DeviceFileError(loaded.file, `${hook}() failed: ${message.split('\n')[0]}`, { cause: error });
  }
}
