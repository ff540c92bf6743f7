/** sensorkit security services: the tamper-evident audit log. */
export * from './audit-log.js';
