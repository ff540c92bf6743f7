/**
 * Artefacts in an S3-compatible bucket, spoken to over plain HTTP(S) with Signature Version 4
 * (`sigv4.ts`), no SDK. Devices download payloads from the bucket with presigned GET URLs (byte
 * ranges allowed), so the update server never streams a payload through itself.
 *
 * A put streams a file with its Content-Length and signs its SHA-256, computed by reading the file
 * once before the upload: the caller needs that digest anyway (it is what the manifest signs), and
 * S3 then refuses a body that does not hash to it (`XAmzContentSHA256Mismatch`), so a file changed
 * between hashing and upload, or a body altered on a plain-HTTP endpoint, is never stored.
 * `UNSIGNED-PAYLOAD` would save one read of the file and lose both. One PUT takes up to 5 GiB.
 *
 * Every request has two limits. The connection and each pause in the exchange may last at most
 * `timeoutMs` (idle). And the whole request must end by its deadline: 3 × `timeoutMs`, plus one
 * second for every `minBytesPerSecond` bytes it has moved so far (body sent and answer received),
 * so a large transfer that keeps the minimum rate is never cut, while an endpoint or a proxy that
 * trickles an answer (a byte now and then, each pause under the idle limit) is.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { Clock } from '../../../sdk/core/clock.js';
import { ArgumentError } from '../../../sdk/core/errors.js';
import { EMPTY_SHA256, presignUrl, sha256Hex, signRequest, uriEncode, type AwsCredentials } from './sigv4.js';
import { ArtefactStoreError, checkArtefactKey, checkTtl, type ArtefactStore } from './store.js';

/** Largest object one PUT stores (S3's limit for a single-part upload), bytes. */
export const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;
/** Default of {@link S3StoreOptions.timeoutMs}. */
export const DEFAULT_S3_TIMEOUT_MS = 10_000;
/** How long a file upload waits for `100 Continue` before it sends the body anyway, ms. */
const CONTINUE_WAIT_MS = 1000;
/** Default of {@link S3StoreOptions.minBytesPerSecond}. */
export const DEFAULT_S3_MIN_BYTES_PER_S = 16 * 1024;
/** A request's deadline is this many times `timeoutMs`, plus the time its bytes take at the minimum rate. */
const DEADLINE_TIMEOUTS = 3;
/** Bytes a buffer body is written in, so its progress counts towards the deadline as it is sent. */
const BODY_SLICE_BYTES = 64 * 1024;
/** How much of an answer other than a whole-object read is kept (an S3 error document is far smaller), bytes. */
const MAX_ERROR_BODY_BYTES = 65_536;
/** Default of {@link S3StoreOptions.maxGetBytes}. */
export const DEFAULT_S3_MAX_GET_BYTES = 64 * 1024 ** 2;

/** Options of {@link S3ArtefactStore}. */
export interface S3StoreOptions {
  readonly bucket: string;
  /** Prepended to every key: empty, or ending with `/`. */
  readonly prefix: string;
  /** The service endpoint (`https://s3.eu-central-1.amazonaws.com`, `http://127.0.0.1:9000`); a path in it is kept. */
  readonly endpoint: URL;
  readonly region: string;
  readonly credentials: AwsCredentials;
  /** Path-style (`endpoint/bucket/key`) rather than virtual-hosted (`bucket.endpoint/key`) addressing. */
  readonly pathStyle: boolean;
  /**
   * The endpoint presigned URLs name, when devices reach the service under another address than
   * the update server does (a presigned URL signs its host). Default `endpoint`.
   */
  readonly publicEndpoint?: URL;
  /** Longest wait to connect and between two steps of an exchange, ms. Default 10,000. */
  readonly timeoutMs?: number;
  /**
   * The slowest transfer a request is allowed, bytes per second: a request must end within
   * 3 × `timeoutMs` plus one second per `minBytesPerSecond` bytes it has sent and received.
   * Default 16,384 (16 KiB/s).
   */
  readonly minBytesPerSecond?: number;
  /** Signing time (presigned URLs start at `now()`). Default the system's. */
  readonly clock?: Pick<Clock, 'now'>;
  /** Largest object `get()` reads, bytes. Default 64 MiB. */
  readonly maxGetBytes?: number;
}

