/**
 * The OPC UA server transport (`sensorkit/transport/opcua`): a device as an OPC UA server derived
 * from its model (OPC UA for Devices, AnalogItemType channels, methods, limit alarms), secure by
 * default. A separate entry point: node-opcua loads only for those who use it.
 */
export * from './access.js';
export * from './channel-items.js';
export * from './commands.js';
export * from './device-object.js';
export * from './dev-host.js';
export * from './information-model.js';
export * from './limit-alarms.js';
export * from './login-throttle.js';
export * from './nodeset.js';
export * from './opcua-status.js';
export * from './opcua-units.js';
export * from './opcua-server.js';
export * from './password-checks.js';
export * from './options.js';
export * from './pki.js';
export * from './settings.js';
export * from './users.js';
export * from './value-types.js';
export * from './weak-passwords.js';
export * from './node-opcua-logs.js';
