/**
 * The campaign API over HTTP, mounted on the update server.
 *
 * Device endpoints (with `deviceCertificates`, only for a verified client certificate whose CN or
 * subjectAltName is the device id of the request):
 * - `GET /api/offer?device=ID` → 200 with the envelope (`application/suit-envelope+cbor`,
 *   header `x-campaign`), or 204 when nothing is offered. A `group` parameter (sent by older
 *   agents) is checked for form and otherwise ignored: the operator assigns groups;
 * - `POST /api/report` with JSON `{ campaign, device, state, reason? }` → the campaign's status;
 *   400 for a device that was not offered that campaign.
 *
 * Management endpoints (with `adminTokens`: a bearer token of role `viewer` to read, `operator` to
 * change; without tokens reading is open and nothing can be changed over HTTP):
 * - `GET /api/campaigns`, `GET /api/campaigns/ID` → status JSON; `GET /api/devices[?group=G]`;
 * - `POST /api/campaigns` `{ name, group, envelope (base64), percent?, failureThreshold?, minReports? }` → 201;
 * - `POST /api/campaigns/ID/percent` `{ percent }`, `POST /api/campaigns/ID/halt` `{ reason? }`;
 * - `POST /api/devices` `{ group, devices: [ID…] }`, `POST /api/devices/remove` `{ devices: [ID…] }`.
 *
 * Every API request counts against its client's rate limit (429 with Retry-After), bodies are
 * bounded (413), and refusals and changes are audit records.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SystemClock, type Clock } from '../../sdk/core/clock.js';
import { ValidationError } from '../../sdk/core/errors.js';
import type { AuditSink } from '../../security/audit/event.js';
import { MAX_ENVELOPE_BYTES, readEnvelopeUnverified } from '../manifest/suit-envelope.js';
import type { AdminIdentity, AdminTokens } from './admin-tokens.js';
import { authenticateAdmin, clientAddress, deviceIdentityOf, jsonError, recordAudit, type DeviceCertificateIdentity } from './api-auth.js';
import type { CampaignStore, DeviceUpdateState } from './campaign-store.js';
import type { UpdateServerApi } from './file-server.js';
import { ClientRateLimiter, type RateLimitOptions } from './rate-limit.js';

/** Largest report body, bytes: a report is a few dozen. */
export const MAX_REPORT_BYTES = 4096;
/** Largest management body, bytes: an envelope in base64 and a few fields. */
export const MAX_MANAGEMENT_BYTES = 65_536;
/** Longest failure reason kept. */
const MAX_REASON_LENGTH = 512;
/** Most devices assigned by one request. */
const MAX_DEVICES_PER_REQUEST = 1000;

/** Options of {@link campaignApi}. */
export interface CampaignApiOptions {
  /** Administrator tokens: reading needs `viewer`, changing `operator`. Default none: reads open, no changes over HTTP. */
  readonly adminTokens?: AdminTokens;
  /**
   * Require devices to present a client certificate (the server must be HTTPS with a client CA):
   * offer and report only for the device ids the certificate names. Default false.
   */
  readonly deviceCertificates?: boolean;
  /** Where refusals and changes are recorded (an `AuditLog`). */
  readonly audit?: AuditSink;
  /** Per-client rate limits of API requests. Default 120 a minute, bursts of 60. */
  readonly rateLimit?: RateLimitOptions;
  /** Clock of the rate limits. Default the system clock. */
  readonly clock?: Clock;
}

/** A device id or group: 1–128 of letters, digits and `._:-` (no control characters, no paths). */
function identifier(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(value)) throw new ValidationError(name, 'expected 1–128 letters, digits or ._:-');
  return value;
}

type Route =
  | { kind: 'offer' | 'report' }
  | { kind: 'read'; what: 'campaigns' | 'campaign' | 'devices'; id?: number }
  | { kind: 'change'; what: 'create' | 'percent' | 'halt' | 'assign' | 'unassign'; id?: number }
  | { kind: 'unknown' };

function routeOf(method: string, path: string): Route {
  if (method === 'GET' && path === '/api/offer') return { kind: 'offer' };
  if (method === 'POST' && path === '/api/report') return { kind: 'report' };
  if (method === 'GET' && path === '/api/campaigns') return { kind: 'read', what: 'campaigns' };
  if (method === 'GET' && path === '/api/devices') return { kind: 'read', what: 'devices' };
  if (method === 'POST' && path === '/api/campaigns') return { kind: 'change', what: 'create' };
  if (method === 'POST' && path === '/api/devices') return { kind: 'change', what: 'assign' };
  if (method === 'POST' && path === '/api/devices/remove') return { kind: 'change', what: 'unassign' };
  const campaign = /^\/api\/campaigns\/(\d{1,15})(?:\/(percent|halt))?$/.exec(path);
  if (campaign) {
    const id = Number(campaign[1]);
    if (method === 'GET' && campaign[2] === undefined) return { kind: 'read', what: 'campaign', id };
    if (method === 'POST' && campaign[2] !== undefined) return { kind: 'change', what: campaign[2] as 'percent' | 'halt', id };
  }
  return { kind: 'unknown' };
}

