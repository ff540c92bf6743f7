/**
 * Contracts between the emulated board and what is attached to it: signals (the physical world)
 * and register-level I2C peripheral models.
 */

/**
 * A physical quantity as a function of clock time. `valueAt` is called with non-decreasing times;
 * stateful signals (lag, noise, hysteresis) rely on that, and draw randomness only from the seeded
 * generator they were built with, so the same seed and clock give the same values.
 */
export interface Signal {
  valueAt(timeMs: number): number;
}

/**
 * A register-level I2C peripheral model (a BME280, an ADS1115 …) on the emulated bus.
 * The board calls these with the clock time of the transfer. Throwing a `BusError` models a NAK.
 */
export interface I2cPeripheral {
  /** 7-bit address the peripheral answers on. */
  readonly address: number;
  /** Human name for errors and provenance, e.g. "BME280". */
  readonly name: string;
  /** Master write: `bytes[0]` is usually the register pointer, the rest data. */
  write(bytes: Uint8Array, timeMs: number): void;
  /** Master read of `count` bytes from the current register pointer. */
  read(count: number, timeMs: number): Uint8Array;
}
