/**
 * Runs a device file on the emulated board and a virtual clock, collecting what it emits.
 */
import { EmulatedBoard } from '../../boards/emulated/index.js';
import { VirtualClock } from '../../sdk/core/index.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { Device } from '../../sdk/device/index.js';
import { loadDeviceFile, type DeviceModule } from '../../sdk/runtime/index.js';
import type { AlarmEvent, FaultEvent } from '../../sdk/pipeline/index.js';
import type { Sample } from '../../sdk/model/index.js';

/** Everything a run emitted. */
export interface DeviceRun {
  readonly device: Device;
  readonly board: EmulatedBoard;
  readonly clock: VirtualClock;
  readonly module: DeviceModule;
  readonly samples: Sample[];
  readonly reports: Sample[];
  readonly alarms: AlarmEvent[];
  readonly faults: FaultEvent[];
}

/** Loads `path`, wires its emulation with `seed`, and starts it on a virtual clock (not advanced yet). */
export async function startDevice(path: string, seed: number, start = Date.UTC(2026, 10, 25, 8)): Promise<DeviceRun> {
  const module = await loadDeviceFile(path);
  const clock = new VirtualClock({ start });
  const board = new EmulatedBoard({ definition: module.model.board, clock, seed });
  module.emulation?.(board, new SeededRandom(seed).fork('emulation'));
  const device = new Device(module.model, { board, serialNumber: `TEST-${seed}` });
  module.setup?.(device);
  const run: DeviceRun = { device, board, clock, module, samples: [], reports: [], alarms: [], faults: [] };
  device.on('sample', (sample) => run.samples.push(sample));
  device.on('report', (sample) => run.reports.push(sample));
  device.on('alarm', (event) => run.alarms.push(event));
  device.on('fault', (event) => run.faults.push(event));
  await device.start();
  return run;
}

/** The samples of one channel. */
export function channelSamples(run: DeviceRun, channel: string): Sample[] {
  return run.samples.filter((sample) => sample.channel === channel);
}

/** Stops the device (reads in flight are cut short, no clock needed) and closes the board. */
export async function stopDevice(run: DeviceRun): Promise<void> {
  await run.device.stop();
  await run.board.close();
}
