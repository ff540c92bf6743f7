/** The device-side update agent: download, A/B image slots, trial boot, confirm or revert. */
export * from './anti-rollback.js';
export * from './boot-state.js';
export * from './file-system.js';
export * from './http-download.js';
export * from './image-slots.js';
export * from './update-agent.js';
export * from './health-probes.js';
export * from './trust-file.js';
export * from './chunked-download.js';
export * from './mqtt-chunks.js';
export * from './campaign-client.js';
export * from './fetch-payload.js';
