/** Simulated devices that rehearse a rollout against an update server. */
export * from './fleet-simulator.js';
export * from './simulated-device.js';
export * from './payload-check.js';
