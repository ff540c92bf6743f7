/**
 * The management API of the update server: its own listener (port), for operators, never for
 * devices. Bearer tokens (admin-tokens.ts): role `viewer` reads, `operator` changes; without tokens
 * reading is open and nothing can be changed over HTTP.
 *
 * - `GET /api/campaigns[/ID]` → status JSON; `GET /api/devices[?group=G]`; `GET /api/fleet`;
 *   lists are paged (see {@link parseCampaignPage}, {@link parseDevicePage}): at most 100 campaigns
 *   (the newest) and 1000 devices per answer by default, `x-next-before` / `x-next-after` naming
 *   the next page when there is one;
 * - `POST /api/campaigns` `{ name, group?, envelope (base64), policy? }` → 201 (every payload the
 *   manifest names must be in the artefact store with the manifest's size);
 * - `POST /api/campaigns/ID/pause|resume|halt` `{ reason? }`;
 * - `POST /api/campaigns/ID/rollback` `{ envelope (base64), name? }` → 201;
 * - `POST /api/devices` `{ group, hardware?, devices: [ID…] }` → the devices assigned,
 *   `POST /api/devices/remove` `{ devices }`;
 * - `POST /api/fleet/stop|start`: the fleet-wide kill switch.
 *
 * A campaign id that names no campaign is 404; any other refused input is 400. Every request counts
 * against its client's rate limit (429 with Retry-After), bodies are bounded (413), and refusals and
 * changes are audit records.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SystemClock, type Clock } from '../../sdk/core/clock.js';
import { SensorkitError, ValidationError } from '../../sdk/core/errors.js';
import type { AuditSink } from '../../security/audit/event.js';
import { MAX_ENVELOPE_BYTES, readEnvelopeUnverified } from '../manifest/suit-envelope.js';
import type { AdminIdentity, AdminTokens } from './admin-tokens.js';
import { ArtefactStoreError, type ArtefactStore } from './artefacts/index.js';
import { DatabaseError } from './db/errors.js';
import { authenticateAdmin, clientAddress, jsonError, recordAudit } from './api-auth.js';
import { checkDeviceId, MAX_REASON_LENGTH } from './device-api.js';
import type { UpdateServerApi } from './file-server.js';
import { UnknownCampaignError, type CampaignStatus, type FleetStore } from './fleet-store.js';
import { ClientRateLimiter, type RateLimitOptions } from './rate-limit.js';
import { parseRolloutPolicy } from './rollout/policy.js';

/** Largest management body, bytes: an envelope in base64, a policy and a few fields. */
export const MAX_MANAGEMENT_BYTES = 65_536;
/** Most devices assigned by one request. */
const MAX_DEVICES_PER_REQUEST = 1000;

/** Campaigns in one list answer when `limit` is not given: the newest ones. */
export const DEFAULT_CAMPAIGN_PAGE = 100;
/** Most campaigns one list answer may hold (`limit`). */
export const MAX_CAMPAIGN_PAGE = 1000;
/** Devices in one list answer when `limit` is not given. */
export const DEFAULT_DEVICE_PAGE = 1000;
/** Most devices one list answer may hold (`limit`). */
export const MAX_DEVICE_PAGE = 10_000;

const CAMPAIGN_STATES = ['running', 'paused', 'halted', 'finished'] as const;
type CampaignState = (typeof CAMPAIGN_STATES)[number];

/** Which campaigns a list answer holds: of these states, older than `before`, the newest `limit`. */
export interface CampaignPage {
  readonly states?: readonly CampaignState[];
  readonly before?: number;
  readonly limit: number;
}

/** Which devices a list answer holds: after `after` in id order (code points), the first `limit`. */
export interface DevicePage {
  readonly after?: string;
  readonly limit: number;
}

/** The text of a page's fields, from a query string or command-line flags. */
export interface PageInput {
  readonly state?: string | null | undefined;
  readonly before?: string | null | undefined;
  readonly after?: string | null | undefined;
  readonly limit?: string | null | undefined;
}

