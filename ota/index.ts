/**
 * sensorkit OTA: SUIT manifests signed with COSE_Sign1, keys and trust anchors, the device update
 * agent (A/B images, trial boot, confirm or rollback) and the update server with campaigns.
 */
export * from './errors.js';
export * from './device-protocol.js';
export * from './manifest/index.js';
export * from './keys/index.js';
export * from './agent/index.js';
export * from './server/index.js';
// The fleet simulator (its payload check is internal: `checkPayload` is the manifest's).
export * from './fleet/fleet-simulator.js';
export * from './fleet/simulated-device.js';
