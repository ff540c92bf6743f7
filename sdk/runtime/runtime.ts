/**
 * The runtime: a device wired to its board, its MQTT side (broker, durable outbox, transport), its
 * OPC UA server and the clock's wall-time steps, from one configuration, with an orderly shutdown.
 * `sensorkit run` is this plus flags and a live table; an application is this in a few lines.
 *
 * Lifecycle: `Runtime.open()` checks the configuration, loads the device, opens the board, builds
 * the device and the MQTT side (nothing samples yet, so listeners added now miss nothing);
 * `start()` starts publishing and sampling at once, while the OPC UA server loads (node-opcua needs
 * seconds) and announces itself with `ready`. `stop()` stops everything that started, in reverse
 * order, whatever state the start reached. Each step that fails stops what it started first.
 *
 * Security (security-side.ts): under the production profile a device that is not provisioned
 * (no identity, a copied one, a weak or empty broker password, no operator trust store) stays
 * `provisioning`: nothing samples, publishes or serves, and `securityStatus().provisioning`
 * names each problem; the hardening audit runs at start and refuses critical findings, naming them.
 * Starts, stops, provisioning refusals, setting changes and clock steps go to the audit log.
 *
 * Clock steps: the runtime's `SystemClock` re-bases on a step of the system clock (NTP setting the
 * time of a board without an RTC) and the readings after it carry the new wall time; the runtime
 * emits `clockStep`, warns once (naming the step), and the audit trail records it (`clock.step`).
 * A given clock that never steps can be watched against `wallNow` instead: its steps are only
 * reported (`followed: false`), its timestamps keep their time base.
 */
import { SystemClock, type Clock, type ClockStep } from '../core/clock.js';
import { ArgumentError, StateError, ValidationError } from '../core/errors.js';
import type { CalibrationSpec } from '../pipeline/specs.js';
import { TypedEmitter } from '../core/events.js';
import { describeStep, onClockStep, watchWallClock } from '../core/wall-clock-watch.js';
import { deviceIdFor } from '../encoding/topics.js';
import type { AuditStorage } from '../../security/audit-log.js';
import { identityTlsCredentials } from '../../security/identity/index.js';
import { wireAuditTrail } from './audit-trail.js';
import { openSecuritySide, type SecuritySide } from './security-side.js';
import { Device, type DeviceState } from '../device/device.js';
import type { Board } from '../io/board.js';
import { openBoardSpec } from '../io/board-registry.js';
import type { EmbeddedBroker } from '../transport/mqtt/embedded-broker.js';
import type { OutboxStats } from '../transport/outbox/index.js';
import type { Transport } from '../transport/registry.js';
import { checkConfig, type RuntimeConfig } from './config.js';
import { emulationOf, inDeviceFile, resolveDevice, type DeviceSource } from './device-source.js';
import type { MqttSide } from './mqtt-side.js';
import { startOpcuaSide, type OpcuaSide } from './opcua-side.js';

/** What to run: a {@link RuntimeConfig} whose device may also be a loaded module or a model. */
export interface RuntimeOptions extends Omit<RuntimeConfig, 'device'> {
  /** A device file's path, what `loadDeviceFile` returned, or a model (`defineDevice`). */
  readonly device: DeviceSource;
  /** Clock of the data path. Default: a `SystemClock`, which follows steps of the system clock. */
  readonly clock?: Clock;
  /** How long `stop()` flushes the outbox before it disconnects, ms. Default 2000. */
  readonly flushMs?: number;
  /**
   * The host's wall clock, to watch a given `clock` that does not follow wall-time steps itself:
   * steps are then reported (event, warning, audit record) but not followed. Default: none; a clock
   * that follows steps (`SystemClock`, `VirtualClock.stepWall`) reports its own.
   */
  readonly wallNow?: () => number;
  /** The audit log's writes (a failing one to test a full disk). Default: the local file system. */
  readonly auditStorage?: AuditStorage;
  /**
   * This unit's calibrations by channel, overriding the model's; or a loader given the unit's
   * serial number, called before the device is built (`calibrationsFromRecords` of `sensorkit/hil`
   * checks signed records against it). Required when the configuration names calibration records.
   */
  readonly calibrations?: CalibrationSpecs | ((serialNumber: string) => Promise<CalibrationSpecs>);
}

/** Calibrations by channel id, as a `Device` takes them. */
export type CalibrationSpecs = Readonly<Record<string, CalibrationSpec>>;

