/**
 * Where the update server keeps envelopes and payloads: a folder (the default), or an
 * S3-compatible bucket (`s3://bucket/prefix`) whose endpoint and credentials come from the
 * environment, served to devices as short-lived presigned URLs.
 */
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../../sdk/core/clock.js';
import { ValidationError } from '../../../sdk/core/errors.js';
import { FolderArtefactStore } from './folder-store.js';
import { S3ArtefactStore } from './s3-store.js';
import { ArtefactStoreError, checkArtefactKey, type ArtefactStore } from './store.js';

export { FolderArtefactStore } from './folder-store.js';
export { DEFAULT_S3_MAX_GET_BYTES, DEFAULT_S3_MIN_BYTES_PER_S, DEFAULT_S3_TIMEOUT_MS, MAX_SINGLE_PUT_BYTES, S3ArtefactStore, type S3StoreOptions } from './s3-store.js';
export { MAX_PRESIGN_EXPIRES_S, type AwsCredentials } from './sigv4.js';
export { ArtefactStoreError, MAX_ARTEFACT_KEY_BYTES, checkArtefactKey, type ArtefactStore, type ArtefactStoreReason } from './store.js';

/** Options of {@link openArtefactStore} that do not come from the environment. */
export interface OpenArtefactStoreOptions {
  /** Signing time of an S3 store (a presigned URL is valid from `now()`). Default the system's. */
  readonly clock?: Pick<Clock, 'now'>;
  /** An S3 store's longest wait to connect and between two steps of an exchange, ms. Default `SENSORKIT_S3_TIMEOUT_MS` or 10,000. */
  readonly timeoutMs?: number;
  /**
   * An S3 store's slowest allowed transfer, bytes per second: a request ends within 3 × `timeoutMs`
   * plus one second per this many bytes moved. Default `SENSORKIT_S3_MIN_BYTES_PER_S` or 16,384.
   */
  readonly minBytesPerSecond?: number;
}

/**
 * Opens the artefact store a `--store` value names: a folder path (or `file:` URL), or
 * `s3://bucket/prefix`. For S3, from `env`:
 * - endpoint: `SENSORKIT_S3_ENDPOINT`, else `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`, else
 *   `https://s3.<region>.amazonaws.com`;
 * - region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`;
 * - credentials: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional `AWS_SESSION_TOKEN`;
 * - addressing: path-style for a custom endpoint, virtual-hosted for AWS (path-style for a bucket
 *   with a dot in its name); `SENSORKIT_S3_PATH_STYLE=true|false` decides otherwise;
 * - `SENSORKIT_S3_PUBLIC_ENDPOINT`: the endpoint presigned URLs name, when devices reach the
 *   service under another address than the update server (default: the endpoint);
 * - `SENSORKIT_S3_TIMEOUT_MS`: the longest wait for the endpoint (default 10,000);
 * - `SENSORKIT_S3_MIN_BYTES_PER_S`: the slowest transfer a request may keep (default 16,384): a
 *   request ends within 3 × the timeout plus one second per this many bytes sent and received.
 *
 * Nothing is contacted here: call `check()` before serving. Throws `ValidationError` for a
 * malformed value, `ArtefactStoreError` (`missing-credentials`) when S3 credentials are missing.
 *
 * @example
 * ```ts
 * const store = openArtefactStore(flags.store ?? './artefacts', process.env)
 * await store.check() // "s3://firmware/releases/: bucket "firmware" does not exist at https://… (NoSuchBucket)"
 * ```
 */
export function openArtefactStore(url: string, env: NodeJS.ProcessEnv = process.env, options: OpenArtefactStoreOptions = {}): ArtefactStore {
  if (typeof url !== 'string' || url.trim() === '') throw new ValidationError('store', 'give a folder path or s3://bucket/prefix');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === 's3') return openS3(url, env, options);
  if (scheme === 'file') return new FolderArtefactStore(fileURLToPath(url));
  if (scheme !== undefined && scheme.length > 1 && url.startsWith(`${scheme}://`)) {
    throw new ValidationError('store', `${JSON.stringify(url)}: unsupported scheme "${scheme}:"; give a folder path or s3://bucket/prefix`);
  }
  return new FolderArtefactStore(url);
}

