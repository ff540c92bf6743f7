/**
 * The target contract: the device under test as the harness sees it. A black box that reports
 * samples (in process, over MQTT or over OPC UA) and takes stimulus on its physical inputs (the
 * emulator's true temperature, the current of a 4–20 mA loop) or through an instrument.
 *
 * Every target runs on one clock shared with the simulated instruments: a `VirtualClock` for the
 * emulated target (a plan of hours runs in seconds), the system clock for a real board.
 */
import type { Clock } from '../../sdk/core/clock.js';
import type { Sample } from '../../sdk/core/sample.js';
import type { DeviceModel } from '../../sdk/model/define-device.js';

/** Which kind of target: the `--target` forms `emulated`, `firmata:PATH`, `serial:PATH`, `linux`. */
export type TargetKind = 'emulated' | 'firmata' | 'serial' | 'linux';

/** How the harness observes the device: in process (emulated only), MQTT telemetry or OPC UA. */
export type ObservationKind = 'in-process' | 'mqtt' | 'opcua';

/** The device under test as a record names it. */
export interface DeviceUnderTest {
  /** The model's id, e.g. `env-node`. */
  readonly id: string;
  readonly manufacturer: string;
  readonly model: string;
  readonly serialNumber: string;
  readonly hardwareRevision?: string;
  /** The firmware / software revision the device reports. */
  readonly softwareRevision?: string;
}

/** A physical input the target can drive directly (emulated targets), in its unit. */
export interface PhysicalInput {
  /** Name used by plans, e.g. `temperature`, `pressure`, `loop-current`. */
  readonly name: string;
  /** SenML unit of the values it takes, e.g. `Cel`, `Pa`, `mA`. */
  readonly unit: string;
  readonly description?: string;
}

/** A value-in-time the target can follow on a physical input (a chamber's air temperature …). */
export interface InputSignal {
  /** Value at `timeMs` on the target's clock, in the input's unit; times never decrease. */
  valueAt(timeMs: number): number;
}

/** Called with each sample the target observes, in order of time. */
export type SampleListener = (sample: Sample) => void;

/**
 * One device under test, opened. `open()` must come first; `close()` stops everything the target
 * started (device, broker connection, pty) and is idempotent.
 *
 * @example
 * ```ts
 * const target = createEmulatedTarget({ device: 'examples/env-node', seed: 1 })
 * const info = await target.open()
 * const unsubscribe = target.onSample((sample) => console.log(sample.channel, sample.value, sample.unit))
 * await target.stimulate('temperature', 30, 'Cel')
 * await target.wait(60_000)
 * unsubscribe()
 * await target.close()
 * ```
 */
export interface Target {
  readonly kind: TargetKind;
  /** As the user wrote it, e.g. `firmata:/dev/ttyACM0`; named in records and errors. */
  readonly description: string;
  /** How samples reach the harness. */
  readonly observation: ObservationKind;
  /** The clock the device, the emulator and the simulated instruments share. */
  readonly clock: Clock;
  /** True when `clock` is virtual: waits cost no wall time, and the run replays from its seed. */
  readonly virtualTime: boolean;
  /** The device model the target runs. */
  readonly model: DeviceModel;
  /** Opens the board, starts the device and its observation; resolves with the device's identity. */
  open(): Promise<DeviceUnderTest>;
  /** Physical inputs this target can set itself (empty for a real board: use an instrument). */
  inputs(): readonly PhysicalInput[];
  /** Sets a physical input to a constant value, in `unit` (converted to the input's unit). */
  stimulate(input: string, value: number, unit: string): Promise<void>;
  /** Makes a physical input follow a signal (e.g. a simulated climatic chamber's air temperature). */
  drive(input: string, signal: InputSignal, unit: string): Promise<void>;
  /** Subscribes to observed samples; returns the unsubscribe function. */
  onSample(listener: SampleListener): () => void;
  /** Lets `ms` of target time pass (advances a virtual clock; sleeps on a real one). */
  wait(ms: number): Promise<void>;
  /** Stops the device and releases the board. Idempotent. */
  close(): Promise<void>;
}