/** Where the runtime reports; both default to standard error. */
export interface RuntimeHooks {
  /** Something an operator should know: a missing emulation, a serial line lost, the dev profile, a clock step. */
  readonly warn?: (message: string) => void;
  /** Lines from libraries underneath (node-opcua's own messages). */
  readonly log?: (line: string) => void;
}

/** One state for the whole runtime. */
export type RuntimeState = 'opened' | 'starting' | 'provisioning' | 'running' | 'stopping' | 'stopped';

/** The security controls' state. */
export interface SecurityStatus {
  readonly profile: 'dev' | 'production';
  /** Why the device stays `provisioning` (production); empty when provisioned. */
  readonly provisioning: readonly string[];
  /** The identity's certificate fingerprint (SHA-256), when it has one loaded. */
  readonly identity: string | undefined;
  /** Whether unsigned commands and setting writes are refused. */
  readonly signedCommands: boolean;
  /** The audit log, when on: its file and the records held in memory because writes fail. */
  readonly auditLog: { readonly file: string; readonly pending: number } | undefined;
}

/** The OPC UA server's state. */
export type OpcuaStatus =
  | { readonly state: 'off' }
  | { readonly state: 'starting'; readonly port: number }
  | { readonly state: 'serving'; readonly endpointUrl: string; readonly profile: 'dev' | 'production' }
  | { readonly state: 'failed'; readonly reason: string; readonly error: unknown }
  | { readonly state: 'stopped' };

/** A snapshot of the runtime, for a status line or a health check. */
export interface RuntimeStatus {
  readonly state: RuntimeState;
  /** The board, as the start line describes it. */
  readonly board: string;
  readonly device: DeviceState;
  /** The MQTT transport's status, undefined when MQTT is off. */
  readonly mqtt: ReturnType<Transport['status']> | undefined;
  /**
   * The durable outbox's counters, undefined when MQTT is off. `setAside`: copies of damaged files
   * set aside when it opened (their readable records were kept), for an operator to look at.
   */
  readonly outbox: (OutboxStats & { readonly setAside: readonly string[] }) | undefined;
  readonly opcua: OpcuaStatus;
}

/**
 * A wall-time step as the runtime reports it: `followed` when the clock re-based on it (readings
 * after it carry the new wall time), else only noticed (`leadMs`: how far the wall clock is ahead of
 * the readings' time base).
 *
 * @example
 * ```ts
 * runtime.on('clockStep', ({ stepMs, at, followed }) => console.log(stepMs, new Date(at), followed))
 * ```
 */
export interface RuntimeClockStep extends ClockStep {
  readonly followed: boolean;
  readonly leadMs?: number;
}

/** Events of a {@link Runtime}. */
export interface RuntimeEvents {
  /** Every part serves, OPC UA included. */
  ready: [];
  state: [state: RuntimeState];
  /** The wall clock stepped by more than the clock's threshold while running. */
  clockStep: [step: RuntimeClockStep];
}

const WARN = (message: string): void => void process.stderr.write(`sensorkit: warning: ${message}\n`);
const LOG = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * A device wired to its board and services. Readings are the device's events (`runtime.device.on('report', …)`).
 *
 * @example
 * ```ts
 * const runtime = await Runtime.open({ device: './device.ts', opcua: { port: 0 } })
 * runtime.device.on('report', (sample) => console.log(sample.channel, sample.value))
 * await runtime.start()
 * await runtime.ready
 * await runtime.stop()
 * ```
 */
export class Runtime extends TypedEmitter<RuntimeEvents> {
  readonly device: Device;
  readonly board: Board;
  /** The board as the start line describes it: `the emulated Raspberry Pi 4, seed 1`. */
  readonly boardDescription: string;
  /** The MQTT transport, undefined when MQTT is off. */
  readonly transport: Transport | undefined;
  /** The embedded broker, when MQTT is on without a URL. */
  readonly broker: EmbeddedBroker | undefined;
  /** The configuration as checked (the device excepted). */
  readonly config: Omit<RuntimeConfig, 'device'>;
  /**
   * Resolves once every part serves (OPC UA included); rejects when a part fails to start, the
   * runtime having stopped everything by then.
   */
  readonly ready: Promise<void>;
  readonly #mqtt: MqttSide | undefined;
  readonly #security: SecuritySide;
  readonly #hooks: Required<RuntimeHooks>;
  readonly #wallNow: (() => number) | undefined;
  #unwireAudit: (() => void) | undefined;
  readonly #flushMs: number;
  #state: RuntimeState = 'opened';
  #opcua: OpcuaStatus;
  #opcuaStart: Promise<OpcuaSide | undefined> | undefined;
  #starting: Promise<void> | undefined;
  #stopWatch: (() => void) | undefined;
  #stopping: Promise<void> | undefined;
  #settleReady!: { resolve(): void; reject(error: unknown): void };