/**
 * Reads a campaign page from `state` (comma-separated states), `before` (a campaign id) and
 * `limit` (1–{@link MAX_CAMPAIGN_PAGE}, default {@link DEFAULT_CAMPAIGN_PAGE}); `ValidationError`
 * naming the field otherwise.
 *
 * @example
 * ```ts
 * parseCampaignPage({ state: 'running,paused', limit: '20' }) // { states: ['running', 'paused'], limit: 20 }
 * ```
 */
export function parseCampaignPage(input: PageInput): CampaignPage {
  const limit = pageLimit(input.limit, DEFAULT_CAMPAIGN_PAGE, MAX_CAMPAIGN_PAGE);
  let states: CampaignState[] | undefined;
  if (input.state !== undefined && input.state !== null) {
    states = input.state.split(',').map((state) => {
      if (!(CAMPAIGN_STATES as readonly string[]).includes(state)) throw new ValidationError('state', `expected ${CAMPAIGN_STATES.join(', ')} (comma-separated), got ${JSON.stringify(state.slice(0, 40))}`);
      return state as CampaignState;
    });
  }
  let before: number | undefined;
  if (input.before !== undefined && input.before !== null) {
    if (!/^[1-9][0-9]{0,9}$/.test(input.before)) throw new ValidationError('before', `expected a campaign id, got ${JSON.stringify(input.before.slice(0, 40))}`);
    before = Number(input.before);
  }
  return { ...(states === undefined ? {} : { states }), ...(before === undefined ? {} : { before }), limit };
}

/**
 * Reads a device page from `after` (a device id) and `limit` (1–{@link MAX_DEVICE_PAGE}, default
 * {@link DEFAULT_DEVICE_PAGE}); `ValidationError` naming the field otherwise.
 *
 * @example
 * ```ts
 * parseDevicePage({ after: 'en-1-SN1000', limit: '500' }) // { after: 'en-1-SN1000', limit: 500 }
 * ```
 */
export function parseDevicePage(input: PageInput): DevicePage {
  const limit = pageLimit(input.limit, DEFAULT_DEVICE_PAGE, MAX_DEVICE_PAGE);
  return input.after === undefined || input.after === null ? { limit } : { after: checkDeviceId(input.after, 'after'), limit };
}

function pageLimit(text: string | null | undefined, fallback: number, max: number): number {
  if (text === undefined || text === null) return fallback;
  if (!/^[0-9]{1,9}$/.test(text) || Number(text) < 1 || Number(text) > max) throw new ValidationError('limit', `expected a number from 1 to ${max}, got ${JSON.stringify(text.slice(0, 40))}`);
  return Number(text);
}

/**
 * One page of campaigns, ascending by id: the newest `limit` of the page's states older than
 * `before`; `nextBefore` is the `before` of the next (older) page when there is one.
 *
 * @example
 * ```ts
 * const { campaigns, nextBefore } = pageCampaigns(await store.list(), { limit: 100 })
 * ```
 */
export function pageCampaigns(all: readonly CampaignStatus[], page: CampaignPage): { campaigns: CampaignStatus[]; nextBefore?: number } {
  const matching = all.filter((c) => (page.states === undefined || page.states.includes(c.state)) && (page.before === undefined || c.id < page.before)).sort((a, b) => a.id - b.id);
  const campaigns = matching.slice(Math.max(0, matching.length - page.limit));
  return matching.length > page.limit ? { campaigns, nextBefore: campaigns[0]!.id } : { campaigns };
}

/**
 * One page of devices in id order (code points): the first `limit` after `after`; `nextAfter` is
 * the `after` of the next page when there is one.
 *
 * @example
 * ```ts
 * const { devices, nextAfter } = pageDevices(await store.devices(), { limit: 1000 })
 * ```
 */