interface Exchange {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

type Body = Uint8Array | { readonly path: string; readonly size: number };

/**
 * An {@link ArtefactStore} in an S3-compatible bucket (AWS S3, MinIO, Ceph, Garage, R2, s3rver).
 * Usually made by `openArtefactStore('s3://bucket/prefix', env)`.
 *
 * @example
 * ```ts
 * const store = new S3ArtefactStore({
 *   bucket: 'firmware', prefix: 'releases/', endpoint: new URL('http://127.0.0.1:9000'), region: 'us-east-1',
 *   credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' }, pathStyle: true,
 * })
 * await store.check()
 * const url = await store.presignGet('fw-2.bin', 900)
 * ```
 */
export class S3ArtefactStore implements ArtefactStore {
  readonly kind = 's3' as const;
  readonly bucket: string;
  readonly prefix: string;
  readonly endpoint: URL;
  readonly region: string;
  readonly pathStyle: boolean;
  readonly publicEndpoint: URL;
  readonly #credentials: AwsCredentials;
  readonly #timeoutMs: number;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #maxGetBytes: number;
  readonly #minBytesPerSecond: number;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    if (this.prefix !== '' && !this.prefix.endsWith('/')) throw new ArgumentError(`Expected \`prefix\` to be empty or end with "/", got ${JSON.stringify(this.prefix)}`);
    this.endpoint = options.endpoint;
    this.region = options.region;
    this.pathStyle = options.pathStyle;
    this.publicEndpoint = options.publicEndpoint ?? options.endpoint;
    this.#credentials = options.credentials;
    this.#timeoutMs = positiveInteger('timeoutMs', options.timeoutMs ?? DEFAULT_S3_TIMEOUT_MS);
    this.#maxGetBytes = positiveInteger('maxGetBytes', options.maxGetBytes ?? DEFAULT_S3_MAX_GET_BYTES);
    this.#minBytesPerSecond = positiveInteger('minBytesPerSecond', options.minBytesPerSecond ?? DEFAULT_S3_MIN_BYTES_PER_S);
    this.#clock = options.clock ?? { now: () => Date.now() };
  }

  /** `s3://bucket/prefix` (how errors name the store). */
  get name(): string {
    return `s3://${this.bucket}/${this.prefix}`;
  }

  /** The unsigned URL of a key's object (at `publicEndpoint` with `forDevices`). */
  objectUrl(key: string, forDevices = false): URL {
    return this.#url(this.prefix + checkArtefactKey(key), forDevices ? this.publicEndpoint : this.endpoint);
  }

  /** Writes, reads back and deletes a small probe object under the prefix: the bucket exists and the credentials may write and read. */
  async check(): Promise<void> {
    const probe = `${this.prefix}.sensorkit-check`;
    const content = Buffer.from(`sensorkit store check ${new Date(this.#clock.now()).toISOString()}\n`);
    const put = await this.#send('PUT', probe, { body: content, payloadHash: sha256Hex(content), headers: { 'content-type': 'text/plain' } });
    if (put.status !== 200) throw this.#failure('write', this.name, put);
    const got = await this.#send('GET', probe, { payloadHash: EMPTY_SHA256, maxBody: 4096 });
    if (got.status !== 200) throw this.#failure('read', this.name, got);
    if (!got.body.equals(content)) throw new ArtefactStoreError('rejected', this.name, 'the probe object read back differs from what was written');
    // Deleting needs its own permission, which serving does not: a leftover probe is harmless.
    await this.#send('DELETE', probe, { payloadHash: EMPTY_SHA256 }).catch(() => undefined);
  }

