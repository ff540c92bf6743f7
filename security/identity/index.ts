/** The device identity: key pair, X.509 certificate, CSR, key at rest, signing. */
export * from './identity.js';
export * from './key-file.js';
export { selfSignedCertificate, certificationRequest, keyTypeOf, subjectKeyIdentifier, RSA_IDENTITY_BITS, RSA_MIN_BITS, type IdentityKeyType, type IdentitySubject, type AltNames, type SelfSignedOptions } from './x509.js';
export { pem, pemBlock } from './der.js';
export * from './opcua-certificate.js';
