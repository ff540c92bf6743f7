/**
 * An {@link I2cDevTransport} on our own N-API addon (native/i2c_dev.c): each transfer is one
 * ioctl(I2C_RDWR) on /dev/i2c-N, a write then a read with a repeated start. I2C_RDWR carries the
 * address in every message, so no I2C_SLAVE selection is kept per descriptor and two peripherals on
 * one bus never race. The addon is optional: build it with `node boards/linux/native/build.js`.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  BusError,
  NotSupportedError,
  PinError,
  StateError,
  ValidationError,
  type SensorkitError,
} from '../../sdk/core/errors.js';
import { I2C_DEV_MAX_BYTES, type I2cDevTransfer, type I2cDevTransport } from './i2c-dev.js';

/**
 * The addon's calls (see native/i2c_dev.c). Errors carry `code` (an errno name such as "ENXIO").
 *
 * @example
 * ```ts
 * const { addon } = loadI2cDevAddon()
 * const fd = addon!.open('/dev/i2c-1')
 * addon!.transfer(fd, 0x76, [0xd0], 1) // Buffer [0x60]: BME280 chip id, one I2C_RDWR
 * addon!.close(fd)
 * ```
 */
export interface I2cDevAddon {
  open(path: string): number;
  /** Blocks the calling thread for the transfer. */
  transfer(fd: number, address: number, writeBytes: Uint8Array | readonly number[] | undefined, readLength: number): Buffer;
  /** The same on the libuv thread pool; bad arguments still throw synchronously. */
  transferAsync(fd: number, address: number, writeBytes: Uint8Array | readonly number[] | undefined, readLength: number): Promise<Buffer>;
  close(fd: number): void;
}

/** How to build the addon; shown when it is missing. */
export const I2C_ADDON_BUILD_COMMAND = 'node boards/linux/native/build.js';

/** i2c-dev refuses messages above 8192 bytes (drivers/i2c/i2c-dev.c). */
export const I2C_MAX_MESSAGE_LENGTH = I2C_DEV_MAX_BYTES;

let cached: { addon: I2cDevAddon } | { error: string } | undefined;

/**
 * The built addon, or `undefined` with the reason when it is not built or does not load.
 *
 * @example
 * ```ts
 * const { addon, error } = loadI2cDevAddon()
 * if (addon === undefined) console.warn(error)
 * ```
 */
export function loadI2cDevAddon(): { addon?: I2cDevAddon; error?: string } {
  if (cached === undefined) {
    const path = join('native', 'build', 'Release', 'i2c_dev.node');
    try {
      cached = { addon: createRequire(import.meta.url)(`./${path}`) as I2cDevAddon };
    } catch (error) {
      cached = { error: `${path} does not load (${(error as Error).message.split('\n')[0] ?? 'unknown'})` };
    }
  }
  return cached;
}

const errnoOf = (error: unknown): string => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
};

/**
 * The typed error for a failed i2c-dev call (errno meanings: Linux Documentation/i2c/fault-codes.rst).
 * The addon's error stays as `cause`.
 *
 * @example
 * ```ts
 * i2cDevError(Object.assign(Error('…'), { code: 'ENXIO' }), '/dev/i2c-1', 0x76).code // 'ERR_I2C_NAK'
 * ```
 */
export function i2cDevError(error: unknown, node: string, address?: number): SensorkitError {
  const errno = errnoOf(error);
  const target = address === undefined ? node : `${node} 0x${address.toString(16).padStart(2, '0')}`;
  const why = (error as Error | null)?.message ?? String(error);
  let typed: SensorkitError;
  switch (errno) {
    case 'ENXIO': // no ACK in the address phase
    case 'EREMOTEIO': // no ACK on a data byte
      typed = new BusError('ERR_I2C_NAK', `${target}: no acknowledge from the peripheral (${errno})`);
      break;
    case 'EIO': // the catch-all many adapters (SMBus-only, bcm2835 on some kernels) use for a NAK
      typed = new BusError('ERR_I2C_NAK', `${target}: transfer failed (EIO: usually no acknowledge, or a bus fault)`);
      break;
    case 'ETIMEDOUT': // SCL held low (clock stretching) past the adapter's timeout
    case 'EAGAIN': // arbitration lost to another master
    case 'EBUSY':
    case 'EPROTO':
      typed = new BusError('ERR_BUS_TIMEOUT', `${target}: bus did not complete the transfer (${errno})`);
      break;
    case 'ENOTTY':
      typed = new NotSupportedError(`${target}: not an i2c-dev adapter (ENOTTY: ioctl I2C_RDWR refused; expected a /dev/i2c-N node)`);
      break;
    case 'EOPNOTSUPP':
    case 'EINVAL':
      typed = new NotSupportedError(`${target}: the adapter refuses plain I2C transfers (${errno}; SMBus-only adapter?)`);
      break;
    case 'ENOENT':
    case 'ENODEV':
      typed = new PinError(`${node}: no such I2C adapter (${errno}): enable the bus (e.g. dtparam=i2c_arm=on) and load the i2c-dev module`);
      break;
    case 'EACCES':
    case 'EPERM':
      typed = new PinError(`${node}: permission denied (${errno}): add the user to the "i2c" group or adjust the udev rule`);
      break;
    case 'EBADF':
      typed = new StateError(`${node}: the descriptor is closed (EBADF)`);
      break;
    case 'ERR_OUT_OF_RANGE':
    case 'ERR_INVALID_ARG_TYPE':
      typed = new ValidationError('transfer', why);
      break;
    default:
      typed = new BusError('ERR_BUS_TIMEOUT', `${target}: transfer failed (${errno || why})`);
  }
  typed.cause = error;
  return typed;
}

