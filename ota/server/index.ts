/** The update server: files with Range/ETag, campaigns in SQLite, and their HTTP API. */
export * from './campaign-api.js';
export * from './campaign-store.js';
export * from './file-server.js';
