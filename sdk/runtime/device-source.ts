/**
 * What a runtime runs: a device file's path, a loaded device file, or a bare model. Also the calls
 * into a device file's own code (`emulation()`, `setup()`), whose failures become one
 * `DeviceFileError` line naming the file.
 */
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { PhysicalInputs } from '../../boards/emulated/physical-inputs.js';
import type { Clock } from '../core/clock.js';
import { DeviceFileError } from '../core/errors.js';
import { SeededRandom } from '../core/random.js';
import type { Board } from '../io/board.js';
import { DeviceModel } from '../model/define-device.js';
import { loadDeviceFile, type DeviceModule } from './device-file.js';

/**
 * A device for the runtime: the path of a device file (or of a folder with `device.ts`), what
 * `loadDeviceFile` returned, or a model with the same optional hooks.
 */
export type DeviceSource = string | DeviceModel | DeviceParts;

/**
 * A device file's `emulation`: wires parts and signals onto the board. The third argument holds the
 * world's physical inputs (the true quantities a test harness may set); it is always given, and
 * until a harness sets an input, the input follows the device file's own signal.
 */
export type EmulationFunction = (board: EmulatedBoard, random: SeededRandom, inputs: PhysicalInputs) => unknown;

/** A model and the hooks a device file may export beside it. */
export interface DeviceParts {
  readonly model: DeviceModel;
  /** Wires the emulated world for this device (see {@link EmulationFunction}). */
  readonly emulation?: EmulationFunction;
  /** Implements commands once the device exists (see `DeviceModule.setup`). */
  readonly setup?: DeviceModule['setup'];
  /** Where it came from, named in errors and warnings; default `device model "<id>"`. */
  readonly file?: string;
}

/** A source resolved to its parts, with the name errors and warnings use. */
export interface ResolvedDevice extends DeviceParts {
  readonly file: string;
}

/**
 * Loads a device file when given a path; otherwise takes the model and hooks as they are.
 *
 * @example
 * ```ts
 * const device = await resolveDevice('examples/env-node') // { file: '/…/examples/env-node/device.ts', model, emulation }
 * ```
 */
export async function resolveDevice(source: DeviceSource): Promise<ResolvedDevice> {
  if (typeof source === 'string') return loadDeviceFile(source);
  if (source instanceof DeviceModel) return { model: source, file: `device model "${source.id}"` };
  if (typeof source !== 'object' || source === null || !(source.model instanceof DeviceModel)) {
    throw new DeviceFileError(String(source), 'expected a device file path, a device model (defineDevice) or { model, emulation?, setup? }');
  }
  return { ...source, file: source.file ?? `device model "${source.model.id}"` };
}

/**
 * Runs the device file's own code; what it throws (or rejects with, should it return a promise)
 * becomes a `DeviceFileError`, printed as one line naming the file.
 *
 * @example
 * ```ts
 * await inDeviceFile(device, 'setup', () => device.setup?.(running))
 * ```
 */
export async function inDeviceFile(device: Pick<ResolvedDevice, 'file'>, hook: 'emulation' | 'setup', run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DeviceFileError(device.file, `${hook}() failed: ${message.split('\n')[0]}`, { cause: error });
  }
}

/**
 * The `emulate` of a board context: wires the device's `emulation()` onto an emulated board, with a
 * generator forked from `seed` (the same wiring `run` and `emulate firmata` use, so the two see the
 * same world for the same seed) and the world's physical inputs (`inputs`, default: inputs nobody
 * sets, a pass-through). Without an `emulation`, it warns once: every reading will be a sensor fault.
 *
 * @example
 * ```ts
 * const inputs = new PhysicalInputs()
 * await emulationOf(device, 1, console.warn, inputs)(new EmulatedBoard({ definition: device.model.board, clock, seed: 1 }))
 * inputs.set('temperature', 25, 'Cel')
 * ```
 */
export function emulationOf(
  device: ResolvedDevice,
  seed: number,
  warn: (message: string) => void,
  inputs: PhysicalInputs = new PhysicalInputs(),
): (board: Board) => Promise<void> {
  return async (board) => {
    if (!(board instanceof EmulatedBoard)) throw new DeviceFileError(device.file, 'emulation() needs an EmulatedBoard');
    const emulation = device.emulation;
    if (emulation === undefined) {
      warn(`${device.file} exports no \`emulation\`: the emulated board has no parts attached, so readings will be sensor faults`);
      return;
    }
    await inDeviceFile(device, 'emulation', () => emulation(board, new SeededRandom(seed).fork('emulation'), inputs));
  };
}

/**
 * The emulated board of a device file: its model's board definition, wired by its `emulation()`
 * with `inputs` as the world's physical inputs (default: a pass-through nobody sets).
 *
 * @example
 * ```ts
 * const board = await createEmulatedBoard(await loadDeviceFile('examples/env-node'), clock, 1, console.warn)
 * ```
 */
export async function createEmulatedBoard(
  device: ResolvedDevice,
  clock: Clock,
  seed: number,
  warn: (message: string) => void,
  inputs?: PhysicalInputs,
): Promise<EmulatedBoard> {
  const board = new EmulatedBoard({ definition: device.model.board, clock, seed });
  try {
    await emulationOf(device, seed, warn, inputs)(board);
  } catch (error) {
    await board.close();
    throw error;
  }
  return board;
}
