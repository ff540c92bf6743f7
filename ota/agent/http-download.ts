/**
 * Downloads an image over HTTP(S) into a part file, resuming with a Range request (RFC 9110 §14.2)
 * guarded by `If-Range` with the strong ETag of the first attempt (§13.1.5): if the resource changed,
 * the server answers 200 with the whole new body and the download starts over. A server that ignores
 * Range (200 instead of 206), or a 206 with another ETag or a Content-Range that does not start where
 * the part ends, also restarts from byte 0. The digest is computed while the bytes stream in, and the
 * body is cut off at the signed size: a server cannot make the device store more than the manifest
 * allows (endless data).
 *
 * A part is resumed from another URL when only the query parameters of a presigned URL changed
 * (S3 and GCS `X-Amz-*` / `X-Goog-*`, CloudFront's `Expires`, `Signature`, `Key-Pair-Id`,
 * `Policy`): an offer made again carries a new signature for the same object. Scheme, host, port,
 * path and every other query parameter must be the same; `If-Range` and the signed digest still
 * guard the bytes.
 */
import { createHash, timingSafeEqual, type Hash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { FileHandle } from 'node:fs/promises';
import { SystemClock, type Clock } from '../../sdk/core/clock.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import { ManifestError, UpdateError } from '../errors.js';
import { OPEN_FLAGS, readJson, writeFileAtomic, type OtaFileSystem } from './file-system.js';

/** What to download and where. */
export interface DownloadJob {
  readonly url: string;
  /** The part file; `<part>.meta.json` remembers the URL and ETag for a resume. */
  readonly part: string;
  /** The signed size: the body may not be longer. */
  readonly size: number;
  /** The signed SHA-256. */
  readonly digest: Uint8Array;
  /** Called as bytes arrive: bytes on disk so far, and the total. */
  readonly onProgress?: (received: number, total: number) => void;
  /**
   * Extra TLS/HTTP options: `ca` for a private CA; `cert` and `key` (PEM) for a server that asks
   * devices for a client certificate (mutual TLS with the device's identity).
   */
  readonly requestOptions?: { readonly ca?: string | Buffer; readonly cert?: string | Buffer; readonly key?: string | Buffer; readonly headers?: Record<string, string> };
  /** Idle timeout of the socket, ms. Default 30,000. */
  readonly idleTimeoutMs?: number;
  /**
   * The slowest transfer tolerated (curl's `--speed-limit`/`--speed-time`): fewer than `bytes` in
   * any `windowMs` aborts the attempt (`download-failed`, the part kept for a resume). The idle
   * timeout alone does not stop a server that drips one byte just before each timeout (slow loris).
   * Default 1,024 bytes per 60,000 ms.
   */
  readonly minSpeed?: { readonly bytes: number; readonly windowMs: number };
  /** Times the speed windows. Default: a SystemClock. */
  readonly clock?: Clock;
}

/** How a download went: how many bytes came over the wire, and how many restarts it took. */
export interface DownloadResult {
  readonly resumedFrom: number;
  readonly restarts: number;
  readonly transferred: number;
}

interface PartMeta {
  readonly url: string;
  readonly etag: string | undefined;
}

/** Query parameters that sign a URL for a time (they change each time it is signed again), lowercase. */
const SIGNING_PARAMETERS = new Set(['expires', 'signature', 'key-pair-id', 'policy', 'awsaccesskeyid']);
const isSigning = (name: string): boolean => {
  const lower = name.toLowerCase();
  return lower.startsWith('x-amz-') || lower.startsWith('x-goog-') || SIGNING_PARAMETERS.has(lower);
};

/**
 * Whether two URLs name the same resource: the same origin and path and the same query apart
 * from signing parameters (a presigned URL signed again).
 *
 * @example
 * ```ts
 * sameResource('https://b.s3.example/fw.bin?X-Amz-Date=1&X-Amz-Signature=aa', 'https://b.s3.example/fw.bin?X-Amz-Date=2&X-Amz-Signature=bb') // true
 * sameResource('https://cdn.example/get?file=a.bin', 'https://cdn.example/get?file=b.bin') // false
 * ```
 */
function sameResource(a: string, b: string): boolean {
  if (a === b) return true;
  if (!URL.canParse(a) || !URL.canParse(b)) return false;
  const x = new URL(a);
  const y = new URL(b);
  if (x.origin !== y.origin || x.pathname !== y.pathname || x.username !== y.username || x.password !== y.password) return false;
  const rest = (url: URL): string[] => [...url.searchParams].filter(([name]) => !isSigning(name)).map(([name, value]) => `${name}=${value}`).sort();
  const [p, q] = [rest(x), rest(y)];
  return p.length === q.length && p.every((entry, i) => entry === q[i]);
}

/**
 * A URL as error messages show it: without user info and without signing parameters (a presigned
 * URL is a credential until it expires; it must not end up in logs), which are replaced by `…`.
 */
function shown(url: URL | string): string {
  if (typeof url === 'string' && !URL.canParse(url)) return url;
  const parsed = new URL(url);
  let signed = false;
  for (const name of [...parsed.searchParams.keys()]) {
    if (!isSigning(name)) continue;
    parsed.searchParams.delete(name);
    signed = true;
  }
  parsed.username = '';
  parsed.password = '';
  return signed ? `${parsed.href}${parsed.search === '' ? '?' : '&'}…` : parsed.href;
}

function get(url: URL, headers: Record<string, string>, job: DownloadJob): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
    if (request === undefined) {
      reject(new UpdateError('download-failed', `unsupported URL scheme ${url.protocol}`));
      return;
    }
    const tls = job.requestOptions ?? {};
    const req = request(
      url,
      {
        method: 'GET',
        headers: { ...tls.headers, ...headers },
        timeout: job.idleTimeoutMs ?? 30_000,
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
      },
      resolve,
    );
    req.on('timeout', () => req.destroy(new UpdateError('download-failed', `no data from ${url.host} within the idle timeout`)));
    req.on('error', (error) => reject(error instanceof UpdateError ? error : new UpdateError('download-failed', `${url.host}: ${error.message}`, { cause: error })));
    req.end();
  });
}