/** Options of {@link NativeI2cDevTransport}. */
export interface NativeI2cDevTransportOptions {
  /** Folder of the device nodes; default "/dev" (LinuxBoard passes `<root>/dev`). */
  devDir?: string;
  /** The addon; default: the one built under native/build; `null`: none (as if it were not built). */
  addon?: I2cDevAddon | null;
}

/**
 * i2c-dev through the addon. Opens /dev/i2c-N on first use and keeps it open until `close()`.
 * Arguments are checked here (address 0x03 … 0x77, lengths up to 8192) before any ioctl.
 *
 * @example
 * ```ts
 * const board = new LinuxBoard({ definition: 'raspberry-pi-4', clock: new SystemClock(), i2c: new NativeI2cDevTransport() })
 * await board.openI2c({ bus: 'i2c1', address: 0x76 }).readRegister(0xd0, 1) // BME280 chip id [0x60]
 * ```
 */
export class NativeI2cDevTransport implements I2cDevTransport {
  readonly devDir: string;
  readonly #addon: I2cDevAddon | undefined;
  readonly #missing: string;
  readonly #fds = new Map<number, number>();
  readonly #inFlight = new Set<Promise<Buffer>>();
  #closed = false;

  constructor(options: NativeI2cDevTransportOptions = {}) {
    this.devDir = options.devDir ?? '/dev';
    const loaded = options.addon === undefined ? loadI2cDevAddon() : options.addon === null ? { error: 'none given' } : { addon: options.addon };
    this.#addon = loaded.addon;
    this.#missing = loaded.error ?? '';
  }

  /** Whether the addon is loaded (else every transfer rejects with `NotSupportedError`). */
  get available(): boolean {
    return this.#addon !== undefined;
  }

  /** The device node of a bus number: `<devDir>/i2c-<n>`. */
  nodePath(busNumber: number): string {
    return join(this.devDir, `i2c-${busNumber}`);
  }

  /** One transfer on the libuv thread pool (the event loop keeps running while the bus works). */
  async transfer(busNumber: number, address: number, transfer: I2cDevTransfer): Promise<Uint8Array> {
    const { addon, fd, node, write, readCount } = this.#prepare(busNumber, address, transfer);
    const pending = addon.transferAsync(fd, address, write, readCount);
    this.#inFlight.add(pending);
    try {
      return new Uint8Array(await pending);
    } catch (error) {
      throw i2cDevError(error, node, address);
    } finally {
      this.#inFlight.delete(pending);
    }
  }

  /** {@link transfer} on the calling thread, without a promise; throws the same typed errors. */
  transferSync(busNumber: number, address: number, transfer: I2cDevTransfer): Uint8Array {
    const { addon, fd, node, write, readCount } = this.#prepare(busNumber, address, transfer);
    try {
      return new Uint8Array(addon.transfer(fd, address, write, readCount));
    } catch (error) {
      throw i2cDevError(error, node, address);
    }
  }

  /** Checks the arguments (before any ioctl) and opens the bus node once. */
  #prepare(busNumber: number, address: number, transfer: I2cDevTransfer): { addon: I2cDevAddon; fd: number; node: string; write: Uint8Array; readCount: number } {
    if (this.#closed) throw new StateError('the i2c-dev transport is closed');
    if (!Number.isInteger(busNumber) || busNumber < 0) throw new ValidationError('bus', `expected a bus number from 0, got ${String(busNumber)}`);
    if (!Number.isInteger(address) || address < 0x03 || address > 0x77) {
      throw new ValidationError('address', `expected a 7-bit address from 0x03 to 0x77, got ${String(address)}`);
    }
    const write = transfer.write ?? new Uint8Array(0);
    const readCount = transfer.readCount ?? 0;
    if (!(write instanceof Uint8Array)) throw new ValidationError('write', 'expected a Uint8Array');
    if (write.length > I2C_MAX_MESSAGE_LENGTH) throw new ValidationError('write', `expected at most ${I2C_MAX_MESSAGE_LENGTH} bytes, got ${write.length}`);
    if (!Number.isInteger(readCount) || readCount < 0 || readCount > I2C_MAX_MESSAGE_LENGTH) {
      throw new ValidationError('readCount', `expected an integer from 0 to ${I2C_MAX_MESSAGE_LENGTH}, got ${String(readCount)}`);
    }
    if (write.length === 0 && readCount === 0) throw new ValidationError('transfer', 'nothing to transfer: no bytes to write and none to read');
    const node = this.nodePath(busNumber);
    const addon = this.#addon;
    if (addon === undefined) {
      throw new NotSupportedError(
        `I2C on ${node} needs ioctl(I2C_RDWR), which Node.js cannot call without a native addon, and sensorkit's i2c-dev addon is not built (${this.#missing}): build it with \`${I2C_ADDON_BUILD_COMMAND}\` (needs python3, make and a C compiler), or pass LinuxBoard an \`i2c\` transport`,
      );
    }
    let fd = this.#fds.get(busNumber);
    if (fd === undefined) {
      try {
        fd = addon.open(node);
      } catch (error) {
        throw i2cDevError(error, node);
      }
      this.#fds.set(busNumber, fd);
    }
    return { addon, fd, node, write, readCount };
  }

  /**
   * Refuses new transfers, waits for those in flight (a descriptor closed under a running ioctl could
   * be reused by another open), then closes every open /dev/i2c-N.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    const addon = this.#addon;
    for (const fd of this.#fds.values()) addon?.close(fd);
    this.#fds.clear();
  }
}
