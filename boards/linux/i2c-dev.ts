/**
 * I2C through Linux i2c-dev (`/dev/i2c-N`, Documentation/i2c/dev-interface.rst). Selecting the
 * peripheral (ioctl I2C_SLAVE) or a combined write-read (ioctl I2C_RDWR, a repeated start) needs
 * ioctl(), which Node.js cannot call without a native addon. So the bus goes through an injectable
 * {@link I2cDevTransport}. LinuxBoard's default is `NativeI2cDevTransport` (i2c-dev-native.ts, on
 * our addon in native/); give it a test double, or another addon, instead. Without the addon built,
 * every transfer fails with `NotSupportedError` saying how to build it.
 */
import { i2cTarget, type I2cDevice } from '../../sdk/io/board.js';
import { NotSupportedError, StateError, ValidationError } from '../../sdk/core/errors.js';

/** One combined transfer: write `write` (if any), then read `readCount` bytes (if any), one message. */
export interface I2cDevTransfer {
  readonly write?: Uint8Array;
  readonly readCount?: number;
}

/**
 * What the Linux board needs from an i2c-dev implementation. `transfer` performs an I2C_RDWR
 * (write then read with a repeated start); it rejects with `BusError` (ERR_I2C_NAK on ENXIO/EREMOTEIO,
 * ERR_BUS_TIMEOUT on ETIMEDOUT).
 *
 * @example
 * ```ts
 * // with the i2c-bus addon: const bus = i2c.openSync(1)
 * const transport: I2cDevTransport = {
 *   async transfer(busNumber, address, { write, readCount }) { … bus.i2cWriteSync / bus.i2cReadSync … },
 * }
 * new LinuxBoard({ definition: 'raspberry-pi-4', clock, i2c: transport })
 * ```
 */
export interface I2cDevTransport {
  transfer(busNumber: number, address: number, transfer: I2cDevTransfer): Promise<Uint8Array>;
  close?(): void | Promise<void>;
}

/** A transport that refuses every transfer: explains why, names the device node. */
export const NO_I2C_TRANSPORT: I2cDevTransport = {
  transfer(busNumber) {
    return Promise.reject(
      new NotSupportedError(
        `I2C on /dev/i2c-${busNumber} needs ioctl(I2C_SLAVE/I2C_RDWR), which Node.js cannot call without a native addon: build sensorkit's with \`node boards/linux/native/build.js\`, or pass LinuxBoard an \`i2c\` transport`,
      ),
    );
  },
};

/**
 * The bus number of a bus name: "i2c1" → 1, "i2c-1" → 1 (so /dev/i2c-1).
 *
 * @example
 * ```ts
 * i2cBusNumber('i2c1') // 1
 * ```
 */
export function i2cBusNumber(name: string): number {
  const match = /^i2c-?(\d+)$/.exec(name);
  if (match === null) throw new ValidationError('bus', `expected an I2C bus name like "i2c1", got ${JSON.stringify(name)}`);
  return Number(match[1]);
}

/** The values as bytes; `ValidationError` for one outside 0 … 255 (Uint8Array.from would wrap 256 to 0). */
function byteArray(values: ArrayLike<number>, what: string): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (!Number.isInteger(value) || value < 0 || value > 255) throw new ValidationError(`${what}[${i}]`, `expected a byte (0 … 255), got ${String(value)}`);
    out[i] = value;
  }
  return out;
}

/**
 * An I2C peripheral on /dev/i2c-N through a transport.
 *
 * @example
 * ```ts
 * const bme = board.openI2c({ bus: 'i2c1', address: 0x76 })
 * await bme.readRegister(0xd0, 1) // one I2C_RDWR: write 0xD0, repeated start, read 1
 * ```
 */
export class LinuxI2cDevice implements I2cDevice {
  readonly bus: string;
  readonly address: number;
  readonly hz: number;
  readonly #transport: I2cDevTransport;
  readonly #busNumber: number;
  #open = true;

  constructor(transport: I2cDevTransport, bus: string, address: number, hz: number) {
    this.#transport = transport;
    this.bus = bus;
    this.#busNumber = i2cBusNumber(bus);
    this.address = address;
    this.hz = hz;
  }

  read(count: number): Promise<Uint8Array> {
    return this.#transfer({ readCount: count });
  }

  async write(bytes: ArrayLike<number>): Promise<void> {
    await this.#transfer({ write: byteArray(bytes, 'bytes') });
  }

  async readRegister(register: number, count: number): Promise<Uint8Array> {
    return this.#transfer({ write: byteArray([register], 'register'), readCount: count });
  }

  async writeRegister(register: number, bytes: ArrayLike<number>): Promise<void> {
    await this.#transfer({ write: Uint8Array.from([...byteArray([register], 'register'), ...byteArray(bytes, 'bytes')]) });
  }

  close(): void {
    this.#open = false;
  }

  async #transfer(transfer: I2cDevTransfer): Promise<Uint8Array> {
    if (!this.#open) throw new StateError(`${i2cTarget(this.bus, this.address)} is closed`);
    if (transfer.readCount !== undefined && (!Number.isInteger(transfer.readCount) || transfer.readCount < 1 || transfer.readCount > 8192)) {
      throw new ValidationError('count', `expected an integer from 1 to 8192, got ${String(transfer.readCount)}`);
    }
    return this.#transport.transfer(this.#busNumber, this.address, transfer);
  }
}