export function pageDevices<D extends { id: string }>(all: readonly D[], page: DevicePage): { devices: D[]; nextAfter?: string } {
  const after = page.after;
  const matching = (after === undefined ? [...all] : all.filter((d) => d.id > after)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const devices = matching.slice(0, page.limit);
  return matching.length > page.limit ? { devices, nextAfter: devices.at(-1)!.id } : { devices };
}

/**
 * Reads one page of campaigns from the store: the database returns at most `limit + 1` rows (the
 * extra one tells whether an older page exists).
 *
 * @example
 * ```ts
 * const { campaigns, nextBefore } = await readCampaignPage(store, parseCampaignPage({ state: 'running' }))
 * ```
 */
export async function readCampaignPage(store: Pick<FleetStore, 'list'>, page: CampaignPage): Promise<{ campaigns: CampaignStatus[]; nextBefore?: number }> {
  const rows = await store.list({ ...(page.states === undefined ? {} : { states: page.states }), ...(page.before === undefined ? {} : { before: page.before }), limit: page.limit + 1 });
  return pageCampaigns(rows, page);
}

/**
 * Reads one page of devices (of `group` when given) from the store: the database returns at most
 * `limit + 1` rows.
 *
 * @example
 * ```ts
 * const { devices, nextAfter } = await readDevicePage(store, 'line-3', parseDevicePage({}))
 * ```
 */
export async function readDevicePage(store: Pick<FleetStore, 'devices'>, group: string | undefined, page: DevicePage): Promise<{ devices: { id: string; group: string; hardware: string | null }[]; nextAfter?: string }> {
  const rows = await store.devices({ ...(group === undefined ? {} : { group }), ...(page.after === undefined ? {} : { after: page.after }), limit: page.limit + 1 });
  return pageDevices(rows, page);
}

/** The named query parameters; any other is a `ValidationError`, and so is one given twice. */
function query<K extends string>(url: URL, names: readonly K[]): Partial<Record<K, string>> {
  const result: Partial<Record<K, string>> = {};
  for (const [name, value] of url.searchParams) {
    if (!(names as readonly string[]).includes(name)) throw new ValidationError(name, `unknown query parameter; expected ${names.join(', ')}`);
    if (result[name as K] !== undefined) throw new ValidationError(name, 'given twice');
    result[name as K] = value;
  }
  return result;
}

/** What this instance says about itself in `GET /api/fleet`. */
export interface InstanceInfo {
  /** The instance's name (the scheduler lease holder's name). */
  readonly name: string;
  /** Whether this instance holds the scheduler lease now. */
  holding(): boolean;
}

/** Options of {@link adminApi}. */
export interface AdminApiOptions {
  /** Administrator tokens: reading needs `viewer`, changing `operator`. Default none: reads open, no changes over HTTP. */
  readonly adminTokens?: AdminTokens;
  /** Where refusals and changes are recorded (an `AuditLog`). */
  readonly audit?: AuditSink;
  /** Per-client rate limits. Default 120 a minute, bursts of 60. */
  readonly rateLimit?: RateLimitOptions;
  /** Clock of the rate limits. Default the system clock. */
  readonly clock?: Clock;
  /** Where payloads are checked for when a campaign is created. Default none: not checked. */
  readonly artefacts?: ArtefactStore;
  /** This instance, for `GET /api/fleet`. */
  readonly instance?: InstanceInfo;
}

/**
 * The payload URIs an envelope's manifest names with their signed sizes (every component).
 * Throws `ValidationError` for bytes that are not a SUIT envelope.
 *
 * @example
 * ```ts
 * payloadsOf(envelope) // [{ key: 'fw-2.bin', size: 100000 }]
 * ```
 */
export function payloadsOf(envelope: Uint8Array): { key: string; size: number }[] {
  let manifest;
  try {
    ({ manifest } = readEnvelopeUnverified(envelope));
  } catch (error) {
    throw new ValidationError('envelope', `not a SUIT envelope: ${(error as Error).message}`);
  }
  return (manifest.components ?? [manifest]).filter((c) => c.uri !== undefined).map((c) => ({ key: c.uri!, size: c.imageSize }));
}

/**
 * Checks that every payload the envelope names is in the artefact store with the size the manifest
 * signs; throws `ValidationError` naming the first that is not.
 *
 * @example
 * ```ts
 * await checkPayloads(envelope, openArtefactStore('s3://fw/releases'))
 * ```
 */
export async function checkPayloads(envelope: Uint8Array, artefacts: ArtefactStore): Promise<void> {
  for (const { key, size } of payloadsOf(envelope)) {
    const found = await artefacts.head(key);
    if (found === undefined) throw new ValidationError('envelope', `payload ${key} is not in the ${artefacts.kind} store: upload it first (sensorkit ota campaign create --payload FILE)`);
    if (found.size !== size) throw new ValidationError('envelope', `payload ${key} in the ${artefacts.kind} store has ${found.size} bytes; the manifest signs ${size}`);
  }
}

/** An envelope in base64, bounded and parsed. */
function envelopeField(value: unknown): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) throw new ValidationError('envelope', 'expected the envelope in base64');
  const envelope = new Uint8Array(Buffer.from(value, 'base64'));
  if (envelope.length > MAX_ENVELOPE_BYTES) throw new ValidationError('envelope', `expected at most ${MAX_ENVELOPE_BYTES} bytes, got ${envelope.length}`);
  payloadsOf(envelope);
  return envelope;
}