function openS3(url: string, env: NodeJS.ProcessEnv, options: OpenArtefactStoreOptions): S3ArtefactStore {
  const match = /^s3:\/\/([^/?#]*)\/?([^?#]*)$/i.exec(url);
  if (!match) throw new ValidationError('store', `${JSON.stringify(url)}: expected s3://bucket/prefix`);
  const bucket = match[1]!;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
    throw new ValidationError('store', `${JSON.stringify(url)}: "${bucket}" is not a bucket name (3 to 63 lowercase letters, digits, dots and hyphens)`);
  }
  const rawPrefix = match[2]!.replace(/\/+$/, '');
  if (rawPrefix !== '') {
    try {
      checkArtefactKey(rawPrefix);
    } catch (error) {
      throw new ValidationError('store', `${JSON.stringify(url)}: the prefix ${(error as ValidationError).reason}`);
    }
  }
  const prefix = rawPrefix === '' ? '' : `${rawPrefix}/`;
  const name = `s3://${bucket}/${prefix}`;

  const region = env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'us-east-1';
  if (!/^[a-z0-9-]{1,64}$/.test(region)) throw new ValidationError('AWS_REGION', `${JSON.stringify(region)} is not a region name`);
  const customName = ['SENSORKIT_S3_ENDPOINT', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'].find((name) => env[name]);
  const custom = customName ? env[customName] : undefined;
  const endpoint = customName && custom ? parseEndpoint(customName, custom) : new URL(`https://s3.${region}.amazonaws.com`);
  const publicText = env['SENSORKIT_S3_PUBLIC_ENDPOINT'];
  const publicEndpoint = publicText ? parseEndpoint('SENSORKIT_S3_PUBLIC_ENDPOINT', publicText) : undefined;

  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (!accessKeyId || !secretAccessKey) {
    const missing = [!accessKeyId && 'AWS_ACCESS_KEY_ID', !secretAccessKey && 'AWS_SECRET_ACCESS_KEY'].filter(Boolean).join(' and ');
    throw new ArtefactStoreError('missing-credentials', name, `no credentials: set ${missing}`);
  }
  const sessionToken = env['AWS_SESSION_TOKEN'] || undefined;

  const pathStyleFlag = env['SENSORKIT_S3_PATH_STYLE'];
  let pathStyle = custom ? true : bucket.includes('.');
  if (pathStyleFlag !== undefined && pathStyleFlag !== '') {
    if (/^(true|1|yes)$/i.test(pathStyleFlag)) pathStyle = true;
    else if (/^(false|0|no)$/i.test(pathStyleFlag)) pathStyle = false;
    else throw new ValidationError('SENSORKIT_S3_PATH_STYLE', `${JSON.stringify(pathStyleFlag)}: expected true or false`);
  }

  const timeoutMs = options.timeoutMs ?? wholeNumber(env, 'SENSORKIT_S3_TIMEOUT_MS', 'milliseconds');
  const minBytesPerSecond = options.minBytesPerSecond ?? wholeNumber(env, 'SENSORKIT_S3_MIN_BYTES_PER_S', 'bytes per second');

  return new S3ArtefactStore({
    bucket,
    prefix,
    endpoint,
    region,
    credentials: { accessKeyId, secretAccessKey, sessionToken },
    pathStyle,
    ...(publicEndpoint ? { publicEndpoint } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(minBytesPerSecond !== undefined ? { minBytesPerSecond } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

/** A variable holding a whole number from 1, or undefined when it is unset or empty. */
function wholeNumber(env: NodeJS.ProcessEnv, variable: string, unit: string): number | undefined {
  const text = env[variable];
  if (!text) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new ValidationError(variable, `${JSON.stringify(text)}: expected a whole number of ${unit} from 1`);
  return value;
}

function parseEndpoint(variable: string, text: string): URL {
  let endpoint: URL;
  try {
    endpoint = new URL(text);
  } catch {
    throw new ValidationError(variable, `${JSON.stringify(text)} is not a URL`);
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw new ValidationError(variable, `${JSON.stringify(text)}: expected an http: or https: URL`);
  if (endpoint.search || endpoint.hash || endpoint.username || endpoint.password) {
    throw new ValidationError(variable, `${JSON.stringify(text)}: expected no query, fragment or user name (credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`);
  }
  return endpoint;
}
