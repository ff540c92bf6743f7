/**
 * The device's side of the update server's device API (CampaignClient) against a stand-in
 * listener: the JSON offer, ETag / If-None-Match / 304, x-poll-after within bounds, the download
 * slot waited on the client's clock, the payload URL map handed to the agent (several components,
 * URLs unrelated to the manifest's URIs), and reports with the failure's type.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { CampaignClient, failureOf } from '../../ota/agent/campaign-client.js';
import { payloadUrl } from '../../ota/agent/fetch-payload.js';
import { UpdateError } from '../../ota/errors.js';
import { signEnvelope } from '../../ota/manifest/suit-envelope.js';
import type { SuitComponentImage } from '../../ota/manifest/suit-manifest.js';
import { startDeviceApiStandIn, type DeviceApiStandIn } from '../support/device-api-stand-in.js';
import { makeDevice, type TestDevice } from '../support/ota-device.js';
import { DEVICE, envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';

const key = makeKey();
const image2 = makeImage(30_000, 2);
const campaign = { id: 3, envelope: envelopeFor(image2, 2, key), sequence: 2, payloads: { 'firmware.bin': image2 } };
const open: { close(): Promise<void> }[] = [];
const devices: TestDevice[] = [];

afterEach(async () => {
  for (const server of open.splice(0)) await server.close();
  for (const device of devices.splice(0)) await device.cleanup();
});

async function standIn(options: Parameters<typeof startDeviceApiStandIn>[0] = {}): Promise<DeviceApiStandIn> {
  const server = await startDeviceApiStandIn(options);
  open.push(server);
  return server;
}

describe('CampaignClient.check', () => {
  it('reads the JSON offer, then sends its ETag and gets 304 with the offer still in force', async () => {
    const server = await standIn({ pollAfterS: 287.4 });
    server.offer(campaign);
    const client = new CampaignClient({ serverUrl: server.url, deviceId: 'en-1-SN1' });
    const first = await client.check();
    expect(first.status).toBe('offer');
    expect(first.pollAfterS).toBe(287.4);
    expect(first.offer).toMatchObject({ campaignId: 3, sequence: 2, downloadAfterS: 0, payloads: { 'firmware.bin': `${server.url}files/firmware.bin` } });
    expect(Buffer.from(first.offer!.offer.envelope).equals(Buffer.from(campaign.envelope))).toBe(true);
    const second = await client.check();
    expect(second).toMatchObject({ status: 'unchanged', offer: { campaignId: 3 } });
    const polls = server.requests.filter((r) => r.path === '/api/offer');
    expect(polls.map((r) => [r.status, r.ifNoneMatch])).toEqual([[200, undefined], [304, '"c3-v0"']]);
  });

  it('answers none on 204 and keeps its ETag for the next poll', async () => {
    const server = await standIn();
    const client = new CampaignClient({ serverUrl: server.url, deviceId: 'en-1-SN1', pollBoundsS: { min: 0.1 } });
    expect(await client.check()).toEqual({ status: 'none', offer: undefined, pollAfterS: 0.1 });
    expect(await client.check()).toEqual({ status: 'unchanged', offer: undefined, pollAfterS: 0.1 });
    server.offer(campaign);
    expect((await client.check()).status).toBe('offer');
  });

  it('keeps the poll interval within its bounds whatever the server says', async () => {
    for (const [said, expected] of [[0, 1], [1e9, 86_400], [42, 42]] as const) {
      const server = await standIn({ pollAfterS: said });
      const client = new CampaignClient({ serverUrl: server.url, deviceId: 'd1' });
      await client.check();
      expect(client.pollAfterS).toBe(expected);
    }
  });

  it('refuses a malformed offer with one line naming the field', async () => {
    for (const [body, field] of [
      ['not json', 'body is not JSON'],
      ['{"campaign":0,"sequence":1,"envelope":"AA=="}', 'campaign is not a positive integer'],
      ['{"campaign":1,"sequence":1,"envelope":"%%%"}', 'envelope is not base64'],
      ['{"campaign":1,"sequence":1,"envelope":"AA==","payloads":{"a.bin":"file:///etc/passwd"}}', 'payloads["a.bin"] is not an absolute http(s) URL'],
      ['{"campaign":1,"sequence":1,"envelope":"AA==","downloadAfterS":-1}', 'downloadAfterS is not a number ≥ 0'],
    ] as const) {
      const server = await standIn({ rawOffer: body });
      server.offer(campaign);
      const error = await new CampaignClient({ serverUrl: server.url, deviceId: 'd1' }).check().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpdateError);
      expect((error as UpdateError).reason).toBe('download-failed');
      expect((error as Error).message).toContain(field);
    }
  });
});

describe('CampaignClient.run', () => {
  it('waits for the download slot on its clock, installs from the URL map and reports each step', async () => {
    const server = await standIn({ downloadAfterS: 12 });
    server.offer(campaign);
    const clock = new VirtualClock({ start: Date.UTC(2026, 0, 1) });
    const device = await makeDevice(key);
    devices.push(device);
    const client = new CampaignClient({ serverUrl: server.url, deviceId: 'en-1-SN1', clock });
    const offer = (await client.poll())!;
    expect(offer.downloadAfterS).toBe(12);
    const outcome = client.run(device.agent, offer);
    await clock.advance(11_900);
    expect(server.requests.filter((r) => r.path.startsWith('/files/'))).toEqual([]);
    await clock.advance(100);
    expect(await outcome).toBe('confirmed');
    expect(server.requests.filter((r) => r.path.startsWith('/files/')).map((r) => r.path)).toEqual(['/files/firmware.bin']);
    expect(server.reports.map((r) => r.state)).toEqual(['downloading', 'staged', 'trial', 'confirmed']);
    expect(server.outcomes().get('en-1-SN1')).toBe('confirmed');
  });

  it('fetches every component by the URL the offer maps its URI to', async () => {
    const app = makeImage(20_000, 5);
    const mcu = makeImage(7_000, 6);
    const component = (componentId: string[], bytes: Uint8Array, uri: string): SuitComponentImage => ({ componentId, imageDigest: createHash('sha256').update(bytes).digest(), imageSize: bytes.length, uri, version: '2' });
    const components = [component(['app'], app, 'app.bin'), component(['mcu', 'firmware'], mcu, 'mcu.bin')];
    const envelope = signEnvelope({ ...components[0]!, sequence: 2, ...DEVICE, components }, key.privateKey);
    const server = await standIn();
    // Paths unrelated to the URIs: only the map can find them (as presigned object-storage URLs).
    server.offer({ id: 9, envelope, sequence: 2, payloads: { 'app.bin': app, 'mcu.bin': mcu }, paths: { 'app.bin': 'bucket/x1?sig=a', 'mcu.bin': 'bucket/y2' } });
    const device = await makeDevice(key, { components: [['app'], ['mcu', 'firmware']], provision: false });
    devices.push(device);
    const oldComponents = [component(['app'], makeImage(1000, 7), 'app.bin'), component(['mcu', 'firmware'], makeImage(1000, 8), 'mcu.bin')];
    await device.agent.provision(signEnvelope({ ...oldComponents[0]!, sequence: 1, ...DEVICE, components: oldComponents }, key.privateKey), [makeImage(1000, 7), makeImage(1000, 8)]);
    const client = new CampaignClient({ serverUrl: server.url, deviceId: 'gw-1' });
    expect(await client.run(device.agent, (await client.poll())!)).toBe('confirmed');
    expect(server.requests.filter((r) => r.path.startsWith('/bucket/')).map((r) => r.path)).toEqual(['/bucket/x1', '/bucket/y2']);
  });

  it('reports a payload that does not match its digest as failed, failure verify', async () => {
    const server = await standIn();
    server.offer({ ...campaign, payloads: { 'firmware.bin': makeImage(30_000, 99) } });
    const device = await makeDevice(key);
    devices.push(device);
    const client = new CampaignClient({ serverUrl: server.url, deviceId: 'en-1-SN1' });
    expect(await client.run(device.agent, (await client.poll())!)).toBe('failed');
    expect(server.reports.at(-1)).toEqual({ campaign: 3, device: 'en-1-SN1', state: 'failed', reason: 'payload-mismatch', failure: 'verify' });
  });

  it('reports a trial that fails its health probe as rolled-back', async () => {
    const server = await standIn();
    server.offer(campaign);
    const device = await makeDevice(key, { healthProbes: [() => false] });
    devices.push(device);
    const client = new CampaignClient({ serverUrl: server.url, deviceId: 'en-1-SN1' });
    expect(await client.run(device.agent, (await client.poll())!)).toBe('rolled-back');
    expect(server.reports.at(-1)).toMatchObject({ state: 'rolled-back', reason: 'health-check-failed' });
  });

  it('sends a lost outcome again with the next poll that still shows its campaign', async () => {
    const server = await standIn({ refuseReports: 1 });
    server.offer(campaign);
    const client = new CampaignClient({ serverUrl: server.url, deviceId: 'en-1-SN1' });
    await client.check();
    await expect(client.report(3, 'confirmed')).rejects.toThrow(/HTTP 503: busy/);
    expect(client.unsentOutcome).toEqual({ campaignId: 3, state: 'confirmed', detail: {} });
    expect(await client.check()).toMatchObject({ status: 'unchanged' });
    expect(client.unsentOutcome).toBeUndefined();
    expect(server.outcomes().get('en-1-SN1')).toBe('confirmed');
    // Heard now: the next poll finds nothing more.
    expect((await client.check()).status).toBe('none');
  });

  it('takes new payload links for the offer in force as unchanged (a lost outcome is sent again); a new version of the offer is an offer', async () => {
    // A device listener whose tags name the offer and its links' expiry, "<offer>~<expiry>".
    let tag = '"3.0~100"';
    let links = 'a';
    let refuse = 1;
    const reports: string[] = [];
    const server = createServer((request, response) => {
      if (request.url?.startsWith('/api/offer')) {
        if (request.headers['if-none-match'] === tag) return void response.writeHead(304, { etag: tag, 'x-poll-after': '60' }).end();
        const body = { campaign: 3, sequence: 2, envelope: Buffer.from(campaign.envelope).toString('base64'), payloads: { 'firmware.bin': `http://127.0.0.1/fw.bin?sig=${links}` }, downloadAfterS: 0 };
        return void response.writeHead(200, { etag: tag, 'x-poll-after': '60', 'content-type': 'application/json' }).end(JSON.stringify(body));
      }
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        if (refuse-- > 0) return void response.writeHead(503).end('{"error":"busy"}');
        reports.push((JSON.parse(text) as { state: string }).state);
        response.writeHead(200).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const client = new CampaignClient({ serverUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, deviceId: 'en-1-SN1' });
    expect((await client.check()).status).toBe('offer');
    await expect(client.report(3, 'confirmed')).rejects.toThrow(/HTTP 503/);
    expect(client.unsentOutcome).toMatchObject({ state: 'confirmed' });
    // The server renews the links: the same offer, the new links in force, the outcome sent again.
    tag = '"3.0~200"';
    links = 'b';
    const renewed = await client.check();
    expect(renewed).toMatchObject({ status: 'unchanged', offer: { campaignId: 3, payloads: { 'firmware.bin': 'http://127.0.0.1/fw.bin?sig=b' } } });
    expect(renewed.offer!.offer.urls).toEqual({ 'firmware.bin': 'http://127.0.0.1/fw.bin?sig=b' });
    expect(reports).toEqual(['confirmed']);
    expect(client.unsentOutcome).toBeUndefined();
    expect((await client.check()).status).toBe('unchanged');
    // A new version of the offer (a retry, a resume): an offer to act on.
    tag = '"3.1~300"';
    expect((await client.check()).status).toBe('offer');
  });

  it('a refused report is an error naming the server\'s reason', async () => {
    const server = await standIn();
    const client = new CampaignClient({ serverUrl: server.url, deviceId: 'en-1-SN1' });
    await expect(client.report(77, 'confirmed')).rejects.toThrow(/HTTP 400: device was not offered campaign/);
  });
});

describe('failure types and payload URLs', () => {
  it('maps the agent\'s reasons to the failure types the server counts', () => {
    expect(['download-failed', 'payload-mismatch', 'bad-signature', 'downgrade', 'health-check-failed', 'no-space', 'storage', 'mystery'].map(failureOf)).toEqual(['download', 'verify', 'verify', 'verify', 'health', 'install', 'install', 'other']);
  });

  it('takes the map first, refuses a URI the map lacks, and keeps url/baseUrl for offers without a map', () => {
    expect(payloadUrl('a.bin', { urls: { 'a.bin': 'https://cdn.example/a?sig=1' }, baseUrl: 'http://s/' })).toBe('https://cdn.example/a?sig=1');
    expect(() => payloadUrl('b.bin', { urls: { 'a.bin': 'https://cdn.example/a' } })).toThrow(/names no URL for payload "b.bin"/);
    expect(() => payloadUrl('constructor', { urls: {} })).toThrow(/names no URL/);
    expect(payloadUrl('b.bin', { urls: {}, baseUrl: 'http://s/x/' })).toBe('http://s/x/b.bin');
    expect(payloadUrl('b.bin', { url: 'http://s/fixed.bin' })).toBe('http://s/fixed.bin');
  });
});
