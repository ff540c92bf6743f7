/**
 * sensorkit's own board kinds, registered in the board registry when `sensorkit/runtime` loads:
 *
 *   emulated              the in-process emulated board (the device file's `emulation()`)
 *   firmata:PATH          a Firmata 2.x board on a serial port (an Arduino, or `sensorkit emulate firmata`)
 *   firmata:PATH@BAUD     … at another baud rate (default 57600)
 *   linux[:ROOT]          this Linux board: IIO, hwmon, /dev/i2c-N (ROOT: a sysfs/dev root, for tests)
 *
 * The Firmata and Linux boards are loaded when opened: a device on the emulated board does not load
 * serialport or the i2c-dev addon.
 */
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { ValidationError } from '../core/errors.js';
import { registerBoard, type BoardKind } from '../io/board-registry.js';

/** The emulated board, its world wired by the device's `emulation()`. */
export const EMULATED_BOARD: BoardKind = {
  name: 'emulated',
  usage: 'emulated',
  summary: 'the emulated board in this process, its parts wired by the device file\'s emulation()',
  check(args) {
    if (args !== undefined) throw new ValidationError('emulated', 'takes no arguments (the seed is set with `seed`)');
  },
  async open(_args, context) {
    const board = new EmulatedBoard({ definition: context.definition, clock: context.clock, seed: context.seed });
    try {
      await context.emulate(board);
    } catch (error) {
      await board.close();
      throw error;
    }
    return { board, description: `the emulated ${context.definition.name}, seed ${context.seed}` };
  },
};

/** A Firmata 2.x board on a serial port; the model's pin names are checked against its capability reply. */
export const FIRMATA_BOARD: BoardKind = {
  name: 'firmata',
  usage: 'firmata:PATH[@BAUD]',
  summary: 'a Firmata 2.x board on a serial port (an Arduino, or `sensorkit emulate firmata`), 57600 baud unless @BAUD',
  check(args) {
    parseFirmataArgs(args);
  },
  async open(args, context) {
    const { path, baud: given } = parseFirmataArgs(args);
    const [{ FirmataBoard }, { FIRMATA_BAUD, serialLine }] = await Promise.all([import('../../boards/firmata/firmata-board.js'), import('../../boards/firmata/serial-line.js')]);
    const baud = given ?? FIRMATA_BAUD;
    const describe = `${path} at ${baud} baud`;
    const board = await FirmataBoard.open({ line: serialLine(path, baud), describe, clock: context.clock, definition: context.definition });
    board.on('disconnect', (reason: string) => context.warn(`Firmata line lost (${reason}); reconnecting`));
    board.on('reconnect', () => context.warn('Firmata line restored'));
    return { board, description: `Firmata board "${board.identity.firmware.name}" on ${describe} (as ${context.definition.name})` };
  },
};

/** This Linux board (IIO, hwmon, i2c-dev), or a sysfs/dev tree under ROOT. */
export const LINUX_BOARD: BoardKind = {
  name: 'linux',
  usage: 'linux[:ROOT]',
  summary: 'this Linux board: IIO, hwmon, /dev/i2c-N (ROOT: a folder holding sys/ and dev/, for tests)',
  check(args) {
    if (args === '') throw new ValidationError('linux:ROOT', 'ROOT is empty');
  },
  async open(root, context) {
    const { LinuxBoard } = await import('../../boards/linux/linux-board.js');
    const board = new LinuxBoard({ definition: context.definition, clock: context.clock, ...(root === undefined ? {} : { root }) });
    return { board, description: `this Linux board (${root === undefined ? '/sys, /dev' : `root ${root}`}) as ${context.definition.name}` };
  },
};

/**
 * `PATH[@BAUD]` of a `firmata:` spec → path and baud (undefined: Firmata's 57600); `ValidationError`
 * when malformed.
 *
 * @example
 * ```ts
 * parseFirmataArgs('/dev/ttyACM0@115200') // { path: '/dev/ttyACM0', baud: 115200 }
 * ```
 */
export function parseFirmataArgs(args: string | undefined): { path: string; baud: number | undefined } {
  const rest = args ?? '';
  const at = rest.lastIndexOf('@');
  const path = at >= 0 && /^\d+$/.test(rest.slice(at + 1)) ? rest.slice(0, at) : rest;
  const baud = path === rest ? undefined : Number(rest.slice(at + 1));
  if (path === '') throw new ValidationError('firmata:PATH', 'the serial port path is missing (e.g. firmata:/dev/ttyACM0)');
  if (baud !== undefined && !(baud >= 300 && baud <= 4_000_000)) throw new ValidationError(`firmata:${rest}`, 'baud rate must be from 300 to 4000000');
  return { path, baud };
}

for (const kind of [EMULATED_BOARD, FIRMATA_BOARD, LINUX_BOARD]) registerBoard(kind);
