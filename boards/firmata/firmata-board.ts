/**
 * A real board over Firmata 2.x (an Arduino with StandardFirmata or ConfigurableFirmata), as a
 * sensorkit `Board` (the shared IO-plugin adapter over Firmata messages), over a serialport 13
 * `SerialPort` or any duplex stream. The pin map comes from the board's capability
 * and analog-mapping replies.
 *
 * A lost line does not end the board: reads in flight and reads during the gap reject with
 * `BusError` (ERR_BUS_TIMEOUT), which the sampling chain turns into the samples' quality, and the
 * board reopens the line on its clock, repeats the handshake and restores the sampling interval,
 * the analog and digital reports, pin modes and continuous I2C reads.
 */
import { i2cTarget, MODES, type AnalogInput, type AnalogInputOptions } from '../../sdk/io/board.js';
import type { AnalogPinDefinition, BoardDefinition } from '../../sdk/io/board-definitions.js';
import type { I2cTransfer } from '../../sdk/io/i2c-device.js';
import type { IoRead } from '../../sdk/io/io-plugin-args.js';
import { IoPluginBoard } from '../../sdk/io/io-plugin-board.js';
import { resolveBoardDefinition } from '../../sdk/io/pin-map.js';
import { BusError, StateError, ValidationError } from '../../sdk/core/errors.js';
import { AnalogReports } from './analog-reports.js';
import { FirmataAnalogInput, type FirmataBusHost } from './buses.js';
import type { FirmataConnection, FirmataIdentity } from './connection.js';
import { ContinuousReads } from './continuous-reads.js';
import { DigitalReports } from './digital-reports.js';
import type { I2cReplyStats } from './i2c-reads.js';
import { connectFirmata, FirmataLink } from './firmata-link.js';
import { checkDefinition, derivedDefinition, pinsFromIdentity } from './pin-map.js';
import type { FirmataBoardOptions, LineGap } from './options.js';
import { MAX_I2C_BYTES } from './protocol/constants.js';
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
export class FirmataBoard extends IoPluginBoard implements FirmataBusHost {
  readonly identity: FirmataIdentity;
  readonly #options: Required<Omit<FirmataBoardOptions, 'definition' | 'describe' | 'samplingIntervalMs'>> & { describe: string };
  readonly #link: FirmataLink;
  readonly #analog: AnalogReports;
  readonly #digital = new DigitalReports();
  readonly #i2c = new ContinuousReads((message) => this.#link.send(message));

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
    const referenceVoltage = options.referenceVoltage ?? 5;
    let definition: BoardDefinition;
    if (options.definition === undefined) definition = derivedDefinition(identity, referenceVoltage);
    else {
      definition = resolveBoardDefinition(options.definition);
      checkDefinition(definition, identity);
    }
    const pwmBits = identity.capabilities.flat().find((m) => m.mode === MODES.PWM)?.resolution;
    super({
      definition,
      clock: options.clock,
      name: `Firmata ${identity.firmware.name}`,
      reports: 'pushed',
      pins: pinsFromIdentity(identity),
      // The longest I2C transfer whose I2C_REQUEST or I2C_REPLY fits one Firmata frame (protocol/constants.ts).
      i2cMaxBytes: MAX_I2C_BYTES,
      pwmMax: pwmBits === undefined ? 255 : 2 ** pwmBits - 1,
      samplingIntervalMs: options.samplingIntervalMs ?? 19,
    });
    this.identity = identity;
    this.#options = {
      line: options.line,
      describe,
      clock: options.clock,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5000,
      requestTimeoutMs: options.requestTimeoutMs ?? 1000,
      reconnect: options.reconnect ?? true,
      reconnectDelayMs: options.reconnectDelayMs ?? 500,
      referenceVoltage,
    };
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
    connection.send({ type: 'sampling-interval', ms: this.getSamplingInterval() });
  }

  override get isReady(): boolean {
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

  /** Drops the line now, as a pulled cable would (for tests and the `drop` command). */
  dropLine(): Promise<void> {
    return this.#link.drop();
  }

  // ── primitives ──────────────────────────────────────────────────────────────────────────────

  /** An analog input; opening it turns the channel's report on (Firmata pushes analog values). */
  openAnalogInput(options: AnalogInputOptions): AnalogInput {
    this.expectOpen();
    const analog = this.definition.analogPins.find((candidate) => candidate.name === options?.pin);
    if (analog === undefined) throw this.pinMap.notAnalog(options?.pin);
    this.#analog.use(analog.channel);
    this.#reportAnalog(analog.channel, true);
    const adc = this.definition.adc!;
    return new FirmataAnalogInput(this, analog.name, analog.channel, adc.resolution, adc.referenceVoltage);
  }

  /** @internal bus host: the channel's latest report if fresh (within one sampling interval), else the next. */
  analogSample(channel: number, pin: string): Promise<number> {
    if (this.#link.state === 'closed') return Promise.reject(new StateError('the board is closed'));
    if (this.#link.state === 'down') return Promise.reject(new BusError('ERR_BUS_TIMEOUT', `analog input ${pin}: the Firmata line is down`));
    const interval = this.getSamplingInterval();
    return this.#analog.sample(channel, pin, {
      freshMs: interval,
      limitMs: Math.max(this.#options.requestTimeoutMs, 3 * interval),
      usable: this.#link.state === 'ready',
      down: () => this.#link.state === 'down',
    });
  }

  /** @internal bus host */
  releaseAnalog(channel: number): void {
    const analog = this.definition.analogPins.find((candidate) => candidate.channel === channel);
    if (this.#analog.release(channel) === 0 && (analog === undefined || this.pins[analog.pin]?.report !== 1)) this.#reportAnalog(channel, false);
  }

  protected convertAnalog(analog: AnalogPinDefinition): Promise<number> {
    return this.analogSample(analog.channel, analog.name);
  }

  /**
   * One I2C transfer as Firmata I2C_REQUESTs. A read with a one-byte write is Firmata's read "with
   * register" (the board writes the register, then reads); a longer write goes first, on its own. A
   * write has no acknowledgement in Firmata, so it resolves once sent.
   */
  protected transferI2c(bus: string, address: number, transfer: I2cTransfer): Promise<Uint8Array> {
    const target = i2cTarget(bus, address);
    if (this.#link.state === 'closed') return Promise.reject(new StateError(`${target}: the board is closed`));
    if (this.#link.state !== 'ready') return Promise.reject(new BusError('ERR_BUS_TIMEOUT', `${target}: the Firmata line is down`));
    this.#i2c.enable();
    const write = transfer.write ?? new Uint8Array(0);
    const oneRegister = transfer.readCount !== undefined && write.length === 1;
    if (write.length > 0 && !oneRegister) {
      this.#link.send({ type: 'i2c-request', address, mode: 'write', tenBit: false, restart: false, data: Array.from(write) });
    }
    if (transfer.readCount === undefined) return Promise.resolve(new Uint8Array(0));
    return this.#link.connection.i2cRead(address, oneRegister ? write[0] : undefined, transfer.readCount, this.#options.requestTimeoutMs, target);
  }

  protected override applyPinMode(pin: number, mode: number): void {
    this.#link.send({ type: 'set-pin-mode', pin, mode });
  }

  protected override writeDigitalPin(pin: number, level: 0 | 1): void {
    this.pins[pin]!.value = level;
    this.#link.send({ type: 'set-digital-pin', pin, value: level });
  }

  /** REPORT_DIGITAL for the pin's port; the board answers with the port's state, then its changes. */
  protected override watchDigitalPin(pin: number): void {
    this.#link.send({ type: 'report-digital', port: this.#digital.watch(pin), enable: true });
  }

  protected override writeAnalogValue(pin: number, value: number): void {
    this.#link.send({ type: 'analog', channel: pin, value });
  }

  protected override analogReportChanged(channel: number, on: boolean): void {
    this.#reportAnalog(channel, on || this.#analog.users(channel) > 0);
  }

  protected override continuousReadAdded(read: IoRead): void {
    this.#i2c.add(read);
  }

  protected override continuousReadsStopped(address: number): void {
    this.#i2c.stop(address);
  }

  protected override samplingIntervalChanged(ms: number): void {
    this.#link.send({ type: 'sampling-interval', ms });
  }

  protected override i2cConfigured(delayUs: number): void {
    this.#i2c.configure(delayUs);
  }

  /**
   * Stops the reports, closes the line (and a reconnection in progress) and rejects every pending
   * read with `StateError`.
   */
  protected async closeBoard(): Promise<void> {
    if (this.#link.state === 'closed') return;
    await this.#link.close((connection) => {
      const closed = (target: string): StateError => new StateError(`${target}: the board is closed`);
      this.#analog.failAll(closed('analog input'));
      connection.failReads(closed);
      for (const channel of this.#reportingChannels()) connection.send({ type: 'report-analog', channel, enable: false });
    });
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────────

  /** After a reconnect: the board has reset, so everything the host had asked for is asked again. */
  #restoreMessages(): FirmataMessage[] {
    return restoreMessages({
      samplingInterval: this.getSamplingInterval(),
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
    this.#analog.received(channel, counts);
    this.emitAnalogRead(channel, counts);
  }

  /** Replies to continuous reads go to their handlers; those of one-shot reads were taken by the connection. */
  #onI2cReply(address: number, register: number, bytes: number[]): void {
    if (this.#i2c.reply(address, register, bytes)) this.emit(`I2C-reply-${address}-${register}`, bytes);
  }

  #onDigital(port: number, mask: number): void {
    this.#digital.received(port, mask, this.pins, (pin, value) => this.emitDigitalRead(pin, value));
  }
}
