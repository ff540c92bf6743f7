/**
 * The Firmata engine: serves an `EmulatedBoard` to a Firmata host over any byte stream, as
 * StandardFirmata 2.5 serves an Arduino. It answers the handshake (REPORT_VERSION, REPORT_FIRMWARE,
 * CAPABILITY_QUERY, ANALOG_MAPPING_QUERY, PIN_STATE_QUERY), reports analog channels and digital
 * ports at the sampling interval the host asks for, and runs I2C requests against the board's
 * emulated parts, with its faults. Every transfer runs on the board's clock at the moment the request
 * arrives, so over a zero-latency line on a shared clock the host reads exactly what an in-process
 * driver would.
 *
 * Bad input never stops it: the parser skips and counts bad frames, and a request the board refuses
 * (a pin without that mode, an I2C NAK) is answered with STRING_DATA, as StandardFirmata does.
 */
import { ArgumentError, PinError } from '../../../sdk/core/errors.js';
import { MODES } from '../../../sdk/io/board.js';
import type { EmulatedBoard } from '../board.js';
import { encodeFirmata, type FirmataMessage, type PinCapability } from '../../firmata/protocol/messages.js';
import { FirmataParser, type FirmataParserStats } from '../../firmata/protocol/parser.js';
import { PROTOCOL_VERSION } from '../../firmata/protocol/constants.js';

/** Options of {@link FirmataEngine}. */
export interface FirmataEngineOptions {
  board: EmulatedBoard;
  /** Sends bytes to the host. */
  write: (bytes: Uint8Array) => void;
  /** Firmware name in REPORT_FIRMWARE. Default "sensorkit-emulated-firmata.ino". */
  firmwareName?: string;
}

/** Counters of what the engine did and refused, beside the parser's. */
export interface FirmataEngineStats {
  parser: FirmataParserStats;
  /** Requests the board refused (answered with STRING_DATA). */
  refused: number;
  /** Messages sent to the host. */
  sent: number;
  /** Analog reports sent. */
  analogReports: number;
  /** I2C replies sent. */
  i2cReplies: number;
  /** Times the engine announced itself (one per session). */
  sessions: number;
}

/** StandardFirmata's default sampling interval, ms. */
const DEFAULT_SAMPLING_MS = 19;

/** Resolution reported per mode in the capability response (ATmega328P StandardFirmata values). */
function resolutionOf(mode: number, adcBits: number): number {
  if (mode === MODES.ANALOG) return adcBits;
  if (mode === MODES.PWM) return 8;
  if (mode === MODES.SERVO) return 14;
  return 1;
}

/**
 * A Firmata engine in front of an emulated board.
 *
 * @example
 * ```ts
 * const board = new EmulatedBoard({ definition: 'arduino-uno', clock, seed: 1 })
 * const engine = new FirmataEngine({ board, write: (bytes) => port.write(bytes) })
 * port.on('data', (chunk) => engine.receive(chunk))
 * engine.announce() // REPORT_VERSION + firmware, as a board does after its reset
 * ```
 */
