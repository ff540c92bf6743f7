/** sensorkit device runtime. */
export * from './device.js';
export * from './load.js';
