/**
 * A target that runs the device as `sensorkit run` does — through the runtime, on the system
 * clock, with its MQTT side (durable outbox, transport) and its OPC UA server — on any board the
 * runtime opens (`emulated`, `firmata:PATH`, `linux[:ROOT]`), and observes it as a black box: its
 * SenML-CBOR telemetry on the broker (`mqtt`) or its channel variables over OPC UA (`opcua`).
 *
 * The broker is the target's own aedes on a free port of 127.0.0.1 unless a URL is given; the
 * target can then interrupt it (an outage, see communications.ts). Everything the device writes
 * (outbox, OPC UA PKI) goes to a temporary folder removed at `close()`.
 *
 * Stimulus: on the emulated board, the physical inputs the device file's `emulation()` declares
 * (boards/emulated/physical-inputs.ts); on a real board there are none, and `stimulate` rejects
 * with `NotSupportedError`: the plan must source the quantity with an instrument.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import type { FaultHandle } from '../../boards/emulated/faults.js';
import { PhysicalInputs } from '../../boards/emulated/physical-inputs.js';
import { SystemClock, type Clock } from '../../sdk/core/clock.js';
import { ArgumentError, NotSupportedError, StateError, TimeoutError, ValidationError } from '../../sdk/core/errors.js';
import type { Sample } from '../../sdk/core/sample.js';
import { steadyNow } from '../../sdk/core/wall-clock-watch.js';
import { deviceIdFor } from '../../sdk/encoding/topics.js';
import type { DeviceModel } from '../../sdk/model/define-device.js';
import { resolveDevice, type DeviceSource, type EmulationFunction, type ResolvedDevice } from '../../sdk/runtime/device-source.js';
import { Runtime } from '../../sdk/runtime/runtime.js';
import type { MqttTlsOptions } from '../../sdk/transport/mqtt/options.js';
import { startOwnedBroker, type BrokerControl, type OwnedBroker } from './broker-control.js';
import type { CommunicatingTarget, OutageReport, TargetCommunications } from './communications.js';
import type { FaultInjecting } from './emulated-faults.js';
import { MqttObserver, type CommandReplyMessage } from './mqtt-observer.js';
import type { DeviceUnderTest, InputSignal, ObservationKind, PhysicalInput, SampleListener, TargetKind } from './target.js';
import { boardSpecOf, type TargetSpec } from './target-spec.js';

/** Options of {@link RuntimeTarget}. */
export interface RuntimeTargetOptions {
  /** Where the device runs: `emulated`, `firmata:…`, `serial:…` (the Firmata board on that line) or `linux…`. */
  readonly spec: TargetSpec;
  readonly device: DeviceSource;
  /** Seed of the emulated world. */
  readonly seed: number;
  /**
   * How the harness observes the device: its telemetry on the broker (`mqtt`), its OPC UA
   * variables (`opcua`), or every sample it takes inside this process (`in-process`, before any
   * network; the device runs in the harness's process on every board the runtime opens).
   */
  readonly observation: ObservationKind;
  /**
   * The broker: default the target's own aedes. With `url`, `broker` lets the target interrupt it;
   * `username` and `password` are the device's and the observer's at that broker.
   */
  readonly mqtt?: {
    readonly url?: string;
    readonly broker?: BrokerControl;
    readonly username?: string;
    readonly password?: string;
    /** With an `mqtts://` url: PEM files, the CA's and, for mutual TLS, the client's certificate and key. */
    readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  };
  /** The device's OPC UA server (dev profile, 127.0.0.1): on by default on a free port; `false` turns it off. */
  readonly opcua?: { readonly port?: number } | false;
  /** The device's serial number. Default: the runtime's (`$SENSORKIT_SERIAL`, else `EMU-<seed>`). */
  readonly serialNumber?: string;
  /** Longest time a sample waits for its telemetry batch, ms. Default 200. */
  readonly batchDelayMs?: number;
  /** Longest wait for the device to start and serve (OPC UA takes seconds), ms. Default 60,000. */
  readonly startTimeoutMs?: number;
  /** Told what an operator should know (a Firmata line lost). Default: standard error. */
  readonly warn?: (message: string) => void;
}