  async put(key: string, content: Uint8Array | string): Promise<{ size: number; sha256: string }> {
    const objectKey = this.prefix + checkArtefactKey(key);
    const name = `s3://${this.bucket}/${objectKey}`;
    let body: Body;
    let sha256: string;
    if (typeof content === 'string') {
      const size = await fileSize(content);
      if (size > MAX_SINGLE_PUT_BYTES) throw new ArtefactStoreError('too-large', content, `${size} bytes: one PUT stores at most 5 GiB`);
      sha256 = await hashFile(content);
      body = { path: content, size };
    } else {
      if (content.byteLength > MAX_SINGLE_PUT_BYTES) throw new ArtefactStoreError('too-large', name, `${content.byteLength} bytes: one PUT stores at most 5 GiB`);
      sha256 = sha256Hex(content);
      body = content;
    }
    const answer = await this.#send('PUT', objectKey, { body, payloadHash: sha256, headers: { 'content-type': 'application/octet-stream' } });
    if (answer.status !== 200) throw this.#failure('write', name, answer);
    return { size: body instanceof Uint8Array ? body.byteLength : body.size, sha256 };
  }

  async head(key: string): Promise<{ size: number } | undefined> {
    const objectKey = this.prefix + checkArtefactKey(key);
    const answer = await this.#send('HEAD', objectKey, { payloadHash: EMPTY_SHA256 });
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw this.#failure('read', `s3://${this.bucket}/${objectKey}`, answer);
    const size = Number(answer.headers['content-length']);
    if (!Number.isSafeInteger(size) || size < 0) throw new ArtefactStoreError('rejected', `s3://${this.bucket}/${objectKey}`, 'HEAD answered without a Content-Length');
    return { size };
  }

