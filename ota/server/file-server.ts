/**
 * The update server's HTTP side: serves envelopes and images from one directory with strong ETags
 * (SHA-256 of the content), single byte ranges (RFC 9110 §14) and `If-Range` (§13.1.5), so devices
 * resume interrupted downloads; plus an optional handler for an API (the device API and the
 * management API are each such a handler on a listener of their own, without a directory). HTTP,
 * or HTTPS with a certificate. Binds 127.0.0.1 by default. Paths are confined to the directory.
 *
 * By default only what is signed for is served: the envelopes (`*.suit`) in the directory, and the
 * files their manifests name by URI whose size and SHA-256 match the manifest. Anything else (a key,
 * a database, `/etc/shadow` when the directory is `/`) is 404, whatever its name.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';
import { MAX_ENVELOPE_BYTES, readEnvelopeUnverified } from '../manifest/suit-envelope.js';

/** Options of {@link startUpdateServer}. */
export interface UpdateServerOptions {
  /** Directory whose files are served. Default none: only the `api` answers, anything else is 404. */
  readonly dir?: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (a free port). */
  readonly port?: number;
  /**
   * Serve HTTPS (TLS 1.2 at least) with this certificate and key (PEM). With `clientCa`, clients
   * are asked for a certificate and those chaining to it are verified (mutual TLS); whether a
   * request needs one is the API's decision (devices do, administrators use tokens).
   */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer; readonly clientCa?: string | Buffer };
  /**
   * What is served: `'signed'` (default) the envelopes and the payloads they sign (by URI, size and
   * SHA-256); `'any'` every regular file in the directory except dot files, keys and databases.
   */
  readonly files?: 'signed' | 'any';
  /** Handles a request first; resolves true when it answered (the device or the management API). */
  readonly api?: UpdateServerApi;
  /** Told of a request that failed inside the server (answered 503 without detail). */
  readonly onError?: (error: unknown) => void;
}

/**
 * A request handler mounted before the files: resolves true when it answered. `screen`, when
 * given, sees the request before its body is read (to refuse it: rate limits, authentication);
 * `bodyLimit` bounds the body of each request (413 above it; default 1 MiB).
 */
export interface UpdateServerApi {
  (request: IncomingMessage, response: ServerResponse, body: Buffer): Promise<boolean> | boolean;
  screen?: (request: IncomingMessage, response: ServerResponse) => Promise<boolean> | boolean;
  bodyLimit?: (request: IncomingMessage) => number;
}

/** Largest request body read by default, bytes. */
const MAX_BODY_BYTES = 1_048_576;

/** A running server. */
export interface UpdateServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

interface CachedTag {
  readonly size: number;
  readonly mtimeMs: number;
  readonly etag: string;
  /** SHA-256 of the content. */
  readonly digest: Buffer;
}

/** What the envelopes in the directory sign, by request path (`/fw-2.bin`). */
type SignedIndex = Map<string, { readonly size: number; readonly digest: Buffer }[]>;

/** Most directory entries looked at for envelopes, and how deep. */
const MAX_INDEX_ENTRIES = 10_000;
const MAX_INDEX_DEPTH = 4;

/**
 * Starts the server.
 *
 * @example
 * ```ts
 * const server = await startUpdateServer({ dir: 'dist/ota' })
 * console.log(server.url) // http://127.0.0.1:40123/
 * ```
 */
