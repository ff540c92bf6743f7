/**
 * AWS Signature Version 4 for S3, from the published algorithm: a canonical request (method,
 * URI, query, headers, signed header names, payload hash), a string to sign (algorithm, time,
 * credential scope, SHA-256 of the canonical request), a signing key derived by HMAC-SHA256 from
 * the secret through date, region, service and `aws4_request`, and the signature over the string
 * to sign. Two forms: an `Authorization` header, and query parameters (a presigned URL).
 *
 * S3's rules, which differ from other services: the URI is not normalised, each path segment is
 * percent-encoded exactly once (RFC 3986 unreserved characters kept); a presigned URL signs the
 * `host` header only and the payload as `UNSIGNED-PAYLOAD`; `X-Amz-Expires` is at most 604,800 s.
 * Every input, the time included, is a parameter: the signer reads no clock and no environment.
 */
import { createHash, createHmac } from 'node:crypto';
import { ArgumentError } from '../../../sdk/core/errors.js';

/** An access key id and its secret, and the session token of temporary credentials. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

/** The algorithm's name in the string to sign, the header and the query. */
export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** The payload hash of a request whose body is not signed (presigned URLs). */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** SHA-256 of no bytes, the payload hash of a GET or HEAD. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Longest lifetime of a presigned URL, s (seven days). */
export const MAX_PRESIGN_EXPIRES_S = 604_800;

/** The intermediate values of one signature, for tests and for diagnosing a refusal. */
export interface SigV4Parts {
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  /** Lowercase hex. */
  readonly signature: string;
}

/** What {@link signRequest} signs. */
export interface SignRequestInput {
  readonly method: string;
  /** The request's URL: host, path and query are signed as they will be sent. */
  readonly url: URL;
  /** Further headers to send and sign (e.g. `range`), by any case. `host`, `x-amz-date`, `x-amz-content-sha256` are added. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Lowercase hex SHA-256 of the body, or {@link UNSIGNED_PAYLOAD}. */
  readonly payloadHash: string;
  readonly credentials: AwsCredentials;
  readonly region: string;
  /** Default `s3`. */
  readonly service?: string;
  /** Signing time, ms since the Unix epoch or a Date. */
  readonly now: number | Date;
}

/** A signed request: the headers to send (names lowercase) and how they were computed. */
export interface SignedRequest extends SigV4Parts {
  readonly headers: Readonly<Record<string, string>>;
  readonly authorization: string;
  /** The path and query to put on the request line (the canonical ones, so what is sent is what was signed). */
  readonly pathAndQuery: string;
}

/** What {@link presignUrl} signs. */
export interface PresignInput {
  readonly method: string;
  readonly url: URL;
  readonly credentials: AwsCredentials;
  readonly region: string;
  /** Default `s3`. */
  readonly service?: string;
  readonly now: number | Date;
  /** Lifetime from `now`, whole seconds from 1 to {@link MAX_PRESIGN_EXPIRES_S}. */
  readonly expiresS: number;
}

/** A presigned URL and how it was computed. */
export interface PresignedUrl extends SigV4Parts {
  readonly url: string;
}

/**
 * Lowercase hex SHA-256 of a text (UTF-8) or bytes.
 *
 * @example
 * ```ts
 * sha256Hex('') // 'e3b0c442…b855'
 * ```
 */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The signing time in ISO 8601 basic format, UTC, whole seconds: `YYYYMMDDTHHMMSSZ`.
 *
 * @example
 * ```ts
 * amzDate(Date.UTC(2013, 4, 24)) // '20130524T000000Z'
 * ```
 */
export function amzDate(now: number | Date): string {
  const ms = typeof now === 'number' ? now : now.getTime();
  if (!Number.isFinite(ms)) throw new ArgumentError(`Expected \`now\` to be a finite time, got ${String(now)}`);
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/**
 * Percent-encodes a text as Signature Version 4 does: every UTF-8 byte except the RFC 3986
 * unreserved characters (`A-Z a-z 0-9 - . _ ~`) as `%XX` (uppercase hex); `/` kept when `keepSlash`.
 *
 * @example
 * ```ts
 * uriEncode('a b/c(1)', true)  // 'a%20b/c%281%29'
 * uriEncode('AKID/20130524', false) // 'AKID%2F20130524'
 * ```
 */
export function uriEncode(text: string, keepSlash: boolean): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(text);
  } catch {
    throw new ArgumentError(`Expected well-formed UTF-16 text to encode, got a lone surrogate in ${JSON.stringify(text)}`);
  }
  // encodeURIComponent keeps ! ' ( ) *, which are not unreserved in RFC 3986 §2.3.
  encoded = encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? encoded.replace(/%2F/g, '/') : encoded;
}

/**
 * The canonical URI of a path as S3 computes it: each segment decoded once, then encoded once
 * with {@link uriEncode}; no `.`/`..` normalisation, an empty path is `/`.
 *
 * @example
 * ```ts
 * canonicalUri('/test$file.text') // '/test%24file.text'
 * canonicalUri('/a%20b/c d')      // '/a%20b/c%20d'
 * ```
 */
export function canonicalUri(pathname: string): string {
  if (pathname === '') return '/';
  return pathname
    .split('/')
    .map((segment) => uriEncode(decodeOnce(segment), false))
    .join('/');
}

/**
 * The canonical query string: each name and value decoded once and encoded with
 * {@link uriEncode} (`+` is a plus, not a space), sorted by name then value, `name=value` joined
 * by `&`; a name without `=` gets an empty value.
 *
 * @example
 * ```ts
 * canonicalQuery('?prefix=J&max-keys=2') // 'max-keys=2&prefix=J'
 * canonicalQuery('lifecycle')            // 'lifecycle='
 * ```
 */
