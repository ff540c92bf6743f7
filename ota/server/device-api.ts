/**
 * The device API of the update server: the listener devices face (the plant network). Nothing here
 * changes a campaign except a device's own report.
 *
 * - `GET /api/offer?device=ID` (`If-None-Match` honoured): one `FleetStore.offerFor` lookup. 200
 *   JSON `{ campaign, envelope (base64), sequence, payloads: { uri: URL }, pollAfterS,
 *   downloadAfterS }` with the assignment's `ETag`; 204 with `ETag: "none"` when nothing is offered
 *   (or the kill switch is on); 304 when the tag still matches. Every answer carries
 *   `x-poll-after` (seconds): the campaign's poll interval with ±20 % jitter from a hash of device
 *   and tag, so a retry gets the same value and a fleet does not poll in step.
 * - `POST /api/report` `{ campaign, device, state, reason?, failure? }` → 200 `{ ok: true }`; 400 for a
 *   device that was never offered the campaign (nothing changes).
 * - `GET /files/<key>` (a folder store only): a payload a running or paused campaign's manifest
 *   names, with ETag and byte ranges, from its real path in the folder (not through a symbolic link
 *   that leads out of it). From S3 the offer carries presigned URLs instead: payloads
 *   never pass through the server.
 *
 * Download slots: each 200 offer gets `downloadAfterS`, the device's slot of the campaign's
 * `downloadSlotsPerMinute` (`FleetStore.claimDownloadSlot`): claimed in the database, so starts are
 * spaced `60 / rate` s apart across every instance sharing it, and a device asking again keeps its
 * slot. Rounded up to 0.1 s, so no device starts before its slot.
 *
 * Presigned links: a payload URL from an S3 store is signed for the wait until the device's slot
 * plus `presignTtlS` (the time a download may take), at most 7 days, so a device that obeys its
 * slot never starts with a dead link. The answer's ETag then names the offer and when its links
 * expire, `"<offer>~<epoch seconds>"`: a poll with that tag is 304 only while the offer is the same
 * and its links have at least half of `presignTtlS` left. After that the poll is a 200 with new
 * links and a new tag, so a device holding links about to expire is never kept on them by 304. The
 * poll jitter is drawn from the offer's part of the tag, so new links do not move it. A folder
 * store's `/files/` URLs do not expire: the tag is the offer's alone.
 *
 * With `deviceCertificates`, a device must present a verified client certificate naming the device
 * id it asks or reports for (mutual TLS). Requests count against the client's rate limit (429 with
 * `Retry-After`), bodies are bounded (413), and refusals are audit records.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SystemClock, type Clock } from '../../sdk/core/clock.js';
import { ArgumentError, StateError, ValidationError } from '../../sdk/core/errors.js';
import { steadyNow } from '../../sdk/core/wall-clock-watch.js';
import type { AuditSink } from '../../security/audit/event.js';
import { FolderArtefactStore, MAX_PRESIGN_EXPIRES_S, type ArtefactStore } from './artefacts/index.js';
import { clientAddress, deviceIdentityOf, jsonError, recordAudit, type DeviceCertificateIdentity } from './api-auth.js';
import { FileTags, sendFile, type UpdateServerApi } from './file-server.js';
import { NO_OFFER_ETAG, type FleetStore } from './fleet-store.js';
import { ClientRateLimiter, type RateLimitOptions } from './rate-limit.js';

/** Largest report body, bytes: a report is a few dozen. */
export const MAX_REPORT_BYTES = 4096;
/** Longest failure reason kept. */
export const MAX_REASON_LENGTH = 512;
/** Share of the poll interval the server adds or takes away per device. */
const JITTER = 0.2;
/** How long the list of servable payload keys is trusted, ms. */
const KEYS_TTL_MS = 2000;
const FAILURE_TYPES = ['download', 'verify', 'install', 'health', 'timeout', 'other'] as const;

/** Options of {@link deviceApi}. */
export interface DeviceApiOptions {
  /** Require a verified client certificate naming the device (mutual TLS). Default false. */
  readonly deviceCertificates?: boolean;
  /** Where refusals are recorded. */
  readonly audit?: AuditSink;
  /** Per-client rate limits. Default 120 a minute, bursts of 60. */
  readonly rateLimit?: RateLimitOptions;
  /** Clock of the rate limits and of the cached list of servable payloads. Default the system clock. */
  readonly clock?: Clock;
  /** Poll interval answered when nothing is offered, seconds. Default 300. */
  readonly idlePollIntervalS?: number;
  /**
   * How long a presigned payload URL lasts past the device's download slot, whole seconds (the
   * time a download may take): a URL is signed for the wait until the slot plus this, at most
   * 604,800 (7 days, the longest S3 allows). Default 3600.
   */
  readonly presignTtlS?: number;
  /** Base of this listener's `/files/` URLs when the request's Host cannot be used (e.g. `http://127.0.0.1:8080/`). */
  readonly baseUrl?: string;
}