function parseJson(body: Buffer): Record<string, unknown> {
  const value = JSON.parse(body.toString('utf8')) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError('body', 'expected a JSON object');
  return value as Record<string, unknown>;
}

/**
 * A request handler for {@link startUpdateServer}'s `api` option.
 *
 * @example
 * ```ts
 * const tokens = await AdminTokens.load('ota-admin-tokens.json')
 * await startUpdateServer({ dir, api: campaignApi(store, { adminTokens: tokens, audit: auditLog }) })
 * ```
 */
export function campaignApi(store: CampaignStore, options: CampaignApiOptions = {}): UpdateServerApi {
  const limiter = new ClientRateLimiter(options.clock ?? new SystemClock(), options.rateLimit);
  const admins = new WeakMap<IncomingMessage, AdminIdentity>();
  const devices = new WeakMap<IncomingMessage, DeviceCertificateIdentity>();
  const pathOf = (request: IncomingMessage): string => new URL(request.url ?? '/', 'http://x').pathname;
  const isApi = (request: IncomingMessage): boolean => pathOf(request).startsWith('/api/');

  const screen = async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    if (!isApi(request)) return false;
    const wait = limiter.take(clientAddress(request));
    if (wait > 0) {
      jsonError(response, 429, 'too many requests', { 'retry-after': String(Math.ceil(wait / 1000)) });
      return true;
    }
    const route = routeOf(request.method ?? '', pathOf(request));
    const source = `ota-server ${clientAddress(request)}`;
    if (route.kind === 'offer' || route.kind === 'report') {
      if (!options.deviceCertificates) return false;
      const device = deviceIdentityOf(request);
      if (device === undefined) {
        recordAudit(options.audit, { category: 'certificate', event: 'ota.device.certificate', result: 'denied', source, actor: 'anonymous', detail: { path: pathOf(request), reason: 'no verified client certificate' } });
        jsonError(response, 401, 'a device certificate is required');
        return true;
      }
      devices.set(request, device);
      return false;
    }
    if (route.kind === 'read' || route.kind === 'change') {
      if (options.adminTokens === undefined) {
        if (route.kind === 'read') return false;
        recordAudit(options.audit, { category: 'ota', event: 'ota.api.forbidden', result: 'denied', source, actor: 'anonymous', detail: { path: pathOf(request), reason: 'no administrator tokens configured' } });
        jsonError(response, 403, 'campaign changes over HTTP need administrator tokens (sensorkit ota serve --admin-tokens FILE)');
        return true;
      }
      const admin = await authenticateAdmin(request, response, { tokens: options.adminTokens, needed: route.kind === 'read' ? 'viewer' : 'operator', audit: options.audit });
      if (admin === undefined) return true;
      admins.set(request, admin);
    }
    return false;
  };

  const handler = (request: IncomingMessage, response: ServerResponse, body: Buffer): boolean => {
    if (!isApi(request)) return false;
    const json = (status: number, value: unknown): void => void response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(value)}\n`);
    const route = routeOf(request.method ?? '', pathOf(request));
    const url = new URL(request.url ?? '/', 'http://x');
    const device = devices.get(request);
    const admin = admins.get(request);
    const source = `ota-server ${clientAddress(request)}`;
    const speaksFor = (id: string): boolean => {
      if (device === undefined || device.names.includes(id)) return true;
      recordAudit(options.audit, { category: 'certificate', event: 'ota.device.identity', result: 'denied', source, actor: device.names[0] ?? device.fingerprint, detail: { device: id, path: url.pathname } });
      jsonError(response, 403, `the client certificate does not name device ${id}`);
      return false;
    };
    const changed = (event: string, detail: Record<string, unknown>): void =>
      recordAudit(options.audit, { category: 'ota', event, result: 'success', source, actor: admin?.name ?? 'anonymous', detail });
    try {
      switch (route.kind) {
        case 'offer': {
          const id = identifier(url.searchParams.get('device'), 'device');
          if (url.searchParams.has('group')) identifier(url.searchParams.get('group'), 'group');
          if (!speaksFor(id)) return true;
          const offer = store.offerFor(id);
          if (offer === undefined) response.writeHead(204).end();
          else response.writeHead(200, { 'content-type': 'application/suit-envelope+cbor', 'x-campaign': String(offer.campaignId) }).end(Buffer.from(offer.envelope));
          return true;
        }
        case 'report': {
          if (body.length > MAX_REPORT_BYTES) return void jsonError(response, 413, `a report is at most ${MAX_REPORT_BYTES} bytes`), true;
          const report = JSON.parse(body.toString('utf8')) as { campaign?: unknown; device?: unknown; state?: unknown; reason?: unknown } | null;
          if (typeof report !== 'object' || report === null || Array.isArray(report) || !Number.isSafeInteger(report.campaign) || (report.campaign as number) < 1 || typeof report.state !== 'string') {
            throw new ValidationError('body', 'expected { campaign: integer from 1, device: string, state: string, reason?: string }');
          }
          const id = identifier(report.device, 'device');
          if (report.reason !== undefined && (typeof report.reason !== 'string' || report.reason.length > MAX_REASON_LENGTH)) {
            throw new ValidationError('reason', `expected text of at most ${MAX_REASON_LENGTH} characters`);
          }
          if (!speaksFor(id)) return true;
          json(200, store.report(report.campaign as number, id, report.state as DeviceUpdateState, report.reason));
          return true;
        }
        case 'read':
          if (route.what === 'campaigns') json(200, store.list());
          else if (route.what === 'campaign') json(200, store.status(route.id!));
          else json(200, store.devices(url.searchParams.has('group') ? identifier(url.searchParams.get('group'), 'group') : undefined));
          return true;
        case 'change':
          return change(route, parseJson(body), json, changed);
        case 'unknown':
          jsonError(response, 404, 'no such API');
          return true;
      }
    } catch (error) {
      jsonError(response, 400, error instanceof ValidationError || error instanceof SyntaxError ? error.message : 'bad request');
    }
    return true;
  };

  const change = (route: Extract<Route, { kind: 'change' }>, body: Record<string, unknown>, json: (status: number, value: unknown) => void, changed: (event: string, detail: Record<string, unknown>) => void): boolean => {
    const deviceList = (value: unknown): string[] => {
      if (!Array.isArray(value) || value.length === 0 || value.length > MAX_DEVICES_PER_REQUEST) throw new ValidationError('devices', `expected a list of 1 to ${MAX_DEVICES_PER_REQUEST} device ids`);
      return value.map((id, i) => identifier(id, `devices[${i}]`));
    };
    switch (route.what) {
      case 'create': {
        if (typeof body.envelope !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(body.envelope)) throw new ValidationError('envelope', 'expected the envelope in base64');
        const envelope = Buffer.from(body.envelope, 'base64');
        if (envelope.length > MAX_ENVELOPE_BYTES) throw new ValidationError('envelope', `expected at most ${MAX_ENVELOPE_BYTES} bytes, got ${envelope.length}`);
        try {
          readEnvelopeUnverified(envelope);
        } catch (error) {
          throw new ValidationError('envelope', `not a SUIT envelope: ${(error as Error).message}`);
        }
        if (typeof body.name !== 'string' || body.name.length > 200) throw new ValidationError('name', 'expected a name of at most 200 characters');
        const numberOrUndefined = (name: string): number | undefined => {
          const value = body[name];
          if (value !== undefined && typeof value !== 'number') throw new ValidationError(name, 'expected a number');
          return value;
        };
        const percent = numberOrUndefined('percent');
        const failureThreshold = numberOrUndefined('failureThreshold');
        const minReports = numberOrUndefined('minReports');
        const id = store.create({
          name: body.name,
          group: identifier(body.group, 'group'),
          envelope,
          ...(percent === undefined ? {} : { percent }),
          ...(failureThreshold === undefined ? {} : { failureThreshold }),
          ...(minReports === undefined ? {} : { minReports }),
        });
        changed('ota.campaign.created', { campaign: id, name: body.name, group: body.group, percent: percent ?? 100 });
        json(201, store.status(id));
        return true;
      }
      case 'percent': {
        if (typeof body.percent !== 'number') throw new ValidationError('percent', 'expected an integer from 0 to 100');
        store.setPercent(route.id!, body.percent);
        changed('ota.campaign.percent', { campaign: route.id, percent: body.percent });
        json(200, store.status(route.id!));
        return true;
      }
      case 'halt': {
        const reason = body.reason === undefined ? 'halted over the API' : body.reason;
        if (typeof reason !== 'string' || reason.length > MAX_REASON_LENGTH) throw new ValidationError('reason', `expected text of at most ${MAX_REASON_LENGTH} characters`);
        store.halt(route.id!, reason);
        changed('ota.campaign.halted', { campaign: route.id, reason });
        json(200, store.status(route.id!));
        return true;
      }
      case 'assign': {
        const group = identifier(body.group, 'group');
        const ids = deviceList(body.devices);
        store.assign(group, ids);
        changed('ota.devices.assigned', { group, devices: ids.length });
        json(200, store.devices(group));
        return true;
      }
      case 'unassign': {
        const ids = deviceList(body.devices);
        store.unassign(ids);
        changed('ota.devices.removed', { devices: ids.length });
        json(200, { removed: ids.length });
        return true;
      }
    }
  };

  return Object.assign(handler, {
    screen,
    bodyLimit: (request: IncomingMessage): number => {
      const route = routeOf(request.method ?? '', pathOf(request));
      return route.kind === 'report' ? MAX_REPORT_BYTES : route.kind === 'change' ? MAX_MANAGEMENT_BYTES : 1024;
    },
  });
}
