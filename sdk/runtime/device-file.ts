/**
 * Loading a device file: a TypeScript or JavaScript module whose default export is a `DeviceModel`
 * (from `defineDevice`). It may also export `emulation(board, random, inputs)`, which wires emulated
 * parts and signals for runs on the emulated board (`inputs` holds the true quantities a test
 * harness may set or drive; a pass-through otherwise), and `setup(device)`, which implements commands.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EmulatedBoard } from '../../boards/emulated/board.js';
import type { PhysicalInputs } from '../../boards/emulated/physical-inputs.js';
import { DeviceFileError, SensorkitError } from '../core/errors.js';
import type { SeededRandom } from '../core/random.js';
import { DeviceModel } from '../model/define-device.js';
import type { Device } from '../device/device.js';
import { importFailure } from './import-error.js';
import { sourceFileProblem } from './source-file.js';

/** What a device file provides. */
export interface DeviceModule {
  /** Absolute path of the file that was loaded. */
  readonly file: string;
  readonly model: DeviceModel;
  /**
   * Wires the emulated world for this device (signals, emulated parts, faults); `inputs` holds the
   * true quantities a test harness may set or drive (a pass-through otherwise).
   */
  readonly emulation?: (board: EmulatedBoard, random: SeededRandom, inputs?: PhysicalInputs) => void;
  /** Implements commands and other device behaviour once the device exists. */
  readonly setup?: (device: Device) => void;
}

const ENTRY_FILES = ['device.ts', 'device.js', 'device.mjs', 'index.ts', 'index.js', 'index.mjs'];

/**
 * Resolves a device path (a file, or a folder with `device.ts`/`device.js`/`index.*`) to a file.
 * Throws `DeviceFileError` when nothing is there, or when it is not a regular file of at most
 * 1 MiB (source-file.ts).
 */
export function resolveDeviceFile(path: string): string {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new DeviceFileError(path, 'no such file or folder');
  let file = absolute;
  if (statSync(absolute).isDirectory()) {
    const entry = ENTRY_FILES.map((name) => join(absolute, name)).find((candidate) => existsSync(candidate));
    if (entry === undefined) throw new DeviceFileError(path, `folder has none of ${ENTRY_FILES.join(', ')}`);
    file = entry;
  }
  // Before it is imported: `sensorkit run /dev/zero` once read until memory ran out.
  const problem = sourceFileProblem(file, 'device file');
  if (problem !== undefined) throw new DeviceFileError(file === absolute ? path : file, problem);
  return file;
}

/**
 * Imports a device file. TypeScript files need the ts-node loader, which the `sensorkit` binary
 * registers. Every failure is a `DeviceFileError` naming the file, with the model's
 * `ValidationError` (and its field path) as the reason when the declaration is invalid.
 *
 * @example
 * ```ts
 * const { model, emulation } = await loadDeviceFile('examples/env-node')
 * ```
 */
export async function loadDeviceFile(path: string): Promise<DeviceModule> {
  const file = resolveDeviceFile(path);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof SensorkitError ? error.message : importFailure(error);
    throw new DeviceFileError(file, reason, { cause: error });
  }
  const model = module.default ?? module.device;
  if (!(model instanceof DeviceModel)) {
    throw new DeviceFileError(file, 'must export a device model as default (export default defineDevice({ … }))');
  }
  const emulation = module.emulation;
  const setup = module.setup;
  if (emulation !== undefined && typeof emulation !== 'function') throw new DeviceFileError(file, '`emulation` must be a function');
  if (setup !== undefined && typeof setup !== 'function') throw new DeviceFileError(file, '`setup` must be a function');
  return {
    file,
    model,
    ...(emulation ? { emulation: emulation as DeviceModule['emulation'] & object } : {}),
    ...(setup ? { setup: setup as DeviceModule['setup'] & object } : {}),
  };
}
