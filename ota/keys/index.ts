/** Signing keys, trust anchors with key ids and revocation, and key rotation by signed manifest. */
export * from './key-update.js';
export * from './keys.js';
export * from './trust-anchors.js';
