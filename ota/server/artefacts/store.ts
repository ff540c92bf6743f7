/**
 * The contract of an artefact store (envelopes and payloads of update campaigns), its typed error,
 * and the rule every key follows: a relative path of `/`-separated segments, confined to the store.
 * One rule for both stores and for the update server's device listener, so a key a store accepts
 * is one devices can download.
 */
import { ArgumentError, StorageError, ValidationError } from '../../../sdk/core/errors.js';
import { MAX_PRESIGN_EXPIRES_S } from './sigv4.js';

/**
 * Where envelopes and payloads live: a folder on the update server, or an S3-compatible bucket.
 *
 * @example
 * ```ts
 * const store = openArtefactStore('s3://firmware/releases', process.env)
 * await store.check()
 * const { size, sha256 } = await store.put('fw-2.bin', '/builds/fw-2.bin')
 * const url = await store.presignGet('fw-2.bin', 900) // undefined for a folder: the server serves it
 * ```
 */
export interface ArtefactStore {
  readonly kind: 'folder' | 's3';
  /** Checks the store is usable (it exists, and it may be written and read): an {@link ArtefactStoreError} with one line otherwise. */
  check(): Promise<void>;
  /** Stores bytes, or the file at a path (streamed, never read whole). Resolves the size and the SHA-256 (hex) stored. */
  put(key: string, content: Uint8Array | string): Promise<{ size: number; sha256: string }>;
  /** The object's size, or undefined when there is none under `key`. */
  head(key: string): Promise<{ size: number } | undefined>;
  /**
   * A URL a device GETs (with Range) for `ttlS` seconds (1 to 604,800): a presigned Signature
   * Version 4 URL for S3; undefined for a folder (the update server serves the file itself).
   */
  presignGet(key: string, ttlS: number): Promise<string | undefined>;
  /** Reads a whole object (envelopes and other small objects; an S3 store refuses objects above its limit). */
  get(key: string): Promise<Uint8Array>;
}

/**
 * Why an artefact store operation failed. A closed set.
 *
 * @example
 * ```ts
 * const retryable = (reason: ArtefactStoreReason) => reason === 'unreachable' || reason === 'server-error'
 * ```
 */
export type ArtefactStoreReason =
  /** No access key id or secret in the environment. */
  | 'missing-credentials'
  /** The bucket does not exist at the endpoint (S3 `NoSuchBucket`). */
  | 'no-such-bucket'
  /** The credentials were refused (S3 `AccessDenied`, `SignatureDoesNotMatch`, `InvalidAccessKeyId`, an expired URL). */
  | 'access-denied'
  /** No object under the key. */
  | 'not-found'
  /** The endpoint did not answer: refused, unknown host, or silent past the time limit. */
  | 'unreachable'
  /** The object is above what this operation takes (a single PUT, or a whole-object read). */
  | 'too-large'
  /** The endpoint refused the request for another reason (the S3 error code is in the message). */
  | 'rejected'
  /** The endpoint failed (HTTP 5xx). */
  | 'server-error'
  /** A local file could not be read or written. */
  | 'io';

/**
 * An artefact store operation failed. A `StorageError` (code `ERR_STORAGE`) whose `path` names
 * the object (`s3://bucket/prefix/key` or the file) and whose `reason` says why, from a closed set.
 *
 * @example
 * ```ts
 * try { await store.check() } catch (e) {
 *   if (e instanceof ArtefactStoreError && e.reason === 'access-denied') console.error(e.message)
 *   // "s3://firmware/releases/: access denied (SignatureDoesNotMatch): the secret key does not match the access key id; check AWS_SECRET_ACCESS_KEY"
 * }
 * ```
 */
export class ArtefactStoreError extends StorageError {
  readonly reason: ArtefactStoreReason;
  /** The text after the path. */
  readonly detail: string;

  constructor(reason: ArtefactStoreReason, path: string, detail: string, options?: { cause?: unknown }) {
    super(path, oneLine(detail), options);
    this.reason = reason;
    this.detail = oneLine(detail);
  }
}

/** Longest key, in UTF-8 bytes (the S3 object key limit). */
export const MAX_ARTEFACT_KEY_BYTES = 1024;

/**
 * Checks an artefact key (a payload URI as the manifest names it, or an envelope's name) and
 * returns it: 1 to 1024 UTF-8 bytes of `/`-separated segments, none empty and none starting with
 * `.` (so no `.` or `..`, and no dot file: the update server's device listener serves none, and the
 * stores name their own files so); not absolute, no backslash, no drive letter, no control
 * character. Throws `ValidationError` naming the key otherwise.
 *
 * @example
 * ```ts
 * checkArtefactKey('images/fw-2.bin') // 'images/fw-2.bin'
 * checkArtefactKey('../etc/passwd')   // ValidationError: key: "../etc/passwd" has a ".." segment
 * checkArtefactKey('images/.fw.bin')  // ValidationError: key: "images/.fw.bin" has a segment starting with "." (".fw.bin"), which the update server does not serve
 * ```
 */
export function checkArtefactKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new ValidationError('key', 'an artefact key must be a non-empty string');
  const shown = JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key);
  const fail = (why: string): never => {
    throw new ValidationError('key', `${shown} ${why}`);
  };
  if (Buffer.byteLength(key, 'utf8') > MAX_ARTEFACT_KEY_BYTES) fail(`is longer than ${MAX_ARTEFACT_KEY_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) fail('has a control character');
  if (key.includes('\\')) fail('has a backslash');
  if (key.startsWith('/')) fail('is absolute');
  if (/^[A-Za-z]:/.test(key)) fail('starts with a drive letter');
  for (const segment of key.split('/')) {
    if (segment === '') fail('has an empty segment');
    if (segment === '.' || segment === '..') fail(`has a "${segment}" segment`);
    if (segment.startsWith('.')) fail(`has a segment starting with "." (${JSON.stringify(segment.length > 40 ? `${segment.slice(0, 40)}…` : segment)}), which the update server does not serve`);
  }
  return key;
}

/**
 * Checks a presigned URL's lifetime: whole seconds from 1 to 604,800 (7 days, S3's limit).
 * Throws `ArgumentError` otherwise.
 *
 * @example
 * ```ts
 * checkTtl(900) // 900
 * checkTtl(0)   // ArgumentError: Expected `ttlS` to be a whole number of seconds from 1 to 604800 (7 days), got 0
 * ```
 */
export function checkTtl(ttlS: number): number {
  if (!Number.isInteger(ttlS) || ttlS < 1 || ttlS > MAX_PRESIGN_EXPIRES_S) {
    throw new ArgumentError(`Expected \`ttlS\` to be a whole number of seconds from 1 to ${MAX_PRESIGN_EXPIRES_S} (7 days), got ${String(ttlS)}`);
  }
  return ttlS;
}

/** A text on one line: control characters and runs of white space become one space. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
}
