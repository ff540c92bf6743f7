/**
 * The emulated board: a `Board` (johnny-five IO plugin + ECMA-419-style buses) whose pins read
 * attached signal models and whose I2C buses route to attached peripheral models, all on the
 * injected clock and a seeded generator. Same seed and same clock give the same values byte for
 * byte; each noise source forks its own stream, so adding one source does not change another.
 */
import { EventEmitter } from 'node:events';
import {
  MODES,
  type AnalogInput,
  type AnalogInputOptions,
  type Board,
  type I2cConfigOptions,
  type I2cDevice,
  type I2cDeviceOptions,
  type I2cReadHandler,
  type IoPin,
} from '../../sdk/io/board.js';
import type { AnalogPinDefinition, BoardDefinition } from '../../sdk/io/board-definitions.js';
import type { Clock, Timer } from '../../sdk/core/clock.js';
import { BusError, PinError, StateError, ValidationError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import type { I2cPeripheral, Signal } from './peripheral.js';
import { AnalogFrontEnd } from './analog-front-end.js';
import { numberProblem, show } from './expect.js';
import { FaultInjector, type Faults } from './faults.js';
import { EmulatedI2cBus, parseIoRead, type IoRead } from './i2c-bus.js';
import { PinMap, resolveBoardDefinition } from './pin-map.js';

/** Options of {@link EmulatedBoard}. */
export interface EmulatedBoardOptions {
  /** A board definition or the id of a built-in one ("arduino-uno", "raspberry-pi-4"). */
  definition: BoardDefinition | string;
  clock: Clock;
  /** Seed of every noise source on the board (an integer). */
  seed: number;
  /** IO-plugin name. Default: "Emulated " + the definition's name. */
  name?: string;
  /** Input-referred ADC noise σ, V. Default 0 (an ideal converter; add noise to signals instead). */
  adcNoiseVolts?: number;
  /** Wait of an injected I2C `timeout` fault, ms of clock time. Default 25. */
  i2cTimeoutMs?: number;
}

/**
 * An emulated board.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock()
 * const board = new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 1 })
 * board.attachAnalog('A0', constant(2.5))
 * const counts = await board.openAnalogInput({ pin: 'A0' }).read() // 512
 * board.faults.inject({ target: 'A0', kind: 'open-circuit', durationMs: 100 })
 * ```
 */
export class EmulatedBoard extends EventEmitter implements Board {
  readonly MODES = MODES;
  readonly HIGH = 1;
  readonly LOW = 0;
  /** Full-scale values, as johnny-five reads them. */
  readonly RESOLUTION: { readonly ADC: number | null; readonly DAC: null; readonly PWM: number };
  readonly pins: IoPin[];
  readonly analogPins: number[];
  readonly name: string;
  readonly isReady = true;
  readonly defaultLed?: number;
  readonly definition: BoardDefinition;
  readonly clock: Clock;
  readonly seed: number;
  /** Fault injection: `inject`, `clearAll`, `active`. */
  readonly faults: Faults;

  readonly #map: PinMap;
  readonly #injector: FaultInjector;
  readonly #analog: AnalogFrontEnd;
  /** Analog pins in channel order, the order a Firmata board reports them in. */
  readonly #channels: readonly AnalogPinDefinition[];
  readonly #buses = new Map<string, EmulatedI2cBus>();
  readonly #continuous: IoRead[] = [];
  #i2cBus: EmulatedI2cBus | undefined;
  #samplingInterval = 19; // StandardFirmata's default sampling interval, ms
  #tick: Timer | undefined;
  readonly #timers = new Set<Timer>();
  #nextTickAt = 0;
  #closed = false;

  constructor(options: EmulatedBoardOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new ValidationError('', `expected an options object, got ${show(options)}`);
    this.definition = resolveBoardDefinition(options.definition);
    if (typeof options.clock?.now !== 'function' || typeof options.clock.schedule !== 'function') {
      throw new ValidationError('clock', 'expected a Clock (an object with now() and schedule())');
    }
    const seedProblem = numberProblem('seed', options.seed, { integer: true });
    if (seedProblem !== undefined) throw new ValidationError('seed', seedProblem);
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name.trim() === '')) {
      throw new ValidationError('name', `expected a non-empty string, got ${show(options.name)}`);
    }
    const noiseProblem = numberProblem('adcNoiseVolts', options.adcNoiseVolts ?? 0, { min: 0 });
    if (noiseProblem !== undefined) throw new ValidationError('adcNoiseVolts', noiseProblem);
    const timeoutMs = options.i2cTimeoutMs ?? 25;
    const timeoutProblem = numberProblem('i2cTimeoutMs', timeoutMs, { above: 0 });
    if (timeoutProblem !== undefined) throw new ValidationError('i2cTimeoutMs', timeoutProblem);

    this.clock = options.clock;
    this.seed = options.seed;
    this.name = options.name ?? `Emulated ${this.definition.name}`;
    // A root that is never drawn from: fork(label) then depends only on the seed and the label.
    const root = new SeededRandom(options.seed);
    this.#map = new PinMap(this.definition);
    this.pins = this.#map.pins;
    this.analogPins = this.definition.analogPins.map((pin) => pin.pin);
    this.#channels = [...this.definition.analogPins].sort((a, b) => a.channel - b.channel);
    if (this.definition.defaultLed !== undefined) this.defaultLed = this.definition.defaultLed;
    const adc = this.definition.adc;
    this.RESOLUTION = { ADC: adc === undefined ? null : 2 ** adc.resolution - 1, DAC: null, PWM: 255 };
    this.#injector = new FaultInjector({
      clock: this.clock,
      random: root,
      analogPins: this.definition.analogPins.map((pin) => pin.name),
      i2cBuses: this.definition.i2cBuses.map((bus) => bus.name),
      onActivate: (fault) => this.#analog.captureStuck(fault),
    });
    this.faults = this.#injector;
    const noiseVolts = options.adcNoiseVolts ?? 0;
    this.#analog = new AnalogFrontEnd({ definition: this.definition, clock: this.clock, random: root, noiseVolts, faults: this.#injector });
    for (const bus of this.definition.i2cBuses) {
      const emulated = new EmulatedI2cBus({ name: bus.name, maxHz: bus.maxHz, clock: this.clock, faults: this.#injector, timeoutMs });
      this.#buses.set(bus.name, emulated);
    }
    this.#i2cBus = this.#buses.values().next().value;
    // Like a Firmata board after its handshake; johnny-five listens with once(), in this order.
    process.nextTick(() => {
      if (this.#closed) return;
      this.emit('connect');
      this.emit('ready');
    });
  }

  // ── attaching the world ─────────────────────────────────────────────────────────────────────

  /** Connects a signal (volts) to an analog pin ("A0", channel or pin number); replaces any previous one. */
  attachAnalog(pin: number | string, signalVolts: Signal): this {
    const analog = this.#map.analog(pin);
    if (typeof signalVolts?.valueAt !== 'function') throw new ValidationError('signalVolts', 'expected a Signal (an object with valueAt(timeMs))');
    this.#analog.attach(analog, signalVolts);
    return this;
  }

  /** Connects an I2C peripheral model to a bus (default: the board's first I2C bus). */
  attachI2c(peripheral: I2cPeripheral, options: { bus?: string } = {}): this {
    if (typeof peripheral?.read !== 'function' || typeof peripheral.write !== 'function') {
      throw new ValidationError('peripheral', 'expected an I2cPeripheral (address, name, read(), write())');
    }
    this.#bus(options.bus).attach(peripheral);
    return this;
  }

  // ── ECMA-419 buses ──────────────────────────────────────────────────────────────────────────

  openAnalogInput(options: AnalogInputOptions): AnalogInput {
    this.#expectOpen();
    const pin = options?.pin;
    const analog = this.definition.analogPins.find((candidate) => candidate.name === pin);
    if (analog === undefined) throw this.#map.notAnalog(pin);
    return this.#analog.open(analog, () => !this.#closed);
  }

  openI2c(options: I2cDeviceOptions): I2cDevice {
    this.#expectOpen();
    return this.#bus(options?.bus).open(options?.address, options?.hz ?? 100_000);
  }

  // ── johnny-five IO plugin ───────────────────────────────────────────────────────────────────

  normalize(pin: number | string): number {
    return this.#map.normalize(pin);
  }

  pinMode(pin: number | string, mode: number): this {
    const index = mode === MODES.ANALOG ? this.#map.analog(pin).pin : this.#map.normalize(pin);
    this.#map.expectMode(index, mode);
    this.pins[index]!.mode = mode;
    return this;
  }

  /** Reports the pin's counts every sampling interval (channel number as Firmata, or pin). */
  analogRead(pin: number | string, handler: (value: number) => void): void {
    const analog = this.#map.analog(pin);
    const record = this.pins[analog.pin]!;
    record.mode = MODES.ANALOG;
    record.report = 1;
    this.on(`analog-read-${analog.channel}`, handler);
    this.#startReporting();
  }

  /** Turns the continuous report of an analog channel on (1) or off (0), as firmata.js. */
  reportAnalogPin(pin: number | string, value: 0 | 1): void {
    this.pins[this.#map.analog(pin).pin]!.report = value === 1 ? 1 : 0;
    if (value === 1) this.#startReporting();
  }

  /** Reports the pin's current value once (on the clock) and then on every change. */
  digitalRead(pin: number | string, handler: (value: number) => void): void {
    const index = this.#map.normalize(pin);
    this.pins[index]!.report = 1;
    this.on(`digital-read-${index}`, handler);
    // Enabling a report makes a Firmata board send the current state right away.
    const timer = this.clock.schedule(this.clock.now(), () => {
      this.#timers.delete(timer);
      handler(this.pins[index]!.value);
    });
    this.#timers.add(timer);
  }

  /** Sets an output; emits "digital-write" and reports the change to digitalRead listeners. */
  digitalWrite(pin: number | string, value: number): this {
    const index = this.#map.normalize(pin);
    this.#map.expectMode(index, MODES.OUTPUT);
    const record = this.pins[index]!;
    if (record.mode === undefined) record.mode = MODES.OUTPUT;
    const level = value ? 1 : 0;
    this.emit(`digital-write-${index}`, level);
    this.emit('digital-write', { pin: index, value: level });
    this.#setDigital(index, level);
    return this;
  }

  /** Drives an input pin from outside (a button, a limit switch). */
  setDigitalInput(pin: number | string, value: number): this {
    const index = this.#map.normalize(pin);
    const mode = this.pins[index]!.mode;
    if (mode === MODES.OUTPUT || mode === MODES.PWM) {
      throw new PinError(`pin ${this.#map.nameOf(index)} is an output; an external signal cannot drive it`);
    }
    this.#setDigital(index, value ? 1 : 0);
    return this;
  }

  analogWrite(pin: number | string, value: number): this {
    return this.pwmWrite(pin, value);
  }

  /** Sets a PWM duty (0 … 255); `PinError` for pins without PWM. */
  pwmWrite(pin: number | string, value: number): this {
    const index = this.#map.normalize(pin);
    this.#map.expectMode(index, MODES.PWM);
    const problem = numberProblem('value', value, { min: 0, max: this.RESOLUTION.PWM });
    if (problem !== undefined) throw new ValidationError('value', problem);
    const record = this.pins[index]!;
    record.mode = MODES.PWM;
    record.value = value;
    this.emit('analog-write', { pin: index, value });
    return this;
  }

  /** Firmata's `delay` (µs between write and read) is accepted and has no effect here. */
  i2cConfig(options?: number | I2cConfigOptions): this {
    if (typeof options === 'object' && options !== null && options.bus !== undefined) {
      const bus = typeof options.bus === 'number' ? this.definition.i2cBuses[options.bus]?.name : options.bus;
      this.#i2cBus = this.#bus(bus ?? String(options.bus));
    }
    return this;
  }

  i2cWrite(address: number, registerOrBytes: number | number[], bytes?: number | number[]): this {
    let data: number[];
    if (Array.isArray(registerOrBytes)) data = [...registerOrBytes];
    else if (bytes === undefined) data = [registerOrBytes];
    else data = [registerOrBytes, ...(Array.isArray(bytes) ? bytes : [bytes])];
    for (const [i, byte] of data.entries()) {
      const problem = numberProblem('byte', byte, { integer: true, min: 0, max: 255 });
      if (problem !== undefined) throw new ValidationError(`i2cWrite.bytes[${i}]`, problem);
    }
    this.#i2c(address, { write: Uint8Array.from(data) }, undefined, () => undefined);
    return this;
  }

  i2cWriteReg(address: number, register: number, byte: number): this {
    return this.i2cWrite(address, register, [byte]);
  }

  /** Continuous read: repeats every sampling interval on the clock until `i2cStop(address)`. */
  i2cRead(address: number, registerOrCount: number, countOrHandler: number | I2cReadHandler, handler?: I2cReadHandler): this {
    this.#continuous.push(parseIoRead(address, registerOrCount, countOrHandler, handler));
    this.#startReporting();
    return this;
  }

  i2cReadOnce(address: number, registerOrCount: number, countOrHandler: number | I2cReadHandler, handler?: I2cReadHandler): this {
    const read = parseIoRead(address, registerOrCount, countOrHandler, handler);
    this.#i2cRead(read);
    return this;
  }

  /** Stops the continuous reads of an address. */
  i2cStop(options: number | { address: number }): void {
    const address = typeof options === 'number' ? options : options.address;
    for (let i = this.#continuous.length - 1; i >= 0; i--) if (this.#continuous[i]!.address === address) this.#continuous.splice(i, 1);
  }

  /** Sets the reporting interval (ms), clamped to 10 … 65535 like firmata.js. */
  samplingInterval(ms: number): this {
    const problem = numberProblem('ms', ms);
    if (problem !== undefined) throw new ValidationError('samplingInterval', problem);
    this.#samplingInterval = Math.min(65_535, Math.max(10, ms));
    if (this.#tick !== undefined) {
      this.#tick.cancel();
      this.#tick = undefined;
      this.#startReporting();
    }
    return this;
  }

  /** Alias of {@link samplingInterval} under firmata.js's name (johnny-five calls this one). */
  setSamplingInterval(ms: number): this {
    return this.samplingInterval(ms);
  }

  getSamplingInterval(): number {
    return this.#samplingInterval;
  }

  /** Cancels every timer, rejects transfers still waiting, and emits "close". */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#tick?.cancel();
    this.#tick = undefined;
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
    this.#continuous.length = 0;
    this.#injector.clearAll();
    for (const bus of this.#buses.values()) bus.close();
    this.emit('close');
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────────

  #setDigital(index: number, value: number): void {
    const record = this.pins[index]!;
    if (record.value === value) return;
    record.value = value;
    if (record.report === 1) {
      this.emit(`digital-read-${index}`, value);
      this.emit('digital-read', { pin: index, value });
    }
  }

  #startReporting(): void {
    if (this.#tick !== undefined || this.#closed) return;
    this.#nextTickAt = this.clock.now() + this.#samplingInterval;
    this.#tick = this.clock.schedule(this.#nextTickAt, () => this.#report());
  }

  /** One sampling interval: every reporting analog channel in channel order, then the I2C reads. */
  #report(): void {
    this.#tick = undefined;
    let active = this.#continuous.length > 0;
    for (const analog of this.#channels) {
      const record = this.pins[analog.pin]!;
      if (record.report !== 1) continue;
      active = true;
      const counts = this.#analog.convert(analog);
      // A dropout is a conversion that never arrives: Firmata would simply not send it.
      if (counts instanceof BusError) continue;
      record.value = counts;
      this.emit(`analog-read-${analog.channel}`, counts);
      this.emit('analog-read', { pin: analog.channel, value: counts });
    }
    for (const read of [...this.#continuous]) this.#i2cRead(read);
    if (!active || this.#closed) return;
    // Absolute times: the cadence does not drift however late a callback runs.
    this.#nextTickAt += this.#samplingInterval;
    this.#tick = this.clock.schedule(this.#nextTickAt, () => this.#report());
  }

  #i2cRead(read: IoRead): void {
    const transfer = read.register === undefined ? { readCount: read.count } : { write: Uint8Array.of(read.register), readCount: read.count };
    this.#i2c(read.address, transfer, read.register, read.handler);
  }

  /** An IO-plugin transfer: no promise to reject, so failures are reported as Firmata does, a "string" event. */
  #i2c(address: number, transfer: { write?: Uint8Array; readCount?: number }, register: number | undefined, handler: I2cReadHandler): void {
    const bus = this.#i2cBus;
    if (bus === undefined) throw new PinError(`${this.definition.name} has no I2C bus`);
    bus.transfer(address, transfer).then(
      (bytes) => {
        if (transfer.readCount === undefined) return;
        const reply = Array.from(bytes);
        this.emit(`I2C-reply-${address}-${register ?? 0}`, reply);
        handler(reply);
      },
      (error: Error) => {
        if (!this.#closed) this.emit('string', `I2C: ${error.message}`);
      },
    );
  }

  #bus(name: string | undefined): EmulatedI2cBus {
    const bus = name === undefined ? this.#buses.values().next().value : this.#buses.get(name);
    if (bus === undefined) {
      const known = [...this.#buses.keys()];
      throw new PinError(`${this.definition.name} has no I2C bus ${show(name)} (buses: ${known.length === 0 ? 'none' : known.join(', ')})`);
    }
    return bus;
  }

  #expectOpen(): void {
    if (this.#closed) throw new StateError('the board is closed');
  }
}