export class FirmataEngine {
  readonly board: EmulatedBoard;
  readonly firmwareName: string;
  readonly #write: (bytes: Uint8Array) => void;
  readonly #parser: FirmataParser;
  readonly #stats = { refused: 0, sent: 0, analogReports: 0, i2cReplies: 0, sessions: 0 };
  /** Digital ports (8 pins each) whose changes are reported. */
  readonly #reportedPorts = new Set<number>();
  /** Pins that have a digitalRead listener on the board already. */
  readonly #watchedPins = new Set<number>();
  readonly #continuousAddresses = new Set<number>();
  /** What the engine listens to on the board, removed again by `close()`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- EventEmitter's own listener type
  readonly #listeners: [event: string, listener: (...args: any[]) => void][] = [];
  #closed = false;

  constructor(options: FirmataEngineOptions) {
    if (typeof options?.write !== 'function') throw new ArgumentError('Expected `write` to be a function');
    if (typeof options.board?.openI2c !== 'function') throw new ArgumentError('Expected `board` to be an EmulatedBoard');
    this.board = options.board;
    this.firmwareName = options.firmwareName ?? 'sensorkit-emulated-firmata.ino';
    this.#write = options.write;
    this.#parser = new FirmataParser({ role: 'board', onMessage: (message) => this.#handle(message) });
    this.#listen('analog-read', (event: { pin: number; value: number }) => {
      if (this.#closed) return;
      this.#stats.analogReports++;
      this.#send({ type: 'analog', channel: event.pin, value: event.value });
    });
    this.#listen('digital-read', (event: { pin: number; value: number }) => {
      const port = event.pin >> 3;
      if (this.#reportedPorts.has(port)) this.#sendPort(port);
    });
    this.#listen('string', (text: string) => this.#send({ type: 'string', text }));
  }

  /** What was parsed, skipped and refused so far. */
  get stats(): FirmataEngineStats {
    return { parser: { ...this.#parser.stats }, ...this.#stats };
  }

  /** Feeds bytes from the host. Never throws. */
  receive(bytes: ArrayLike<number>): void {
    if (!this.#closed) this.#parser.push(bytes);
  }

  /**
   * Starts a session as a reset board does: stops every report and continuous read, restores the
   * default sampling interval, then sends REPORT_VERSION and REPORT_FIRMWARE unasked.
   */
  announce(): void {
    this.reset();
    this.#stats.sessions++;
    this.#send({ type: 'version', ...PROTOCOL_VERSION });
    this.#sendFirmware();
  }

  /** Stops reporting and continuous reads (SYSTEM_RESET, or a new session). */
  reset(): void {
    this.#parser.reset();
    // A closed board reports nothing and refuses calls: only the engine's own state is reset.
    if (!this.board.isClosed) {
      for (const analog of this.board.definition.analogPins) this.board.reportAnalogPin(analog.channel, 0);
      for (const address of this.#continuousAddresses) this.board.i2cStop(address);
      this.board.samplingInterval(DEFAULT_SAMPLING_MS);
    }
    this.#continuousAddresses.clear();
    this.#reportedPorts.clear();
  }

  /** Stops serving and lets go of the board (which stays open: it belongs to the caller). */
  close(): void {
    if (this.#closed) return;
    this.reset();
    this.#closed = true;
    for (const [event, listener] of this.#listeners.splice(0)) this.board.off(event, listener);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- EventEmitter's own listener type
  #listen(event: string, listener: (...args: any[]) => void): void {
    this.board.on(event, listener);
    this.#listeners.push([event, listener]);
  }

  #send(message: FirmataMessage): void {
    if (this.#closed) return;
    this.#stats.sent++;
    this.#write(encodeFirmata(message));
  }

  #sendFirmware(): void {
    this.#send({ type: 'firmware', ...PROTOCOL_VERSION, name: this.firmwareName });
  }

  #refuse(error: unknown): void {
    this.#stats.refused++;
    this.#send({ type: 'string', text: error instanceof Error ? error.message : String(error) });
  }

  #handle(message: FirmataMessage): void {
    try {
      this.#dispatch(message);
    } catch (error) {
      this.#refuse(error);
    }
  }

  #dispatch(message: FirmataMessage): void {
    const board = this.board;
    switch (message.type) {
      case 'query-version':
        return this.#send({ type: 'version', ...PROTOCOL_VERSION });
      case 'query-firmware':
        return this.#sendFirmware();
      case 'capability-query':
        return this.#send({ type: 'capability-response', pins: this.#capabilities() });
      case 'analog-mapping-query':
        return this.#send({ type: 'analog-mapping-response', channels: board.pins.map((pin) => pin.analogChannel) });
      case 'pin-state-query': {
        const pin = board.pins[message.pin];
        if (pin === undefined) throw new PinError(`PIN_STATE_QUERY: no pin ${message.pin}`);
        return this.#send({ type: 'pin-state-response', pin: message.pin, mode: pin.mode ?? MODES.OUTPUT, state: pin.value });
      }
      case 'sampling-interval':
        board.samplingInterval(message.ms);
        return;
      case 'report-analog':
        board.reportAnalogPin(message.channel, message.enable ? 1 : 0);
        return;
      case 'report-digital':
        return this.#reportPort(message.port, message.enable);
      case 'set-pin-mode':
        // An unsupported mode throws PinError: answered with a string, the pin stays as it was.
        // By name: a bare number with ANALOG would be read as an analog channel, not a pin.
        board.pinMode(this.#pinName(message.pin), message.mode);
        return;
      case 'set-digital-pin':
        board.digitalWrite(message.pin, message.value);
        return;
      case 'digital':
        return this.#writePort(message.port, message.mask);
      case 'analog':
        // From the host, ANALOG_MESSAGE is a write to pin `channel`: a servo position on a SERVO pin, else a PWM duty.
        return this.#analogWrite(message.channel, message.value);
      case 'extended-analog':
        return this.#analogWrite(message.pin, message.value);
      case 'i2c-config':
        board.i2cConfig({ delay: message.delayUs });
        return;
      case 'i2c-request':
        return this.#i2c(message);
      case 'system-reset':
        return this.reset();
      default:
        // Replies sent by a confused host (version, firmware, capability-response …): ignore.
        return;
    }
  }

  #analogWrite(pin: number, value: number): void {
    if (this.board.pins[pin]?.mode === MODES.SERVO) this.board.servoWrite(pin, value);
    else this.board.pwmWrite(pin, value);
  }

  #pinName(pin: number): string {
    const name = this.board.definition.digitalPins[pin];
    if (name === undefined) throw new PinError(`no pin ${pin} on ${this.board.definition.name}`);
    return name;
  }

  #capabilities(): PinCapability[][] {
    const adcBits = this.board.definition.adc?.resolution ?? 10;
    return this.board.pins.map((pin) => pin.supportedModes.map((mode) => ({ mode, resolution: resolutionOf(mode, adcBits) })));
  }