  async presignGet(key: string, ttlS: number): Promise<string | undefined> {
    checkTtl(ttlS);
    return presignUrl({ method: 'GET', url: this.objectUrl(key, true), credentials: this.#credentials, region: this.region, now: this.#clock.now(), expiresS: ttlS }).url;
  }

  async get(key: string): Promise<Uint8Array> {
    const objectKey = this.prefix + checkArtefactKey(key);
    const answer = await this.#send('GET', objectKey, { payloadHash: EMPTY_SHA256, maxBody: this.#maxGetBytes });
    if (answer.status !== 200) throw this.#failure('read', `s3://${this.bucket}/${objectKey}`, answer);
    return new Uint8Array(answer.body);
  }

  #url(objectKey: string, endpoint = this.endpoint): URL {
    const base = endpoint.pathname.replace(/\/+$/, '');
    const path = `${base}/${this.pathStyle ? `${this.bucket}/` : ''}${uriEncode(objectKey, true)}`;
    const host = this.pathStyle ? endpoint.host : `${this.bucket}.${endpoint.host}`;
    return new URL(`${endpoint.protocol}//${host}${path}`);
  }

  /**
   * One signed exchange. Resolves any HTTP answer; a 200 answer's body may have up to `maxBody`
   * bytes (a larger one is `too-large`), any other is cut at {@link MAX_ERROR_BODY_BYTES};
   * rejects only when there is none (unreachable, idle or past the deadline) or a local file fails.
   */
  async #send(method: string, objectKey: string, options: { body?: Body; payloadHash: string; headers?: Record<string, string>; maxBody?: number }): Promise<Exchange> {
    const url = this.#url(objectKey);
    const signed = signRequest({ method, url, headers: options.headers ?? {}, payloadHash: options.payloadHash, credentials: this.#credentials, region: this.region, now: this.#clock.now() });
    const body = options.body;
    const length = body === undefined ? 0 : body instanceof Uint8Array ? body.byteLength : body.size;
    const headers: Record<string, string> = { ...signed.headers };
    if (method === 'PUT' || length > 0) headers['content-length'] = String(length);
    if (body !== undefined && !(body instanceof Uint8Array)) headers['expect'] = '100-continue';
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const where = this.endpoint.origin;
    const timeoutMs = this.#timeoutMs;
    const minRate = this.#minBytesPerSecond;
    return new Promise<Exchange>((resolve, reject) => {
      let settled = false;
      // The deadline, on the monotonic clock: a wall-time step neither cuts nor extends a request.
      const startedAt = performance.now();
      let moved = 0;
      const overdue = (): void => {
        const elapsed = performance.now() - startedAt;
        const left = DEADLINE_TIMEOUTS * timeoutMs + (moved * 1000) / minRate - elapsed;
        if (left > 0) {
          deadline = setTimeout(overdue, Math.ceil(left));
          return;
        }
        fail(new ArtefactStoreError('unreachable', where, `too slow: ${moved} bytes moved in ${Math.round(elapsed)} ms, below ${minRate} bytes/s after ${DEADLINE_TIMEOUTS} × ${timeoutMs} ms`));
      };
      let deadline = setTimeout(overdue, DEADLINE_TIMEOUTS * timeoutMs);
      // The file being uploaded. A pipe whose destination is destroyed only unpipes: the stream
      // would keep its descriptor open (it closes by itself only at its end or on an error).
      let file: ReadStream | undefined;
      /** Settles once: stops the deadline, closes the file, then `then` (after the file's descriptor is closed). */
      const settle = (then: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (file === undefined || file.closed) return then();
        file.once('close', then);
        file.destroy();
      };
      const fail = (error: ArtefactStoreError): void =>
        settle(() => {
          request.destroy();
          reject(error);
        });
      const answer = (response: IncomingMessage, chunks: Buffer[]): void =>
        settle(() => {
          // A body not (fully) sent, or an answer not read to its end, leaves the connection unusable: close it.
          if (!request.writableFinished || !response.complete) request.destroy();
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) });
        });
      const request = send({ method, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || undefined, path: signed.pathAndQuery, headers, timeout: timeoutMs }, (response) => {
        const chunks: Buffer[] = [];
        let received = 0;
        const wholeLimit = response.statusCode === 200 ? options.maxBody : undefined;
        const maxBody = wholeLimit ?? MAX_ERROR_BODY_BYTES;
        response.on('data', (chunk: Buffer) => {
          received += chunk.byteLength;
          moved += chunk.byteLength;
          if (received > maxBody) {
            if (wholeLimit !== undefined) {
              fail(new ArtefactStoreError('too-large', `s3://${this.bucket}/${objectKey}`, `larger than ${maxBody} bytes, the most a whole-object read takes`));
              return;
            }
            // Any other answer past the limit (an error document): what was read is enough.
            chunks.push(chunk.subarray(0, chunk.byteLength - (received - maxBody)));
            answer(response, chunks);
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => answer(response, chunks));
        response.on('error', (error) => fail(unreachable(where, error)));
        response.on('close', () => fail(new ArtefactStoreError('unreachable', where, 'the connection closed before the answer was complete')));
      });
      request.on('timeout', () => fail(new ArtefactStoreError('unreachable', where, `no answer within ${timeoutMs} ms`)));
      request.on('error', (error) => fail(unreachable(where, error)));
      if (body === undefined) request.end();
      else if (body instanceof Uint8Array) {
        const source = Readable.from(slices(body), { objectMode: false });
        source.on('data', (chunk: Uint8Array) => (moved += chunk.byteLength));
        source.pipe(request);
      } else {
        // `Expect: 100-continue` (RFC 9110 §10.1.1): the endpoint refuses a bad signature or a
        // missing bucket before the body is sent, and the refusal is read, not lost to a reset.
        let started = false;
        const start = (): void => {
          if (started || settled) return;
          started = true;
          clearTimeout(fallback);
          if (body.size === 0) {
            request.end();
            return;
          }
          // At most the announced length is sent; a file that shrank since it was hashed is caught
          // here, one whose bytes changed by S3 (the signed SHA-256 no longer matches).
          file = createReadStream(body.path, { start: 0, end: body.size - 1 });
          let sent = 0;
          file.on('data', (chunk) => {
            sent += chunk.length;
            moved += chunk.length;
          });
          file.on('end', () => {
            if (sent !== body.size) fail(new ArtefactStoreError('io', body.path, `changed while it was uploaded: ${sent} of ${body.size} bytes`));
          });
          file.on('error', (error) => fail(new ArtefactStoreError('io', body.path, `cannot read: ${(error as NodeJS.ErrnoException).code ?? error.message}`, { cause: error })));
          file.pipe(request);
        };
        // An endpoint (or a proxy) that ignores the expectation gets the body after a short wait.
        const fallback = setTimeout(start, CONTINUE_WAIT_MS);
        request.on('continue', start);
        request.on('response', () => clearTimeout(fallback));
        request.on('close', () => clearTimeout(fallback));
      }
    });
  }

  /** The one-line error of an HTTP answer that is not a success. */
  #failure(operation: 'read' | 'write', name: string, answer: Exchange): ArtefactStoreError {
    const text = answer.body.toString('utf8');
    const code = xmlField(text, 'Code');
    const message = xmlField(text, 'Message');
    const status = answer.status;
    const what = code ?? `HTTP ${status}`;
    switch (code) {
      case 'NoSuchBucket':
        return new ArtefactStoreError('no-such-bucket', name, `bucket "${this.bucket}" does not exist at ${this.endpoint.origin} (NoSuchBucket)`);
      case 'NoSuchKey':
        return new ArtefactStoreError('not-found', name, 'no such object (NoSuchKey)');
      case 'SignatureDoesNotMatch':
        return new ArtefactStoreError('access-denied', name, 'access denied (SignatureDoesNotMatch): the request signature does not match the secret key; check AWS_SECRET_ACCESS_KEY');
      case 'InvalidAccessKeyId':
        return new ArtefactStoreError('access-denied', name, 'access denied (InvalidAccessKeyId): the endpoint does not know this access key id; check AWS_ACCESS_KEY_ID');
      case 'ExpiredToken':
      case 'InvalidToken':
        return new ArtefactStoreError('access-denied', name, `access denied (${code}): check AWS_SESSION_TOKEN`);
      case 'RequestTimeTooSkewed':
        return new ArtefactStoreError('rejected', name, "refused (RequestTimeTooSkewed): this machine's clock and the endpoint's differ by more than 15 minutes");
      case 'EntityTooLarge':
        return new ArtefactStoreError('too-large', name, `refused (EntityTooLarge)${message ? `: ${message}` : ''}`);
    }
    if (status === 403) return new ArtefactStoreError('access-denied', name, `access denied (${what}): the credentials may not ${operation} here${message ? `: ${message}` : ''}`);
    if (status === 404) return new ArtefactStoreError('not-found', name, `not found (${what})`);
    if (status >= 500) return new ArtefactStoreError('server-error', name, `the endpoint failed: HTTP ${status}${code ? ` (${code})` : ''}${message ? `: ${message}` : ''}`);
    return new ArtefactStoreError('rejected', name, `refused: HTTP ${status}${code ? ` (${code})` : ''}${message ? `: ${message}` : ''}`);
  }
}

/** The text of the first `<name>…</name>` of an S3 error document, entities decoded, at most 200 characters. */
function xmlField(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  if (!match?.[1]) return undefined;
  const text = match[1]
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** A buffer in slices of at most {@link BODY_SLICE_BYTES} (views, not copies). */
function* slices(body: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < body.byteLength; at += BODY_SLICE_BYTES) yield body.subarray(at, Math.min(at + BODY_SLICE_BYTES, body.byteLength));
}

function unreachable(where: string, error: Error): ArtefactStoreError {
  if (error instanceof ArtefactStoreError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  return new ArtefactStoreError('unreachable', where, `cannot reach the endpoint: ${code ?? error.message}`, { cause: error });
}

async function fileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ArtefactStoreError('io', path, 'cannot read: not a regular file');
    return info.size;
  } catch (error) {
    if (error instanceof ArtefactStoreError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ArtefactStoreError('io', path, `cannot read: ${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}`, { cause: error });
  }
}

/** SHA-256 (hex) of a file, streamed. */
async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (error) {
    throw new ArtefactStoreError('io', path, `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  return hash.digest('hex');
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new ArgumentError(`Expected \`${name}\` to be an integer from 1 and up, got ${String(value)}`);
  return value;
}
