/**
 * The one johnny-five IO-plugin adapter. Every sensorkit board extends it and supplies only its
 * primitives: convert an analog channel, move I2C bytes, and, where it has GPIO, set a pin mode,
 * write a pin, watch a pin and set a PWM duty. Argument shapes, pin lookups, limits (see
 * limits.ts), events, the sampling interval and the closed state are handled here, once.
 *
 * Reports come in one of two ways. A `polled` board (emulated, Linux) is asked for a conversion of
 * each reporting analog channel, and for each continuous I2C read, once per sampling interval, on
 * the board's clock (polled-reports.ts). A `pushed` board (Firmata) is told what to report (the `…Changed` hooks) and
 * hands each report in with {@link IoPluginBoard.emitAnalogRead}.
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock.js';
import { ArgumentError, NotSupportedError, PinError, StateError } from '../core/errors.js';
import {
  i2cTarget,
  MODES,
  type AnalogInput,
  type AnalogInputOptions,
  type Board,
  type Edge,
  type EdgeCounter,
  type EdgeCounterOptions,
  type I2cConfigOptions,
  type I2cDevice,
  type I2cDeviceOptions,
  type I2cReadHandler,
  type IoPin,
} from './board.js';
import type { AnalogPinDefinition, BoardDefinition, I2cBusDefinition } from './board-definitions.js';
import { numberProblem, show } from './checks.js';
import { I2cTransferDevice, type I2cTransfer } from './i2c-device.js';
import { ioWriteBytes, parseIoRead, type IoRead } from './io-plugin-args.js';
import { expectI2cAddress, I2C_DELAY_US, SAMPLING_INTERVAL_MS, samplingIntervalMs, SERVO } from './limits.js';
import { PinMap } from './pin-map.js';
import { PolledReports } from './polled-reports.js';

/** Modes that need GPIO (a board without GPIO refuses them with `NotSupportedError`). */
const GPIO_MODES: ReadonlySet<number> = new Set([MODES.INPUT, MODES.OUTPUT, MODES.PWM, MODES.SERVO, MODES.PULLUP]);

/** Options of {@link IoPluginBoard}. */
export interface IoPluginBoardOptions {
  readonly definition: BoardDefinition;
  readonly clock: Clock;
  /** IO-plugin name, e.g. "Emulated Arduino Uno (ATmega328P)". */
  readonly name: string;
  /** How analog values and continuous I2C reads arrive (see the module comment). */
  readonly reports: 'polled' | 'pushed';
  /** The most bytes one I2C transfer carries each way on this board's transport. */
  readonly i2cMaxBytes: number;
  /** The board's own `pins[]` (e.g. from a Firmata capability reply); default: from the definition. */
  readonly pins?: IoPin[];
  /** Full-scale PWM duty, `RESOLUTION.PWM`. Default 255 (8-bit timers). */
  readonly pwmMax?: number;
  /** Initial sampling interval, ms. Default 19 (StandardFirmata's). */
  readonly samplingIntervalMs?: number;
  /** Why the board offers no GPIO; when given, digital, PWM and servo calls fail with `NotSupportedError` saying so. */
  readonly noGpio?: string;
}

/**
 * A board speaking the johnny-five IO-plugin contract and sensorkit's bus contract over its
 * primitives. Subclass it for a board of your own.
 *
 * @example
 * ```ts
 * class MyBoard extends IoPluginBoard {
 *   constructor(clock: Clock) {
 *     super({ definition: ARDUINO_UNO, clock, name: 'My board', reports: 'polled', i2cMaxBytes: 32 })
 *   }
 *   protected convertAnalog(analog: AnalogPinDefinition): number { return myAdc.read(analog.channel) }
 *   protected transferI2c(bus: string, address: number, transfer: I2cTransfer): Promise<Uint8Array> { return myI2c.transfer(address, transfer) }
 *   protected closeBoard(): void {}
 *   openAnalogInput(options: AnalogInputOptions): AnalogInput { … }
 * }
 * ```
 */