function reasonField(value: unknown, fallback: string): string {
  const reason = value === undefined ? fallback : value;
  if (typeof reason !== 'string' || reason.length > MAX_REASON_LENGTH) throw new ValidationError('reason', `expected text of at most ${MAX_REASON_LENGTH} characters`);
  return reason;
}

type Change = 'create' | 'pause' | 'resume' | 'halt' | 'rollback' | 'assign' | 'unassign' | 'stop' | 'start';
type Route =
  | { kind: 'read'; what: 'campaigns' | 'campaign' | 'devices' | 'fleet'; id?: number }
  | { kind: 'change'; what: Change; id?: number }
  | { kind: 'unknown' };

function routeOf(method: string, path: string): Route {
  if (method === 'GET' && path === '/api/campaigns') return { kind: 'read', what: 'campaigns' };
  if (method === 'GET' && path === '/api/devices') return { kind: 'read', what: 'devices' };
  if (method === 'GET' && path === '/api/fleet') return { kind: 'read', what: 'fleet' };
  if (method === 'POST' && path === '/api/campaigns') return { kind: 'change', what: 'create' };
  if (method === 'POST' && path === '/api/devices') return { kind: 'change', what: 'assign' };
  if (method === 'POST' && path === '/api/devices/remove') return { kind: 'change', what: 'unassign' };
  if (method === 'POST' && (path === '/api/fleet/stop' || path === '/api/fleet/start')) return { kind: 'change', what: path.endsWith('stop') ? 'stop' : 'start' };
  const campaign = /^\/api\/campaigns\/(\d{1,15})(?:\/(pause|resume|halt|rollback))?$/.exec(path);
  if (campaign) {
    const id = Number(campaign[1]);
    if (method === 'GET' && campaign[2] === undefined) return { kind: 'read', what: 'campaign', id };
    if (method === 'POST' && campaign[2] !== undefined) return { kind: 'change', what: campaign[2] as Change, id };
  }
  return { kind: 'unknown' };
}

/** Whether `error` is the store's refusal of campaign `id` because there is no such campaign. */
function isUnknownCampaign(error: unknown, id: number | undefined): boolean {
  return id !== undefined && error instanceof UnknownCampaignError && error.campaignId === id;
}

function parseJson(body: Buffer): Record<string, unknown> {
  const value = (body.length === 0 ? {} : JSON.parse(body.toString('utf8'))) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError('body', 'expected a JSON object');
  return value as Record<string, unknown>;
}

