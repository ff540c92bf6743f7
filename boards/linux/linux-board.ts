/**
 * A Raspberry-Pi-class Linux board as a sensorkit `Board` (the shared IO-plugin adapter): analog inputs from IIO, temperatures
 * from hwmon, I2C through /dev/i2c-N (our addon by default, or an injected transport, see
 * i2c-dev.ts). `root` moves every path under another folder, so tests run against a fake sysfs tree.
 *
 * GPIO is not offered: the sysfs GPIO interface is deprecated and the GPIO character device needs
 * ioctl(), like i2c-dev; the pins list no GPIO modes and those IO-plugin calls fail with
 * `NotSupportedError`. Analog reports and continuous I2C reads are polled on the clock.
 */
import { join } from 'node:path';
import type { AnalogInput, AnalogInputOptions } from '../../sdk/io/board.js';
import type { AnalogPinDefinition, BoardDefinition } from '../../sdk/io/board-definitions.js';
import type { I2cTransfer } from '../../sdk/io/i2c-device.js';
import { IoPluginBoard } from '../../sdk/io/io-plugin-board.js';
import { resolveBoardDefinition } from '../../sdk/io/pin-map.js';
import type { Clock } from '../../sdk/core/clock.js';
import { PinError, ValidationError } from '../../sdk/core/errors.js';
import { listHwmonTemperatures, readHwmonCelsius, type HwmonTemperature } from './hwmon.js';
import { IioAnalogInput, listIioChannels, type IioChannel } from './iio.js';
import { i2cBusNumber, I2C_DEV_MAX_BYTES, type I2cDevTransport } from './i2c-dev.js';
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
export class LinuxBoard extends IoPluginBoard {
  readonly root: string;
  readonly #sys: string;
  readonly #i2c: I2cDevTransport;

  constructor(options: LinuxBoardOptions) {
    if (typeof options?.clock?.schedule !== 'function') throw new ValidationError('clock', 'expected a Clock');
    const definition = resolveBoardDefinition(options.definition);
    super({
      definition,
      clock: options.clock,
      name: `Linux ${definition.name}`,
      reports: 'polled',
      i2cMaxBytes: I2C_DEV_MAX_BYTES,
      noGpio: 'GPIO is not offered on the Linux board (the GPIO character device needs ioctl(), not reachable from Node.js without an addon)',
    });
    this.root = options.root ?? '/';
    this.#sys = join(this.root, 'sys');
    this.#i2c = options.i2c ?? new NativeI2cDevTransport({ devDir: join(this.root, 'dev') });
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

  // ── primitives ──────────────────────────────────────────────────────────────────────────────

  /**
   * An IIO channel by id ("iio:device0/voltage1") or by a definition analog pin ("A1" → the
   * definition's channel 1 → the second IIO voltage channel found).
   */
  openAnalogInput(options: AnalogInputOptions): AnalogInput {
    this.expectOpen();
    const pin = options?.pin;
    const channels = this.iioChannels();
    const direct = channels.find((channel) => channel.id === pin);
    if (direct !== undefined) return new IioAnalogInput(direct, pin);
    const analog = this.definition.analogPins.find((candidate) => candidate.name === pin);
    if (analog === undefined) {
      throw new PinError(`no analog input ${JSON.stringify(pin)}: IIO channels are ${channels.map((c) => c.id).join(', ') || 'none'} (${join(this.#sys, 'bus/iio/devices')})`);
    }
    return new IioAnalogInput(this.#iioChannel(analog, channels), pin);
  }

  protected async convertAnalog(analog: AnalogPinDefinition): Promise<number> {
    const input = new IioAnalogInput(this.#iioChannel(analog, this.iioChannels()), analog.name);
    return input.read();
  }

  protected async transferI2c(bus: string, address: number, transfer: I2cTransfer): Promise<Uint8Array> {
    return this.#i2c.transfer(i2cBusNumber(bus), address, transfer);
  }

  protected async closeBoard(): Promise<void> {
    await this.#i2c.close?.();
  }

  #iioChannel(analog: AnalogPinDefinition, channels: IioChannel[]): IioChannel {
    const channel = channels[analog.channel];
    if (channel === undefined) throw new PinError(`${analog.name} is analog channel ${analog.channel}, but only ${channels.length} IIO voltage channel(s) exist`);
    return channel;
  }
}
