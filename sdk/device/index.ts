/** sensorkit device runtime. */
export * from './device.js';
