/** The update server: files with Range/ETag, campaigns in SQLite, and their HTTP API with administrator tokens, device certificates and rate limits. */
export * from './admin-tokens.js';
export * from './api-auth.js';
export * from './campaign-api.js';
export * from './campaign-store.js';
export * from './file-server.js';
export * from './rate-limit.js';
