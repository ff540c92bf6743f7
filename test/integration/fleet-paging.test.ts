/**
 * Bounded reads on the management API and the CLI: campaign and device lists come in pages with a
 * default and a largest size, the next page named in a header (and on the CLI's standard error);
 * the reply to an assignment holds the devices assigned, not the whole group.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { adminApi, DEFAULT_CAMPAIGN_PAGE, DEFAULT_DEVICE_PAGE, MAX_CAMPAIGN_PAGE, MAX_DEVICE_PAGE } from '../../ota/server/admin-api.js';
import { AdminTokens } from '../../ota/server/admin-tokens.js';
import { openDatabase } from '../../ota/server/db/sql.js';
import { startUpdateServer, type UpdateServer } from '../../ota/server/file-server.js';
import { FleetStore } from '../../ota/server/fleet-store.js';
import { runSensorkit } from '../support/cli.js';
import { fleetBackends } from '../support/fleet-db.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';

const backends = fleetBackends();
const envelope = envelopeFor(makeImage(64), 2, makeKey());
let dir: string;
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-fleet-paging-'));
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ids = (n: number, prefix = 'en-'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);

/** `count` campaigns on group c (one device), every third halted. */
async function campaigns(store: FleetStore, count: number): Promise<void> {
  await store.assign('c', ['c-1']);
  for (let i = 1; i <= count; i++) {
    const { id } = await store.createCampaign({ name: `fw ${i}`, group: 'c', envelope });
    if (i % 3 === 0) await store.halt(id, 'test');
  }
}

async function serve(store: FleetStore, tokens?: AdminTokens): Promise<string> {
  const server: UpdateServer = await startUpdateServer({ api: adminApi(store, { clock: new VirtualClock(), rateLimit: { perMinute: 10_000, burst: 10_000 }, ...(tokens === undefined ? {} : { adminTokens: tokens }) }) });
  closers.push(() => server.close());
  return server.url;
}

