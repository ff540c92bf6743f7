/**
 * A Raspberry-Pi-class Linux board as a sensorkit `Board`: analog inputs from IIO, temperatures
 * from hwmon, I2C through /dev/i2c-N (our addon by default, or an injected transport, see
 * i2c-dev.ts). `root` moves every path under another folder, so tests run against a fake sysfs tree.
 *
 * GPIO is not offered: the sysfs GPIO interface is deprecated and the GPIO character device needs
 * ioctl(), like i2c-dev; those IO-plugin calls fail with `NotSupportedError`.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
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
import type { Clock, Timer } from '../../sdk/core/clock.js';
import { NotSupportedError, PinError, StateError, ValidationError } from '../../sdk/core/errors.js';
import { parseIoRead } from '../emulated/i2c-bus.js';
import { PinMap, resolveBoardDefinition } from '../emulated/pin-map.js';
import { listHwmonTemperatures, readHwmonCelsius, type HwmonTemperature } from './hwmon.js';
import { IioAnalogInput, listIioChannels, type IioChannel } from './iio.js';
import { LinuxI2cDevice, type I2cDevTransport } from './i2c-dev.js';
import { NativeI2cDevTransport } from './i2c-dev-native.js';

/** Options of {@link LinuxBoard}. */
export interface LinuxBoardOptions {
  /** Pin map (the device model's board). Analog pins map to IIO voltage channels in order. */
  definition: BoardDefinition | string;
  clock: Clock;
  /** Folder that holds `sys/` (and `dev/`); default "/". Tests pass a temporary folder. */
  root?: string;
  /**
   * i2c-dev transport; default: a `NativeI2cDevTransport` on `<root>/dev/i2c-N` (our addon; when it
   * is not built, transfers fail with NotSupportedError saying how to build it).
   */
  i2c?: I2cDevTransport;
}

/**
 * A Linux board.
 *
 * @example
 * ```ts
 * const board = new LinuxBoard({ definition: 'raspberry-pi-4', clock: new SystemClock() })
 * board.iioChannels()                                  // IIO voltage channels found
 * const a = board.openAnalogInput({ pin: 'iio:device0/voltage0' })
 * await board.readTemperature('cpu_thermal/temp1')     // °C from hwmon
 * ```
 */
export class LinuxBoard extends EventEmitter implements Board {
  readonly MODES = MODES;
  readonly pins: IoPin[];
  readonly analogPins: number[];
  readonly name: string;
  readonly isReady = true;
  readonly definition: BoardDefinition;
  readonly clock: Clock;
  readonly root: string;
  readonly #sys: string;
  readonly #i2c: I2cDevTransport;
  readonly #map: PinMap;
  readonly #timers = new Set<Timer>();
  #interval = 100;
  #closed = false;

