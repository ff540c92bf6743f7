/**
 * The update server in one process on PGlite in memory and a folder artefact store: the file
 * listener (ETag, ranges), and the two API listeners — campaigns created over the management API,
 * devices polling with ETags (200, 304, 204), downloading payloads from /files/ with ranges,
 * reporting; the kill switch; poll jitter and download slots (shared by two listeners); a rollback
 * campaign; 404 for an unknown campaign id on the management API.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../sdk/core/clock.js';
import { adminApi, type AdminApiOptions } from '../../ota/server/admin-api.js';
import { openArtefactStore, type ArtefactStore, type FolderArtefactStore } from '../../ota/server/artefacts/index.js';
import { openDatabase } from '../../ota/server/db/sql.js';
import { deviceApi, pollAfterS, type DeviceApiOptions } from '../../ota/server/device-api.js';
import { startUpdateServer, type UpdateServer } from '../../ota/server/file-server.js';
import { FleetStore } from '../../ota/server/fleet-store.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';
import { makeDevice, publishImage } from '../support/ota-device.js';
import { startTestS3 } from '../support/s3.js';
import { CampaignClient } from '../../ota/agent/campaign-client.js';

const key = makeKey();
const image = makeImage(100_000, 7);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-server-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('update server (files)', () => {
  let server: UpdateServer;
  beforeAll(async () => {
    const served = join(dir, 'served');
    await publishImage(served, 'firmware.bin', image, envelopeFor(image, 2, key));
    await writeFile(join(served, 'small.txt'), 'hello');
    await writeFile(join(served, 'small.txt.suit'), envelopeFor(Buffer.from('hello'), 1, key, { uri: 'small.txt' }));
    server = await startUpdateServer({ dir: served });
  });
  afterAll(async () => {
    await server.close();
  });

  it('binds 127.0.0.1 and serves files with a strong ETag and byte ranges', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const whole = await fetch(`${server.url}firmware.bin`);
    expect(whole.status).toBe(200);
    const etag = whole.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(image);
    const part = await fetch(`${server.url}firmware.bin`, { headers: { range: 'bytes=1000-', 'if-range': etag } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1000-99999/100000`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(image.subarray(1000));
    const stale = await fetch(`${server.url}firmware.bin`, { headers: { range: 'bytes=1000-', 'if-range': '"old"' } });
    expect(stale.status).toBe(200);
    await stale.arrayBuffer();
    const suffix = await fetch(`${server.url}small.txt`, { headers: { range: 'bytes=-2' } });
    expect(await suffix.text()).toBe('lo');
    expect((await fetch(`${server.url}small.txt`, { headers: { range: 'bytes=9-' } })).status).toBe(416);
    expect((await fetch(`${server.url}..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
    expect((await fetch(`${server.url}missing.bin`)).status).toBe(404);
  });
});

interface Fleet {
  store: FleetStore;
  clock: VirtualClock;
  artefacts: ArtefactStore;
  device: string;
  admin: string;
}
const fleets: { store: FleetStore; servers: UpdateServer[] }[] = [];
afterEach(async () => {
  for (const { store, servers } of fleets.splice(0)) {
    for (const server of servers) await server.close();
    await store.close();
  }
});

/** PGlite in memory, a folder store, and the device and management listeners. */
async function fleet(options: { device?: DeviceApiOptions; admin?: AdminApiOptions } = {}): Promise<Fleet> {
  const clock = new VirtualClock();
  const store = await FleetStore.open(await openDatabase(undefined), clock);
  const artefacts = openArtefactStore(await mkdtemp(join(dir, 'store-')));
  await artefacts.check();
  const device = await startUpdateServer({ api: deviceApi(store, artefacts, { clock, ...options.device }) });
  const admin = await startUpdateServer({ api: adminApi(store, { clock, artefacts, ...options.admin }) });
  fleets.push({ store, servers: [device, admin] });
  return { store, clock, artefacts, device: device.url, admin: admin.url };
}