/**
 * A device id, group or hardware revision as the APIs accept it: 1–128 of letters, digits and
 * `._:-` (no control characters, no paths). Throws `ValidationError` naming the field otherwise.
 *
 * @example
 * ```ts
 * checkDeviceId('en-1-SN1', 'device') // 'en-1-SN1'
 * checkDeviceId('../x', 'device')     // ValidationError
 * ```
 */
export function checkDeviceId(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(value)) throw new ValidationError(name, 'expected 1–128 letters, digits or ._:-');
  return value;
}

/**
 * The jittered poll interval of a device, seconds (one decimal): `interval × (1 ± 0.2)` from a hash
 * of device id and tag, so the same poll answered twice gets the same value.
 *
 * @example
 * ```ts
 * pollAfterS(300, 'en-1-SN1', '"c3-v2"') // e.g. 287.4, always the same for these arguments
 * ```
 */
export function pollAfterS(intervalS: number, deviceId: string, etag: string): number {
  const u = createHash('sha256').update(`${deviceId}\0${etag}`).digest().readUInt32BE(0) / 0x1_0000_0000;
  return Math.round(intervalS * (1 + JITTER * (2 * u - 1)) * 10) / 10;
}

type Route = 'offer' | 'report' | 'file' | 'unknown';

function routeOf(method: string, path: string): Route {
  if (method === 'GET' && path === '/api/offer') return 'offer';
  if (method === 'POST' && path === '/api/report') return 'report';
  if ((method === 'GET' || method === 'HEAD') && path.startsWith('/files/')) return 'file';
  return 'unknown';
}

/**
 * The device listener's handler, for {@link startUpdateServer}'s `api` option (without `dir`).
 *
 * @example
 * ```ts
 * const store = await FleetStore.open(await openDatabase('ota-db'), clock)
 * const artefacts = openArtefactStore('ota-artefacts')
 * await startUpdateServer({ port: 8080, api: deviceApi(store, artefacts) })
 * ```
 */
