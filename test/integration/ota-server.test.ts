import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../sdk/core/clock.js';
import { campaignApi } from '../../ota/server/campaign-api.js';
import { CampaignStore } from '../../ota/server/campaign-store.js';
import { startUpdateServer, type UpdateServer } from '../../ota/server/file-server.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';
import { makeDevice, publishImage } from '../support/ota-device.js';
import { CampaignClient } from '../../ota/agent/campaign-client.js';

const key = makeKey();
const image = makeImage(100_000, 7);
let dir: string;
let store: CampaignStore;
let server: UpdateServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-server-'));
  await publishImage(dir, 'firmware.bin', image, envelopeFor(image, 2, key));
  await writeFile(join(dir, 'small.txt'), 'hello');
  await writeFile(join(dir, 'small.txt.suit'), envelopeFor(Buffer.from('hello'), 1, key, { uri: 'small.txt' }));
  store = new CampaignStore(join(dir, 'ota.db'), new VirtualClock());
  server = await startUpdateServer({ dir, api: campaignApi(store) });
});
afterAll(async () => {
  await server.close();
  store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('update server', () => {
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

  it('runs a campaign: a device pulls its offer, updates and reports; failures halt it', async () => {
    const envelope = envelopeFor(image, 2, key);
    const id = store.create({ name: 'fw 2', group: 'line-3', envelope, failureThreshold: 0.4, minReports: 2 });
    store.assign('line-3', ['en-1-SN1', 'en-1-SN2', 'en-1-SN3']);
    expect((await fetch(`${server.url}api/offer?device=x&group=line-9`)).status).toBe(204);
    // The group a request names is not the device's: x stays unassigned, SN2 is offered as line-3.
    expect((await fetch(`${server.url}api/offer?device=x&group=line-3`)).status).toBe(204);
    expect((await fetch(`${server.url}api/offer?device=en-1-SN2&group=line-9`)).status).toBe(200);
    const offer = await fetch(`${server.url}api/offer?device=en-1-SN1&group=line-3`);
    expect(offer.status).toBe(200);
    expect(offer.headers.get('x-campaign')).toBe(String(id));
    const bytes = new Uint8Array(await offer.arrayBuffer());
    expect(bytes).toEqual(envelope);

    const device = await makeDevice(key);
    const result = await device.agent.update({ envelope: bytes, baseUrl: server.url });
    const report = async (deviceId: string, state: string, reason?: string): Promise<Record<string, unknown>> => {
      const response = await fetch(`${server.url}api/report`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ campaign: id, device: deviceId, state, reason }) });
      expect(response.status).toBe(200);
      return (await response.json()) as Record<string, unknown>;
    };
    expect(result.trial).toBe('confirmed');
    expect(await report('en-1-SN1', 'confirmed')).toMatchObject({ state: 'running', failureRatio: 0 });
    expect((await fetch(`${server.url}api/offer?device=en-1-SN1&group=line-3`)).status).toBe(204);
    expect(await report('en-1-SN2', 'rolled-back', 'health-check-failed')).toMatchObject({ state: 'halted', failureRatio: 0.5 });
    expect((await fetch(`${server.url}api/offer?device=en-1-SN3&group=line-3`)).status).toBe(204);
    const status = (await (await fetch(`${server.url}api/campaigns/${id}`)).json()) as { counts: Record<string, number> };
    expect(status.counts).toMatchObject({ confirmed: 1, 'rolled-back': 1 });
    const bad = await fetch(`${server.url}api/report`, { method: 'POST', body: '{"nope":1}' });
    expect(bad.status).toBe(400);
    await device.cleanup();
  });

  it('devices poll, update and report through CampaignClient; the campaign halts at the failure threshold', async () => {
    const id = store.create({ name: 'fw 2 line 7', group: 'line-7', envelope: envelopeFor(image, 2, key), failureThreshold: 0.3, minReports: 3 });
    const outcomes: (string | undefined)[] = [];
    const healthy = [true, true, false, true, true];
    store.assign('line-7', healthy.map((_, i) => `line7-${i}`));
    for (let i = 0; i < healthy.length; i++) {
      const device = await makeDevice(key, { healthProbes: [() => healthy[i]!] });
      const client = new CampaignClient({ serverUrl: server.url, deviceId: `line7-${i}`, group: 'line-7' });
      const offer = await client.poll();
      outcomes.push(offer === undefined ? undefined : await client.run(device.agent, offer));
      await device.cleanup();
    }
    // Two confirmed, one rolled back: 1/3 > 0.3 with 3 reports → halted; the rest get no offer.
    expect(outcomes).toEqual(['confirmed', 'confirmed', 'rolled-back', undefined, undefined]);
    expect(store.status(id)).toMatchObject({ state: 'halted', counts: { confirmed: 2, 'rolled-back': 1 } });
  });
});
