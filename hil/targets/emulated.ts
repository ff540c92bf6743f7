/**
 * The in-process emulated target: the device runs on the emulated board on a `VirtualClock`, the
 * harness observes its samples in process, and stimulus goes to the physical inputs its device
 * file's `emulation(board, random, inputs)` declares. Waits cost no wall time (a plan of hours runs
 * in seconds), and the same seed gives the same samples byte for byte.
 */
import type { EmulatedBoard } from '../../boards/emulated/board.js';
import type { FaultHandle } from '../../boards/emulated/faults.js';
import { PhysicalInputs } from '../../boards/emulated/physical-inputs.js';
import { VirtualClock } from '../../sdk/core/clock.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { canConvert, converter } from '../../sdk/core/units.js';
import { ArgumentError, StateError, ValidationError } from '../../sdk/core/errors.js';
import { Device } from '../../sdk/device/device.js';
import type { DeviceModel } from '../../sdk/model/define-device.js';
import type { CalibrationSpec } from '../../sdk/pipeline/specs.js';
import { createEmulatedBoard, inDeviceFile, resolveDevice, type DeviceSource, type ResolvedDevice } from '../../sdk/runtime/device-source.js';
import type { FaultInjecting } from './emulated-faults.js';
import { checkInjection, injectionDistortion, type InjectedDistortion, type Injection } from './emulated-injection.js';
import type { DeviceUnderTest, InputSignal, PhysicalInput, SampleListener, Target } from './target.js';

/** Options of {@link createEmulatedTarget}. */
export interface EmulatedTargetOptions {
  /** A device file path, a model, or a model with its `emulation`. */
  readonly device: DeviceSource;
  /** Seed of the emulated world (an integer). */
  readonly seed: number;
  /** Start of the virtual clock, ms since the epoch. Default 2026-01-01T00:00:00Z. */
  readonly clockStart?: number;
  /** The device's serial number. Default `EMU-<seed>`. */
  readonly serialNumber?: string;
  /**
   * Declared truths: errors injected on physical inputs (`parseInjection('temperature:offset=3')`),
   * applied from the opening on; `runTestPlan` records them as the record's `injected`.
   */
  readonly inject?: readonly Injection[];
  /** This unit's calibration records by channel (e.g. `calibrationsFromRecords(...)`), as `Device` takes them. */
  readonly calibrations?: Readonly<Record<string, CalibrationSpec>>;
}

/** The emulated target, with the emulated world reachable for custom steps and tests. */
export interface EmulatedTarget extends Target, FaultInjecting {
  readonly kind: 'emulated';
  readonly clock: VirtualClock;
  /** The board, once open (fault injection, attached parts). */
  readonly board: EmulatedBoard;
  /** The running device, once open. */
  readonly device: Device;
  /** The world's physical inputs, once open. */
  readonly physicalInputs: PhysicalInputs;
  /** What the device file's emulation warned about (e.g. that it has none). */
  readonly warnings: readonly string[];
  /** The declared truths in force (empty without `inject`). */
  readonly injected: readonly Injection[];
}

/** Default start of the virtual clock: fixed, so replays read the same clock. */
const DEFAULT_CLOCK_START = Date.UTC(2026, 0, 1);

type State =
  | { readonly name: 'idle' }
  | { readonly name: 'opening' }
  | { readonly name: 'open'; readonly board: EmulatedBoard; readonly device: Device; readonly resolved: ResolvedDevice }
  | { readonly name: 'closed' };

/**
 * An emulated target, not yet opened.
 *
 * @example
 * ```ts
 * const target = createEmulatedTarget({ device: 'examples/env-node', seed: 1 })
 * await target.open()
 * target.onSample((sample) => console.log(sample.channel, sample.value))
 * await target.stimulate('temperature', 30, 'Cel')
 * await target.wait(60_000)                      // one virtual minute, in milliseconds of wall time
 * await target.injectFault('i2c1@0x76', 'dropout', 10_000)
 * await target.close()
 * ```
 */
