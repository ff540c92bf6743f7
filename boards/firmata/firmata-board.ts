/**
 * A real board over Firmata 2.x (an Arduino with StandardFirmata or ConfigurableFirmata), as a
 * sensorkit `Board`: the johnny-five IO-plugin contract plus ECMA-419-style bus objects, over a
 * serialport 13 `SerialPort` or any duplex stream. The pin map comes from the board's capability
 * and analog-mapping replies.
 *
 * A lost line does not end the board: reads in flight and reads during the gap reject with
 * `BusError` (ERR_BUS_TIMEOUT), which the sampling chain turns into the samples' quality, and the
 * board reopens the line on its clock, repeats the handshake and restores the sampling interval,
 * the analog and digital reports, pin modes and continuous I2C reads.
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
import type { BoardDefinition } from '../../sdk/io/board-definitions.js';
import type { Clock } from '../../sdk/core/clock.js';
import { BusError, PinError, StateError, ValidationError } from '../../sdk/core/errors.js';
import { parseIoRead } from '../emulated/i2c-bus.js';
import { PinMap, resolveBoardDefinition } from '../emulated/pin-map.js';
import { AnalogReports } from './analog-reports.js';
import { FirmataAnalogInput, FirmataI2cDevice, type FirmataBusHost } from './buses.js';
import type { FirmataConnection, FirmataIdentity } from './connection.js';
import { ContinuousReads } from './continuous-reads.js';
import { DigitalReports } from './digital-reports.js';
import type { I2cReplyStats } from './i2c-reads.js';
import { connectFirmata, FirmataLink } from './firmata-link.js';
import { checkDefinition, derivedDefinition, pinsFromIdentity } from './pin-map.js';
import type { FirmataBoardOptions, LineGap } from './options.js';
import { restoreMessages } from './session-state.js';
import type { FirmataParserStats } from './protocol/parser.js';
import type { FirmataMessage } from './protocol/messages.js';

/**
 * A Firmata board.
 *
 * @example
 * ```ts
 * const board = await FirmataBoard.open({ line: serialLine('/dev/ttyACM0'), clock: new SystemClock(), definition: 'arduino-uno' })
 * const a0 = board.openAnalogInput({ pin: 'A0' })
 * console.log(await a0.read())
 * await board.close()
 * ```
 */
export class FirmataBoard extends EventEmitter implements Board, FirmataBusHost {
  readonly MODES = MODES;
  readonly HIGH = 1;
  readonly LOW = 0;
  readonly RESOLUTION: { ADC: number | null; DAC: null; PWM: number };
  readonly pins: IoPin[];
  readonly analogPins: number[];
  readonly name: string;
  readonly definition: BoardDefinition;
  readonly clock: Clock;
  readonly identity: FirmataIdentity;
  readonly #options: Required<Omit<FirmataBoardOptions, 'definition' | 'describe'>> & { describe: string };
  readonly #map: PinMap;
  readonly #link: FirmataLink;
  #samplingInterval: number;
  readonly #analog: AnalogReports;
  readonly #digital = new DigitalReports();
  readonly #i2c = new ContinuousReads((message) => this.#link.send(message));
  /** Pin index per analog channel (looked up at every ANALOG_MESSAGE). */
  readonly #channelPins: number[] = [];