  private constructor(parts: { device: Device; board: Board; description: string; mqtt: MqttSide | undefined; security: SecuritySide; config: Omit<RuntimeConfig, 'device'>; hooks: Required<RuntimeHooks>; wallNow: (() => number) | undefined; flushMs: number }) {
    super();
    this.device = parts.device;
    this.board = parts.board;
    this.boardDescription = parts.description;
    this.#mqtt = parts.mqtt;
    this.#security = parts.security;
    this.#wallNow = parts.wallNow;
    this.transport = parts.mqtt?.transport;
    this.broker = parts.mqtt?.broker;
    this.config = parts.config;
    this.#hooks = parts.hooks;
    this.#flushMs = parts.flushMs;
    this.#opcua = parts.config.opcua === false ? { state: 'off' } : { state: 'starting', port: parts.config.opcua?.port ?? 4840 };
    this.ready = new Promise<void>((resolve, reject) => (this.#settleReady = { resolve, reject }));
    // Awaiting `ready` is optional: a rejection nobody awaits must not end the process.
    this.ready.catch(() => undefined);
  }

  /**
   * Checks the configuration, loads the device, opens the board and builds the device and its
   * MQTT side; nothing samples or publishes yet. Throws `ValidationError` naming the bad setting,
   * `DeviceFileError` for the device file; what was opened is closed first.
   */
  static async open(options: RuntimeOptions, hooks: RuntimeHooks = {}): Promise<Runtime> {
    const { device: source, clock: givenClock, flushMs = 2000, wallNow, auditStorage, calibrations, ...settings } = options;
    if (typeof flushMs !== 'number' || !(flushMs >= 0) || !Number.isFinite(flushMs)) throw new ArgumentError(`Expected \`flushMs\` to be a number from 0 and up, got ${String(flushMs)}`);
    const config = checkConfig(settings);
    if (config.calibration !== undefined && typeof calibrations !== 'function') {
      throw new ValidationError('calibration', 'signed calibration records need a loader: pass `calibrations: (serialNumber) => calibrationsFromRecords(records, { key, serialNumber })` (sensorkit/hil)');
    }
    const warn = hooks.warn ?? WARN;
    const resolved = await resolveDevice(source);
    const clock = givenClock ?? new SystemClock();
    const seed = config.seed ?? 1;
    const { board, description } = await openBoardSpec(config.board ?? 'emulated', {
      definition: resolved.model.board,
      clock,
      seed,
      warn,
      emulate: emulationOf(resolved, seed, warn),
    });
    let mqtt: MqttSide | undefined;
    let security: SecuritySide | undefined;
    try {
      const serialNumber = serialNumberOf(config, seed);
      const device = new Device(resolved.model, { board, serialNumber, ...(await calibrationsFor(calibrations, () => new Device(resolved.model, { board, serialNumber }).serialNumber)) });
      const setup = resolved.setup;
      if (setup) await inDeviceFile(resolved, 'setup', () => setup(device));
      // Loaded only when used: a device without MQTT does not load mqtt.js or the outbox.
      const mqttModule = config.mqtt === false ? undefined : await import('./mqtt-side.js');
      const mqttConfig = config.mqtt === false ? undefined : (config.mqtt ?? {});
      security = await openSecuritySide(config, clock, {
        deviceId: deviceIdFor(device.model, device.serialNumber),
        serialNumber: device.serialNumber,
        mqtt: mqttModule && mqttConfig?.url !== undefined ? mqttModule.effectiveMqttCredentials(mqttConfig) : undefined,
      }, warn, auditStorage);
      if (mqttModule && mqttConfig) {
        mqtt = await mqttModule.openMqttSide(device, clock, mqttConfig, config.outbox?.dir, {
          ...(mqttConfig.tls?.identity === true && security.identity ? { identityTls: identityTlsCredentials(security.identity) } : {}),
          ...(security.authorizer ? { signedRequests: { authorizer: security.authorizer, required: security.signedCommandsRequired } } : {}),
          ...(security.auditLog ? { audit: security } : {}),
        });
        for (const aside of mqtt.outbox.setAside) warn(`a damaged outbox file was set aside as ${aside}; its readable records were kept`);
      }
      return new Runtime({ device, board, description, mqtt, security, config, hooks: { warn, log: hooks.log ?? LOG }, wallNow, flushMs });
    } catch (error) {
      // The trust store's reload timer must not outlive a runtime that never opened.
      await security?.close().catch(() => undefined);
      await board.close();
      throw error;
    }
  }

  /** The runtime's state. */
  get state(): RuntimeState {
    return this.#state;
  }

  /**
   * Starts the OPC UA server (in the background), the transport and sampling; resolves once the
   * device samples. Failing, it stops everything and rethrows.
   */
  async start(): Promise<void> {
    if (this.#state !== 'opened') throw new StateError(`cannot start a runtime that is ${this.#state}`);
    const starting = this.#startAll();
    // A stop() meanwhile waits for the start to settle, then stops whatever it started.
    this.#starting = starting.catch(() => undefined);
    try {
      await starting;
    } catch (error) {
      await this.stop().catch(() => undefined);
      throw error;
    }
  }

  async #startAll(): Promise<void> {
    this.#setState('starting');
    const security = this.#security;
    this.#unwireAudit = wireAuditTrail({
      security,
      device: this.device,
      transport: this.transport,
      setAside: this.#mqtt?.outbox.setAside ?? [],
      clock: this.device.clock,
      publish: this.config.security?.auditLog ? this.config.security.auditLog.publish !== false : true,
      clockSteps: (listener) => this.on('clockStep', listener),
    });
    // From the start on: a step while the transport connects or the device starts is told too.
    this.#stopWatch = this.#watchClock();
    if (security.problems.length > 0) {
      security.record({ category: 'system', event: 'runtime.provisioning', result: 'denied', source: 'runtime', detail: { problems: [...security.problems] } });
      for (const problem of security.problems) this.#hooks.warn(`not provisioned: ${problem}`);
      this.#settleReady.reject(new StateError(`not provisioned (production profile): ${security.problems.join('; ')}`));
      this.#setState('provisioning');
      return;
    }
    // Loaded only under production: the rule catalogue is not needed to run a development device.
    if (security.profile === 'production') await (await import('./hardening-check.js')).hardeningAudit(this.config, security);
    security.record({ category: 'system', event: 'runtime.start', result: 'success', source: 'runtime', detail: { profile: security.profile, board: this.boardDescription, ...(security.identity ? { identity: security.identity.fingerprint } : {}) } });
    const opcua = this.config.opcua;
    if (opcua !== false) this.#opcuaStart = this.#startOpcua(opcua ?? {});
    await this.transport?.start();
    if (this.#stopping) return;
    await this.device.start();
    if (this.#stopping) return;
    this.#setState('running');
    if (opcua === false) this.#readyNow();
  }

  /** A snapshot of every part's state. */
  status(): RuntimeStatus {
    const outbox = this.#mqtt?.outbox;
    return {
      state: this.#state,
      board: this.boardDescription,
      device: this.device.state,
      mqtt: this.transport?.status(),
      outbox: outbox && { ...outbox.stats(), setAside: outbox.setAside },
      opcua: this.#opcua,
    };
  }

  /**
   * The security controls' state: the profile, why the device stays `provisioning`, the identity,
   * signed commands, the audit log.
   */
  securityStatus(): SecurityStatus {
    const security = this.#security;
    return {
      profile: security.profile,
      provisioning: security.problems,
      identity: security.identity?.certificate ? security.identity.fingerprint : undefined,
      signedCommands: security.signedCommandsRequired,
      auditLog: security.auditLog && { file: security.auditLog.file, pending: security.auditLog.pending },
    };
  }

  /**
   * Stops sampling, flushes the outbox within `flushMs` (the rest stays for the next start),
   * disconnects, stops the OPC UA server and the embedded broker, and closes the board.
   * Idempotent: every call returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  async #stopAll(): Promise<void> {
    const wasRunning = this.#state === 'running';
    this.#setState('stopping');
    await this.#starting;
    this.#stopWatch?.();
    if (wasRunning) this.#security.record({ category: 'system', event: 'runtime.stop', result: 'success', source: 'runtime' });
    const failures: unknown[] = [];
    const attempt = async (step: () => Promise<void> | undefined): Promise<void> => {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    };
    await attempt(() => this.device.stop());
    await attempt(() => this.#mqtt?.close(this.#flushMs));
    await attempt(async () => (await this.#opcuaStart)?.stop());
    await attempt(() => this.board.close());
    this.#unwireAudit?.();
    await attempt(() => this.#security.close());
    if (this.#opcua.state !== 'failed' && this.#opcua.state !== 'off') this.#opcua = { state: 'stopped' };
    this.#settleReady.reject(new StateError('the runtime stopped before it was ready'));
    this.#setState('stopped');
    if (failures.length > 0) throw failures[0];
  }

  /** Settles to the server, or to undefined once it failed (the failure is `ready`'s). */
  async #startOpcua(config: Exclude<RuntimeConfig['opcua'], false | undefined>): Promise<OpcuaSide | undefined> {
    try {
      const profile = this.#security.profile;
      const side = await startOpcuaSide(this.device, { ...config, profile: config.profile ?? profile }, this.#hooks.log, this.#security.auditLog ? this.#security : undefined, this.#security.identity);
      if (this.#stopping) {
        await side.stop();
        return undefined;
      }
      for (const warning of side.warnings) this.#hooks.warn(warning);
      this.#opcua = { state: 'serving', endpointUrl: side.endpointUrl, profile: side.profile };
      if (this.#state === 'running') this.#readyNow();
      else void this.#afterStart().then((running) => running && this.#readyNow());
      return side;
    } catch (error) {
      this.#opcua = { state: 'failed', reason: error instanceof Error ? error.message : String(error), error };
      this.#settleReady.reject(error);
      void this.stop().catch(() => undefined);
      return undefined;
    }
  }

  /** Resolves true once the start completes, false when it fails or the runtime stops. */
  #afterStart(): Promise<boolean> {
    return new Promise((resolve) => {
      const off = this.on('state', (state) => {
        if (state === 'starting') return;
        off();
        resolve(state === 'running');
      });
    });
  }

  #readyNow(): void {
    this.#settleReady.resolve();
    this.emit('ready');
  }

  /**
   * Reports the clock's wall-time steps: each one the clock follows (its own `step` event), or,
   * with `wallNow`, each one a clock that keeps its time base does not (see wall-clock-watch.ts).
   */
  #watchClock(): () => void {
    const clock = this.device.clock;
    if (this.#wallNow) {
      return watchWallClock({ clock, wallNow: this.#wallNow }, (stepMs, leadMs) => {
        this.emit('clockStep', { stepMs, at: clock.now(), followed: false, leadMs });
        const off = `${describeStep(leadMs).slice(1)} ${leadMs > 0 ? 'behind' : 'ahead of'} it`;
        this.#hooks.warn(`the system clock stepped by ${describeStep(stepMs)} (NTP setting the time?); this clock does not follow it: its timestamps are now ${off}`);
      });
    }
    return onClockStep(clock, (step) => {
      this.emit('clockStep', { ...step, followed: true });
      const order = step.stepMs < 0 ? '; readings after it are earlier than those before it' : '';
      this.#hooks.warn(`the system clock stepped by ${describeStep(step.stepMs)} (NTP setting the time?); timestamps follow it from ${new Date(step.at).toISOString()}${order}`);
    });
  }

