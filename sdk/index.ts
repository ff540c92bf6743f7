/**
 * sensorkit: the device runtime. Sub-paths (`sensorkit/core`, `sensorkit/model`, …) export the same
 * pieces one concern at a time.
 *
 * @example
 * ```ts
 * import { defineDevice, Device, VirtualClock } from 'sensorkit'
 * ```
 */
export * from './core/index.js';
export * from './model/index.js';
export * from './drivers/index.js';
export * from './sampling/index.js';
export * from './pipeline/index.js';
export * from './device/index.js';
export * from './runtime/index.js';