const post = (url: string, body: unknown): Promise<Response> => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** Creates a campaign through the store (the management API without tokens refuses changes) and releases its first wave. */
async function campaign(f: Fleet, devices: string[], policy: object = {}, envelope = envelopeFor(image, 2, key)): Promise<number> {
  await f.artefacts.put('firmware.bin', image);
  await f.store.assign('line-3', devices);
  const { parseRolloutPolicy } = await import('../../ota/server/rollout/policy.js');
  const created = await f.store.createCampaign({ name: 'fw 2', group: 'line-3', envelope, policy: parseRolloutPolicy(policy) });
  await f.store.schedule();
  return created.id;
}

interface Offer {
  campaign: number;
  envelope: string;
  sequence: number;
  payloads: Record<string, string>;
  pollAfterS: number;
  downloadAfterS: number;
}

describe('device API', () => {
  it('answers a poll with the envelope and payload URLs and an ETag, then 304 while nothing changed; 204 when nothing is offered', async () => {
    const f = await fleet();
    const envelope = envelopeFor(image, 2, key);
    const id = await campaign(f, ['en-1-SN1', 'en-1-SN2'], { pollIntervalS: 60 }, envelope);
    const nothing = await fetch(`${f.device}api/offer?device=stranger`);
    expect(nothing.status).toBe(204);
    expect(nothing.headers.get('etag')).toBe('"none"');
    expect(Number(nothing.headers.get('x-poll-after'))).toBe(pollAfterS(300, 'stranger', '"none"'));
    expect(Number(nothing.headers.get('x-poll-after'))).toBeGreaterThanOrEqual(240);
    expect(Number(nothing.headers.get('x-poll-after'))).toBeLessThanOrEqual(360);
    expect((await fetch(`${f.device}api/offer?device=stranger`, { headers: { 'if-none-match': '"none"' } })).status).toBe(304);

    const first = await fetch(`${f.device}api/offer?device=en-1-SN1`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const offer = (await first.json()) as Offer;
    expect(offer).toMatchObject({ campaign: id, sequence: 2, downloadAfterS: 0 });
    expect(Buffer.from(offer.envelope, 'base64')).toEqual(Buffer.from(envelope));
    expect(Object.keys(offer.payloads)).toEqual(['firmware.bin']);
    expect(offer.payloads['firmware.bin']).toBe(`${f.device}files/firmware.bin`);
    // The jitter is the same for the same device and tag, within ±20 % of the policy's interval.
    expect(Number(first.headers.get('x-poll-after'))).toBe(offer.pollAfterS);
    expect(offer.pollAfterS).toBe(pollAfterS(60, 'en-1-SN1', etag));
    expect(offer.pollAfterS).toBeGreaterThanOrEqual(48);
    expect(offer.pollAfterS).toBeLessThanOrEqual(72);

    const again = await fetch(`${f.device}api/offer?device=en-1-SN1`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('x-poll-after')).toBe(String(offer.pollAfterS));

    // The payload from this listener, resumable.
    const part = await fetch(offer.payloads['firmware.bin']!, { headers: { range: 'bytes=1000-' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(image.subarray(1000));

    expect((await post(`${f.device}api/report`, { campaign: id, device: 'en-1-SN1', state: 'downloading' })).status).toBe(200);
    const report = await post(`${f.device}api/report`, { campaign: id, device: 'en-1-SN1', state: 'confirmed' });
    expect(report.status).toBe(200);
    // Devices learn nothing of the campaign's internals.
    expect(await report.json()).toEqual({ ok: true });
    expect((await f.store.status(id)).counts.confirmed).toBe(1);
    // A confirmed device is offered nothing more: the tag changed.
    expect((await fetch(`${f.device}api/offer?device=en-1-SN1`, { headers: { 'if-none-match': etag } })).status).toBe(204);
  });

  it('refuses a report from a device that was never offered the campaign, and it changes nothing', async () => {
    const f = await fleet();
    const id = await campaign(f, ['en-1-SN1']);
    const before = await f.store.status(id);
    const forged = await post(`${f.device}api/report`, { campaign: id, device: 'never-offered', state: 'failed', failure: 'download' });
    expect(forged.status).toBe(400);
    expect(((await forged.json()) as { error: string }).error).toMatch(/never-offered/);
    expect((await post(`${f.device}api/report`, { campaign: id, device: 'en-1-SN1', state: 'failed', failure: 'exploded' })).status).toBe(400);
    expect(await f.store.status(id)).toEqual(before);
  });

  it('stops every offer with the kill switch (204) and offers again when it is lifted', async () => {
    const f = await fleet();
    await campaign(f, ['en-1-SN1']);
    const offered = await fetch(`${f.device}api/offer?device=en-1-SN1`);
    expect(offered.status).toBe(200);
    await offered.arrayBuffer();
    await f.store.setOffersStopped(true);
    const stopped = await fetch(`${f.device}api/offer?device=en-1-SN1`, { headers: { 'if-none-match': offered.headers.get('etag')! } });
    expect(stopped.status).toBe(204);
    await f.store.setOffersStopped(false);
    expect((await fetch(`${f.device}api/offer?device=en-1-SN1`)).status).toBe(200);
  });

  it('spreads download starts over slots of the policy rate, and keeps a device’s slot on 304', async () => {
    const f = await fleet();
    const devices = Array.from({ length: 5 }, (_, i) => `en-1-SN${i}`);
    await campaign(f, devices, { downloadSlotsPerMinute: 60 });
    const after: number[] = [];
    for (const id of devices) after.push(((await (await fetch(`${f.device}api/offer?device=${id}`)).json()) as Offer).downloadAfterS);
    expect(after).toEqual([0, 1, 2, 3, 4]);
    await f.clock.advance(2_500);
    // Asking again (without the tag) keeps the slot: 4 s after the first answer, 2.5 s of it gone.
    expect(((await (await fetch(`${f.device}api/offer?device=${devices[4]}`)).json()) as Offer).downloadAfterS).toBe(1.5);
    await f.clock.advance(7_500);
    expect(((await (await fetch(`${f.device}api/offer?device=${devices[0]}`)).json()) as Offer).downloadAfterS).toBe(0);
  });

  it('shares download slots between two device listeners on one database: together they keep the policy rate', async () => {
    const f = await fleet();
    const other = await startUpdateServer({ api: deviceApi(f.store, f.artefacts, { clock: f.clock }) });
    fleets.find((entry) => entry.store === f.store)!.servers.push(other);
    const devices = Array.from({ length: 8 }, (_, i) => `en-1-SN${i}`);
    await campaign(f, devices, { downloadSlotsPerMinute: 30 });
    const after: number[] = [];
    for (const [i, id] of devices.entries()) {
      const listener = i % 2 === 0 ? f.device : other.url;
      after.push(((await (await fetch(`${listener}api/offer?device=${id}`)).json()) as Offer).downloadAfterS);
    }
    // 30 a minute: one start every 2 s, whichever listener answered.
    expect(after).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    // A device asking the other listener keeps the slot the first gave it.
    expect(((await (await fetch(`${other.url}api/offer?device=${devices[2]}`)).json()) as Offer).downloadAfterS).toBe(4);
  });

  it('serves /files/ only for payloads a running campaign names', async () => {
    const f = await fleet();
    await f.artefacts.put('other.bin', Buffer.from('not named by any manifest'));
    const id = await campaign(f, ['en-1-SN1']);
    expect((await fetch(`${f.device}files/firmware.bin`, { method: 'HEAD' })).status).toBe(200);
    for (const path of ['files/other.bin', 'files/..%2Ffirmware.bin', 'files/.check', 'files/%E0%A4%A', 'files/']) {
      const response = await fetch(`${f.device}${path}`);
      await response.arrayBuffer();
      expect(response.status, path).not.toBe(200);
    }
    await f.store.halt(id, 'done');
    await f.clock.advance(5000);
    expect((await fetch(`${f.device}files/firmware.bin`)).status).toBe(404);
  });

  it('serves /files/ from the real path in the folder: a symbolic link that stays in it is followed, one that leads out is 404', async () => {
    const f = await fleet();
    const root = (f.artefacts as FolderArtefactStore).root;
    const outside = await mkdtemp(join(dir, 'outside-'));
    await mkdir(join(outside, 'images'));
    await writeFile(join(outside, 'images', 'fw.bin'), 'outside the store');
    await symlink(join(outside, 'images'), join(root, 'images'));
    await mkdir(join(root, 'releases'));
    await writeFile(join(root, 'releases', 'fw.bin'), 'in the store');
    await symlink(join(root, 'releases'), join(root, 'current'));
    await f.store.assign('line-4', ['en-2-SN1']);
    await f.store.assign('line-5', ['en-3-SN1']);
    const payload = Buffer.from('x');
    await f.store.createCampaign({ name: 'out', group: 'line-4', envelope: envelopeFor(payload, 2, key, { uri: 'images/fw.bin' }) });
    await f.store.createCampaign({ name: 'in', group: 'line-5', envelope: envelopeFor(payload, 2, key, { uri: 'current/fw.bin' }) });
    expect(await (await fetch(`${f.device}files/current/fw.bin`)).text()).toBe('in the store');
    const out = await fetch(`${f.device}files/images/fw.bin`);
    expect(out.status).toBe(404);
    expect(await out.text()).toBe('not found\n');
  });

  it('re-reads the payloads it may serve on steady time: after the wall clock steps back, a new campaign’s payload is served within seconds', async () => {
    const f = await fleet();
    await campaign(f, ['en-1-SN1']);
    await f.artefacts.put('fw-3.bin', Buffer.from('fw 3'));
    const early = await fetch(`${f.device}files/fw-3.bin`);
    expect(early.status).toBe(404);
    await early.arrayBuffer();
    f.clock.stepWall(-2 * 3_600_000);
    await f.store.assign('line-4', ['en-2-SN1']);
    await f.store.createCampaign({ name: 'fw 3', group: 'line-4', envelope: envelopeFor(Buffer.from('fw 3'), 3, key, { uri: 'fw-3.bin' }) });
    await f.clock.advance(1500);
    expect(await (await fetch(`${f.device}files/fw-3.bin`)).text()).toBe('fw 3');
  });
});

describe('payloads in S3', () => {
  it('are offered as presigned URLs the device downloads from the bucket with ranges; the server serves none itself', async () => {
    const s3 = await startTestS3();
    const clock = new VirtualClock({ start: Date.now() });
    const store = await FleetStore.open(await openDatabase(undefined), clock);
    const artefacts = openArtefactStore(`s3://${s3.bucket}/fw`, s3.env);
    const device = await startUpdateServer({ api: deviceApi(store, artefacts, { clock, presignTtlS: 600 }) });
    try {
      await artefacts.check();
      await artefacts.put('firmware.bin', image);
      await store.assign('line-3', ['en-1-SN1']);
      const { parseRolloutPolicy } = await import('../../ota/server/rollout/policy.js');
      await store.createCampaign({ name: 'fw 2', group: 'line-3', envelope: envelopeFor(image, 2, key), policy: parseRolloutPolicy({}) });
      const offer = (await (await fetch(`${device.url}api/offer?device=en-1-SN1`)).json()) as Offer;
      const url = new URL(offer.payloads['firmware.bin']!);
      expect(url.origin).toBe(s3.endpoint);
      expect(url.searchParams.get('X-Amz-Expires')).toBe('600');
      expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
      const part = await fetch(url, { headers: { range: 'bytes=10-99' } });
      expect(part.status).toBe(206);
      expect(Buffer.from(await part.arrayBuffer())).toEqual(image.subarray(10, 100));
      expect((await fetch(`${device.url}files/firmware.bin`)).status).toBe(404);
    } finally {
      await device.close();
      await store.close();
      await s3.stop();
    }
  }, 60_000);
});

describe('a database that went away', () => {
  it('answers 503 with Retry-After and no detail on both listeners, and says why once to the operator', async () => {
    const clock = new VirtualClock();
    const store = await FleetStore.open(await openDatabase(undefined), clock);
    const failures: unknown[] = [];
    const device = await startUpdateServer({ api: deviceApi(store, undefined, { clock }), onError: (error) => failures.push(error) });
    const admin = await startUpdateServer({ api: adminApi(store, { clock }), onError: (error) => failures.push(error) });
    try {
      await store.close();
      for (const url of [`${device.url}api/offer?device=en-1-SN1`, `${admin.url}api/campaigns`]) {
        const response = await fetch(url);
        expect(response.status, url).toBe(503);
        expect(response.headers.get('retry-after')).toBe('30');
        expect(await response.json()).toEqual({ error: 'the update server cannot answer now; try again later' });
      }
      expect(failures).toHaveLength(2);
    } finally {
      await device.close();
      await admin.close();
    }
  });
});

describe('devices with the update agent', () => {
  it('poll, download from /files/, install, trial-boot and report through CampaignClient; a device that rolls back counts as failed', async () => {
    const f = await fleet();
    const healthy = [true, false, true];
    const ids = healthy.map((_, i) => `line3-${i}`);
    const id = await campaign(f, ids, { errorThreshold: 0.9 });
    const outcomes: string[] = [];
    for (const [i, device] of ids.entries()) {
      const agent = await makeDevice(key, { healthProbes: [() => healthy[i]!] });
      try {
        const client = new CampaignClient({ serverUrl: f.device, deviceId: device });
        const offer = await client.poll();
        expect(offer?.payloads).toEqual({ 'firmware.bin': `${f.device}files/firmware.bin` });
        outcomes.push(await client.run(agent.agent, offer!));
        // Finished: nothing more is offered to it.
        expect((await client.check()).status).toBe('none');
      } finally {
        await agent.cleanup();
      }
    }
    expect(outcomes).toEqual(['confirmed', 'rolled-back', 'confirmed']);
    const status = await f.store.status(id);
    expect(status.counts).toMatchObject({ confirmed: 2, 'rolled-back': 1 });
    expect(status.failures.health).toBe(1);
    expect(status.successRatio).toBeCloseTo(2 / 3);
  }, 60_000);
});

describe('management API', () => {
  it('reads campaigns, devices and the fleet; refuses changes without tokens (403)', async () => {
    const f = await fleet({ admin: { instance: { name: 'ota-a', holding: () => true } } });
    const id = await campaign(f, ['en-1-SN1']);
    expect(await (await fetch(`${f.admin}api/campaigns`)).json()).toMatchObject([{ id, name: 'fw 2', state: 'running' }]);
    expect(await (await fetch(`${f.admin}api/campaigns/${id}`)).json()).toMatchObject({ id, targeted: 1 });
    expect(await (await fetch(`${f.admin}api/devices?group=line-3`)).json()).toMatchObject([{ id: 'en-1-SN1', group: 'line-3' }]);
    expect(await (await fetch(`${f.admin}api/fleet`)).json()).toEqual({ offersStopped: false, instance: 'ota-a', scheduling: true });
    expect((await post(`${f.admin}api/fleet/stop`, {})).status).toBe(403);
    expect(await f.store.offersStopped()).toBe(false);
    // The device listener has no management routes, and the management listener no device routes.
    expect((await fetch(`${f.device}api/campaigns`)).status).toBe(404);
    expect((await fetch(`${f.admin}api/offer?device=en-1-SN1`)).status).toBe(404);
  });

  it('creates a campaign with a policy, refuses one whose payload is not in the store or whose policy is out of range', async () => {
    const { AdminTokens } = await import('../../ota/server/admin-tokens.js');
    const tokens = await AdminTokens.load(join(await mkdtemp(join(dir, 'tokens-')), 'tokens.json'));
    const { token } = await tokens.create('olga', 'operator');
    const f = await fleet({ admin: { adminTokens: tokens } });
    const call = (path: string, body: unknown): Promise<Response> => fetch(`${f.admin}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await f.store.assign('line-3', ['en-1-SN1', 'en-1-SN2']);
    const envelope = b64(envelopeFor(image, 2, key));
    const missing = await call('api/campaigns', { name: 'fw 2', group: 'line-3', envelope });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toMatch(/payload firmware\.bin is not in the folder store/);
    await f.artefacts.put('firmware.bin', image.subarray(1));
    expect(((await (await call('api/campaigns', { name: 'fw 2', group: 'line-3', envelope })).json()) as { error: string }).error).toMatch(/has 99999 bytes; the manifest signs 100000/);
    await f.artefacts.put('firmware.bin', image);
    const bad = await call('api/campaigns', { name: 'fw 2', group: 'line-3', envelope, policy: { waves: [50, 40] } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/waves/);
    expect(await f.store.list()).toEqual([]);
    const created = await call('api/campaigns', { name: 'fw 2', group: 'line-3', envelope, policy: { waves: [50, 50], pollIntervalS: 30 } });
    expect(created.status).toBe(201);
    const status = (await created.json()) as { id: number; waves: number[]; targeted: number; policy: { pollIntervalS: number } };
    expect(status).toMatchObject({ waves: [50, 50], targeted: 2, policy: { pollIntervalS: 30 } });
    expect((await call(`api/campaigns/${status.id}/pause`, { reason: 'look at wave 0' })).status).toBe(200);
    expect((await f.store.status(status.id)).state).toBe('paused');
    expect((await call(`api/campaigns/${status.id}/resume`, {})).status).toBe(200);
    expect((await call(`api/campaigns/${status.id}/halt`, { reason: 'bad batch' })).status).toBe(200);
    expect(await f.store.status(status.id)).toMatchObject({ state: 'halted', reason: 'bad batch' });
    // The rollback campaign: a higher sequence pointing at the known-good image.
    const rollback = await call(`api/campaigns/${status.id}/rollback`, { envelope: b64(envelopeFor(image, 3, key)), name: 'back to fw 1' });
    expect(rollback.status, await rollback.clone().text()).toBe(201);
    expect(await rollback.json()).toMatchObject({ kind: 'rollback', rollbackOf: status.id, sequence: 3 });
    const stop = await call('api/fleet/stop', {});
    expect(await stop.json()).toEqual({ offersStopped: true });
    expect(await f.store.offersStopped()).toBe(true);
  });

  it('answers 404 for a campaign id that names no campaign, and 400 for a change a known campaign refuses', async () => {
    const { AdminTokens } = await import('../../ota/server/admin-tokens.js');
    const tokens = await AdminTokens.load(join(await mkdtemp(join(dir, 'tokens-')), 'tokens.json'));
    const { token } = await tokens.create('olga', 'operator');
    const f = await fleet({ admin: { adminTokens: tokens } });
    const auth = { authorization: `Bearer ${token}` };
    const call = (path: string, body: unknown): Promise<Response> => fetch(`${f.admin}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const id = await campaign(f, ['en-1-SN1']);
    const unknown = id + 41;
    const read = await fetch(`${f.admin}api/campaigns/${unknown}`, { headers: auth });
    expect(read.status).toBe(404);
    expect(await read.json()).toEqual({ error: `campaign: no campaign ${unknown}` });
    for (const change of ['pause', 'resume', 'halt']) {
      const response = await call(`api/campaigns/${unknown}/${change}`, { reason: 'r' });
      expect(response.status, change).toBe(404);
      expect(((await response.json()) as { error: string }).error, change).toBe(`campaign: no campaign ${unknown}`);
    }
    const rollback = await call(`api/campaigns/${unknown}/rollback`, { envelope: b64(envelopeFor(image, 3, key)) });
    expect(rollback.status).toBe(404);
    await rollback.arrayBuffer();
    // The campaign exists but refuses: a running campaign is not rolled back, a bad reason is refused.
    const running = await call(`api/campaigns/${id}/rollback`, { envelope: b64(envelopeFor(image, 3, key)) });
    expect(running.status).toBe(400);
    expect(((await running.json()) as { error: string }).error).toMatch(/only a halted campaign is rolled back/);
    expect((await call(`api/campaigns/${id}/halt`, { reason: 7 })).status).toBe(400);
    expect((await f.store.status(id)).state).toBe('running');
    expect(await f.store.list()).toHaveLength(1);
  });
});
