/**
 * The argument shapes of johnny-five's I2C calls, parsed and checked once: `i2cRead(address,
 * count, handler)` or `(address, register, count, handler)`, and `i2cWrite(address, bytes)`,
 * `(address, register)` or `(address, register, bytes)`.
 */
import { ArgumentError } from '../core/errors.js';
import type { I2cReadHandler } from './board.js';
import { expectI2cAddress, expectI2cCount, expectRegister, i2cBytes } from './limits.js';

/** An IO-plugin I2C read request (`i2cRead`, `i2cReadOnce`). */
export interface IoRead {
  readonly address: number;
  /** Register to write before reading; undefined reads from the current pointer. */
  readonly register: number | undefined;
  readonly count: number;
  readonly handler: I2cReadHandler;
}

/**
 * Parses the IO-plugin read arguments; throws `ArgumentError` for a bad address, register, count
 * (1 … `maxBytes`) or a missing handler.
 *
 * @example
 * ```ts
 * parseIoRead(0x76, 0xd0, 1, (bytes) => console.log(bytes), 2045) // { address: 0x76, register: 0xd0, count: 1, … }
 * ```
 */
export function parseIoRead(
  address: number,
  registerOrCount: number,
  countOrHandler: number | I2cReadHandler,
  handler: I2cReadHandler | undefined,
  maxBytes: number,
): IoRead {
  const read =
    typeof countOrHandler === 'function'
      ? { address, register: undefined, count: registerOrCount, handler: countOrHandler }
      : { address, register: registerOrCount, count: countOrHandler, handler };
  if (typeof read.handler !== 'function') throw new ArgumentError('Expected a handler function as the last argument of i2cRead');
  expectI2cAddress(read.address);
  if (read.register !== undefined) expectRegister(read.register);
  expectI2cCount(read.count, maxBytes);
  return read as IoRead;
}

/**
 * The bytes of an IO-plugin write, checked (see `i2cBytes`).
 *
 * @example
 * ```ts
 * ioWriteBytes(0xf4, [0x27], 2045) // Uint8Array [0xf4, 0x27]
 * ```
 */
export function ioWriteBytes(registerOrBytes: number | number[], bytes: number | number[] | undefined, maxBytes: number): Uint8Array {
  let data: number[];
  if (Array.isArray(registerOrBytes)) data = registerOrBytes;
  else if (bytes === undefined) data = [registerOrBytes];
  else data = [registerOrBytes, ...(Array.isArray(bytes) ? bytes : [bytes])];
  return i2cBytes(data, maxBytes);
}
