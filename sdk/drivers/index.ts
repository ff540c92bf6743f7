/**
 * sensorkit drivers: the ECMA-419-style driver contract, the registry of parts, and the built-in
 * drivers (analog voltage, thermistor, 4–20 mA, BME280, ADS1115, MPU-6050), and `Exclusive`, which
 * serialises a driver's bus transactions.
 *
 * @example
 * ```ts
 * import { driverDefinition } from 'sensorkit/drivers'
 * const bme280 = driverDefinition('bme280')!
 * const driver = bme280.create({ clock, i2c: board.openI2c({ address: 0x76 }) }, {})
 * const reading = await driver.sample() // { time, values: { temperature, humidity, pressure }, provenance }
 * ```
 */
export type * from './contract.js';
export { driverDefinition, registerDriver, registeredParts } from './registry.js';
export { BUILTIN_DRIVERS } from './builtin.js';
export { Exclusive } from './exclusive.js';
