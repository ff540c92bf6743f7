/**
 * `--target SPEC` → a `Target`, checked before anything opens: an unknown form, or a serial device
 * or folder that does not exist, is one `ValidationError` line naming it.
 *
 *   emulated, in-process observation   the in-process emulated board on a virtual clock (createEmulatedTarget)
 *   emulated, mqtt / opcua             the device through the runtime on the emulated board, real clock (RuntimeTarget)
 *   firmata:PATH, serial:PATH, linux   the device through the runtime on that board (RuntimeTarget;
 *                                      serial:PATH is the Firmata board on that serial line)
 */
import { ArgumentError, ValidationError } from '../../sdk/core/errors.js';
import type { DeviceSource } from '../../sdk/runtime/device-source.js';
import { createEmulatedTarget, type EmulatedTargetOptions } from './emulated.js';
import { RuntimeTarget, type RuntimeTargetOptions } from './runtime-target.js';
import type { ObservationKind, Target } from './target.js';
import { checkTargetSpec } from './target-spec.js';

/** Options of {@link createTarget}. */
export interface CreateTargetOptions {
  /** The device under test: a device file path, a model, or a model with its emulation. */
  readonly device: DeviceSource;
  /** Seed of the emulated world (recorded). */
  readonly seed: number;
  /** How the device is observed. Default `in-process` (every sample the device takes, no network). */
  readonly observation?: ObservationKind;
  /** The broker of a runtime-backed target: default the target's own aedes on 127.0.0.1. */
  readonly mqtt?: RuntimeTargetOptions['mqtt'];
  /** The device's OPC UA server of a runtime-backed target (on a free port unless given); `false`: off. */
  readonly opcua?: { readonly port?: number } | false;
  /** Start of the virtual clock of the in-process emulated target, ms since the epoch. */
  readonly clockStart?: number;
  /**
   * The device's serial number. Default `EMU-<seed>` on an emulated target (a runtime-backed one
   * also reads `$SENSORKIT_SERIAL`); a station of several emulated fixtures gives each its own.
   */
  readonly serialNumber?: string;
  /** Told what an operator should know (a Firmata line lost). Default: standard error. */
  readonly warn?: (message: string) => void;
  /** Declared truths injected on physical inputs: the in-process emulated target only. */
  readonly inject?: EmulatedTargetOptions['inject'];
  /** The unit's calibration records by channel: the in-process emulated target only. */
  readonly calibrations?: EmulatedTargetOptions['calibrations'];
}

/**
 * The target a `--target` spec names, not yet opened. Throws `ValidationError` (path `target …`)
 * for a malformed spec or a path that does not exist, before anything runs.
 *
 * @example
 * ```ts
 * const target = createTarget('firmata:/dev/ttyACM0', { device: 'examples/motor-monitor', seed: 1, observation: 'mqtt' })
 * const device = await target.open()
 * ```
 */
export function createTarget(spec: string, options: CreateTargetOptions): Target {
  if (typeof options !== 'object' || options === null) throw new ArgumentError('Expected `options` with `device` and `seed`');
  const parsed = checkTargetSpec(spec);
  const observation = options.observation ?? 'in-process';
  if (parsed.kind === 'emulated' && observation === 'in-process') {
    return createEmulatedTarget({
      device: options.device,
      seed: options.seed,
      ...(options.clockStart === undefined ? {} : { clockStart: options.clockStart }),
      ...(options.serialNumber === undefined ? {} : { serialNumber: options.serialNumber }),
      ...(options.inject === undefined ? {} : { inject: options.inject }),
      ...(options.calibrations === undefined ? {} : { calibrations: options.calibrations }),
    });
  }
  const where = `${spec} observed ${observation === 'in-process' ? 'in process' : `over ${observation === 'mqtt' ? 'MQTT' : 'OPC UA'}`}`;
  if (options.inject !== undefined && options.inject.length > 0) {
    throw new ValidationError('inject', `declared truths are injected on the in-process emulated target (--target emulated, observed in process), not on ${where}`);
  }
  if (options.calibrations !== undefined && Object.keys(options.calibrations).length > 0) {
    throw new ValidationError('calibrations', `calibration records are handed to the in-process emulated target only, not to ${where}: a device through the runtime applies its own`);
  }
  return new RuntimeTarget({
    spec: parsed,
    device: options.device,
    seed: options.seed,
    observation,
    ...(options.mqtt === undefined ? {} : { mqtt: options.mqtt }),
    ...(options.opcua === undefined ? {} : { opcua: options.opcua }),
    ...(options.serialNumber === undefined ? {} : { serialNumber: options.serialNumber }),
    ...(options.warn === undefined ? {} : { warn: options.warn }),
  });
}