type OpenState =
  | { readonly kind: 'new' }
  | { readonly kind: 'opening'; readonly done: Promise<DeviceUnderTest> }
  | { readonly kind: 'open'; readonly runtime: Runtime; readonly deviceId: string; readonly brokerUrl: string }
  | { readonly kind: 'closed' };

const WARN = (message: string): void => void process.stderr.write(`sensorkit: warning: ${message}\n`);
/** The harness serves OPC UA's dev profile on 127.0.0.1 on purpose: its warning is not news. */
const DEV_PROFILE = /^OPC UA profile "dev"/;

/**
 * The device through the runtime, observed over MQTT or OPC UA.
 *
 * @example
 * ```ts
 * const target = new RuntimeTarget({ spec: parseTargetSpec('emulated'), device: 'examples/env-node', seed: 1, observation: 'mqtt' })
 * await target.open()
 * target.onSample((sample) => console.log(sample.channel, sample.value))
 * await target.stimulate('temperature', 30, 'Cel')
 * await target.wait(3000)
 * await target.close()
 * ```
 */
export class RuntimeTarget implements CommunicatingTarget {
  readonly kind: TargetKind;
  readonly description: string;
  readonly observation: ObservationKind;
  readonly clock: Clock = new SystemClock();
  readonly virtualTime = false;
  readonly communications: TargetCommunications;
  /** Fault injection, on the emulated board only (a real board's faults are real). */
  readonly injectFault?: FaultInjecting['injectFault'];
  readonly faultTargets?: FaultInjecting['faultTargets'];
  readonly #options: RuntimeTargetOptions;
  readonly #boardFaults = new Map<string, FaultHandle[]>();
  readonly #listeners = new Set<SampleListener>();
  readonly #reported = new Set<SampleListener>();
  readonly #cleanups: (() => Promise<void> | void)[] = [];
  #state: OpenState = { kind: 'new' };
  #model: DeviceModel | undefined;
  #inputs: PhysicalInputs | undefined;
  #broker: BrokerControl | undefined;
  #workDir: string | undefined;
  #probe: Promise<MqttObserver> | undefined;
  #telemetry: MqttObserver | undefined;
  #clients = 0;
  #closing: Promise<void> | undefined;

  constructor(options: RuntimeTargetOptions) {
    if (!['mqtt', 'opcua', 'in-process'].includes(options.observation)) throw new ArgumentError(`Expected \`observation\` "mqtt", "opcua" or "in-process", got ${String(options.observation)}`);
    if (options.observation === 'opcua' && options.opcua === false) throw new ArgumentError('OPC UA observation needs the device\'s OPC UA server (`opcua` is false)');
    this.#options = options;
    this.kind = options.spec.kind;
    this.description = options.spec.text;
    this.observation = options.observation;
    this.communications = this.#communications();
    const source = options.device;
    if (typeof source === 'object' && source !== null) this.#model = 'model' in source ? source.model : source;
    if (options.spec.kind === 'emulated') {
      this.injectFault = (target, fault, durationMs) => this.#injectFault(target, fault, durationMs);
      this.faultTargets = () => (this.#inputs?.faults() ?? []).map((declared) => ({ name: declared.name, kinds: declared.kinds }));
    }
  }

  /** The device model (known once `open()` resolved the device). */
  get model(): DeviceModel {
    if (this.#model === undefined) throw new StateError(`target ${this.description} loads its device file when it opens; open() it first`);
    return this.#model;
  }

  /** The runtime, once open: the device, its transport and OPC UA status (for diagnostics). */
  get runtime(): Runtime | undefined {
    return this.#state.kind === 'open' ? this.#state.runtime : undefined;
  }

  open(): Promise<DeviceUnderTest> {
    if (this.#state.kind === 'opening') return this.#state.done;
    if (this.#state.kind !== 'new') return Promise.reject(new StateError(`target ${this.description} is ${this.#state.kind === 'open' ? 'already open' : 'closed'}`));
    const done = this.#open().catch(async (error: unknown) => {
      await this.#release();
      this.#state = { kind: 'closed' };
      throw error;
    });
    this.#state = { kind: 'opening', done };
    return done;
  }

  inputs(): readonly PhysicalInput[] {
    return this.#inputs?.list() ?? [];
  }

  async stimulate(input: string, value: number, unit: string): Promise<void> {
    this.#physical(input).set(input, value, unit);
  }

  async drive(input: string, signal: InputSignal, unit: string): Promise<void> {
    this.#physical(input).drive(input, signal, unit);
  }

  onSample(listener: SampleListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  wait(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) return Promise.reject(new ArgumentError(`Expected \`ms\` to be a finite number from 0 and up, got ${String(ms)}`));
    return new Promise((resolve) => this.clock.schedule(this.clock.now() + ms, resolve));
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#state.kind === 'opening') await this.#state.done.catch(() => undefined);
      await this.#release();
      this.#state = { kind: 'closed' };
    })();
    return this.#closing;
  }

