/**
 * The one I2C device of every board: an ECMA-419-style `I2cDevice` over a board's single I2C
 * primitive, a combined transfer (write, then read after a repeated start). Address, byte and
 * length checks live here once; a board only moves bytes.
 */
import { StateError } from '../core/errors.js';
import { i2cTarget, type I2cDevice } from './board.js';
import { expectI2cAddress, expectI2cCount, expectRegister, i2cBytes } from './limits.js';

/** One I2C transfer: write `write` (if any), then read `readCount` bytes (if any), with a repeated start between. */
export interface I2cTransfer {
  readonly write?: Uint8Array;
  readonly readCount?: number;
}

/** Options of {@link I2cTransferDevice}. */
export interface I2cTransferDeviceOptions {
  /** Bus name, e.g. "i2c1". */
  readonly bus: string;
  /** 7-bit address, 0x08 … 0x77. */
  readonly address: number;
  /** Bus clock, Hz. */
  readonly hz: number;
  /** The most bytes one transfer carries each way on this board. */
  readonly maxBytes: number;
  /** The board's transfer; resolves with the bytes read (empty for a pure write). */
  readonly transfer: (transfer: I2cTransfer) => Promise<Uint8Array>;
}

/**
 * An I2C peripheral at one address, on any board. Every call checks its arguments and rejects with
 * `ArgumentError` before anything reaches the bus; after `close()` calls reject with `StateError`.
 *
 * @example
 * ```ts
 * const bme = new I2cTransferDevice({ bus: 'i2c1', address: 0x76, hz: 100_000, maxBytes: 8192, transfer: (t) => myBus.transfer(0x76, t) })
 * const [chipId] = await bme.readRegister(0xd0, 1) // 0x60
 * ```
 */
export class I2cTransferDevice implements I2cDevice {
  readonly bus: string;
  readonly address: number;
  readonly hz: number;
  readonly #maxBytes: number;
  readonly #transfer: (transfer: I2cTransfer) => Promise<Uint8Array>;
  #open = true;

  constructor(options: I2cTransferDeviceOptions) {
    this.bus = options.bus;
    this.address = expectI2cAddress(options.address);
    this.hz = options.hz;
    this.#maxBytes = options.maxBytes;
    this.#transfer = options.transfer;
  }

  async read(count: number): Promise<Uint8Array> {
    return this.#run({ readCount: expectI2cCount(count, this.#maxBytes) });
  }

  async write(bytes: ArrayLike<number>): Promise<void> {
    await this.#run({ write: i2cBytes(bytes, this.#maxBytes) });
  }

  async readRegister(register: number, count: number): Promise<Uint8Array> {
    return this.#run({ write: Uint8Array.of(expectRegister(register)), readCount: expectI2cCount(count, this.#maxBytes) });
  }

  async writeRegister(register: number, bytes: ArrayLike<number>): Promise<void> {
    const first = expectRegister(register);
    const data = i2cBytes(bytes, this.#maxBytes - 1);
    const write = new Uint8Array(data.length + 1);
    write[0] = first;
    write.set(data, 1);
    await this.#run({ write });
  }

  close(): void {
    this.#open = false;
  }

  async #run(transfer: I2cTransfer): Promise<Uint8Array> {
    if (!this.#open) throw new StateError(`I2C device ${i2cTarget(this.bus, this.address)} is closed`);
    return this.#transfer(transfer);
  }
}