  constructor(options: LinuxBoardOptions) {
    super();
    if (typeof options?.clock?.schedule !== 'function') throw new ValidationError('clock', 'expected a Clock');
    this.definition = resolveBoardDefinition(options.definition);
    this.clock = options.clock;
    this.root = options.root ?? '/';
    this.#sys = join(this.root, 'sys');
    this.#i2c = options.i2c ?? new NativeI2cDevTransport({ devDir: join(this.root, 'dev') });
    this.#map = new PinMap(this.definition);
    this.pins = this.#map.pins;
    this.analogPins = this.definition.analogPins.map((pin) => pin.pin);
    this.name = `Linux ${this.definition.name}`;
    process.nextTick(() => {
      if (this.#closed) return;
      this.emit('connect');
      this.emit('ready');
    });
  }

  /** The IIO voltage channels found now. */
  iioChannels(): IioChannel[] {
    return listIioChannels(this.#sys);
  }

  /** The hwmon temperatures found now. */
  temperatures(): HwmonTemperature[] {
    return listHwmonTemperatures(this.#sys);
  }

  /** One hwmon temperature in °C by id ("cpu_thermal/temp1"); `PinError` for an unknown id. */
  readTemperature(id: string): Promise<number> {
    const sensors = this.temperatures();
    const sensor = sensors.find((candidate) => candidate.id === id);
    if (sensor === undefined) return Promise.reject(new PinError(`no hwmon temperature "${id}" (found: ${sensors.map((s) => s.id).join(', ') || 'none'})`));
    return readHwmonCelsius(sensor);
  }

  /**
   * An IIO channel by id ("iio:device0/voltage1") or by a definition analog pin ("A1" → the
   * definition's channel 1 → the second IIO voltage channel found).
   */
  openAnalogInput(options: AnalogInputOptions): AnalogInput {
    this.#expectOpen();
    const pin = options?.pin;
    const channels = this.iioChannels();
    const direct = channels.find((channel) => channel.id === pin);
    if (direct !== undefined) return new IioAnalogInput(direct, pin);
    const analog = this.definition.analogPins.find((candidate) => candidate.name === pin);
    if (analog === undefined) {
      throw new PinError(`no analog input ${JSON.stringify(pin)}: IIO channels are ${channels.map((c) => c.id).join(', ') || 'none'} (${join(this.#sys, 'bus/iio/devices')})`);
    }
    const channel = channels[analog.channel];
    if (channel === undefined) throw new PinError(`${pin} is analog channel ${analog.channel}, but only ${channels.length} IIO voltage channel(s) exist`);
    return new IioAnalogInput(channel, pin);
  }

  openI2c(options: I2cDeviceOptions): I2cDevice {
    this.#expectOpen();
    const buses = this.definition.i2cBuses;
    const bus = options?.bus === undefined ? buses[0] : buses.find((candidate) => candidate.name === options.bus);
    if (bus === undefined) throw new PinError(`${this.definition.name} has no I2C bus ${JSON.stringify(options?.bus ?? '')} (buses: ${buses.map((b) => b.name).join(', ') || 'none'})`);
    const address = options.address;
    if (!Number.isInteger(address) || address < 0x08 || address > 0x77) throw new ValidationError('address', `expected a 7-bit address from 0x08 to 0x77, got ${String(address)}`);
    return new LinuxI2cDevice(this.#i2c, bus.name, address, options.hz ?? 100_000);
  }

  // ── johnny-five IO plugin (analog and I2C; no GPIO) ─────────────────────────────────────────

  normalize(pin: number | string): number {
    return this.#map.normalize(pin);
  }

  pinMode(pin: number | string, mode: number): this {
    if (mode !== MODES.ANALOG && mode !== MODES.I2C) throw this.#noGpio('pinMode');
    this.pins[this.#map.normalize(pin)]!.mode = mode;
    return this;
  }

  /** Polls the input every sampling interval on the clock and reports its counts. */
  analogRead(pin: number | string, handler: (value: number) => void): void {
    const analog = this.#map.analog(pin);
    const input = this.openAnalogInput({ pin: analog.name });
    const poll = (at: number): void => {
      const timer = this.clock.schedule(at, () => {
        this.#timers.delete(timer);
        input.read().then(
          (counts) => handler(counts),
          (error: Error) => this.emit('string', error.message),
        );
        if (!this.#closed) poll(at + this.#interval);
      });
      this.#timers.add(timer);
    };
    poll(this.clock.now() + this.#interval);
  }

  digitalRead(): void {
    throw this.#noGpio('digitalRead');
  }

  digitalWrite(): this {
    throw this.#noGpio('digitalWrite');
  }

  analogWrite(): this {
    throw this.#noGpio('analogWrite');
  }

  pwmWrite(): this {
    throw this.#noGpio('pwmWrite');
  }

  i2cConfig(_options?: number | I2cConfigOptions): this {
    return this;
  }

  i2cWrite(address: number, registerOrBytes: number | number[], bytes?: number | number[]): this {
    const data = Array.isArray(registerOrBytes) ? registerOrBytes : bytes === undefined ? [registerOrBytes] : [registerOrBytes, ...(Array.isArray(bytes) ? bytes : [bytes])];
    this.openI2c({ address }).write(data).catch((error: Error) => this.emit('string', `I2C: ${error.message}`));
    return this;
  }

  i2cWriteReg(address: number, register: number, byte: number): this {
    return this.i2cWrite(address, register, [byte]);
  }

  i2cRead(): this {
    throw new NotSupportedError('continuous i2cRead is not offered on the Linux board: use i2cReadOnce on a timer, or openI2c()');
  }

  i2cReadOnce(address: number, registerOrCount: number, countOrHandler: number | I2cReadHandler, handler?: I2cReadHandler): this {
    const read = parseIoRead(address, registerOrCount, countOrHandler, handler);
    const device = this.openI2c({ address });
    (read.register === undefined ? device.read(read.count) : device.readRegister(read.register, read.count)).then(
      (bytes) => read.handler(Array.from(bytes)),
      (error: Error) => this.emit('string', `I2C: ${error.message}`),
    );
    return this;
  }

  /** Polling interval of `analogRead`, ms. */
  setSamplingInterval(ms: number): this {
    if (!(ms > 0 && Number.isFinite(ms))) throw new ValidationError('samplingInterval', `expected ms above 0, got ${String(ms)}`);
    this.#interval = ms;
    return this;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
    await this.#i2c.close?.();
    this.emit('close');
  }

  #noGpio(what: string): NotSupportedError {
    return new NotSupportedError(`${what}: GPIO is not offered on the Linux board (the GPIO character device needs ioctl(), not reachable from Node.js without an addon)`);
  }

  #expectOpen(): void {
    if (this.#closed) throw new StateError('the board is closed');
  }
}
