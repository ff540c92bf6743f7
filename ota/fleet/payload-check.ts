/**
 * A simulated device's download: the payload's bytes fetched from the offer's URL with a Range
 * request (RFC 9110 §14.2) as the update agent resumes, hashed while they stream in and cut off at
 * the signed size, then compared with the signed SHA-256. Nothing is written to disk: a simulated
 * device has no image slots, but it costs the server and the object store what a real one costs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ManifestError, UpdateError } from '../errors.js';
import type { ClientTls } from '../agent/http-request.js';

/** What {@link checkPayload} fetches and checks. */
export interface PayloadCheck {
  readonly url: string;
  /** The signed size and SHA-256. */
  readonly size: number;
  readonly digest: Uint8Array;
  /** The whole transfer may take this long, ms. */
  readonly timeoutMs: number;
  readonly tls?: ClientTls;
  /** Connection pools (keep-alive) shared by the devices of one simulation. */
  readonly agents?: { readonly http: HttpAgent; readonly https: HttpsAgent };
}

/**
 * Fetches `check.url` (`Range: bytes=0-<size−1>`; a 206 must start at byte 0, a 200 is the whole
 * body) and resolves with the bytes received once they match the signed size and digest. Rejects
 * with `UpdateError` `download-failed` when the transfer fails or ends short, and `ManifestError`
 * `payload-mismatch` when the body is longer than the signed size or hashes to another digest.
 *
 * @example
 * ```ts
 * await checkPayload({ url: offer.payloads['firmware.bin']!, size: manifest.imageSize, digest: manifest.imageDigest, timeoutMs: 30_000 })
 * ```
 */
export function checkPayload(check: PayloadCheck): Promise<number> {
  const url = new URL(check.url);
  const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
  if (send === undefined) return Promise.reject(new UpdateError('download-failed', `${url.host}: unsupported URL scheme ${url.protocol}`));
  const tls = check.tls ?? {};
  const agent = check.agents === undefined ? undefined : url.protocol === 'https:' ? check.agents.https : check.agents.http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, received = 0): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error === undefined) resolve(received);
      else {
        req.destroy();
        reject(error instanceof UpdateError || error instanceof ManifestError ? error : new UpdateError('download-failed', `${url.host}: ${error.message}`, { cause: error }));
      }
    };
    const timer = setTimeout(() => finish(new UpdateError('download-failed', `${url.host}: the payload did not arrive within ${check.timeoutMs} ms`)), check.timeoutMs);
    const req = send(
      url,
      {
        method: 'GET',
        headers: check.size > 0 ? { range: `bytes=0-${check.size - 1}` } : {},
        ...(agent === undefined ? {} : { agent }),
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
      },
      (response) => {
        const status = response.statusCode ?? 0;
        if (status === 206) {
          const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers['content-range']?.trim() ?? '');
          if (range === null || range[1] !== '0') {
            response.resume();
            return finish(new UpdateError('download-failed', `${url.host}: a 206 that does not start at byte 0 (${response.headers['content-range'] ?? 'no Content-Range'})`));
          }
        } else if (status !== 200) {
          response.resume();
          return finish(new UpdateError('download-failed', `${url.host}: HTTP ${status}`));
        }
        const hash = createHash('sha256');
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > check.size) return finish(new ManifestError('payload-mismatch', `the server sent more than the signed ${check.size} bytes`));
          hash.update(chunk);
        });
        response.on('error', (error) => finish(error));
        response.on('end', () => {
          if (received < check.size) return finish(new UpdateError('download-failed', `${url.host}: the body ended after ${received} of ${check.size} bytes`));
          if (!timingSafeEqual(hash.digest(), check.digest)) return finish(new ManifestError('payload-mismatch', 'the payload does not match the signed digest'));
          finish(undefined, received);
        });
      },
    );
    req.on('error', (error) => finish(error));
    req.end();
  });
}
