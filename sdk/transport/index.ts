/** Transports: MQTT (with the durable outbox) and the registry by URL scheme. */
export * from './mqtt/index.js';
// The outbox's own OutboxEntry is the same shape as the transport's structural one.
export { DurableOutbox, type FsyncPolicy, type OutboxOptions, type OutboxStats } from './outbox/index.js';
export * from './registry.js';
export type * from './transport.js';
// The OPC UA server is its own entry point, `sensorkit/transport/opcua` (sdk/transport/opcua):
// importing this module must not load node-opcua.
