/** SUIT manifests: strict CBOR, COSE_Sign1, envelope signing and verification, inspection, device policy. */
export * from './cbor.js';
export * from './cose.js';
export * from './policy.js';
export * from './suit-commands.js';
export * from './suit-envelope.js';
export * from './suit-inspect.js';
export * from './suit-manifest.js';
export * from './suit-text.js';
export * from './uuid.js';
