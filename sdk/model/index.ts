/** sensorkit device model: `defineDevice()`, units, samples. */
export * from './define-device.js';
export * from './roles.js';
export type { Provenance, Quality, QualityLevel, QualityReason, Sample } from '../core/sample.js';
export { GOOD } from '../core/sample.js';
export type * from './spec.js';
export * from '../core/units.js';
export type { ResolvedBinding } from './validate-channel.js';
