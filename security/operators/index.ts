/** Operators: keys, the trust store with roles, signed requests and the authorizer that checks them. */
export * from './authorizer.js';
export * from './nonce-cache.js';
export * from './operator-keys.js';
export * from './roles.js';
export * from './signed-request.js';
export * from './trust-store.js';
export * from '../cose/index.js';
