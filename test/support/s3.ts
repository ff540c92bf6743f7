/**
 * An S3-compatible server for tests: s3rver on 127.0.0.1, a free port, a temporary directory and
 * one bucket, with a Signature Version 4 check in front of it.
 *
 * Why the check: s3rver 3.7 checks that the access key id exists, that a presigned URL has not
 * expired and that a request's date is within 15 minutes, but it does not verify V4 signatures
 * (its source calls that calculation unimplemented), so a wrong secret would pass. The check below
 * recomputes each signature from the request as received (written apart from the store's signer,
 * from the published algorithm, and itself tested against the AWS documentation's examples in
 * test/unit/ota-sigv4.test.ts) and answers 403 `SignatureDoesNotMatch` as S3 does; an unsigned
 * request gets 403 `AccessDenied` (a private bucket). A second key pair may only read.
 */
import { createHmac, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer: Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;
interface S3rverAccount {
  createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  revokeAccessKey(accessKeyId: string): void;
}

/** A running test S3 server. */
export interface TestS3 {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** A key pair that may GET and HEAD but not PUT or DELETE (403 AccessDenied). */
  readonly readOnly: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The environment `openArtefactStore` reads: endpoint, region and the read-write key pair. */
  readonly env: Record<string, string>;
  /** Requests refused by the signature check, by S3 error code. */
  readonly refused: Record<string, number>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts s3rver with `bucket` (default `artefacts`) and returns where it is and its credentials.
 *
 * @example
 * ```ts
 * const s3 = track(await startTestS3())
 * const store = openArtefactStore(`s3://${s3.bucket}/fw`, s3.env)
 * ```
 */
export async function startTestS3(options: { bucket?: string } = {}): Promise<TestS3> {
  const bucket = options.bucket ?? 'artefacts';
  const directory = await mkdtemp(join(tmpdir(), 'sensorkit-s3-'));
  const S3rver = require('s3rver') as S3rverConstructor;
  const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account.js') as { DUMMY_ACCOUNT: S3rverAccount };
  const tag = randomBytes(6).toString('hex').toUpperCase();
  const writer = { accessKeyId: `AKIATEST${tag}`, secretAccessKey: randomBytes(30).toString('base64') };
  const reader = { accessKeyId: `AKIAREAD${tag}`, secretAccessKey: randomBytes(30).toString('base64') };
  DUMMY_ACCOUNT.createKeyPair(writer.accessKeyId, writer.secretAccessKey);
  DUMMY_ACCOUNT.createKeyPair(reader.accessKeyId, reader.secretAccessKey);
  const secrets = new Map([
    [writer.accessKeyId, writer.secretAccessKey],
    [reader.accessKeyId, reader.secretAccessKey],
  ]);
  const readOnlyIds = new Set([reader.accessKeyId]);

  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const address = await s3rver.run();
  const server = s3rver.httpServer;
  const handlers = server.listeners('request') as ((request: IncomingMessage, response: ServerResponse) => void)[];
  server.removeAllListeners('request');
  const refused: Record<string, number> = {};
  const refuse = (response: ServerResponse, request: IncomingMessage, code: string, message: string): void => {
    refused[code] = (refused[code] ?? 0) + 1;
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
    response.writeHead(403, { 'content-type': 'application/xml', connection: 'close', 'content-length': Buffer.byteLength(body) });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
  const pass = (request: IncomingMessage, response: ServerResponse): void => {
    for (const handler of handlers) handler(request, response);
  };
  const screen = (request: IncomingMessage, response: ServerResponse): boolean => {
    const verdict = verifySigV4(request, secrets);
    if (verdict.refuse) {
      refuse(response, request, verdict.refuse, verdict.message);
      return false;
    }
    if (verdict.accessKeyId && readOnlyIds.has(verdict.accessKeyId) && request.method !== 'GET' && request.method !== 'HEAD') {
      refuse(response, request, 'AccessDenied', 'Access Denied');
      return false;
    }
    return true;
  };
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (screen(request, response)) pass(request, response);
  });
  // Expect: 100-continue: refuse before the body is sent, as S3 does.
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    if (!screen(request, response)) return;
    response.writeContinue();
    pass(request, response);
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    server.closeAllConnections();
    await s3rver.close();
    DUMMY_ACCOUNT.revokeAccessKey(writer.accessKeyId);
    DUMMY_ACCOUNT.revokeAccessKey(reader.accessKeyId);
    await rm(directory, { recursive: true, force: true });
  };
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    bucket,
    accessKeyId: writer.accessKeyId,
    secretAccessKey: writer.secretAccessKey,
    readOnly: reader,
    env: { SENSORKIT_S3_ENDPOINT: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: writer.accessKeyId, AWS_SECRET_ACCESS_KEY: writer.secretAccessKey },
    refused,
    stop,
    close: stop,
  };
}

/** The signature check's answer: `refuse` is the S3 error code to answer with, when it fails. */
export interface Verdict {
  readonly refuse?: 'SignatureDoesNotMatch' | 'AccessDenied' | 'AuthorizationHeaderMalformed';
  readonly message: string;
  /** The key that signed, when the signature holds or the key is unknown (s3rver refuses unknown keys itself). */
  readonly accessKeyId?: string;
}

/** What the signature check reads of a request. */
export interface ReceivedRequest {
  readonly method?: string | undefined;
  /** The request target as received: path and query, still percent-encoded. */
  readonly url?: string | undefined;
  /** Lowercase names, as Node gives them. */
  readonly headers: IncomingHttpHeaders;
}

/**
 * Recomputes a request's V4 signature (header or query form) with the secret of the access key
 * it names, and compares it. Exported so the check itself is tested against the AWS examples.
 *
 * @example
 * ```ts
 * verifySigV4({ method: 'GET', url: '/test.txt', headers }, new Map([[keyId, secret]])).refuse // undefined when it holds
 * ```
 */
export function verifySigV4(request: ReceivedRequest, secrets: ReadonlyMap<string, string>): Verdict {
  const target = request.url ?? '/';
  const queryAt = target.indexOf('?');
  const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
  const rawQuery = queryAt < 0 ? '' : target.slice(queryAt + 1);
  const params = rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? [decode(pair), ''] : [decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))];
    }) as [string, string][];
  const query = new Map(params);
  const authorization = request.headers['authorization'];

  let accessKeyId: string, scope: string, amzDate: string, signedHeaders: string, signature: string, payloadHash: string;
  let signedParams = params;
  if (typeof authorization === 'string' && authorization.startsWith('AWS4-HMAC-SHA256 ')) {
    const fields = new Map(
      authorization
        .slice('AWS4-HMAC-SHA256 '.length)
        .split(',')
        .map((field) => field.trim().split('=') as [string, string]),
    );
    const credential = fields.get('Credential');
    if (!credential || !fields.get('SignedHeaders') || !fields.get('Signature')) return { refuse: 'AuthorizationHeaderMalformed', message: 'malformed Authorization' };
    [accessKeyId, scope] = splitCredential(credential);
    signedHeaders = fields.get('SignedHeaders')!;
    signature = fields.get('Signature')!;
    amzDate = String(request.headers['x-amz-date'] ?? '');
    payloadHash = String(request.headers['x-amz-content-sha256'] ?? '');
  } else if (query.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256') {
    [accessKeyId, scope] = splitCredential(query.get('X-Amz-Credential') ?? '');
    signedHeaders = query.get('X-Amz-SignedHeaders') ?? '';
    signature = query.get('X-Amz-Signature') ?? '';
    amzDate = query.get('X-Amz-Date') ?? '';
    payloadHash = 'UNSIGNED-PAYLOAD';
    signedParams = params.filter(([name]) => name !== 'X-Amz-Signature');
  } else {
    return { refuse: 'AccessDenied', message: 'Access Denied' };
  }
  const secret = secrets.get(accessKeyId);
  if (secret === undefined) return { accessKeyId, message: 'unknown key' };
  if (!signedHeaders.split(';').includes('host')) return { refuse: 'AccessDenied', message: 'host must be signed' };

  const canonicalPath = rawPath.split('/').map((segment) => encode(decode(segment))).join('/');
  const canonicalParams = signedParams
    .map(([name, value]) => [encode(name), encode(value)] as const)
    .sort(([an, av], [bn, bv]) => (an === bn ? (av < bv ? -1 : av > bv ? 1 : 0) : an < bn ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((name) => `${name}:${String(request.headers[name] ?? '').trim().replace(/ +/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [request.method, canonicalPath, canonicalParams, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const [day, region, service] = scope.split('/');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  let key = createHmac('sha256', `AWS4${secret}`).update(day ?? '').digest();
  for (const part of [region ?? '', service ?? '', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { refuse: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' };
  }
  return { accessKeyId, message: 'ok' };
}

function splitCredential(credential: string): [string, string] {
  const slash = credential.indexOf('/');
  return slash < 0 ? [credential, ''] : [credential.slice(0, slash), credential.slice(slash + 1)];
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Every UTF-8 byte but A-Z a-z 0-9 - . _ ~ as %XX. */
function encode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