  #reportPort(port: number, enable: boolean): void {
    if (!enable) {
      this.#reportedPorts.delete(port);
      return;
    }
    this.#reportedPorts.add(port);
    for (let pin = port * 8; pin < Math.min(port * 8 + 8, this.board.pins.length); pin++) {
      if (this.#watchedPins.has(pin)) continue;
      this.#watchedPins.add(pin);
      // Registers the board's change reports for the pin; changes arrive as "digital-read" events.
      const ignore = (): void => undefined;
      this.board.digitalRead(pin, ignore);
      this.#listeners.push([`digital-read-${pin}`, ignore]);
    }
    // A board answers REPORT_DIGITAL with the port's current state.
    this.#sendPort(port);
  }

  #sendPort(port: number): void {
    let mask = 0;
    for (let bit = 0; bit < 8; bit++) if ((this.board.pins[port * 8 + bit]?.value ?? 0) !== 0) mask |= 1 << bit;
    this.#send({ type: 'digital', port, mask });
  }

  /** DIGITAL_MESSAGE from the host: sets the port's output pins. */
  #writePort(port: number, mask: number): void {
    for (let bit = 0; bit < 8; bit++) {
      const pin = port * 8 + bit;
      const record = this.board.pins[pin];
      if (record?.mode === MODES.OUTPUT) this.board.digitalWrite(pin, (mask >> bit) & 1);
    }
  }

  #i2c(request: Extract<FirmataMessage, { type: 'i2c-request' }>): void {
    const board = this.board;
    const { address } = request;
    if (request.mode === 'write') {
      board.i2cWrite(address, request.data);
      return;
    }
    if (request.mode === 'stop') {
      board.i2cStop(address);
      this.#continuousAddresses.delete(address);
      return;
    }
    const [first = 0, second] = request.data;
    const register = second === undefined ? undefined : first;
    const count = second === undefined ? first : second;
    const reply = (bytes: number[]): void => {
      this.#stats.i2cReplies++;
      this.#send({ type: 'i2c-reply', address, register: register ?? 0, bytes });
    };
    if (request.mode === 'continuous') {
      this.#continuousAddresses.add(address);
      if (register === undefined) board.i2cRead(address, count, reply);
      else board.i2cRead(address, register, count, reply);
    } else if (register === undefined) board.i2cReadOnce(address, count, reply);
    else board.i2cReadOnce(address, register, count, reply);
  }
}
