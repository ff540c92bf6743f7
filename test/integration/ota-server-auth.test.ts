/**
 * The update server's two APIs authenticated: administrators by bearer tokens with roles (stored as
 * scrypt hashes), devices by mutual TLS identity; refusals are 401/403 JSON with audit records, no
 * unauthenticated campaign change; bodies bounded (413) and clients rate-limited (429).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import type { AuditEvent } from '../../security/audit/event.js';
import { verifyAuditLog } from '../../security/audit-log.js';
import { CampaignClient } from '../../ota/agent/campaign-client.js';
import { adminApi, type AdminApiOptions } from '../../ota/server/admin-api.js';
import { AdminTokens } from '../../ota/server/admin-tokens.js';
import { openDatabase } from '../../ota/server/db/sql.js';
import { deviceApi, type DeviceApiOptions } from '../../ota/server/device-api.js';
import { FleetStore } from '../../ota/server/fleet-store.js';
import { ClientRateLimiter } from '../../ota/server/rate-limit.js';
import { parseRolloutPolicy } from '../../ota/server/rollout/policy.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import { startUpdateServer, type UpdateServer } from '../../ota/server/file-server.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/sensorkit.js`;
const key = makeKey();
const image = makeImage(1000, 3);
const envelope = envelopeFor(image, 5, key);
let dir: string;
let tokens: AdminTokens;
let viewer: string;
let operator: string;
const running: { servers: UpdateServer[]; store: FleetStore }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-auth-'));
  await mkdir(join(dir, 'served'));
  tokens = await AdminTokens.load(join(dir, 'tokens.json'));
  viewer = (await tokens.create('victor', 'viewer')).token;
  operator = (await tokens.create('olga', 'operator')).token;
});
afterEach(async () => {
  for (const { servers, store } of running.splice(0)) {
    for (const server of servers) await server.close();
    await store.close();
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Tls = { cert: Buffer; key: Buffer; clientCa?: Buffer };

/** The two listeners on a FleetStore in memory: `url` the device API, `admin` the management API. */
async function serve(options: { admin?: AdminApiOptions; device?: DeviceApiOptions; clock?: VirtualClock } = {}, tls?: Tls): Promise<{ url: string; admin: string; store: FleetStore }> {
  const clock = options.clock ?? new VirtualClock();
  const store = await FleetStore.open(await openDatabase(undefined), clock);
  const device = await startUpdateServer({ api: deviceApi(store, undefined, { clock, ...options.device }), ...(tls ? { tls } : {}) });
  const admin = await startUpdateServer({ api: adminApi(store, { clock, ...options.admin }), ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}) });
  running.push({ servers: [device, admin], store });
  return { url: device.url, admin: admin.url, store };
}