export function createEmulatedTarget(options: EmulatedTargetOptions): EmulatedTarget {
  if (typeof options !== 'object' || options === null) throw new ArgumentError('Expected `options` with `device` and `seed`');
  if (!Number.isInteger(options.seed)) throw new ArgumentError(`Expected \`seed\` to be an integer, got ${String(options.seed)}`);
  return new InProcessEmulatedTarget(options);
}

class InProcessEmulatedTarget implements EmulatedTarget {
  readonly kind = 'emulated' as const;
  readonly description = 'emulated';
  readonly observation = 'in-process' as const;
  readonly virtualTime = true;
  readonly clock: VirtualClock;
  readonly physicalInputs = new PhysicalInputs();
  readonly #options: EmulatedTargetOptions;
  readonly #listeners = new Set<SampleListener>();
  readonly #warnings: string[] = [];
  readonly #boardFaults = new Map<string, FaultHandle[]>();
  readonly #injected: readonly Injection[];
  readonly #distortions = new Map<string, InjectedDistortion>();
  #state: State = { name: 'idle' };
  #model: DeviceModel | undefined;

  constructor(options: EmulatedTargetOptions) {
    this.#options = options;
    if (options.inject !== undefined && !Array.isArray(options.inject)) throw new ValidationError('inject', 'expected a list of { channel, kind, value }');
    this.#injected = Object.freeze((options.inject ?? []).map((injection, i) => Object.freeze(checkInjection(injection, `inject[${i}]`))));
    this.clock = new VirtualClock({ start: options.clockStart ?? DEFAULT_CLOCK_START });
    const source = options.device;
    if (typeof source === 'object' && source !== null) this.#model = 'model' in source ? source.model : source;
  }