export function deviceApi(store: FleetStore, artefacts: ArtefactStore | undefined, options: DeviceApiOptions = {}): UpdateServerApi {
  const clock = options.clock ?? new SystemClock();
  const limiter = new ClientRateLimiter(clock, options.rateLimit);
  const devices = new WeakMap<IncomingMessage, DeviceCertificateIdentity>();
  const tags = new FileTags();
  const idleS = options.idlePollIntervalS ?? 300;
  const presignTtlS = options.presignTtlS ?? 3600;
  if (!(Number.isInteger(presignTtlS) && presignTtlS >= 1 && presignTtlS <= MAX_PRESIGN_EXPIRES_S)) {
    throw new ArgumentError(`Expected \`presignTtlS\` to be a whole number of seconds from 1 to ${MAX_PRESIGN_EXPIRES_S}, got ${String(presignTtlS)}`);
  }
  // Links are renewed once less than this is left of them, seconds.
  const renewS = Math.ceil(presignTtlS / 2);
  let keys: { at: number; set: Set<string> } | undefined;
  // A folder store's files are served here; an S3 store's are fetched by devices from presigned URLs.
  const folder = artefacts instanceof FolderArtefactStore ? artefacts : undefined;
  const pathOf = (request: IncomingMessage): string => new URL(request.url ?? '/', 'http://x').pathname;

  /** Seconds until the device may start downloading, from its slot in the database (rounded up to 0.1 s). */
  const downloadAfterS = async (campaignId: number, deviceId: string): Promise<number> => {
    const ms = Math.round((await store.claimDownloadSlot(campaignId, deviceId)) * 1000);
    return Math.ceil(ms / 100) / 10;
  };

  const baseOf = (request: IncomingMessage): string => {
    const host = request.headers.host;
    if (host !== undefined && /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/.test(host)) {
      const tls = typeof (request.socket as { encrypted?: boolean }).encrypted === 'boolean';
      return `${tls ? 'https' : 'http'}://${host}/`;
    }
    return options.baseUrl ?? 'http://127.0.0.1/';
  };

  /**
   * The payload URLs of an offer whose download may start in `waitS` seconds: presigned ones are
   * valid for the wait plus `presignTtlS`. `expiresAt` (epoch seconds) when any of them expires.
   */
  const payloadUrls = async (request: IncomingMessage, payloadKeys: readonly string[], waitS: number): Promise<{ urls: Record<string, string>; expiresAt: number | undefined }> => {
    const ttlS = Math.min(MAX_PRESIGN_EXPIRES_S, Math.ceil(waitS) + presignTtlS);
    // A presigned URL is valid from its signing second on: the store signs at this time or later.
    const expiresAt = Math.floor(clock.now() / 1000) + ttlS;
    const urls: Record<string, string> = {};
    let presignedAny = false;
    for (const key of payloadKeys) {
      const presigned = artefacts === undefined ? undefined : await artefacts.presignGet(key, ttlS);
      presignedAny ||= presigned !== undefined;
      urls[key] = presigned ?? `${baseOf(request)}files/${key.split('/').map(encodeURIComponent).join('/')}`;
    }
    return { urls, expiresAt: presignedAny ? expiresAt : undefined };
  };

  /**
   * Whether the tag a device sent still stands for `offerTag`: the same tag, when its links do not
   * expire; or the offer's tag with links that still have `renewS` seconds left.
   */
  const stillCurrent = (sent: string | string[] | undefined, offerTag: string, expiring: boolean): boolean => {
    if (typeof sent !== 'string') return false;
    if (sent === `"${offerTag}"`) return !expiring;
    if (!expiring) return false;
    const match = /^"([^"~]*)~(\d{1,12})"$/.exec(sent);
    return match !== null && match[1] === offerTag && Number(match[2]) - clock.now() / 1000 >= renewS;
  };

  /** Whether a running or paused campaign names `key` (several instances agree: read from the store). */
  const servable = async (key: string): Promise<boolean> => {
    // Steady time: a wall-time step back must not keep a stale list for as long as the step.
    const now = steadyNow(clock);
    const fresh = keys !== undefined && now - keys.at < KEYS_TTL_MS;
    if (fresh && keys!.set.has(key)) return true;
    // A miss re-reads at most once a second: a flood of made-up keys costs one query a second.
    if (keys !== undefined && now - keys.at < 1000) return false;
    keys = { at: now, set: new Set(await store.servablePayloadKeys()) };
    return keys.set.has(key);
  };

  const screen = (request: IncomingMessage, response: ServerResponse): boolean => {
    const route = routeOf(request.method ?? '', pathOf(request));
    if (route === 'unknown') return false;
    if (route !== 'file') {
      const wait = limiter.take(clientAddress(request));
      if (wait > 0) {
        jsonError(response, 429, 'too many requests', { 'retry-after': String(Math.ceil(wait / 1000)) });
        return true;
      }
    }
    if (!options.deviceCertificates) return false;
    const device = deviceIdentityOf(request);
    if (device === undefined) {
      recordAudit(options.audit, { category: 'certificate', event: 'ota.device.certificate', result: 'denied', source: `ota-server ${clientAddress(request)}`, actor: 'anonymous', detail: { path: pathOf(request), reason: 'no verified client certificate' } });
      jsonError(response, 401, 'a device certificate is required');
      return true;
    }
    devices.set(request, device);
    return false;
  };

  const handler = async (request: IncomingMessage, response: ServerResponse, body: Buffer): Promise<boolean> => {
    const route = routeOf(request.method ?? '', pathOf(request));
    const url = new URL(request.url ?? '/', 'http://x');
    const device = devices.get(request);
    const speaksFor = (id: string): boolean => {
      if (device === undefined || device.names.includes(id)) return true;
      recordAudit(options.audit, { category: 'certificate', event: 'ota.device.identity', result: 'denied', source: `ota-server ${clientAddress(request)}`, actor: device.names[0] ?? device.fingerprint, detail: { device: id, path: url.pathname } });
      jsonError(response, 403, `the client certificate does not name device ${id}`);
      return false;
    };
    try {
      switch (route) {
        case 'offer': {
          const id = checkDeviceId(url.searchParams.get('device'), 'device');
          // Older agents send their group: checked for form, never used (the operator assigns groups).
          if (url.searchParams.has('group')) checkDeviceId(url.searchParams.get('group'), 'group');
          if (!speaksFor(id)) return true;
          const offer = await store.offerFor(id);
          const offerTag = offer === undefined ? NO_OFFER_ETAG : offer.etag;
          const pollAfter = pollAfterS(offer?.pollIntervalS ?? idleS, id, `"${offerTag}"`);
          const headers = (etag: string): Record<string, string> => ({ etag, 'x-poll-after': String(pollAfter), 'cache-control': 'no-cache' });
          const sent = request.headers['if-none-match'];
          // Links from a store other than this server's folder expire: their tag must say until when.
          const expiring = offer !== undefined && offer.payloadKeys.length > 0 && artefacts !== undefined && folder === undefined;
          if (stillCurrent(sent, offerTag, expiring)) return void response.writeHead(304, headers(sent as string)).end(), true;
          if (offer === undefined) return void response.writeHead(204, headers(`"${offerTag}"`)).end(), true;
          const wait = await downloadAfterS(offer.campaignId, id);
          const { urls, expiresAt } = await payloadUrls(request, offer.payloadKeys, wait);
          const answer = {
            campaign: offer.campaignId,
            envelope: Buffer.from(offer.envelope).toString('base64'),
            sequence: offer.sequence,
            payloads: urls,
            pollAfterS: pollAfter,
            downloadAfterS: wait,
          };
          const etag = expiresAt === undefined ? `"${offerTag}"` : `"${offerTag}~${expiresAt}"`;
          response.writeHead(200, { ...headers(etag), 'content-type': 'application/json' }).end(`${JSON.stringify(answer)}\n`);
          return true;
        }
        case 'report': {
          if (body.length > MAX_REPORT_BYTES) return void jsonError(response, 413, `a report is at most ${MAX_REPORT_BYTES} bytes`), true;
          const report = JSON.parse(body.toString('utf8')) as { campaign?: unknown; device?: unknown; state?: unknown; reason?: unknown; failure?: unknown } | null;
          if (typeof report !== 'object' || report === null || Array.isArray(report) || !Number.isSafeInteger(report.campaign) || (report.campaign as number) < 1 || typeof report.state !== 'string') {
            throw new ValidationError('body', 'expected { campaign: integer from 1, device: string, state: string, reason?: string, failure?: string }');
          }
          const id = checkDeviceId(report.device, 'device');
          if (report.reason !== undefined && (typeof report.reason !== 'string' || report.reason.length > MAX_REASON_LENGTH)) {
            throw new ValidationError('reason', `expected text of at most ${MAX_REASON_LENGTH} characters`);
          }
          if (report.failure !== undefined && !(FAILURE_TYPES as readonly unknown[]).includes(report.failure)) {
            throw new ValidationError('failure', `expected one of ${FAILURE_TYPES.join(', ')}`);
          }
          if (!speaksFor(id)) return true;
          const detail = { ...(report.reason === undefined ? {} : { reason: report.reason as string }), ...(report.failure === undefined ? {} : { failure: report.failure as (typeof FAILURE_TYPES)[number] }) };
          await store.report(report.campaign as number, id, report.state as Parameters<FleetStore['report']>[2], detail);
          response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}\n');
          return true;
        }
        case 'file':
          await serveFile(request, response, url.pathname.slice('/files/'.length));
          return true;
        case 'unknown':
          jsonError(response, 404, 'no such API');
          return true;
      }
    } catch (error) {
      // Input refused: 400 with the reason. Anything else (the database) is the listener's 503.
      if (!(error instanceof ValidationError || error instanceof SyntaxError || error instanceof StateError)) throw error;
      jsonError(response, 400, error.message);
    }
    return true;
  };

  const serveFile = async (request: IncomingMessage, response: ServerResponse, encoded: string): Promise<void> => {
    const notFound = (): void => void response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    if (folder === undefined) return notFound();
    let key: string;
    try {
      key = decodeURIComponent(encoded);
    } catch {
      return void response.writeHead(400, { 'content-type': 'text/plain' }).end('bad percent-encoding in the path\n');
    }
    if (key === '' || key.includes('\0') || key.includes('\\') || key.split('/').some((segment) => segment === '' || segment.startsWith('.'))) return notFound();
    if (!(await servable(key))) return notFound();
    let file: string | undefined;
    let info;
    try {
      // The real path, in the folder: a symbolic link that leads out of it (or nowhere) is refused.
      file = await folder.realPathOf(key);
      if (file === undefined) return notFound();
      info = await stat(file);
    } catch {
      return notFound();
    }
    if (!info.isFile()) return notFound();
    await sendFile(request, response, file, info, tags);
  };

  return Object.assign(handler, {
    screen,
    bodyLimit: (request: IncomingMessage): number => (routeOf(request.method ?? '', pathOf(request)) === 'report' ? MAX_REPORT_BYTES : 1024),
  });
}
