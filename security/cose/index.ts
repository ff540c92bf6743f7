/** COSE_Sign1 (RFC 9052) signing and signature checks, and the CBOR writer they use. */
export * from './cbor-write.js';
export * from './sign1.js';