  #setState(state: RuntimeState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
  }
}

/**
 * Opens and starts a runtime and waits until every part serves. Failing anywhere, it stops what
 * started and rethrows.
 *
 * @example
 * ```ts
 * import { startRuntime } from 'sensorkit/runtime'
 *
 * const runtime = await startRuntime({ device: './device.ts', mqtt: { url: 'mqtt://broker.local' }, opcua: false })
 * runtime.device.on('report', (sample) => console.log(sample.channel, sample.value, sample.unit))
 * process.once('SIGTERM', () => void runtime.stop())
 * ```
 */
export async function startRuntime(options: RuntimeOptions, hooks: RuntimeHooks = {}): Promise<Runtime> {
  const runtime = await Runtime.open(options, hooks);
  await runtime.start();
  try {
    await runtime.ready;
  } catch (error) {
    await runtime.stop().catch(() => undefined);
    throw error;
  }
  return runtime;
}

/** The serial number: the configuration's, then `SENSORKIT_SERIAL` (when not empty), then `EMU-<seed>`. */
/**
 * The `calibrations` option of the Device: as given, or from the loader given the unit's serial
 * number (the one the Device resolves: the model's own, else the configured one).
 */
async function calibrationsFor(calibrations: RuntimeOptions['calibrations'], serialNumber: () => string): Promise<{ calibrations?: CalibrationSpecs }> {
  if (calibrations === undefined) return {};
  return { calibrations: typeof calibrations === 'function' ? await calibrations(serialNumber()) : calibrations };
}

function serialNumberOf(config: RuntimeConfig, seed: number): string {
  const fromEnv = process.env.SENSORKIT_SERIAL;
  return config.serialNumber ?? (fromEnv === undefined || fromEnv === '' ? `EMU-${seed}` : fromEnv);
}