describe.each(backends)('management API lists on $name', (backend) => {
  it('pages campaigns: the newest 100 by default, x-next-before to the older ones, filtered by state', async () => {
    const store = await FleetStore.open(await backend.open(), new VirtualClock());
    closers.push(() => store.close());
    await campaigns(store, 230);
    const url = await serve(store);
    const seen: number[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const response = await fetch(`${url}api/campaigns${next === null ? '' : `?before=${next}`}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { id: number }[];
      expect(page.length).toBeLessThanOrEqual(DEFAULT_CAMPAIGN_PAGE);
      seen.unshift(...page.map((c) => c.id));
      next = response.headers.get('x-next-before');
      if (next !== null) expect(Number(next)).toBe(page[0]!.id);
      pages++;
    } while (next !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 230 }, (_, i) => i + 1));

    const halted = await fetch(`${url}api/campaigns?state=halted&limit=5`);
    expect(((await halted.json()) as { id: number; state: string }[]).map((c) => [c.id, c.state])).toEqual([216, 219, 222, 225, 228].map((id) => [id, 'halted']));
    expect(halted.headers.get('x-next-before')).toBe('216');
    const both = (await (await fetch(`${url}api/campaigns?state=running,halted&before=4`)).json()) as { id: number }[];
    expect(both.map((c) => c.id)).toEqual([1, 2, 3]);
    const all = await fetch(`${url}api/campaigns?limit=${MAX_CAMPAIGN_PAGE}`);
    expect(((await all.json()) as unknown[]).length).toBe(230);
    expect(all.headers.get('x-next-before')).toBeNull();

    for (const [query, error] of [
      ['limit=0', `limit: expected a number from 1 to ${MAX_CAMPAIGN_PAGE}, got "0"`],
      [`limit=${MAX_CAMPAIGN_PAGE + 1}`, `limit: expected a number from 1 to ${MAX_CAMPAIGN_PAGE}, got "${MAX_CAMPAIGN_PAGE + 1}"`],
      ['state=stopped', 'state: expected running, paused, halted, finished (comma-separated), got "stopped"'],
      ['before=-1', 'before: expected a campaign id, got "-1"'],
      ['offset=100', 'offset: unknown query parameter; expected state, before, limit'],
      ['limit=5&limit=6', 'limit: given twice'],
    ] as const) {
      const response = await fetch(`${url}api/campaigns?${query}`);
      expect(response.status, query).toBe(400);
      expect(await response.json()).toEqual({ error });
    }
  }, 240_000);

  it('pages devices by id: 1000 by default, x-next-after to the next page; an assignment answers the devices assigned', async () => {
    const store = await FleetStore.open(await backend.open(), new VirtualClock());
    closers.push(() => store.close());
    await store.assign('g', ids(2500));
    await store.assign('h', ['zz-1', 'aa-1']);
    const file = join(dir, `tokens-${backend.name}.json`);
    const tokens = await AdminTokens.load(file);
    const { token } = await tokens.create('root', 'operator');
    const url = await serve(store, tokens);
    const auth = { authorization: `Bearer ${token}` };
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const response = await fetch(`${url}api/devices${next === null ? '' : `?after=${next}`}`, { headers: auth });
      expect(response.status).toBe(200);
      const page = (await response.json()) as { id: string }[];
      expect(page.length).toBeLessThanOrEqual(DEFAULT_DEVICE_PAGE);
      seen.push(...page.map((d) => d.id));
      next = response.headers.get('x-next-after');
      if (next !== null) expect(next).toBe(page.at(-1)!.id);
    } while (next !== null);
    expect(seen).toEqual(['aa-1', ...ids(2500), 'zz-1']);
    const group = await fetch(`${url}api/devices?group=g&after=en-02490&limit=5`, { headers: auth });
    expect(((await group.json()) as { id: string }[]).map((d) => d.id)).toEqual(['en-02491', 'en-02492', 'en-02493', 'en-02494', 'en-02495']);
    expect(group.headers.get('x-next-after')).toBe('en-02495');
    expect(((await (await fetch(`${url}api/devices?limit=${MAX_DEVICE_PAGE}`, { headers: auth })).json()) as unknown[]).length).toBe(2502);
    const bad = await fetch(`${url}api/devices?after=../x`, { headers: auth });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^after: /);
    expect((await fetch(`${url}api/devices?limit=${MAX_DEVICE_PAGE + 1}`, { headers: auth })).status).toBe(400);

    const assigned = await fetch(`${url}api/devices`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ group: 'g', devices: ['en-99999', 'aa-1'] }) });
    expect(assigned.status).toBe(200);
    expect(await assigned.json()).toEqual([
      { id: 'aa-1', group: 'g', hardware: null },
      { id: 'en-99999', group: 'g', hardware: null },
    ]);
  }, 240_000);
});

describe.each(backends)('retention on $name', (backend) => {
  it('the documented clean-up of audit and reports rows leaves every campaign figure as it was', async () => {
    const store = await FleetStore.open(await backend.open(), new VirtualClock({ start: 1_000_000 }));
    closers.push(() => store.close());
    await store.assign('g', ids(3));
    const { id } = await store.createCampaign({ name: 'fw', group: 'g', envelope });
    await store.report(id, 'en-00000', 'downloading');
    await store.report(id, 'en-00000', 'confirmed');
    await store.report(id, 'en-00001', 'failed', { failure: 'download' });
    await store.pause(id, 'line stop');
    const before = await store.status(id);
    const count = async (table: string): Promise<number> => Number((await store.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
    expect(await count('reports')).toBe(3);
    expect(await count('audit')).toBeGreaterThan(0);
    // The retention statements documented for operators, as they run them (the clock started in 1970: every row is old).
    await store.db.query("DELETE FROM reports WHERE at < (extract(epoch FROM now() - interval '90 days') * 1000)::bigint");
    await store.db.query("DELETE FROM audit WHERE at < (extract(epoch FROM now() - interval '400 days') * 1000)::bigint");
    expect(await count('reports')).toBe(0);
    expect(await count('audit')).toBe(0);
    expect(await store.status(id)).toEqual(before);
    expect(await store.resume(id)).toMatchObject({ state: 'running', counts: { confirmed: 1, failed: 1 } });
  }, 120_000);
});

describe('the CLI pages lists', () => {
  it('ota campaign status and ota device list: a page on standard output, the next page named on standard error', async () => {
    const db = join(dir, 'cli-db');
    const store = await FleetStore.open(await openDatabase(db), new VirtualClock());
    await campaigns(store, 103);
    await store.assign('g', ids(1003));
    await store.close();

    const first = await runSensorkit(['ota', 'campaign', 'status', '--db', db]);
    expect(first.code, first.stderr).toBe(0);
    expect((JSON.parse(first.stdout) as { id: number }[]).map((c) => c.id)).toEqual(Array.from({ length: 100 }, (_, i) => i + 4));
    expect(first.stderr).toBe('sensorkit: the newest 100 campaigns shown; older ones: --before 4\n');
    const older = await runSensorkit(['ota', 'campaign', 'status', '--db', db, '--before', '4']);
    expect((JSON.parse(older.stdout) as { id: number }[]).map((c) => c.id)).toEqual([1, 2, 3]);
    expect(older.stderr).toBe('');
    const halted = await runSensorkit(['ota', 'campaign', 'status', '--db', db, '--state', 'halted', '--limit', '2']);
    expect((JSON.parse(halted.stdout) as { id: number }[]).map((c) => c.id)).toEqual([99, 102]);
    const bad = await runSensorkit(['ota', 'campaign', 'status', '--db', db, '--limit', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe(`sensorkit: --limit: expected a number from 1 to ${MAX_CAMPAIGN_PAGE}, got "0"`);
    expect(bad.stdout).toBe('');

    const devices = await runSensorkit(['ota', 'device', 'list', '--db', db, '--group', 'g']);
    expect(devices.code, devices.stderr).toBe(0);
    expect((JSON.parse(devices.stdout) as unknown[]).length).toBe(1000);
    expect(devices.stderr).toBe('sensorkit: the first 1000 devices shown; more: --after en-00999\n');
    const rest = await runSensorkit(['ota', 'device', 'list', '--db', db, '--group', 'g', '--after', 'en-00999']);
    expect(JSON.parse(rest.stdout)).toEqual(ids(1003).slice(1000).map((id) => ({ id, group: 'g' })));
    expect(rest.stderr).toBe('');
  }, 240_000);

  it('over --server the same pages come from the management API', async () => {
    const store = await FleetStore.open(await openDatabase(undefined), new VirtualClock());
    closers.push(() => store.close());
    await campaigns(store, 5);
    await store.assign('g', ids(4));
    const url = await serve(store);
    const page = await runSensorkit(['ota', 'campaign', 'status', '--server', url, '--limit', '2']);
    expect(page.code, page.stderr).toBe(0);
    expect((JSON.parse(page.stdout) as { id: number }[]).map((c) => c.id)).toEqual([4, 5]);
    expect(page.stderr).toBe('sensorkit: the newest 2 campaigns shown; older ones: --before 4\n');
    const older = await runSensorkit(['ota', 'campaign', 'status', '--server', url, '--before', '4', '--state', 'running']);
    expect((JSON.parse(older.stdout) as { id: number }[]).map((c) => c.id)).toEqual([1, 2]);
    const devices = await runSensorkit(['ota', 'device', 'list', '--server', url, '--group', 'g', '--after', 'en-00000', '--limit', '2']);
    expect(JSON.parse(devices.stdout)).toEqual([{ id: 'en-00001', group: 'g' }, { id: 'en-00002', group: 'g' }]);
    expect(devices.stderr).toBe('sensorkit: the first 2 devices shown; more: --after en-00002\n');
  }, 120_000);
});
