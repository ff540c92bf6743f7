/**
 * The rules of the board contract, written once for every board. Each limit says where it comes
 * from; a board narrows only what its transport really limits (`i2cMaxBytes`).
 */
import { ArgumentError } from '../core/errors.js';
import { hex, numberProblem, show } from './checks.js';

/**
 * The reporting interval, ms. Firmata's SAMPLING_INTERVAL message carries it in two 7-bit bytes
 * (Firmata protocol, "Sampling Interval"), so 16383 is the most any board can be told; 1 ms is
 * StandardFirmata 2.5's MINIMUM_SAMPLING_INTERVAL. 19 ms is StandardFirmata's default.
 */
export const SAMPLING_INTERVAL_MS = Object.freeze({ min: 1, max: 16_383, default: 19 } as const);

/**
 * 7-bit I2C addresses a peripheral may use: 0x00–0x07 and 0x78–0x7F are reserved (general call,
 * CBUS, 10-bit addressing; NXP UM10204 §3.1.12, table 4).
 */
export const I2C_ADDRESS = Object.freeze({ min: 0x08, max: 0x77 } as const);

/**
 * Firmata's I2C_CONFIG carries the read delay (µs) in two 7-bit bytes (Firmata I2C protocol), so
 * 16383 µs is the longest delay a board can be given.
 */
export const I2C_DELAY_US = Object.freeze({ min: 0, max: 16_383 } as const);

/** Servo positions: below 544 degrees (0 … 180), from 544 a pulse width in µs up to 2400 (Arduino Servo.h MIN/MAX_PULSE_WIDTH), as StandardFirmata reads them. */
export const SERVO = Object.freeze({ maxDegrees: 180, minPulseUs: 544, maxPulseUs: 2400 } as const);

/**
 * A sampling interval as the board keeps it: rounded to whole ms and clamped to
 * {@link SAMPLING_INTERVAL_MS} (clamped, not refused, as firmata.js does, because johnny-five passes
 * a component's `freq` through unchecked); `ArgumentError` for a value that is not a finite number.
 *
 * @example
 * ```ts
 * samplingIntervalMs(0.4)    // 1
 * samplingIntervalMs(50_000) // 16383
 * ```
 */
export function samplingIntervalMs(ms: unknown): number {
  const problem = numberProblem('ms', ms);
  if (problem !== undefined) throw new ArgumentError(`samplingInterval: ${problem}`);
  return Math.min(SAMPLING_INTERVAL_MS.max, Math.max(SAMPLING_INTERVAL_MS.min, Math.round(ms as number)));
}

/**
 * Checks a 7-bit peripheral address ({@link I2C_ADDRESS}); throws `ArgumentError`.
 *
 * @example
 * ```ts
 * expectI2cAddress(0x76) // 0x76
 * expectI2cAddress(0x78) // throws: Expected `address` to be an integer from 8 to 119 (0x08 … 0x77), got 120 (0x78)
 * ```
 */
export function expectI2cAddress(address: unknown, name = 'address'): number {
  const problem = numberProblem(name, address, { integer: true, ...I2C_ADDRESS });
  if (problem === undefined) return address as number;
  const shown = typeof address === 'number' && Number.isInteger(address) && address >= 0 ? ` (${hex(address)})` : '';
  throw new ArgumentError(problem.replace(/, got /, ` (${hex(I2C_ADDRESS.min)} … ${hex(I2C_ADDRESS.max)}), got `) + shown);
}

/**
 * Checks the byte count of one I2C read against the board's transport limit; throws `ArgumentError`.
 *
 * @example
 * ```ts
 * expectI2cCount(6, 2045) // 6
 * ```
 */
export function expectI2cCount(count: unknown, maxBytes: number, name = 'count'): number {
  const problem = numberProblem(name, count, { integer: true, min: 1, max: maxBytes });
  if (problem !== undefined) throw new ArgumentError(`${problem} (the most this board's I2C transfers carry is ${maxBytes})`);
  return count as number;
}

/**
 * Checks a register address (one byte); throws `ArgumentError`.
 *
 * @example
 * ```ts
 * expectRegister(0xd0) // 0xd0
 * ```
 */
export function expectRegister(register: unknown): number {
  const problem = numberProblem('register', register, { integer: true, min: 0, max: 0xff });
  if (problem !== undefined) throw new ArgumentError(problem);
  return register as number;
}

/**
 * Bytes to write, checked: each an integer 0 … 255 (`Uint8Array.from` would wrap 256 to 0), at
 * most `maxBytes` of them; throws `ArgumentError` naming the first bad one.
 *
 * @example
 * ```ts
 * i2cBytes([0xf4, 0x27], 2045) // Uint8Array [0xf4, 0x27]
 * ```
 */
export function i2cBytes(values: ArrayLike<number>, maxBytes: number, name = 'bytes'): Uint8Array {
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
    throw new ArgumentError(`Expected \`${name}\` to be an array of bytes, got ${show(values)}`);
  }
  if (values.length > maxBytes) throw new ArgumentError(`Expected \`${name}\` to hold at most ${maxBytes} bytes (the most this board's I2C transfers carry), got ${values.length}`);
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const byte = values[i];
    const problem = numberProblem(`${name}[${i}]`, byte, { integer: true, min: 0, max: 0xff });
    if (problem !== undefined) throw new ArgumentError(problem);
    out[i] = byte as number;
  }
  return out;
}