export function canonicalQuery(search: string): string {
  const raw = search.startsWith('?') ? search.slice(1) : search;
  if (raw === '') return '';
  const pairs = raw
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      const value = eq < 0 ? '' : part.slice(eq + 1);
      return [uriEncode(decodeOnce(name), false), uriEncode(decodeOnce(value), false)] as const;
    });
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/**
 * Signs a request with an `Authorization` header. The headers returned (names lowercase) are the
 * ones to send; `pathAndQuery` is the request line's target.
 *
 * @example
 * ```ts
 * const signed = signRequest({
 *   method: 'HEAD', url: new URL('http://127.0.0.1:9000/firmware/fw-2.bin'), payloadHash: EMPTY_SHA256,
 *   credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' }, region: 'us-east-1', now: Date.now(),
 * })
 * http.request({ method: 'HEAD', host: '127.0.0.1', port: 9000, path: signed.pathAndQuery, headers: signed.headers })
 * ```
 */
export function signRequest(input: SignRequestInput): SignedRequest {
  const { credentials, region } = input;
  const service = input.service ?? 's3';
  checkCredentials(credentials);
  const date = amzDate(input.now);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = value;
  headers['host'] = input.url.host;
  headers['x-amz-date'] = date;
  headers['x-amz-content-sha256'] = input.payloadHash;
  if (credentials.sessionToken !== undefined) headers['x-amz-security-token'] = credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const path = canonicalUri(input.url.pathname);
  const query = canonicalQuery(input.url.search);
  const canonicalRequest = [
    input.method.toUpperCase(),
    path,
    query,
    names.map((name) => `${name}:${canonicalHeaderValue(headers[name]!)}\n`).join(''),
    signedHeaders,
    input.payloadHash,
  ].join('\n');
  const parts = sign(canonicalRequest, date, region, service, credentials.secretAccessKey);
  const authorization = `${SIGV4_ALGORITHM} Credential=${credentials.accessKeyId}/${scopeOf(date, region, service)},SignedHeaders=${signedHeaders},Signature=${parts.signature}`;
  return { ...parts, headers: { ...headers, authorization }, authorization, pathAndQuery: query ? `${path}?${query}` : path };
}

/**
 * A presigned URL: the signature in the query (`X-Amz-Algorithm`, `X-Amz-Credential`,
 * `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders=host`, `X-Amz-Security-Token` with a
 * session token, then `X-Amz-Signature`), valid from `now` for `expiresS` seconds.
 *
 * @example
 * ```ts
 * const { url } = presignUrl({
 *   method: 'GET', url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'), expiresS: 900,
 *   credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' }, region: 'us-east-1', now: Date.now(),
 * })
 * ```
 */
export function presignUrl(input: PresignInput): PresignedUrl {
  const { credentials, region, expiresS } = input;
  const service = input.service ?? 's3';
  checkCredentials(credentials);
  if (!Number.isInteger(expiresS) || expiresS < 1 || expiresS > MAX_PRESIGN_EXPIRES_S) {
    throw new ArgumentError(`Expected \`expiresS\` to be a whole number of seconds from 1 to ${MAX_PRESIGN_EXPIRES_S}, got ${String(expiresS)}`);
  }
  const date = amzDate(input.now);
  const auth: [string, string][] = [
    ['X-Amz-Algorithm', SIGV4_ALGORITHM],
    ['X-Amz-Credential', `${credentials.accessKeyId}/${scopeOf(date, region, service)}`],
    ['X-Amz-Date', date],
    ['X-Amz-Expires', String(expiresS)],
    ['X-Amz-SignedHeaders', 'host'],
  ];
  if (credentials.sessionToken !== undefined) auth.push(['X-Amz-Security-Token', credentials.sessionToken]);
  const existing = input.url.search.startsWith('?') ? input.url.search.slice(1) : input.url.search;
  const search = [existing, ...auth.map(([name, value]) => `${uriEncode(name, false)}=${uriEncode(value, false)}`)].filter(Boolean).join('&');
  const path = canonicalUri(input.url.pathname);
  const query = canonicalQuery(search);
  const canonicalRequest = [input.method.toUpperCase(), path, query, `host:${canonicalHeaderValue(input.url.host)}\n`, 'host', UNSIGNED_PAYLOAD].join('\n');
  const parts = sign(canonicalRequest, date, region, service, credentials.secretAccessKey);
  return { ...parts, url: `${input.url.protocol}//${input.url.host}${path}?${query}&X-Amz-Signature=${parts.signature}` };
}

/** `date/region/service/aws4_request`. */
function scopeOf(date: string, region: string, service: string): string {
  return `${date.slice(0, 8)}/${region}/${service}/aws4_request`;
}

function sign(canonicalRequest: string, date: string, region: string, service: string, secret: string): SigV4Parts {
  const stringToSign = [SIGV4_ALGORITHM, date, scopeOf(date, region, service), sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${secret}`, date.slice(0, 8));
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  return { canonicalRequest, stringToSign, signature: hmac(key, stringToSign).toString('hex') };
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** Leading and trailing white space removed, runs of spaces inside made one. */
function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

function decodeOnce(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ArgumentError(`Expected a well-formed percent-encoded URL part, got ${JSON.stringify(text)}`);
  }
}

function checkCredentials(credentials: AwsCredentials): void {
  if (!credentials.accessKeyId || !credentials.secretAccessKey) throw new ArgumentError('Expected `credentials` with a non-empty accessKeyId and secretAccessKey');
}
