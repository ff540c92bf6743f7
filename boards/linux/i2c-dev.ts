/**
 * I2C through Linux i2c-dev (`/dev/i2c-N`, Documentation/i2c/dev-interface.rst). Selecting the
 * peripheral (ioctl I2C_SLAVE) or a combined write-read (ioctl I2C_RDWR, a repeated start) needs
 * ioctl(), which Node.js cannot call without a native addon. So the bus goes through an injectable
 * {@link I2cDevTransport}. LinuxBoard's default is `NativeI2cDevTransport` (i2c-dev-native.ts, on
 * our addon in native/); give it a test double, or another addon, instead. Without the addon built,
 * every transfer fails with `NotSupportedError` saying how to build it.
 */
import type { I2cTransfer } from '../../sdk/io/i2c-device.js';
import { NotSupportedError, ValidationError } from '../../sdk/core/errors.js';

/** One combined transfer: write `write` (if any), then read `readCount` bytes (if any), one I2C_RDWR. */
export type I2cDevTransfer = I2cTransfer;

/** i2c-dev refuses messages above 8192 bytes (drivers/i2c/i2c-dev.c, I2C_RDWR). */
export const I2C_DEV_MAX_BYTES = 8192;

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
