/** SUIT manifests: strict CBOR, COSE_Sign1, envelope signing and verification, device policy. */
export * from './cbor.js';
export * from './cose.js';
export * from './policy.js';
export * from './suit-envelope.js';
export * from './suit-manifest.js';
export * from './uuid.js';
