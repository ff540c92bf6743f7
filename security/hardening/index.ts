/** The hardening audit: the rule catalogue, its checks, SARIF 2.1.0 output and the evidence document. */
export * from './types.js';
export * from './catalogue.js';
export * from './audit.js';
export { basicPasswordProblem, DEFAULT_PASSWORDS, TIME_SYNC_MARKERS } from './checks.js';
export { readCertificates, signatureAlgorithmOid, WEAK_SIGNATURE_OIDS, type CertificateFacts } from './certificates.js';
export { NODE_AUDIT_FS, DEFAULT_OPCUA_PKI, DEFAULT_OPCUA_USERS, isLoopback, isWildcard } from './context.js';
export * from './sarif.js';
export * from './evidence.js';