  /** Opens the line and completes the handshake; rejects with `BusError` or `PinError`. */
  static async open(options: FirmataBoardOptions): Promise<FirmataBoard> {
    if (typeof options?.line !== 'function') throw new ValidationError('line', 'expected a function that opens the line (see serialLine())');
    if (typeof options.clock?.schedule !== 'function') throw new ValidationError('clock', 'expected a Clock');
    const describe = options.describe ?? 'the Firmata line';
    const { connection, identity } = await connectFirmata(options.line, options.clock, describe, options.handshakeTimeoutMs ?? 5000);
    try {
      return new FirmataBoard(options, connection, identity, describe);
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  private constructor(options: FirmataBoardOptions, connection: FirmataConnection, identity: FirmataIdentity, describe: string) {
    super();
    this.clock = options.clock;
    this.identity = identity;
    this.#options = {
      line: options.line,
      describe,
      clock: options.clock,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5000,
      requestTimeoutMs: options.requestTimeoutMs ?? 1000,
      reconnect: options.reconnect ?? true,
      reconnectDelayMs: options.reconnectDelayMs ?? 500,
      samplingIntervalMs: options.samplingIntervalMs ?? 19,
      referenceVoltage: options.referenceVoltage ?? 5,
    };
    if (options.definition === undefined) this.definition = derivedDefinition(identity, this.#options.referenceVoltage);
    else {
      this.definition = resolveBoardDefinition(options.definition);
      checkDefinition(this.definition, identity);
    }
    this.#map = new PinMap(this.definition);
    this.pins = pinsFromIdentity(identity);
    this.analogPins = this.pins.flatMap((pin, index) => (pin.analogChannel === 127 ? [] : [index]));
    for (const index of this.analogPins) this.#channelPins[this.pins[index]!.analogChannel] = index;
    this.name = `Firmata ${identity.firmware.name}`;
    const adcBits = identity.capabilities.flat().find((m) => m.mode === MODES.ANALOG)?.resolution;
    this.RESOLUTION = { ADC: adcBits === undefined ? null : 2 ** adcBits - 1, DAC: null, PWM: 255 };
    this.#samplingInterval = this.#options.samplingIntervalMs;
    this.#analog = new AnalogReports(this.clock);
    this.#link = new FirmataLink(connection, this.pins.length, { ...this.#options, restore: () => this.#restoreMessages() });
    this.#link.on('message', (message) => {
      if (message.type === 'analog') this.#onAnalog(message.channel, message.value);
      else if (message.type === 'digital') this.#onDigital(message.port, message.mask);
      else if (message.type === 'i2c-reply') this.#onI2cReply(message.address, message.register, message.bytes);
      else if (message.type === 'string') this.emit('string', message.text);
    });
    this.#link.on('disconnect', (reason) => {
      this.#analog.failAll(new BusError('ERR_BUS_TIMEOUT', `the Firmata line is down: ${reason}`));
      this.emit('disconnect', reason);
    });
    this.#link.on('reconnect', () => this.emit('reconnect'));
    this.#link.on('reconnect-failed', (error) => this.emit('reconnect-failed', error));
    connection.send({ type: 'sampling-interval', ms: this.#samplingInterval });
    process.nextTick(() => {
      if (this.#link.state === 'closed') return;
      this.emit('connect');
      this.emit('ready');
    });
  }

  get isReady(): boolean {
    return this.#link.state === 'ready';
  }

  /** The line losses (the last 256), with when each was restored. */
  get gaps(): readonly LineGap[] {
    return this.#link.gaps;
  }

  /** What the host's parser skipped on the current line. */
  get parserStats(): FirmataParserStats {
    return this.#link.connection.parserStats;
  }

  /** What became of the I2C replies on the current line (late ones are dropped, never mis-delivered). */
  get i2cReplyStats(): I2cReplyStats {
    return this.#link.connection.i2cReplyStats;
  }

  // ── ECMA-419 buses ──────────────────────────────────────────────────────────────────────────

  openAnalogInput(options: AnalogInputOptions): AnalogInput {
    this.#expectOpen();
    const analog = this.definition.analogPins.find((candidate) => candidate.name === options?.pin);
    if (analog === undefined) throw this.#map.notAnalog(options?.pin);
    this.#analog.use(analog.channel);
    this.#reportAnalog(analog.channel, true);
    const adc = this.definition.adc!;
    return new FirmataAnalogInput(this, analog.name, analog.channel, adc.resolution, adc.referenceVoltage);
  }

  openI2c(options: I2cDeviceOptions): I2cDevice {
    this.#expectOpen();
    const buses = this.definition.i2cBuses;
    const bus = options?.bus === undefined ? buses[0] : buses.find((candidate) => candidate.name === options.bus);
    if (bus === undefined) throw new PinError(`${this.definition.name} has no I2C bus ${JSON.stringify(options?.bus ?? '')} (buses: ${buses.map((b) => b.name).join(', ') || 'none'})`);
    const address = options.address;
    if (!Number.isInteger(address) || address < 0x08 || address > 0x77) throw new ValidationError('address', `expected a 7-bit address from 0x08 to 0x77, got ${String(address)}`);
    this.#i2c.enable();
    return new FirmataI2cDevice(this, bus.name, address, options.hz ?? 100_000);
  }

  /** @internal bus host */
  i2cWriteBytes(address: number, bytes: number[]): void {
    this.#expectOpen();
    if (this.#link.state !== 'ready') throw new BusError('ERR_BUS_TIMEOUT', `I2C write to 0x${address.toString(16)}: the Firmata line is down`);
    this.#link.send({ type: 'i2c-request', address, mode: 'write', tenBit: false, restart: false, data: bytes });
  }

  /** @internal bus host */
  i2cReadBytes(address: number, register: number | undefined, count: number, target: string): Promise<Uint8Array> {
    if (this.#link.state === 'closed') return Promise.reject(new StateError(`${target}: the board is closed`));
    if (this.#link.state !== 'ready') return Promise.reject(new BusError('ERR_BUS_TIMEOUT', `${target}: the Firmata line is down`));
    return this.#link.connection.i2cRead(address, register, count, this.#options.requestTimeoutMs, target);
  }

  /** @internal bus host: the channel's latest report if fresh (within one sampling interval), else the next. */
  analogSample(channel: number, pin: string): Promise<number> {
    if (this.#link.state === 'closed') return Promise.reject(new StateError('the board is closed'));
    if (this.#link.state === 'down') return Promise.reject(new BusError('ERR_BUS_TIMEOUT', `analog input ${pin}: the Firmata line is down`));
    return this.#analog.sample(channel, pin, {
      freshMs: this.#samplingInterval,
      limitMs: Math.max(this.#options.requestTimeoutMs, 3 * this.#samplingInterval),
      usable: this.#link.state === 'ready',
      down: () => this.#link.state === 'down',
    });
  }

  /** @internal bus host */
  releaseAnalog(channel: number): void {
    if (this.#analog.release(channel) === 0 && this.pins[this.#pinOfChannel(channel)]?.report !== 1) this.#reportAnalog(channel, false);
  }

  // ── johnny-five IO plugin ───────────────────────────────────────────────────────────────────

  normalize(pin: number | string): number {
    return this.#map.normalize(pin);
  }

  pinMode(pin: number | string, mode: number): this {
    const index = mode === MODES.ANALOG ? this.#map.analog(pin).pin : this.#map.normalize(pin);
    if (!this.pins[index]!.supportedModes.includes(mode)) throw new PinError(`pin ${this.#map.nameOf(index)} does not support mode ${mode} on this Firmata board (supported: ${this.pins[index]!.supportedModes.join(', ')})`);
    this.pins[index]!.mode = mode;
    this.#link.send({ type: 'set-pin-mode', pin: index, mode });
    return this;
  }

  analogRead(pin: number | string, handler: (value: number) => void): void {
    const analog = this.#map.analog(pin);
    this.pins[analog.pin]!.report = 1;
    this.on(`analog-read-${analog.channel}`, handler);
    this.#reportAnalog(analog.channel, true);
  }

  reportAnalogPin(pin: number | string, value: 0 | 1): void {
    const analog = this.#map.analog(pin);
    this.pins[analog.pin]!.report = value;
    this.#reportAnalog(analog.channel, value === 1 || this.#analog.users(analog.channel) > 0);
  }

  digitalRead(pin: number | string, handler: (value: number) => void): void {
    const index = this.#map.normalize(pin);
    this.pins[index]!.report = 1;
    this.on(`digital-read-${index}`, handler);
    this.#link.send({ type: 'report-digital', port: this.#digital.watch(index), enable: true });
  }

  digitalWrite(pin: number | string, value: number): this {
    const index = this.#map.normalize(pin);
    const record = this.pins[index]!;
    if (record.mode === undefined) this.pinMode(index, MODES.OUTPUT);
    record.value = value ? 1 : 0;
    this.#link.send({ type: 'set-digital-pin', pin: index, value: record.value });
    return this;
  }

  analogWrite(pin: number | string, value: number): this {
    return this.pwmWrite(pin, value);
  }

  pwmWrite(pin: number | string, value: number): this {
    const index = this.#map.normalize(pin);
    if (!Number.isFinite(value) || value < 0 || value > 255) throw new ValidationError('value', `expected 0 … 255, got ${String(value)}`);
    if (this.pins[index]!.mode !== MODES.PWM) this.pinMode(index, MODES.PWM);
    this.pins[index]!.value = value;
    this.#link.send({ type: 'analog', channel: index, value: Math.round(value) });
    return this;
  }

  i2cConfig(options?: number | I2cConfigOptions): this {
    this.#i2c.configure(typeof options === 'number' ? options : (options?.delay ?? 0));
    return this;
  }

  i2cWrite(address: number, registerOrBytes: number | number[], bytes?: number | number[]): this {
    const data = Array.isArray(registerOrBytes) ? registerOrBytes : bytes === undefined ? [registerOrBytes] : [registerOrBytes, ...(Array.isArray(bytes) ? bytes : [bytes])];
    this.#i2c.enable();
    this.#link.send({ type: 'i2c-request', address, mode: 'write', tenBit: false, restart: false, data });
    return this;
  }

  i2cWriteReg(address: number, register: number, byte: number): this {
    return this.i2cWrite(address, register, [byte]);
  }

  i2cRead(address: number, registerOrCount: number, countOrHandler: number | I2cReadHandler, handler?: I2cReadHandler): this {
    this.#i2c.add(parseIoRead(address, registerOrCount, countOrHandler, handler));
    return this;
  }

  i2cReadOnce(address: number, registerOrCount: number, countOrHandler: number | I2cReadHandler, handler?: I2cReadHandler): this {
    const read = parseIoRead(address, registerOrCount, countOrHandler, handler);
    this.#i2c.enable();
    this.i2cReadBytes(address, read.register, read.count, `0x${address.toString(16)}`)
      .then(
        (bytes) => read.handler(Array.from(bytes)),
        (error: Error) => this.emit('string', `I2C: ${error.message}`),
      )
      .catch(rethrow);
    return this;
  }

  i2cStop(options: number | { address: number }): void {
    this.#i2c.stop(typeof options === 'number' ? options : options.address);
  }

  setSamplingInterval(ms: number): this {
    if (!Number.isFinite(ms)) throw new ValidationError('samplingInterval', `expected a number of ms, got ${String(ms)}`);
    this.#samplingInterval = Math.min(65_535, Math.max(1, Math.round(ms)));
    this.#link.send({ type: 'sampling-interval', ms: this.#samplingInterval });
    return this;
  }

  samplingInterval(ms: number): this {
    return this.setSamplingInterval(ms);
  }

  getSamplingInterval(): number {
    return this.#samplingInterval;
  }

  /** Drops the line now, as a pulled cable would (for tests and the `drop` command). */
  dropLine(): Promise<void> {
    return this.#link.drop();
  }

  /**
   * Stops the reports, closes the line (and a reconnection in progress) and rejects every pending
   * read with `StateError`.
   */
  async close(): Promise<void> {
    if (this.#link.state === 'closed') return;
    await this.#link.close((connection) => {
      const closed = (target: string): StateError => new StateError(`${target}: the board is closed`);
      this.#analog.failAll(closed('analog input'));
      connection.failReads(closed);
      for (const channel of this.#reportingChannels()) connection.send({ type: 'report-analog', channel, enable: false });
    });
    this.emit('close');
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────────

  /** After a reconnect: the board has reset, so everything the host had asked for is asked again. */
  #restoreMessages(): FirmataMessage[] {
    return restoreMessages({
      samplingInterval: this.#samplingInterval,
      pins: this.pins,
      reportedPorts: this.#digital.ports,
      reportingChannels: this.#reportingChannels(),
      i2cDelay: this.#i2c.delayUs,
      continuousReads: this.#i2c.reads,
    });
  }

  #reportingChannels(): number[] {
    return this.definition.analogPins.filter((a) => this.pins[a.pin]?.report === 1 || this.#analog.users(a.channel) > 0).map((a) => a.channel);
  }

  #reportAnalog(channel: number, enable: boolean): void {
    this.#link.send({ type: 'report-analog', channel, enable });
  }

  #onAnalog(channel: number, counts: number): void {
    const pin = this.pins[this.#pinOfChannel(channel)];
    if (pin !== undefined) pin.value = counts;
    this.#analog.received(channel, counts);
    this.emit(`analog-read-${channel}`, counts);
    this.emit('analog-read', { pin: channel, value: counts });
  }

  #onI2cReply(address: number, register: number, bytes: number[]): void {
    this.#i2c.reply(address, register, bytes);
    this.emit(`I2C-reply-${address}-${register}`, bytes);
  }

  #onDigital(port: number, mask: number): void {
    this.#digital.received(port, mask, this.pins, (pin, value) => {
      this.emit(`digital-read-${pin}`, value);
      this.emit('digital-read', { pin, value });
    });
  }

  #pinOfChannel(channel: number): number {
    return this.#channelPins[channel] ?? -1;
  }

  #expectOpen(): void {
    if (this.#link.state === 'closed') throw new StateError('the board is closed');
  }
}

/** A handler's exception, out of a promise chain: thrown as it would be from an event listener (not an unhandled rejection). */
function rethrow(error: unknown): void {
  process.nextTick(() => {
    throw error;
  });
}