  async #open(): Promise<DeviceUnderTest> {
    const options = this.#options;
    const resolved = await resolveDevice(options.device);
    this.#model = resolved.model;
    const parts = options.spec.kind === 'emulated' ? this.#withInputs(resolved) : resolved;
    const workDir = mkdtempSync(join(tmpdir(), 'sensorkit-hil-'));
    this.#workDir = workDir;
    let brokerUrl = options.mqtt?.url;
    this.#broker = options.mqtt?.broker;
    if (brokerUrl === undefined) {
      const owned: OwnedBroker = await startOwnedBroker();
      this.#cleanups.push(() => owned.close());
      this.#broker = owned;
      brokerUrl = owned.url;
    }
    const opcua = options.opcua === false ? false : { port: options.opcua?.port ?? 0, host: '127.0.0.1', pki: join(workDir, 'pki'), users: join(workDir, 'opcua-users.json') };
    const runtime = await Runtime.open(
      {
        device: parts,
        board: boardSpecOf(options.spec),
        seed: options.seed,
        clock: this.clock,
        flushMs: 500,
        ...(options.serialNumber === undefined ? {} : { serialNumber: options.serialNumber }),
        mqtt: { url: brokerUrl, batch: { maxDelayMs: options.batchDelayMs ?? 200 }, ...this.#deviceCredentials(workDir), ...(options.mqtt?.tls === undefined ? {} : { tls: options.mqtt.tls }) },
        outbox: { dir: join(workDir, 'outbox') },
        opcua,
      },
      { warn: (message) => void (DEV_PROFILE.test(message) ? undefined : (options.warn ?? WARN)(message)), log: () => undefined },
    );
    this.#cleanups.push(() => runtime.stop());
    const deviceId = deviceIdFor(resolved.model, runtime.device.serialNumber);
    runtime.device.on('report', (sample) => this.#emit(this.#reported, sample));
    // Every sample, as the in-process emulated target: deadband and heartbeat thin only what is sent.
    if (this.observation === 'in-process') runtime.device.on('sample', (sample) => this.#emit(this.#listeners, sample));
    if (this.observation === 'mqtt') {
      // Subscribed before the device starts: nothing it publishes is missed.
      const observer = await MqttObserver.connect({ url: brokerUrl, deviceId, ...this.#credentials() });
      this.#cleanups.push(() => observer.close());
      this.#probe = Promise.resolve(observer);
      this.#telemetry = observer;
      observer.onSample((sample) => this.#emit(this.#listeners, sample));
    }
    const startMs = options.startTimeoutMs ?? 60_000;
    await runtime.start();
    await bounded(runtime.ready, startMs, `target ${this.description}: the device did not serve within ${startMs} ms`);
    // Connected means subscribed to its commands: from then on a request reaches the device.
    await bounded(connected(runtime), startMs, `target ${this.description}: the device did not connect to the broker at ${brokerUrl} within ${startMs} ms`);
    this.#state = { kind: 'open', runtime, deviceId, brokerUrl };
    if (this.observation === 'opcua') {
      const observer = await this.communications.openOpcua();
      this.#cleanups.push(() => observer.close());
      observer.onSample((sample) => this.#emit(this.#listeners, sample));
    }
    const identity = resolved.model.identity;
    return {
      id: resolved.model.id,
      manufacturer: identity.manufacturer,
      model: identity.model,
      serialNumber: runtime.device.serialNumber,
      ...(identity.hardwareRevision === undefined ? {} : { hardwareRevision: identity.hardwareRevision }),
      ...(identity.softwareRevision === undefined ? {} : { softwareRevision: identity.softwareRevision }),
    };
  }

  /** The device file's emulation, handed this target's physical inputs instead of a pass-through. */
  #withInputs(resolved: ResolvedDevice): ResolvedDevice {
    const inputs = new PhysicalInputs();
    this.#inputs = inputs;
    const emulation = resolved.emulation as EmulationFunction | undefined;
    if (emulation === undefined) return resolved;
    return { ...resolved, emulation: ((board, random) => emulation(board, random, inputs)) as EmulationFunction };
  }

  /** As the in-process emulated target: a fault the emulation declares, else a board fault (pin, I2C target). */
  async #injectFault(target: string, fault: string, durationMs?: number): Promise<void> {
    const board = this.#running().runtime.board;
    const inputs = this.#inputs;
    if (!(board instanceof EmulatedBoard) || inputs === undefined) throw new NotSupportedError(`target ${this.description} runs on a real board: its faults are real`);
    if (durationMs !== undefined && !(Number.isFinite(durationMs) && durationMs > 0)) throw new ValidationError('durationMs', `expected a number above 0, got ${String(durationMs)}`);
    if (inputs.faults().some((declared) => declared.name === target)) {
      const kind = fault === 'clear' ? undefined : fault;
      inputs.setFault(target, kind);
      if (kind !== undefined && durationMs !== undefined) {
        this.clock.schedule(this.clock.now() + durationMs, () => {
          if (inputs.activeFault(target) === kind) inputs.setFault(target, undefined);
        });
      }
      return;
    }
    if (fault === 'clear') {
      for (const handle of this.#boardFaults.get(target) ?? []) handle.clear();
      this.#boardFaults.delete(target);
      return;
    }
    const handle = board.faults.inject({ target, kind: fault, ...(durationMs === undefined ? {} : { durationMs }) } as Parameters<typeof board.faults.inject>[0]);
    this.#boardFaults.set(target, [...(this.#boardFaults.get(target) ?? []), handle]);
  }

  #physical(input: string): PhysicalInputs {
    if (this.#state.kind !== 'open') throw new StateError(`target ${this.description} is not open`);
    if (this.#inputs === undefined) {
      throw new NotSupportedError(`target ${this.description} has no physical input "${input}" it can set (a real board): source it with an instrument in the plan`);
    }
    return this.#inputs;
  }

  #emit(listeners: ReadonlySet<SampleListener>, sample: Sample): void {
    for (const listener of listeners) listener(sample);
  }

  /** The device's credentials at the broker: the password goes through a file only it reads, as `mqtt.passwordFile`. */
  #deviceCredentials(workDir: string): { username?: string; passwordFile?: string } {
    const mqtt = this.#options.mqtt;
    if (mqtt?.password === undefined) return mqtt?.username === undefined ? {} : { username: mqtt.username };
    const passwordFile = join(workDir, 'mqtt-password');
    writeFileSync(passwordFile, mqtt.password, { mode: 0o600 });
    return { ...(mqtt.username === undefined ? {} : { username: mqtt.username }), passwordFile };
  }

  /** The observer's credentials and TLS files (read by the runtime's checks already). */
  #credentials(): { username?: string; password?: string; tls?: MqttTlsOptions } {
    const mqtt = this.#options.mqtt;
    const files = mqtt?.tls;
    const tls = files === undefined ? undefined : Object.fromEntries(Object.entries(files).filter(([, file]) => file !== undefined).map(([name, file]) => [name, readFileSync(file as string, 'utf8')]));
    return { ...(mqtt?.username === undefined ? {} : { username: mqtt.username }), ...(mqtt?.password === undefined ? {} : { password: mqtt.password }), ...(tls === undefined ? {} : { tls }) };
  }

  #running(): { runtime: Runtime; deviceId: string; brokerUrl: string } {
    if (this.#state.kind !== 'open') throw new StateError(`target ${this.description} is not open`);
    return this.#state;
  }

  #communications(): TargetCommunications {
    const target = this;
    return {
      get deviceId() {
        return target.#running().deviceId;
      },
      get brokerUrl() {
        return target.#running().brokerUrl;
      },
      get opcuaEndpointUrl() {
        const status = target.#running().runtime.status().opcua;
        return status.state === 'serving' ? status.endpointUrl : undefined;
      },
      get canInterruptBroker() {
        return target.#broker !== undefined;
      },
      onReported(listener) {
        target.#reported.add(listener);
        return () => void target.#reported.delete(listener);
      },
      async outage(ms, options = {}): Promise<OutageReport> {
        target.#running();
        const broker = target.#broker;
        if (broker === undefined) throw new NotSupportedError(`target ${target.description} cannot interrupt the broker at ${target.#running().brokerUrl}: give the target the broker's control`);
        const stoppedAt = target.clock.now();
        const waitFrom = steadyNow(target.clock);
        await broker.stop();
        try {
          await target.wait(ms);
          const { until, maxMs = ms } = options;
          while (until !== undefined && !until() && steadyNow(target.clock) - waitFrom < maxMs) await target.wait(100);
        } finally {
          await broker.restart();
        }
        return { stoppedAt, restartedAt: target.clock.now() };
      },
      telemetryStats() {
        return target.#telemetry?.stats();
      },
      pendingTelemetry() {
        return target.#running().runtime.status().outbox?.pendingRecords ?? 0;
      },
      async command(command, payload, timeoutMs): Promise<CommandReplyMessage> {
        const { brokerUrl, deviceId } = target.#running();
        if (target.#probe === undefined) {
          const probe = MqttObserver.connect({ url: brokerUrl, deviceId, ...target.#credentials() });
          target.#probe = probe;
          target.#cleanups.push(async () => (await probe.catch(() => undefined))?.close());
        }
        return (await target.#probe).command(command, payload, timeoutMs);
      },
      async openOpcua() {
        const { runtime, deviceId } = target.#running();
        const status = runtime.status().opcua;
        if (status.state !== 'serving') throw new NotSupportedError(`target ${target.description}: the device serves no OPC UA (${status.state})`);
        // node-opcua loads only when an OPC UA client is opened.
        const { OpcuaObserver } = await import('./opcua-observer.js');
        return OpcuaObserver.connect({ endpointUrl: status.endpointUrl, model: runtime.device.model, deviceId, pkiDir: join(target.#workDir!, `client-${target.#clients++}`) });
      },
    };
  }

  async #release(): Promise<void> {
    this.#listeners.clear();
    this.#reported.clear();
    for (const step of this.#cleanups.splice(0).reverse()) await Promise.resolve(step()).catch(() => undefined);
    if (this.#workDir !== undefined) rmSync(this.#workDir, { recursive: true, force: true });
    this.#workDir = undefined;
  }
}

/** Resolves once the device's transport is connected (subscribed to its commands and settings). */
function connected(runtime: Runtime): Promise<void> {
  const transport = runtime.transport;
  if (transport === undefined || transport.status().state === 'connected') return Promise.resolve();
  return new Promise((resolve) => {
    const off = transport.on('state', (state) => {
      if (state !== 'connected') return;
      off();
      resolve();
    });
  });
}

function bounded<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
