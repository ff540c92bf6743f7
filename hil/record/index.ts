/** Run records: the format, signing and verification, JUnit. */
export * from './record.js';
