/** Linux boards: IIO analog inputs, hwmon temperatures, i2c-dev through our addon or an injected transport. */
export * from './hwmon.js';
export * from './i2c-dev.js';
export * from './i2c-dev-native.js';
export * from './iio.js';
export * from './linux-board.js';