/**
 * The management listener's handler, for {@link startUpdateServer}'s `api` option (without `dir`).
 *
 * @example
 * ```ts
 * const tokens = await AdminTokens.load('ota-admin-tokens.json')
 * await startUpdateServer({ port: 8081, api: adminApi(store, { adminTokens: tokens, audit: auditLog, artefacts }) })
 * ```
 */
export function adminApi(store: FleetStore, options: AdminApiOptions = {}): UpdateServerApi {
  const limiter = new ClientRateLimiter(options.clock ?? new SystemClock(), options.rateLimit);
  const admins = new WeakMap<IncomingMessage, AdminIdentity>();
  const pathOf = (request: IncomingMessage): string => new URL(request.url ?? '/', 'http://x').pathname;

  const screen = async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    const wait = limiter.take(clientAddress(request));
    if (wait > 0) {
      jsonError(response, 429, 'too many requests', { 'retry-after': String(Math.ceil(wait / 1000)) });
      return true;
    }
    const route = routeOf(request.method ?? '', pathOf(request));
    if (route.kind === 'unknown') return false;
    const source = `ota-server ${clientAddress(request)}`;
    if (options.adminTokens === undefined) {
      if (route.kind === 'read') return false;
      recordAudit(options.audit, { category: 'ota', event: 'ota.api.forbidden', result: 'denied', source, actor: 'anonymous', detail: { path: pathOf(request), reason: 'no administrator tokens configured' } });
      jsonError(response, 403, 'campaign changes over HTTP need administrator tokens (sensorkit ota serve --admin-tokens FILE)');
      return true;
    }
    const admin = await authenticateAdmin(request, response, { tokens: options.adminTokens, needed: route.kind === 'read' ? 'viewer' : 'operator', audit: options.audit });
    if (admin === undefined) return true;
    admins.set(request, admin);
    return false;
  };

  const handler = async (request: IncomingMessage, response: ServerResponse, body: Buffer): Promise<boolean> => {
    const json = (status: number, value: unknown, headers: Record<string, string> = {}): void => void response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(`${JSON.stringify(value)}\n`);
    const route = routeOf(request.method ?? '', pathOf(request));
    const url = new URL(request.url ?? '/', 'http://x');
    const actor = admins.get(request)?.name ?? 'anonymous';
    const changed = (event: string, detail: Record<string, unknown>): void =>
      recordAudit(options.audit, { category: 'ota', event, result: 'success', source: `ota-server ${clientAddress(request)}`, actor, detail });
    try {
      switch (route.kind) {
        case 'read':
          if (route.what === 'campaigns') {
            const page = parseCampaignPage(query(url, ['state', 'before', 'limit']));
            const { campaigns, nextBefore } = await readCampaignPage(store, page);
            json(200, campaigns, nextBefore === undefined ? {} : { 'x-next-before': String(nextBefore) });
          } else if (route.what === 'campaign') json(200, await store.status(route.id!));
          else if (route.what === 'fleet') json(200, { offersStopped: await store.offersStopped(), ...(options.instance ? { instance: options.instance.name, scheduling: options.instance.holding() } : {}) });
          else {
            const { group, ...rest } = query(url, ['group', 'after', 'limit']);
            const page = parseDevicePage(rest);
            const { devices, nextAfter } = await readDevicePage(store, group === undefined ? undefined : checkDeviceId(group, 'group'), page);
            json(200, devices, nextAfter === undefined ? {} : { 'x-next-after': nextAfter });
          }
          return true;
        case 'change':
          await change(route, parseJson(body), json, changed, actor);
          return true;
        case 'unknown':
          jsonError(response, 404, 'no such API');
          return true;
      }
    } catch (error) {
      if (error instanceof SyntaxError) return void jsonError(response, 400, error.message), true;
      // The database or the store failing is not a bad request: the listener answers 503.
      if (!(error instanceof SensorkitError) || error instanceof DatabaseError || error instanceof ArtefactStoreError) throw error;
      jsonError(response, route.kind !== 'unknown' && isUnknownCampaign(error, route.id) ? 404 : 400, error.message);
    }
    return true;
  };

  const change = async (
    route: Extract<Route, { kind: 'change' }>,
    body: Record<string, unknown>,
    json: (status: number, value: unknown) => void,
    changed: (event: string, detail: Record<string, unknown>) => void,
    actor: string,
  ): Promise<void> => {
    const deviceList = (value: unknown): string[] => {
      if (!Array.isArray(value) || value.length === 0 || value.length > MAX_DEVICES_PER_REQUEST) throw new ValidationError('devices', `expected a list of 1 to ${MAX_DEVICES_PER_REQUEST} device ids`);
      return value.map((id, i) => checkDeviceId(id, `devices[${i}]`));
    };
    const id = route.id!;
    switch (route.what) {
      case 'create': {
        const envelope = envelopeField(body.envelope);
        if (typeof body.name !== 'string' || body.name.trim() === '' || body.name.length > 200) throw new ValidationError('name', 'expected a name of 1 to 200 characters');
        const group = body.group === undefined ? undefined : checkDeviceId(body.group, 'group');
        const policy = parseRolloutPolicy(body.policy ?? {});
        if (options.artefacts) await checkPayloads(envelope, options.artefacts);
        const status = await store.createCampaign({ name: body.name, envelope, policy, ...(group === undefined ? {} : { group }), actor });
        changed('ota.campaign.created', { campaign: status.id, name: body.name, targeted: status.targeted });
        return json(201, status);
      }
      case 'rollback': {
        const envelope = envelopeField(body.envelope);
        if (body.name !== undefined && (typeof body.name !== 'string' || body.name.trim() === '' || body.name.length > 200)) throw new ValidationError('name', 'expected a name of 1 to 200 characters');
        if (options.artefacts) await checkPayloads(envelope, options.artefacts);
        const status = await store.createRollback(id, { envelope, actor, ...(typeof body.name === 'string' ? { name: body.name } : {}) });
        changed('ota.campaign.rollback', { campaign: status.id, rollbackOf: id });
        return json(201, status);
      }
      case 'pause':
        json(200, await store.pause(id, reasonField(body.reason, 'paused over the API'), actor));
        return changed('ota.campaign.paused', { campaign: id });
      case 'resume':
        json(200, await store.resume(id, actor));
        return changed('ota.campaign.resumed', { campaign: id });
      case 'halt': {
        const reason = reasonField(body.reason, 'halted over the API');
        json(200, await store.halt(id, reason, actor));
        return changed('ota.campaign.halted', { campaign: id, reason });
      }
      case 'assign': {
        const group = checkDeviceId(body.group, 'group');
        const hardware = body.hardware === undefined ? undefined : checkDeviceId(body.hardware, 'hardware');
        const ids = deviceList(body.devices);
        await store.assign(group, ids, hardware === undefined ? {} : { hardware });
        changed('ota.devices.assigned', { group, devices: ids.length, ...(hardware === undefined ? {} : { hardware }) });
        // The devices of this request only (≤ MAX_DEVICES_PER_REQUEST), not the whole group.
        return json(200, await store.devices({ ids }));
      }
      case 'unassign': {
        const ids = deviceList(body.devices);
        await store.unassign(ids);
        changed('ota.devices.removed', { devices: ids.length });
        return json(200, { removed: ids.length });
      }
      case 'stop':
      case 'start':
        await store.setOffersStopped(route.what === 'stop', actor);
        changed(route.what === 'stop' ? 'ota.fleet.stopped' : 'ota.fleet.started', {});
        return json(200, { offersStopped: route.what === 'stop' });
    }
  };

  return Object.assign(handler, {
    screen,
    bodyLimit: (request: IncomingMessage): number => (routeOf(request.method ?? '', pathOf(request)).kind === 'change' ? MAX_MANAGEMENT_BYTES : 1024),
  });
}
