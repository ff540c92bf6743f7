/** Linux boards: IIO analog inputs, hwmon temperatures, i2c-dev through an injectable transport. */
export * from './hwmon.js';
export * from './i2c-dev.js';
export * from './iio.js';
export * from './linux-board.js';