export abstract class IoPluginBoard extends EventEmitter implements Board {
  readonly MODES = MODES;
  readonly HIGH = 1;
  readonly LOW = 0;
  /** Full-scale values, as johnny-five reads them. */
  readonly RESOLUTION: { readonly ADC: number | null; readonly DAC: null; readonly PWM: number };
  readonly pins: IoPin[];
  readonly analogPins: number[];
  readonly name: string;
  readonly defaultLed?: number;
  readonly definition: BoardDefinition;
  readonly clock: Clock;
  /** The most bytes one I2C transfer carries each way on this board. */
  readonly i2cMaxBytes: number;
  protected readonly pinMap: PinMap;

  readonly #noGpio: string | undefined;
  /** The report loop of a polled board; undefined when the board pushes its reports. */
  readonly #polled: PolledReports | undefined;
  #i2cBus: string | undefined;
  #samplingInterval: number;
  #closed = false;

  constructor(options: IoPluginBoardOptions) {
    super();
    this.definition = options.definition;
    this.clock = options.clock;
    this.name = options.name;
    this.#noGpio = options.noGpio;
    this.i2cMaxBytes = options.i2cMaxBytes;
    this.pinMap = new PinMap(this.definition, { ...(options.pins === undefined ? {} : { pins: options.pins }), gpio: options.noGpio === undefined });
    this.pins = this.pinMap.pins;
    this.analogPins = this.pins.flatMap((pin, index) => (pin.analogChannel === 127 ? [] : [index]));
    if (this.definition.defaultLed !== undefined) this.defaultLed = this.definition.defaultLed;
    const adc = this.definition.adc;
    this.RESOLUTION = { ADC: adc === undefined ? null : 2 ** adc.resolution - 1, DAC: null, PWM: options.pwmMax ?? 255 };
    this.#samplingInterval = samplingIntervalMs(options.samplingIntervalMs ?? SAMPLING_INTERVAL_MS.default);
    if (options.reports === 'polled') {
      const polled = { clock: this.clock, analogPins: this.definition.analogPins, pins: this.pins };
      this.#polled = new PolledReports({ ...polled, convert: (analog) => this.#convert(analog), read: (read) => this.#ioRead(read) }, this.#samplingInterval);
    }
    // Like a Firmata board after its handshake; johnny-five listens with once(), in this order.
    process.nextTick(() => {
      if (this.#closed) return;
      this.emit('connect');
      this.emit('ready');
    });
  }

  /** Whether the board answers (a Firmata board is not ready while its line is down). */
  get isReady(): boolean {
    return !this.#closed;
  }

  /** Whether `close()` was called. */
  get isClosed(): boolean {
    return this.#closed;
  }

  // ── primitives: what a board must really do ─────────────────────────────────────────────────

  /** An ECMA-419 analog input (board-specific: Firmata reads reports, Linux reads IIO files). */
  abstract openAnalogInput(options: AnalogInputOptions): AnalogInput;

  /** One conversion of an analog channel, in counts; throws or rejects (`BusError`) when none comes. Polled boards only. */
  protected abstract convertAnalog(analog: AnalogPinDefinition): number | Promise<number>;

  /** One I2C transfer on a bus of the definition; resolves with the bytes read, rejects with `BusError`. Arguments are checked. */
  protected abstract transferI2c(bus: string, address: number, transfer: I2cTransfer): Promise<Uint8Array>;

  /** Releases the board's line, files and timers (called once, by `close()`). */
  protected abstract closeBoard(): Promise<void> | void;

  /** Applies a pin mode on the hardware (the mode is checked and recorded in `pins`). */
  protected applyPinMode(_pin: number, _mode: number): void {}

  /** Drives an output pin (0 or 1); records the level in `pins[pin].value`. */
  protected writeDigitalPin(_pin: number, _level: 0 | 1): void {
    throw new NotSupportedError(`digitalWrite: ${this.name} does not implement digital outputs`);
  }

  /** Starts reporting a pin: its level now, then each change, through {@link emitDigitalRead}. */
  protected watchDigitalPin(_pin: number): void {
    throw new NotSupportedError(`digitalRead: ${this.name} does not implement digital inputs`);
  }

  /**
   * Boards that count a pin's edges themselves (an emulated pulse train, a kernel GPIO edge
   * counter) return a function giving the edges counted so far; undefined: count the level
   * changes the pin reports (through {@link watchDigitalPin}).
   */
  protected edgeSource(_pin: number, _edge: Edge): (() => number) | undefined {
    return undefined;
  }

  /** Writes a PWM duty (0 … `RESOLUTION.PWM`) or a servo position (see `SERVO`): Firmata's ANALOG_MESSAGE. */
  protected writeAnalogValue(_pin: number, _value: number): void {
    throw new NotSupportedError(`pwmWrite: ${this.name} does not implement PWM`);
  }

  /** Pushed boards: the analog report of `channel` was asked for (`on`) or is no longer wanted. */
  protected analogReportChanged(_channel: number, _on: boolean): void {}

  /** Pushed boards: a continuous I2C read to run every sampling interval. */
  protected continuousReadAdded(_read: IoRead): void {}

  /** Pushed boards: the continuous reads of `address` end. */
  protected continuousReadsStopped(_address: number): void {}

  /** Pushed boards: the sampling interval changed. */
  protected samplingIntervalChanged(_ms: number): void {}

  /** The I2C read delay (µs) was set by `i2cConfig`. */
  protected i2cConfigured(_delayUs: number): void {}

  // ── what boards call ────────────────────────────────────────────────────────────────────────

  /** A conversion of `channel` arrived: records it in `pins` and emits "analog-read-N" and "analog-read". */
  protected emitAnalogRead(channel: number, counts: number): void {
    const analog = this.definition.analogPins.find((candidate) => candidate.channel === channel);
    const pin = analog === undefined ? this.pins.find((candidate) => candidate.analogChannel === channel) : this.pins[analog.pin];
    if (pin !== undefined) pin.value = counts;
    this.emit(`analog-read-${channel}`, counts);
    this.emit('analog-read', { pin: channel, value: counts });
  }

  /** A reported pin has a new level: emits "digital-read-N" and "digital-read". */
  protected emitDigitalRead(pin: number, value: number): void {
    this.emit(`digital-read-${pin}`, value);
    this.emit('digital-read', { pin, value });
  }

  /** Throws `StateError` once the board is closed. */
  protected expectOpen(): void {
    if (this.#closed) throw new StateError('the board is closed');
  }

  // ── ECMA-419 I2C ────────────────────────────────────────────────────────────────────────────

  openI2c(options: I2cDeviceOptions): I2cDevice {
    this.expectOpen();
    if (typeof options !== 'object' || options === null) throw new ArgumentError(`openI2c: Expected an options object, got ${show(options)}`);
    const bus = this.#bus(options.bus);
    const address = expectI2cAddress(options.address);
    const hz = options.hz ?? 100_000;
    const hzProblem = numberProblem('hz', hz, { integer: true, min: 1, max: bus.maxHz });
    if (hzProblem !== undefined) throw new ArgumentError(`${hzProblem} (bus ${bus.name} runs up to ${bus.maxHz} Hz)`);
    return new I2cTransferDevice({
      bus: bus.name,
      address,
      hz,
      maxBytes: this.i2cMaxBytes,
      transfer: async (transfer) => {
        if (this.#closed) throw new StateError(`${i2cTarget(bus.name, address)}: the board is closed`);
        return this.transferI2c(bus.name, address, transfer);
      },
    });
  }

  // ── johnny-five IO plugin ───────────────────────────────────────────────────────────────────

  /** Maps a pin name ("A0", "D13", "GPIO17") or number to its index in `pins`; `PinError` if absent. */
  normalize(pin: number | string): number {
    return this.pinMap.normalize(pin);
  }

  pinMode(pin: number | string, mode: number): this {
    this.expectOpen();
    if (GPIO_MODES.has(mode)) this.#expectGpio('pinMode');
    const index = mode === MODES.ANALOG ? this.pinMap.analog(pin).pin : this.pinMap.normalize(pin);
    this.pinMap.expectMode(index, mode);
    this.pins[index]!.mode = mode;
    this.applyPinMode(index, mode);
    return this;
  }

  /** Reports the channel's counts every sampling interval (channel number as Firmata, or pin). */
  analogRead(pin: number | string, handler: (value: number) => void): void {
    this.expectOpen();
    expectHandler('analogRead', handler);
    const analog = this.pinMap.analog(pin);
    const record = this.pins[analog.pin]!;
    record.mode = MODES.ANALOG;
    record.report = 1;
    this.on(`analog-read-${analog.channel}`, handler);
    this.analogReportChanged(analog.channel, true);
    this.#polled?.start();
  }

  /** Turns the continuous report of an analog channel on (1) or off (0), as firmata.js. */
  reportAnalogPin(pin: number | string, value: 0 | 1): void {
    this.expectOpen();
    const analog = this.pinMap.analog(pin);
    this.pins[analog.pin]!.report = value === 1 ? 1 : 0;
    this.analogReportChanged(analog.channel, value === 1);
    if (value === 1) this.#polled?.start();
  }

  /** Reports the pin's level now and then on every change. */
  digitalRead(pin: number | string, handler: (value: number) => void): void {
    this.expectOpen();
    this.#expectGpio('digitalRead');
    expectHandler('digitalRead', handler);
    const index = this.pinMap.normalize(pin);
    this.pins[index]!.report = 1;
    this.on(`digital-read-${index}`, handler);
    this.watchDigitalPin(index);
  }

  /**
   * Counts the edges of a digital input: the board's own counter where it has one, else the level
   * changes the pin reports (the first report is the starting level, not an edge).
   *
   * @example
   * ```ts
   * const ready = board.openEdgeCounter({ pin: 'D2' })   // falling edges
   * const conversions = ready.count()
   * ```
   */
  openEdgeCounter(options: EdgeCounterOptions): EdgeCounter {
    this.expectOpen();
    this.#expectGpio('openEdgeCounter');
    if (typeof options !== 'object' || options === null || typeof options.pin !== 'string') {
      throw new ArgumentError(`openEdgeCounter: Expected an options object with a \`pin\` name, got ${show(options)}`);
    }
    const edge = options.edge ?? 'falling';
    if (edge !== 'rising' && edge !== 'falling' && edge !== 'both') {
      throw new ArgumentError(`openEdgeCounter: Expected \`edge\` to be "rising", "falling" or "both", got ${show(edge)}`);
    }
    const index = this.pinMap.normalize(options.pin);
    this.pinMap.expectMode(index, MODES.INPUT);
    this.#setMode(index, MODES.INPUT);
    const pin = options.pin;
    const source = this.edgeSource(index, edge);
    if (source !== undefined) {
      const base = source();
      let last = 0;
      let open = true;
      return {
        pin,
        edge,
        count: () => (open ? (last = source() - base) : last),
        close: () => void (open = false),
      };
    }
    let count = 0;
    let level: number | undefined;
    const listener = (value: number): void => {
      const next = value ? 1 : 0;
      if (level !== undefined && next !== level && (edge === 'both' || (edge === 'rising') === (next === 1))) count++;
      level = next;
    };
    this.on(`digital-read-${index}`, listener);
    this.pins[index]!.report = 1;
    this.watchDigitalPin(index);
    return { pin, edge, count: () => count, close: () => void this.off(`digital-read-${index}`, listener) };
  }

  /** Drives a pin that supports OUTPUT (putting it in OUTPUT if it has no mode yet); any truthy value is 1. */
  digitalWrite(pin: number | string, value: number): this {
    this.expectOpen();
    this.#expectGpio('digitalWrite');
    const index = this.pinMap.normalize(pin);
    this.pinMap.expectMode(index, MODES.OUTPUT);
    if (this.pins[index]!.mode === undefined) this.#setMode(index, MODES.OUTPUT);
    this.writeDigitalPin(index, value ? 1 : 0);
    return this;
  }

  analogWrite(pin: number | string, value: number): this {
    return this.pwmWrite(pin, value);
  }

  /** Sets a PWM duty, 0 … `RESOLUTION.PWM` (rounded to a whole step); `PinError` for a pin without PWM. */
  pwmWrite(pin: number | string, value: number): this {
    this.expectOpen();
    this.#expectGpio('pwmWrite');
    const index = this.pinMap.normalize(pin);
    this.pinMap.expectMode(index, MODES.PWM);
    const problem = numberProblem('value', value, { min: 0, max: this.RESOLUTION.PWM });
    if (problem !== undefined) throw new ArgumentError(`pwmWrite: ${problem}`);
    return this.#writeAnalog(index, MODES.PWM, Math.round(value));
  }

  /** Moves a servo: 0 … 180 degrees, or a pulse width of 544 … 2400 µs (StandardFirmata's reading of the value). */
  servoWrite(pin: number | string, value: number): this {
    this.expectOpen();
    this.#expectGpio('servoWrite');
    const index = this.pinMap.normalize(pin);
    this.pinMap.expectMode(index, MODES.SERVO);
    const degrees = numberProblem('value', value, { min: 0, max: SERVO.maxDegrees }) === undefined;
    const pulse = numberProblem('value', value, { min: SERVO.minPulseUs, max: SERVO.maxPulseUs }) === undefined;
    if (!degrees && !pulse) {
      throw new ArgumentError(`servoWrite: Expected \`value\` to be 0 … ${SERVO.maxDegrees} degrees or ${SERVO.minPulseUs} … ${SERVO.maxPulseUs} µs, got ${show(value)}`);
    }
    return this.#writeAnalog(index, MODES.SERVO, Math.round(value));
  }

  /** Sets the read delay (µs, 0 … 16383) and, with `{ bus }`, the bus the IO-plugin I2C calls use. */
  i2cConfig(options?: number | I2cConfigOptions): this {
    this.expectOpen();
    const delay = typeof options === 'number' ? options : (options?.delay ?? 0);
    const problem = numberProblem('delay', delay, { integer: true, ...I2C_DELAY_US });
    if (problem !== undefined) throw new ArgumentError(`i2cConfig: ${problem}`);
    if (typeof options === 'object' && options !== null && options.bus !== undefined) this.#i2cBus = this.#bus(options.bus).name;
    this.i2cConfigured(delay);
    return this;
  }

  i2cWrite(address: number, registerOrBytes: number | number[], bytes?: number | number[]): this {
    this.expectOpen();
    expectI2cAddress(address);
    this.#ioTransfer(address, { write: ioWriteBytes(registerOrBytes, bytes, this.i2cMaxBytes) }, undefined, undefined);
    return this;
  }

  i2cWriteReg(address: number, register: number, byte: number): this {
    return this.i2cWrite(address, register, [byte]);
  }

  /** Continuous read: repeats every sampling interval until `i2cStop(address)`. */
  i2cRead(address: number, registerOrCount: number, countOrHandler: number | I2cReadHandler, handler?: I2cReadHandler): this {
    this.expectOpen();
    const read = parseIoRead(address, registerOrCount, countOrHandler, handler, this.i2cMaxBytes);
    this.#ioBus();
    if (this.#polled === undefined) this.continuousReadAdded(read);
    else this.#polled.add(read);
    return this;
  }

  i2cReadOnce(address: number, registerOrCount: number, countOrHandler: number | I2cReadHandler, handler?: I2cReadHandler): this {
    this.expectOpen();
    const read = parseIoRead(address, registerOrCount, countOrHandler, handler, this.i2cMaxBytes);
    this.#ioRead(read);
    return this;
  }

  /** Stops the continuous reads of an address (nothing to stop once closed). */
  i2cStop(options: number | { address: number }): void {
    if (this.#closed) return;
    const address = typeof options === 'number' ? options : options?.address;
    expectI2cAddress(address);
    this.#polled?.stop(address);
    this.continuousReadsStopped(address);
  }

  /** Sets the reporting interval, ms: rounded and clamped to 1 … 16383 (see `SAMPLING_INTERVAL_MS`). */
  samplingInterval(ms: number): this {
    this.expectOpen();
    this.#samplingInterval = samplingIntervalMs(ms);
    this.#polled?.setInterval(this.#samplingInterval);
    this.samplingIntervalChanged(this.#samplingInterval);
    return this;
  }

  /** Alias of {@link samplingInterval} under firmata.js's name (johnny-five calls this one). */
  setSamplingInterval(ms: number): this {
    return this.samplingInterval(ms);
  }

  getSamplingInterval(): number {
    return this.#samplingInterval;
  }

  /** Stops every report, releases the board (`closeBoard`) and emits "close"; a second call does nothing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#polled?.close();
    await this.closeBoard();
    this.emit('close');
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────────

  #setMode(index: number, mode: number): void {
    const record = this.pins[index]!;
    if (record.mode === mode) return;
    record.mode = mode;
    this.applyPinMode(index, mode);
  }

  #writeAnalog(index: number, mode: number, value: number): this {
    this.#setMode(index, mode);
    this.pins[index]!.value = value;
    this.writeAnalogValue(index, value);
    return this;
  }

  #expectGpio(what: string): void {
    if (this.#noGpio !== undefined) throw new NotSupportedError(`${what}: ${this.#noGpio}`);
  }

  #bus(name: string | number | undefined): I2cBusDefinition {
    const buses = this.definition.i2cBuses;
    const bus = name === undefined ? buses[0] : typeof name === 'number' ? buses[name] : buses.find((candidate) => candidate.name === name);
    if (bus !== undefined) return bus;
    const known = buses.length === 0 ? 'none' : buses.map((candidate) => candidate.name).join(', ');
    throw new PinError(`${this.definition.name} has no I2C bus${name === undefined ? '' : ` ${show(name)}`} (buses: ${known})`);
  }

  #ioBus(): string {
    return this.#i2cBus ?? this.#bus(undefined).name;
  }

  #ioRead(read: IoRead): void {
    const transfer = read.register === undefined ? { readCount: read.count } : { write: Uint8Array.of(read.register), readCount: read.count };
    this.#ioTransfer(read.address, transfer, read.register, read.handler);
  }

  /** An IO-plugin transfer: no promise to reject, so a failure is reported as Firmata does, a "string" event. */
  #ioTransfer(address: number, transfer: I2cTransfer, register: number | undefined, handler: I2cReadHandler | undefined): void {
    const bus = this.#ioBus();
    let pending: Promise<Uint8Array>;
    try {
      pending = this.transferI2c(bus, address, transfer);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending
      .then(
        (bytes) => {
          if (handler === undefined || this.#closed) return;
          const reply = Array.from(bytes);
          this.emit(`I2C-reply-${address}-${register ?? 0}`, reply);
          handler(reply);
        },
        (error: unknown) => {
          if (!this.#closed) this.emit('string', `I2C: ${messageOf(error)}`);
        },
      )
      .catch(rethrow);
  }

  /** A conversion that fails is not reported (a Firmata board would send nothing); a "string" event says why. */
  #convert(analog: AnalogPinDefinition): void {
    const failed = (error: unknown): void => {
      if (!this.#closed) this.emit('string', `${analog.name}: ${messageOf(error)}`);
    };
    let counts: number | Promise<number>;
    try {
      counts = this.convertAnalog(analog);
    } catch (error) {
      failed(error);
      return;
    }
    if (typeof counts === 'number') this.emitAnalogRead(analog.channel, counts);
    else {
      counts
        .then((value) => {
          if (!this.#closed) this.emitAnalogRead(analog.channel, value);
        }, failed)
        .catch(rethrow);
    }
  }
}

function expectHandler(what: string, handler: unknown): void {
  if (typeof handler !== 'function') throw new ArgumentError(`${what}: Expected a handler function, got ${show(handler)}`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A handler's exception, out of a promise chain: thrown as it would be from an event listener (not an unhandled rejection). */
function rethrow(error: unknown): void {
  process.nextTick(() => {
    throw error;
  });
}
