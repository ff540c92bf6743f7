/** The MQTT transport: telemetry, status, description and commands of a device over MQTT 5 / 3.1.1. */
export * from './backoff.js';
export * from './command-payload.js';
export * from './command-server.js';
export * from './credentials.js';
export * from './device-topics.js';
export type * from './contracts.js';
export * from './embedded-broker.js';
export * from './mqtt-transport.js';
export * from './options.js';
export * from './outbox-drain.js';
export * from './payloads.js';
export * from './request-guard.js';
export * from './signed-request.js';
export * from './telemetry-batcher.js';
export * from './token-bucket.js';