export async function startUpdateServer(options: UpdateServerOptions): Promise<UpdateServer> {
  const root = options.dir === undefined ? undefined : normalize(options.dir);
  const signedOnly = (options.files ?? 'signed') === 'signed';
  const tags = new FileTags();
  let signed: SignedIndex = new Map();
  const realRoot = realpath(root ?? '/');
  realRoot.catch(() => undefined);
  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    void handle(request, response).catch((error: unknown) => {
      // A failure below the API (the database went away) is not the client's business: no detail.
      options.onError?.(error);
      if (!response.headersSent) response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '30' });
      response.end(`${JSON.stringify({ error: 'the update server cannot answer now; try again later' })}\n`);
    });
  };
  const tls = options.tls;
  const server: Server = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2', ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false }) }, listener)
    : createServer(listener);

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // A refused request's body is never read (node discards it once the answer is sent).
    if (options.api?.screen && (await options.api.screen(request, response))) return;
    const limit = options.api?.bodyLimit?.(request) ?? MAX_BODY_BYTES;
    const tooLarge = (): void => {
      // Close the connection: the rest of the body is never read, so the socket cannot be reused.
      response.writeHead(413, { connection: 'close', 'content-type': 'application/json' }).end(`${JSON.stringify({ error: `a request body is at most ${limit} bytes here` })}\n`);
    };
    if (Number(request.headers['content-length'] ?? 0) > limit) return tooLarge();
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > limit) return tooLarge();
      chunks.push(chunk);
    }
    if (options.api && (await options.api(request, response, Buffer.concat(chunks)))) return;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    } catch {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('bad percent-encoding in the path\n');
      return;
    }
    const file = root === undefined ? undefined : await confined(path, root);
    let info;
    try {
      info = file === undefined ? undefined : await stat(file);
    } catch {
      info = undefined;
    }
    if (file === undefined || info === undefined || !info.isFile() || (signedOnly && !(await isSignedFor(path, file, info.size, info.mtimeMs)))) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    await sendFile(request, response, file, { size: info.size, mtimeMs: info.mtimeMs }, tags);
  }

  /**
   * The real path of a request path when it stays inside the served directory, else undefined: no
   * `..`, no NUL, no dot files, nothing that looks like a key or a database (a signing key or the
   * campaign database left beside the images must not be served), and no
   * symlink that leads out of the directory (checked on the resolved path, not the spelling).
   */
  async function confined(path: string, root: string): Promise<string | undefined> {
    if (path.includes('\0') || path.split('/').some((segment) => segment.startsWith('.')) || PRIVATE_FILE.test(path)) return undefined;
    const file = normalize(join(root, path));
    if (!inside(file, root)) return undefined;
    try {
      const real = await realpath(file);
      return inside(real, await realRoot) ? real : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Whether a file may be served in `'signed'` mode: an envelope that parses (signature not
   * checked: devices do that), or a file some envelope names by URI with this size and digest.
   * The index is rebuilt when a path is not in it, so newly published envelopes count at once.
   */
  async function isSignedFor(path: string, file: string, size: number, mtimeMs: number): Promise<boolean> {
    if (path.endsWith('.suit')) {
      if (size > MAX_ENVELOPE_BYTES) return false;
      try {
        readEnvelopeUnverified(await readSmall(file));
        return true;
      } catch {
        return false;
      }
    }
    const key = normalize(`/${path}`);
    if (!signed.has(key)) signed = await indexEnvelopes(root!);
    const wanted = signed.get(key);
    if (wanted === undefined || !wanted.some((w) => w.size === size)) return false;
    const { digest } = await tags.of(file, size, mtimeMs);
    return wanted.some((w) => w.size === size && w.digest.equals(digest));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${address.port}/`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Strong ETags of files (SHA-256 of the content), computed once per size and modification time.
 *
 * @example
 * ```ts
 * const tags = new FileTags()
 * const { etag } = await tags.of('fw.bin', info.size, info.mtimeMs) // '"q3…"'
 * ```
 */
export class FileTags {
  readonly #cache = new Map<string, CachedTag>();
  /** Files remembered at most (the oldest is forgotten first). */
  readonly #max: number;

  constructor(max = 10_000) {
    this.#max = max;
  }

  /** The tag and digest of `file` with this size and modification time. */
  async of(file: string, size: number, mtimeMs: number): Promise<{ etag: string; digest: Buffer }> {
    const cached = this.#cache.get(file);
    if (cached && cached.size === size && cached.mtimeMs === mtimeMs) return cached;
    const hash = createHash('sha256');
    const handle = await open(file, 'r');
    try {
      for await (const chunk of handle.createReadStream()) hash.update(chunk as Buffer);
    } finally {
      await handle.close();
    }
    const digest = hash.digest();
    const tag = { size, mtimeMs, digest, etag: `"${digest.toString('base64url').slice(0, 22)}"` };
    if (this.#cache.size >= this.#max) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(file, tag);
    return tag;
  }
}

/**
 * Answers a GET or HEAD with a file: a strong ETag, one byte range (RFC 9110 §14.1.2) honoured
 * under `If-Range` (§13.1.5), 416 for a range beyond the end. The caller has checked that the file
 * may be served.
 *
 * @example
 * ```ts
 * const info = await stat(file)
 * await sendFile(request, response, file, info, tags)
 * ```
 */
export async function sendFile(request: IncomingMessage, response: ServerResponse, file: string, info: { readonly size: number; readonly mtimeMs: number }, tags: FileTags): Promise<void> {
  const { etag } = await tags.of(file, info.size, info.mtimeMs);
  const range = parseRange(request.headers.range, info.size);
  const ifRange = request.headers['if-range'];
  const useRange = range !== undefined && (ifRange === undefined || ifRange === etag);
  const headers: Record<string, string | number> = { etag, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
  if (range === 'unsatisfiable' && (ifRange === undefined || ifRange === etag)) {
    response.writeHead(416, { ...headers, 'content-range': `bytes */${info.size}` }).end();
    return;
  }
  if (useRange && range !== 'unsatisfiable') {
    response.writeHead(206, { ...headers, 'content-length': range.end - range.start + 1, 'content-range': `bytes ${range.start}-${range.end}/${info.size}` });
    if (request.method === 'HEAD') return void response.end();
    createReadStream(file, { start: range.start, end: range.end }).pipe(response);
    return;
  }
  response.writeHead(200, { ...headers, 'content-length': info.size });
  if (request.method === 'HEAD') return void response.end();
  createReadStream(file).pipe(response);
}

/** Reads an envelope-sized file. */
async function readSmall(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(MAX_ENVELOPE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * The request paths the envelopes under `root` sign for (their URIs resolved against the server's
 * root, as devices resolve them against the base URL), with size and digest. Dot folders are
 * skipped; the walk is bounded in entries and depth.
 */
async function indexEnvelopes(root: string): Promise<SignedIndex> {
  const index: SignedIndex = new Map();
  let seen = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (++seen > MAX_INDEX_ENTRIES || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory() && depth < MAX_INDEX_DEPTH) await walk(path, depth + 1);
      if (!entry.isFile() || !entry.name.endsWith('.suit')) continue;
      try {
        const { manifest } = readEnvelopeUnverified(await readSmall(path));
        // Every image a manifest fetches is served: a manifest may carry several components.
        for (const image of manifest.components ?? [manifest]) {
          if (image.uri === undefined) continue;
          const key = normalize(decodeURIComponent(new URL(image.uri, 'http://x/').pathname));
          index.set(key, [...(index.get(key) ?? []), { size: image.imageSize, digest: Buffer.from(image.imageDigest) }]);
        }
      } catch {
        // Not an envelope this server can read: it signs nothing.
      }
    }
  };
  await walk(root, 0);
  return index;
}

/** One byte range `bytes=a-b`, `a-` or `-n` (RFC 9110 §14.1.2); multiple ranges are served whole. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** Files never served even inside the directory: private keys and SQLite databases. */
const PRIVATE_FILE = /\.(pem|key|p8|db|sqlite|sqlite3)$|\.(db|sqlite)-(wal|shm|journal)$/i;

function inside(file: string, root: string): boolean {
  return file === root || file.startsWith(root.endsWith(sep) ? root : root + sep);
}