/** Parses `bytes start-end/total` (RFC 9110 §14.4). */
function contentRangeStart(header: string | undefined): { start: number; total: number | undefined } | undefined {
  const match = header === undefined ? null : /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim());
  if (match === null) return undefined;
  return { start: Number(match[1]), total: match[3] === '*' ? undefined : Number(match[3]) };
}

/**
 * Downloads `job.url` into `job.part`, resuming from what is there. Resolves once the part holds
 * exactly the signed bytes (fsync'd). Throws `ManifestError` `payload-mismatch` when the body is
 * longer than the signed size or hashes to another digest (the part is deleted), `UpdateError`
 * `download-failed` when the transfer breaks (the part is kept for a resume), or the file system's
 * error when a write fails.
 *
 * @example
 * ```ts
 * await downloadImage(nodeFileSystem, { url, part: 'staging/7.part', size, digest })
 * ```
 */
export async function downloadImage(fs: OtaFileSystem, job: DownloadJob): Promise<DownloadResult> {
  const minSpeed = job.minSpeed ?? { bytes: 1024, windowMs: 60_000 };
  if (!(Number.isFinite(minSpeed.bytes) && minSpeed.bytes >= 0 && Number.isFinite(minSpeed.windowMs) && minSpeed.windowMs > 0)) {
    throw new ArgumentError(`Expected \`minSpeed\` to be { bytes ≥ 0, windowMs > 0 }, got ${JSON.stringify(minSpeed)}`);
  }
  const metaFile = `${job.part}.meta.json`;
  const url = new URL(job.url);
  let meta = await readJson<PartMeta>(fs, metaFile).catch(() => undefined);
  let offset = 0;
  try {
    offset = (await fs.lstat(job.part)).size;
  } catch {
    offset = 0;
  }
  if (meta === undefined || !sameResource(meta.url, job.url) || meta.etag === undefined || offset > job.size) offset = 0;
  let hash = createHash('sha256');
  // Never through a link (O_NOFOLLOW); a fresh part is a new file (O_EXCL) after whatever had its name is gone.
  if (offset === 0) await fs.rm(job.part, { force: true });
  const handle = await fs.open(job.part, offset === 0 ? OPEN_FLAGS.createReadWrite : OPEN_FLAGS.update, 0o644);
  let restarts = 0;
  let transferred = 0;
  const resumedFrom = offset;
  const startOver = async (): Promise<void> => {
    restarts++;
    if (restarts > 3) throw new UpdateError('download-failed', `${shown(url)}: the resource kept changing during the download`);
    offset = 0;
    meta = undefined;
    await handle.truncate(0);
    hash = createHash('sha256');
  };
  try {
    if (offset > 0) await hashExisting(handle, offset, hash);
    if (offset === job.size) {
      // Complete already (a restart after the last byte): no request, just the digest check.
      if (timingSafeEqual(hash.digest(), job.digest)) return { resumedFrom, restarts, transferred };
      await startOver();
    }
    for (;;) {
      const headers: Record<string, string> = {};
      if (offset > 0 && meta?.etag !== undefined) {
        headers.range = `bytes=${offset}-`;
        headers['if-range'] = meta.etag;
      }
      const response = await get(url, headers, job);
      const etag = typeof response.headers.etag === 'string' && !response.headers.etag.startsWith('W/') ? response.headers.etag : undefined;
      if (response.statusCode === 206) {
        const range = contentRangeStart(response.headers['content-range']);
        // A 206 that is not the continuation of these bytes: the resource or the server changed.
        if (offset === 0 || range === undefined || range.start !== offset || (range.total !== undefined && range.total !== job.size) || etag !== meta?.etag) {
          response.destroy();
          await startOver();
          continue;
        }
      } else if (response.statusCode === 200) {
        if (offset > 0) await startOver(); // Range ignored, or If-Range did not match: a whole new body follows.
      } else {
        response.resume();
        throw new UpdateError('download-failed', `${shown(url)}: HTTP ${response.statusCode ?? '?'}`);
      }
      // A declared length past the signed size is refused before a byte is stored (RFC 9110 §8.6).
      const declared = response.headers['content-length'] === undefined ? undefined : Number(response.headers['content-length']);
      if (declared !== undefined && (!Number.isSafeInteger(declared) || offset + declared > job.size)) {
        response.destroy();
        throw new ManifestError('payload-mismatch', `the server announces ${response.headers['content-length']} bytes from byte ${offset}; the signed size is ${job.size}`);
      }
      meta = { url: job.url, etag };
      await writeFileAtomic(fs, metaFile, JSON.stringify(meta));
      const received = await receive(response, handle, offset, job, hash, minSpeed, job.clock ?? new SystemClock());
      transferred += received - offset;
      offset = received;
      await handle.sync();
      if (offset < job.size) throw new UpdateError('download-failed', `${shown(url)}: the body ended after ${offset} of ${job.size} bytes`);
      if (!timingSafeEqual(hash.digest(), job.digest)) throw new ManifestError('payload-mismatch', 'the downloaded image does not match the signed digest');
      return { resumedFrom, restarts, transferred };
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof ManifestError || code === 'ENOSPC' || code === 'EDQUOT') {
      // Wrong bytes are worth nothing for a resume; on a full disk the part is what fills it.
      await handle.close().catch(() => undefined);
      await fs.rm(job.part, { force: true });
      await fs.rm(metaFile, { force: true });
    }
    throw error;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function hashExisting(handle: FileHandle, length: number, hash: Hash): Promise<void> {
  const buffer = Buffer.allocUnsafe(Math.min(1 << 20, length));
  for (let position = 0; position < length; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - position), position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}

/** Streams the body into the part from `offset`; resolves with the end offset. */
async function receive(response: IncomingMessage, handle: FileHandle, offset: number, job: DownloadJob, hash: Hash, minSpeed: { bytes: number; windowMs: number }, clock: Clock): Promise<number> {
  let position = offset;
  let windowStart = offset;
  let timer = clock.schedule(clock.now() + minSpeed.windowMs, function check() {
    if (position - windowStart < minSpeed.bytes) {
      response.destroy(new UpdateError('download-failed', `${shown(job.url)}: fewer than ${minSpeed.bytes} bytes in ${minSpeed.windowMs} ms (after ${position} bytes)`));
      return;
    }
    windowStart = position;
    timer = clock.schedule(clock.now() + minSpeed.windowMs, check);
  });
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      if (position + chunk.length > job.size) {
        response.destroy();
        throw new ManifestError('payload-mismatch', `the server sent more than the signed ${job.size} bytes`);
      }
      hash.update(chunk);
      let written = 0;
      while (written < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, written, chunk.length - written, position + written);
        written += bytesWritten;
      }
      position += chunk.length;
      job.onProgress?.(position, job.size);
    }
  } catch (error) {
    response.destroy();
    if (error instanceof ManifestError || (error as NodeJS.ErrnoException).syscall === 'write' || (error as NodeJS.ErrnoException).code === 'ENOSPC') throw error;
    // The connection broke: keep what arrived (already written) for a resume.
    if (!(error instanceof UpdateError)) throw new UpdateError('download-failed', `${shown(job.url)}: ${(error as Error).message} after ${position} bytes`, { cause: error });
    throw error;
  } finally {
    timer.cancel();
  }
  return position;
}
