/** sensorkit device model: `defineDevice()`, units, samples. */
export * from './define-device.js';
export * from './sample.js';
export type * from './spec.js';
export * from './units.js';
export type { ResolvedBinding } from './validate-channel.js';
