/**
 * Analog inputs from Linux IIO (Documentation/ABI/testing/sysfs-bus-iio): each
 * `/sys/bus/iio/devices/iio:deviceN/in_voltageM_raw` is one channel; the voltage in millivolts is
 * `(raw + offset) × scale` with `in_voltageM_offset` / `in_voltage_offset` and `in_voltageM_scale` /
 * `in_voltage_scale` (absent: 0 and 1).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalogInput } from '../../sdk/io/board.js';
import { BusError, StateError } from '../../sdk/core/errors.js';

/** One IIO voltage channel. */
export interface IioChannel {
  /** "iio:device0/voltage3". */
  readonly id: string;
  /** The device's `name` file, e.g. "ads1015" or "mcp3008". */
  readonly deviceName: string;
  readonly directory: string;
  readonly index: number;
  /** Bits of the converter, from `scan_elements/in_voltageM_type` ("le:u12/16>>0"); default 12. */
  readonly bits: number;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readNumber(...paths: string[]): number | undefined {
  for (const path of paths) {
    const text = readText(path);
    if (text !== undefined && text !== '' && Number.isFinite(Number(text))) return Number(text);
  }
  return undefined;
}

/**
 * Every IIO voltage channel under `sysRoot` (default "/sys"), sorted by device then channel.
 *
 * @example
 * ```ts
 * listIioChannels('/sys').map((c) => c.id) // ['iio:device0/voltage0', 'iio:device0/voltage1']
 * ```
 */
export function listIioChannels(sysRoot = '/sys'): IioChannel[] {
  const base = join(sysRoot, 'bus', 'iio', 'devices');
  let devices: string[];
  try {
    devices = readdirSync(base).filter((name) => /^iio:device\d+$/.test(name));
  } catch {
    return [];
  }
  const number = (name: string): number => Number(/\d+$/.exec(name)?.[0] ?? 0);
  devices.sort((a, b) => number(a) - number(b));
  const channels: IioChannel[] = [];
  for (const device of devices) {
    const directory = join(base, device);
    let files: string[] = [];
    try {
      files = readdirSync(directory);
    } catch {
      continue;
    }
    const indexes = files.flatMap((file) => {
      const match = /^in_voltage(\d+)_raw$/.exec(file);
      return match ? [Number(match[1])] : [];
    });
    indexes.sort((a, b) => a - b);
    for (const index of indexes) {
      const type = readText(join(directory, 'scan_elements', `in_voltage${index}_type`));
      const bits = Number(/[su](\d+)\//.exec(type ?? '')?.[1] ?? 12);
      channels.push({ id: `${device}/voltage${index}`, deviceName: readText(join(directory, 'name')) ?? device, directory, index, bits });
    }
  }
  return channels;
}

/**
 * An IIO voltage channel as an ECMA-419 `AnalogInput`. `read()` returns counts (raw + offset) and
 * `referenceVoltage` is the full scale `(2^bits − 1) × scale / 1000`, so the usual
 * `counts / (2^bits − 1) × referenceVoltage` gives the kernel's scaled voltage. Scale and offset are
 * read at each conversion: a driver may change them with the range.
 *
 * @example
 * ```ts
 * const input = new IioAnalogInput(listIioChannels()[0]!, 'A0')
 * const volts = (await input.read()) / (2 ** input.resolution - 1) * input.referenceVoltage
 * ```
 */
export class IioAnalogInput implements AnalogInput {
  readonly pin: string;
  readonly resolution: number;
  readonly #channel: IioChannel;
  #open = true;

  constructor(channel: IioChannel, pin: string) {
    this.#channel = channel;
    this.pin = pin;
    this.resolution = channel.bits;
  }

  /** Scale in mV per count (IIO ABI), 1 when the device has none. */
  get scale(): number {
    const { directory, index } = this.#channel;
    return readNumber(join(directory, `in_voltage${index}_scale`), join(directory, 'in_voltage_scale')) ?? 1;
  }

  get offset(): number {
    const { directory, index } = this.#channel;
    return readNumber(join(directory, `in_voltage${index}_offset`), join(directory, 'in_voltage_offset')) ?? 0;
  }

  get referenceVoltage(): number {
    return ((2 ** this.resolution - 1) * this.scale) / 1000;
  }

  /** The voltage in volts: `(raw + offset) × scale / 1000`. */
  async readVolts(): Promise<number> {
    return ((await this.read()) * this.scale) / 1000;
  }

  async read(): Promise<number> {
    if (!this.#open) throw new StateError(`analog input ${this.pin} is closed`);
    const path = join(this.#channel.directory, `in_voltage${this.#channel.index}_raw`);
    const text = readText(path);
    const raw = text === undefined ? Number.NaN : Number(text);
    // A conversion that fails (EIO, EBUSY, a removed device) is a data-path fault: a BusError.
    if (!Number.isFinite(raw)) throw new BusError('ERR_BUS_TIMEOUT', `${this.#channel.id} (${this.pin}): no conversion (${path} ${text === undefined ? 'unreadable' : `holds "${text}"`})`);
    return raw + this.offset;
  }

  close(): void {
    this.#open = false;
  }
}
