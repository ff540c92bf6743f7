/** sensorkit security services: the tamper-evident audit log, its events, the device identity, operators and the hardening audit. */
export * from './audit-log.js';
export * from './audit/event.js';
export * from './identity/index.js';
export * from './operators/index.js';
export * from './hardening/index.js';