  get model(): DeviceModel {
    if (this.#model === undefined) throw new StateError('the emulated target loads its device file when it opens; open() it first');
    return this.#model;
  }

  get board(): EmulatedBoard {
    return this.#open().board;
  }

  get device(): Device {
    return this.#open().device;
  }

  get warnings(): readonly string[] {
    return this.#warnings;
  }

  get injected(): readonly Injection[] {
    return this.#injected;
  }

  async open(): Promise<DeviceUnderTest> {
    if (this.#state.name !== 'idle') throw new StateError(`cannot open an emulated target that is ${this.#state.name}`);
    this.#state = { name: 'opening' };
    let board: EmulatedBoard | undefined;
    try {
      const resolved = await resolveDevice(this.#options.device);
      this.#model = resolved.model;
      board = await createEmulatedBoard(resolved, this.clock, this.#options.seed, (message) => this.#warnings.push(message), this.physicalInputs);
      this.#applyInjections(resolved.model);
      const device = new Device(resolved.model, {
        board,
        serialNumber: this.#options.serialNumber ?? `EMU-${this.#options.seed}`,
        ...(this.#options.calibrations === undefined ? {} : { calibrations: this.#options.calibrations }),
      });
      const setup = resolved.setup;
      if (setup) await inDeviceFile(resolved, 'setup', () => setup(device));
      device.on('sample', (sample) => {
        for (const listener of this.#listeners) listener(sample);
      });
      await device.start();
      this.#state = { name: 'open', board, device, resolved };
      const { identity } = resolved.model;
      return {
        id: resolved.model.id,
        manufacturer: identity.manufacturer,
        model: identity.model,
        serialNumber: device.serialNumber,
        hardwareRevision: identity.hardwareRevision,
        softwareRevision: identity.softwareRevision,
      };
    } catch (error) {
      await board?.close();
      this.#state = { name: 'closed' };
      throw error;
    }
  }

  inputs(): readonly PhysicalInput[] {
    return this.physicalInputs.list();
  }

  async stimulate(input: string, value: number, unit: string): Promise<void> {
    this.#open();
    this.#distortions.get(input)?.touch(this.clock.now());
    this.physicalInputs.set(input, value, unit);
  }

  async drive(input: string, signal: InputSignal, unit: string): Promise<void> {
    this.#open();
    this.#distortions.get(input)?.touch(this.clock.now());
    this.physicalInputs.drive(input, signal, unit);
  }

  /** Installs the declared truths on their inputs (ValidationError for an input the emulation lacks). */
  #applyInjections(model: DeviceModel): void {
    const byInput = new Map<string, Injection[]>();
    for (const injection of this.#injected) byInput.set(injection.channel, [...(byInput.get(injection.channel) ?? []), injection]);
    for (const [name, injections] of byInput) {
      const input = this.physicalInputs.list().find((candidate) => candidate.name === name);
      if (input === undefined) {
        const known = this.physicalInputs.list().map((candidate) => candidate.name);
        throw new ValidationError(`inject.${name}`, `no physical input "${name}" on this emulated target (inputs: ${known.length === 0 ? 'none' : known.join(', ')})`);
      }
      const channel = model.channel(name);
      const range =
        channel !== undefined && canConvert(channel.unit, input.unit)
          ? { min: converter(channel.unit, input.unit)(channel.range.min), max: converter(channel.unit, input.unit)(channel.range.max) }
          : undefined;
      const injected = injectionDistortion(injections, {
        random: new SeededRandom(this.#options.seed).fork(`inject:${name}`),
        startMs: this.clock.now(),
        ...(range === undefined ? {} : { range }),
      });
      this.#distortions.set(name, injected);
      this.physicalInputs.distort(name, injected.distortion);
    }
  }

  onSample(listener: SampleListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  async wait(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new ArgumentError(`Expected \`ms\` to be a finite number from 0 and up, got ${String(ms)}`);
    this.#open();
    await this.clock.advance(ms);
  }

  faultTargets(): readonly { readonly name: string; readonly kinds: readonly string[] }[] {
    return this.physicalInputs.faults().map((fault) => ({ name: fault.name, kinds: fault.kinds }));
  }

  async injectFault(target: string, fault: string, durationMs?: number, options: Readonly<Record<string, number | string>> = {}): Promise<void> {
    const { board } = this.#open();
    if (durationMs !== undefined && !(Number.isFinite(durationMs) && durationMs > 0)) {
      throw new ValidationError('durationMs', `expected a number above 0, got ${String(durationMs)}`);
    }
    if (this.physicalInputs.faults().some((declared) => declared.name === target)) {
      const kind = fault === 'clear' ? undefined : fault;
      this.physicalInputs.setFault(target, kind);
      if (kind !== undefined && durationMs !== undefined) {
        this.clock.schedule(this.clock.now() + durationMs, () => {
          if (this.physicalInputs.activeFault(target) === kind) this.physicalInputs.setFault(target, undefined);
        });
      }
      return;
    }
    if (fault === 'clear') {
      for (const handle of this.#boardFaults.get(target) ?? []) handle.clear();
      this.#boardFaults.delete(target);
      return;
    }
    const spec = { ...options, target, kind: fault, ...(durationMs === undefined ? {} : { durationMs }) };
    const handle = board.faults.inject(spec as Parameters<typeof board.faults.inject>[0]);
    this.#boardFaults.set(target, [...(this.#boardFaults.get(target) ?? []), handle]);
  }

  async close(): Promise<void> {
    const state = this.#state;
    this.#state = { name: 'closed' };
    if (state.name !== 'open') return;
    this.#listeners.clear();
    // stop() closes the drivers at once, then waits for a read in flight. A transfer held by an
    // injected `timeout` fault waits for clock time that nothing advances once the run is over, so
    // the board closes next: that clears the faults and rejects every waiting transfer, and the stop
    // settles without the clock moving on.
    const stopping = state.device.stop();
    await state.board.close();
    await stopping;
  }

  #open(): Extract<State, { name: 'open' }> {
    if (this.#state.name !== 'open') throw new StateError(`the emulated target is ${this.#state.name}, not open`);
    return this.#state;
  }
}
export { parseInjection, checkInjection, INJECTION_KINDS, type Injection, type InjectionKind } from './emulated-injection.js';