/** A campaign for line-3, its first (only) wave released. */
async function campaign(store: FleetStore, devices: string[]): Promise<number> {
  await store.assign('line-3', devices);
  return (await store.createCampaign({ name: 'fw 5', group: 'line-3', envelope, policy: parseRolloutPolicy({}) })).id;
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
const campaignBody = (extra: Record<string, unknown> = {}): string => JSON.stringify({ name: 'fw 5', group: 'line-3', envelope: Buffer.from(envelope).toString('base64'), ...extra });

/** The secret part of `skota_<16 hex>_<secret>` (base64url: it may itself hold `_`). */
const secretOf = (token: string): string => token.slice('skota_'.length + 17);

describe('administrator tokens', () => {
  it('are stored as scrypt hashes in an owner-only file, shown once, and verify only as issued', async () => {
    const file = join(dir, 'tokens.json');
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(secretOf(viewer));
    expect(JSON.parse(text).tokens[0].scrypt).toMatchObject({ N: 16384, r: 8, p: 1 });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const reloaded = await AdminTokens.load(file);
    expect(await reloaded.verify(operator)).toMatchObject({ name: 'olga', role: 'operator' });
    expect(await reloaded.verify(`${operator.slice(0, -1)}${operator.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(await reloaded.verify('skota_0000000000000000_' + 'a'.repeat(43))).toBeUndefined();
    expect(await reloaded.verify('not a token')).toBeUndefined();
  });
});

describe('management API with administrator tokens', () => {
  it('refuses an unauthenticated campaign change with 401 JSON and an audit record; changes nothing', async () => {
    const events: AuditEvent[] = [];
    const { admin: url, store } = await serve({ admin: { adminTokens: tokens, audit: { record: (event) => void events.push(event) } } });
    const none = await fetch(`${url}api/campaigns`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: campaignBody() });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm="sensorkit-ota"/);
    expect(await none.json()).toEqual({ error: 'an administrator token is required (Authorization: Bearer TOKEN)' });
    const forged = await fetch(`${url}api/campaigns`, { method: 'POST', headers: bearer('skota_0123456789abcdef_' + 'x'.repeat(43)), body: campaignBody() });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toEqual({ error: 'invalid administrator token' });
    expect((await fetch(`${url}api/campaigns`)).status).toBe(401);
    expect(await store.list()).toEqual([]);
    expect(events).toMatchObject([
      { category: 'login', event: 'ota.api.login', result: 'denied', actor: 'anonymous', detail: { method: 'POST', path: '/api/campaigns', reason: 'no token' } },
      { category: 'login', event: 'ota.api.login', result: 'denied', actor: 'unknown-token', detail: { reason: 'invalid token' } },
      { category: 'login', event: 'ota.api.login', result: 'denied', detail: { method: 'GET' } },
    ]);
    expect(events[0]!.source).toMatch(/^ota-server 127\.0\.0\.1$/);
  });

  it('lets a viewer read but not change (403), and an operator create, pause, halt campaigns, assign devices and stop the fleet', async () => {
    const events: AuditEvent[] = [];
    const { admin: url, store } = await serve({ admin: { adminTokens: tokens, audit: { record: (event) => void events.push(event) } } });
    const denied = await fetch(`${url}api/campaigns`, { method: 'POST', headers: bearer(viewer), body: campaignBody() });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toEqual({ error: 'role viewer may not do this; it needs operator' });
    expect(events.at(-1)).toMatchObject({ category: 'ota', event: 'ota.api.forbidden', result: 'denied', actor: 'victor' });
    expect((await fetch(`${url}api/fleet/stop`, { method: 'POST', headers: bearer(viewer) })).status).toBe(403);
    expect(await store.list()).toEqual([]);

    const assigned = await fetch(`${url}api/devices`, { method: 'POST', headers: bearer(operator), body: JSON.stringify({ group: 'line-3', hardware: 'revB', devices: ['en-1-SN1', 'en-1-SN2'] }) });
    expect(await assigned.json()).toEqual([
      { id: 'en-1-SN1', group: 'line-3', hardware: 'revB' },
      { id: 'en-1-SN2', group: 'line-3', hardware: 'revB' },
    ]);
    const created = await fetch(`${url}api/campaigns`, { method: 'POST', headers: bearer(operator), body: campaignBody({ policy: { waves: [50, 50] } }) });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    expect(await store.status(id)).toMatchObject({ name: 'fw 5', waves: [50, 50], targeted: 2, state: 'running' });
    expect((await fetch(`${url}api/campaigns/${id}/pause`, { method: 'POST', headers: bearer(operator), body: '{"reason":"look first"}' })).status).toBe(200);
    expect((await fetch(`${url}api/campaigns/${id}/halt`, { method: 'POST', headers: bearer(operator), body: '{"reason":"bad batch"}' })).status).toBe(200);
    expect((await fetch(`${url}api/fleet/stop`, { method: 'POST', headers: bearer(operator) })).status).toBe(200);
    const read = await fetch(`${url}api/campaigns/${id}`, { headers: bearer(viewer) });
    expect(await read.json()).toMatchObject({ id, state: 'halted', reason: 'bad batch' });
    expect(events.filter((e) => e.result === 'success').map((e) => [e.event, e.actor])).toEqual([
      ['ota.devices.assigned', 'olga'],
      ['ota.campaign.created', 'olga'],
      ['ota.campaign.paused', 'olga'],
      ['ota.campaign.halted', 'olga'],
      ['ota.fleet.stopped', 'olga'],
    ]);
  });

  it('refuses an envelope that is not one, and bad fields or policies, with 400', async () => {
    const { admin: url, store } = await serve({ admin: { adminTokens: tokens } });
    const post = (body: string): Promise<Response> => fetch(`${url}api/campaigns`, { method: 'POST', headers: bearer(operator), body });
    expect((await post(JSON.stringify({ name: 'x', group: 'g', envelope: Buffer.from('not cbor').toString('base64') }))).status).toBe(400);
    expect((await post(campaignBody({ group: '../etc' }))).status).toBe(400);
    const policy = await post(campaignBody({ policy: { errorThreshold: 2 } }));
    expect(policy.status).toBe(400);
    expect(((await policy.json()) as { error: string }).error).toMatch(/errorThreshold/);
    expect((await post('[1,2]')).status).toBe(400);
    expect(await store.list()).toEqual([]);
  });

  it('takes a token revoked or created in the file by another process at the next request, without a restart', async () => {
    const file = join(dir, 'live-tokens.json');
    const served = await AdminTokens.load(file);
    const first = (await served.create('first', 'viewer')).token;
    const { admin: url } = await serve({ admin: { adminTokens: served } });
    expect((await fetch(`${url}api/campaigns`, { headers: bearer(first) })).status).toBe(200);
    const elsewhere = await AdminTokens.load(file);
    const second = (await elsewhere.create('second', 'viewer')).token;
    expect(await elsewhere.revoke('first')).toBe(1);
    expect((await fetch(`${url}api/campaigns`, { headers: bearer(first) })).status).toBe(401);
    expect((await fetch(`${url}api/campaigns`, { headers: bearer(second) })).status).toBe(200);
  });

  it('without tokens keeps reads open and refuses every change over HTTP (403)', async () => {
    const events: AuditEvent[] = [];
    const { admin: url, store } = await serve({ admin: { audit: { record: (event) => void events.push(event) } } });
    expect((await fetch(`${url}api/campaigns`)).status).toBe(200);
    const changes = ['api/campaigns', 'api/campaigns/1/halt', 'api/campaigns/1/pause', 'api/campaigns/1/resume', 'api/campaigns/1/rollback', 'api/devices', 'api/devices/remove', 'api/fleet/stop', 'api/fleet/start'];
    for (const path of changes) {
      const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: campaignBody() });
      expect(response.status, path).toBe(403);
    }
    expect(await store.list()).toEqual([]);
    expect(events).toHaveLength(changes.length);
    expect(events.every((e) => e.result === 'denied')).toBe(true);
  });
});

describe('limits', () => {
  it('refuses a body above the route limit with 413 before reading it', async () => {
    const { url, admin, store } = await serve({ admin: { adminTokens: tokens } });
    const big = await fetch(`${admin}api/campaigns`, { method: 'POST', headers: bearer(operator), body: campaignBody({ pad: 'x'.repeat(70_000) }) });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ error: 'a request body is at most 65536 bytes here' });
    const report = await fetch(`${url}api/report`, { method: 'POST', body: 'x'.repeat(5000) });
    expect(report.status).toBe(413);
    expect(await store.list()).toEqual([]);
  });

  it('rate-limits each client: 429 with Retry-After past the burst, allowed again as the bucket refills', async () => {
    const clock = new VirtualClock();
    const { url, admin } = await serve({ clock, device: { rateLimit: { perMinute: 60, burst: 5 } }, admin: { rateLimit: { perMinute: 60, burst: 2 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await fetch(`${url}api/offer?device=d${i}`)).status);
    expect(statuses).toEqual([204, 204, 204, 204, 204, 429, 429]);
    const limited = await fetch(`${url}api/offer?device=x`);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toEqual({ error: 'too many requests' });
    await clock.advance(1000);
    expect((await fetch(`${url}api/offer?device=x`)).status).toBe(204);
    expect((await fetch(`${url}api/offer?device=x`)).status).toBe(429);
    // Files are not rate-limited: downloads resume with many range requests.
    expect((await fetch(`${url}files/missing.bin`)).status).toBe(404);
    // The management listener has limits of its own.
    expect([(await fetch(`${admin}api/campaigns`)).status, (await fetch(`${admin}api/campaigns`)).status, (await fetch(`${admin}api/campaigns`)).status]).toEqual([200, 200, 429]);
  });
});

describe('ClientRateLimiter', () => {
  it('allows a burst of 60 by default, refills at 120 a minute, and forgets the longest-idle client first', async () => {
    const clock = new VirtualClock();
    const limiter = new ClientRateLimiter(clock, { maxClients: 2 });
    const waits = Array.from({ length: 61 }, () => limiter.take('a'));
    expect(waits.slice(0, 60).every((w) => w === 0)).toBe(true);
    expect(waits[60]).toBe(500);
    await clock.advance(500);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('b')).toBe(0);
    expect(limiter.take('c')).toBe(0);
    // 'a' was the longest idle of three with room for two: forgotten, it starts again with a full bucket.
    expect(limiter.take('a')).toBe(0);
    expect(() => new ClientRateLimiter(clock, { perMinute: 0 })).toThrow(ArgumentError);
    expect(() => new ClientRateLimiter(clock, { burst: 0.5 })).toThrow(ArgumentError);
  });
});

describe('devices by mutual TLS', () => {
  let pki: string;
  const pem = (name: string): Promise<Buffer> => readFile(join(pki, name));
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });

  beforeAll(async () => {
    pki = join(dir, 'pki');
    await mkdir(pki);
    const ca = (name: string): void => openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '30', '-subj', `/CN=${name}`);
    const issue = (name: string, issuer: string, extra: string[] = []): void => {
      openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '30', ...extra);
    };
    ca('device-ca');
    ca('rogue-ca');
    await writeFile(join(pki, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
    issue('server', 'device-ca', ['-extfile', 'server.ext']);
    issue('en-1-SN1', 'device-ca');
    issue('en-1-SN9', 'rogue-ca');
  });

  function call(url: string, path: string, options: { device?: string; method?: string; body?: string; token?: string }): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const target = new URL(path, url);
      const request = httpsRequest(
        {
          host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: options.method ?? 'GET',
          ca: readFileSync(join(pki, 'device-ca.pem')),
          ...(options.device ? { cert: readFileSync(join(pki, `${options.device}.pem`)), key: readFileSync(join(pki, `${options.device}.key`)) } : {}),
          headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
        },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      request.on('error', reject);
      request.end(options.body);
    });
  }

  it('offers and takes reports only for the device its certificate names; 401 without a trusted certificate', async () => {
    const events: AuditEvent[] = [];
    const tls = { cert: await pem('server.pem'), key: await pem('server.key'), clientCa: await pem('device-ca.pem') };
    const { url, admin, store } = await serve({ admin: { adminTokens: tokens }, device: { deviceCertificates: true, audit: { record: (event) => void events.push(event) } } }, tls);
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const id = await campaign(store, ['en-1-SN1', 'en-1-SN2']);

    const offered = await call(url, 'api/offer?device=en-1-SN1', { device: 'en-1-SN1' });
    expect(offered.status).toBe(200);
    expect((await call(url, 'api/offer?device=en-1-SN1', {})).status).toBe(401);
    expect((await call(url, 'api/offer?device=en-1-SN1', { device: 'en-1-SN9' })).status).toBe(401);
    const other = await call(url, 'api/offer?device=en-1-SN2', { device: 'en-1-SN1' });
    expect(other.status).toBe(403);
    expect(JSON.parse(other.body)).toEqual({ error: 'the client certificate does not name device en-1-SN2' });
    const forged = await call(url, 'api/report', { device: 'en-1-SN1', method: 'POST', body: JSON.stringify({ campaign: id, device: 'en-1-SN2', state: 'failed' }) });
    expect(forged.status).toBe(403);
    const report = await call(url, 'api/report', { device: 'en-1-SN1', method: 'POST', body: JSON.stringify({ campaign: id, device: 'en-1-SN1', state: 'confirmed' }) });
    expect(report.status).toBe(200);
    expect((await store.status(id)).counts).toMatchObject({ confirmed: 1, failed: 0 });
    expect(events.map((e) => [e.category, e.event, e.result])).toEqual([
      ['certificate', 'ota.device.certificate', 'denied'],
      ['certificate', 'ota.device.certificate', 'denied'],
      ['certificate', 'ota.device.identity', 'denied'],
      ['certificate', 'ota.device.identity', 'denied'],
    ]);
    // Administrators need no client certificate: their token is their identity, on their own listener.
    expect((await call(admin, 'api/campaigns', { token: viewer })).status).toBe(200);
    expect((await call(admin, 'api/campaigns', { device: 'en-1-SN1' })).status).toBe(401);
  });

  it("serves the device's own campaign client over mutual TLS, and refuses it without its certificate", async () => {
    const { url, store } = await serve({ device: { deviceCertificates: true } }, { cert: await pem('server.pem'), key: await pem('server.key'), clientCa: await pem('device-ca.pem') });
    const id = await campaign(store, ['en-1-SN1']);
    const ca = await pem('device-ca.pem');
    const device = new CampaignClient({ serverUrl: url, deviceId: 'en-1-SN1', tls: { ca, cert: await pem('en-1-SN1.pem'), key: await pem('en-1-SN1.key') } });
    const offer = await device.poll();
    expect(offer?.campaignId).toBe(id);
    expect(offer?.offer.envelope).toEqual(envelope);
    expect((await device.check()).status).toBe('unchanged');
    await device.report(id, 'confirmed');
    expect((await store.status(id)).counts.confirmed).toBe(1);
    const anonymous = new CampaignClient({ serverUrl: url, deviceId: 'en-1-SN1', tls: { ca } });
    await expect(anonymous.poll()).rejects.toThrow(/HTTP 401/);
  });
});

describe('sensorkit ota serve', () => {
  function run(args: string[], untilStdout?: RegExp): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, 'ota', ...args], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (untilStdout?.test(stdout)) child.kill('SIGTERM');
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  const ports = ['--device-port', '0', '--admin-port', '0'];

  it('refuses a non-loopback management host without --admin-tokens, and warns on loopback with the audit rule', async () => {
    const store = join(dir, 'served');
    const refused = await run(['serve', '--store', store, '--db', join(dir, 'cli-db'), '--host', '0.0.0.0', ...ports]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^sensorkit: --admin-host 0\.0\.0\.0 without --admin-tokens would open the management API to the network unauthenticated/);
    const loopback = await run(['serve', '--store', store, '--db', join(dir, 'cli-db'), ...ports], /management API/);
    expect(loopback.stderr).toContain('sensorkit: warning: no --admin-tokens');
    expect(loopback.stderr).toMatch(/SK-OTA-003 \[high\] CR 2\.1 \(SL1\)/);
    expect(loopback.stdout).toMatch(/^device API on http:\/\/127\.0\.0\.1:\d+\/ \(offers, reports, files from .*served\) with PGlite\nmanagement API on http:\/\/127\.0\.0\.1:\d+\/ \(read-only without tokens\) as instance \S+:\d+\n$/);
    // The device listener may face the plant network while the management listener stays on loopback.
    const split = await run(['serve', '--store', store, '--db', join(dir, 'cli-db'), '--host', '0.0.0.0', '--admin-host', '127.0.0.1', ...ports], /management API/);
    expect(split.stdout).toMatch(/^device API on http:\/\/0\.0\.0\.0:\d+\//);
  }, 90_000);

  it('creates, lists and revokes tokens (ota token, also as ota campaign token); serves with them and without the warning', async () => {
    const file = join(dir, 'cli-tokens.json');
    const created = await run(['token', 'create', 'alice', '--role', 'admin', '--tokens', file]);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^skota_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(await (await AdminTokens.load(file)).verify(token)).toMatchObject({ name: 'alice', role: 'admin' });
    const listed = await run(['token', 'list', '--tokens', file]);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ name: 'alice', role: 'admin' }]);
    expect(listed.stdout).not.toContain(secretOf(token));
    const served = await run(['serve', '--store', join(dir, 'served'), '--db', join(dir, 'cli-db'), ...ports, '--admin-tokens', file], /management API/);
    expect(served.stderr).not.toContain('SK-OTA-003');
    expect(served.stdout).toMatch(/\(administrator tokens from .*cli-tokens\.json\) as instance/);
    expect((await run(['campaign', 'token', 'revoke', 'alice', '--tokens', file])).stdout).toBe('revoked 1 token\n');
    const empty = await run(['serve', '--store', join(dir, 'served'), '--db', join(dir, 'cli-db'), ...ports, '--admin-tokens', file]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/holds no token/);
  }, 90_000);

  it('records refused requests and campaign changes in --audit-log, a chain that verifies', async () => {
    const file = join(dir, 'serve-tokens.json');
    const admin = await (await AdminTokens.load(file)).create('root', 'admin');
    const log = join(dir, 'ota-audit.log');
    await writeFile(join(dir, 'served', 'firmware.bin'), image);
    const child = spawn(process.execPath, [BIN, 'ota', 'serve', '--store', join(dir, 'served'), '--db', join(dir, 'audit-db'), ...ports, '--admin-tokens', file, '--audit-log', log], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
    let stdout = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /^management API on (http:\/\/127\.0\.0\.1:\d+\/)/m.exec(stdout);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`ota serve exited with ${code}`)));
    });
    try {
      expect((await fetch(`${url}api/campaigns`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: campaignBody() })).status).toBe(401);
      expect((await fetch(`${url}api/devices`, { method: 'POST', headers: bearer(admin.token), body: JSON.stringify({ group: 'line-3', devices: ['en-1-SN1'] }) })).status).toBe(200);
      const created = await fetch(`${url}api/campaigns`, { method: 'POST', headers: bearer(admin.token), body: campaignBody() });
      expect(created.status, await created.clone().text()).toBe(201);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const verified = await verifyAuditLog(log);
    expect(verified.ok).toBe(true);
    expect(verified.entries.map((e) => [e.category, e.event, e.result, e.actor])).toEqual([
      ['login', 'ota.api.login', 'denied', 'anonymous'],
      ['ota', 'ota.devices.assigned', 'success', 'root'],
      ['ota', 'ota.campaign.created', 'success', 'root'],
    ]);
  }, 60_000);
});
