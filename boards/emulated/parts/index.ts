/**
 * Register-level part models for the emulated board's I2C buses, and the 4–20 mA loop.
 *
 * @example
 * ```ts
 * import { Bme280Peripheral, currentLoopTransmitter, Ads1115Peripheral } from './parts/index.js'
 * board.attachI2c(new Bme280Peripheral({ temperature, humidity, pressure }))
 * ```
 */
export * from './ads1115.js';
export * from './bme280.js';
export * from './current-loop.js';
export * from './mpu6050.js';
