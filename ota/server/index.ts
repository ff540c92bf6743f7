/**
 * The update server: the fleet's state in SQL (PGlite or PostgreSQL), artefacts in a folder or an
 * S3 bucket, the rollout policy and its scheduler, the device and management APIs (administrator
 * tokens, device certificates, rate limits), and the file listener with Range/ETag.
 */
export * from './admin-api.js';
export * from './admin-tokens.js';
export * from './api-auth.js';
export * from './artefacts/index.js';
export * from './db/sql.js';
export * from './db/errors.js';
export * from './device-api.js';
export * from './file-server.js';
export * from './fleet-store.js';
export * from './rate-limit.js';
export * from './rollout/policy.js';
export * from './scheduler.js';
