/**
 * One small HTTP(S) request with a capped body, for the campaign API: node:http(s) rather than
 * fetch, because fetch cannot present a client certificate (mutual TLS with the device's identity).
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ManifestError, UpdateError } from '../errors.js';
import { concatBytes } from '../manifest/cbor.js';

/** TLS options: `ca` for a private CA, `cert` and `key` (PEM) for a client certificate. */
export interface ClientTls {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

/** What {@link requestCapped} sends. */
export interface CappedRequest {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** The whole exchange (headers and body) may take this long, ms. */
  readonly timeoutMs: number;
  /** Largest body accepted, bytes; a longer one is cut off with `ManifestError` `limit`. */
  readonly maxBytes: number;
  readonly tls?: ClientTls;
}

/** A response read in full. */
export interface CappedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Uint8Array;
}

/**
 * Sends one request and reads the response body, at most `maxBytes` of it. Rejects with
 * `UpdateError` `download-failed` when the server cannot be reached or the exchange times out, and
 * with `ManifestError` `limit` when the body is longer than `maxBytes` (declared or sent).
 *
 * @example
 * ```ts
 * const response = await requestCapped(new URL('https://ota.plant.example/api/offer?device=en-1'), { timeoutMs: 30_000, maxBytes: 16_384, tls: { cert, key, ca } })
 * ```
 */
export function requestCapped(url: URL, options: CappedRequest): Promise<CappedResponse> {
  const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
  if (send === undefined) return Promise.reject(new UpdateError('download-failed', `${url.href}: unsupported URL scheme ${url.protocol}`));
  const tls = options.tls ?? {};
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(error instanceof UpdateError || error instanceof ManifestError ? error : new UpdateError('download-failed', `${url.href}: ${error.message}`, { cause: error }));
    };
    // A server that accepts and never answers (or drips) must not hold the device forever.
    const timer = setTimeout(() => fail(new UpdateError('download-failed', `${url.href}: no complete answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    const req = send(
      url,
      {
        method: options.method ?? 'GET',
        headers: { ...options.headers },
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
      },
      (response) => {
        const declared = Number(response.headers['content-length'] ?? 0);
        if (declared > options.maxBytes) return fail(new ManifestError('limit', `${url.href}: an answer of ${declared} bytes is above ${options.maxBytes}`));
        const parts: Uint8Array[] = [];
        let total = 0;
        response.on('data', (chunk: Buffer) => {
          total += chunk.length;
          if (total > options.maxBytes) return fail(new ManifestError('limit', `${url.href}: an answer longer than ${options.maxBytes} bytes`));
          parts.push(chunk);
        });
        response.on('error', fail);
        response.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: concatBytes(parts) });
        });
      },
    );
    req.on('error', fail);
    req.end(options.body);
  });
}
