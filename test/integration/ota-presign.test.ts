/**
 * Presigned payload links against the download slot, with the S3 store on s3rver (which refuses an
 * expired presigned URL by the real time): a link outlives the wait for the device's slot plus a
 * download's time; a poll with the tag of links about to expire is answered with new links (200),
 * never with 304; the device's client takes new links as the same offer. On PGlite and PostgreSQL.
 * And a download from S3 cut off, then offered with a new signature, resumes where it stopped.
 *
 * The virtual clock starts in the past, so that the last device's slot falls on the real time at
 * which s3rver checks the links.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import { CampaignClient } from '../../ota/agent/campaign-client.js';
import { nodeFileSystem } from '../../ota/agent/file-system.js';
import { downloadImage } from '../../ota/agent/http-download.js';
import { UpdateError } from '../../ota/errors.js';
import { MAX_PRESIGN_EXPIRES_S, openArtefactStore, type ArtefactStore } from '../../ota/server/artefacts/index.js';
import { deviceApi } from '../../ota/server/device-api.js';
import { startUpdateServer } from '../../ota/server/file-server.js';
import { FleetStore } from '../../ota/server/fleet-store.js';
import { parseRolloutPolicy } from '../../ota/server/rollout/policy.js';
import { fleetBackends } from '../support/fleet-db.js';
import { makeDevice } from '../support/ota-device.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';
import { startTestS3 } from '../support/s3.js';

const key = makeKey();
const image = makeImage(100_000, 9);
const digest = createHash('sha256').update(image).digest();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Offer {
  campaign: number;
  payloads: Record<string, string>;
  downloadAfterS: number;
}

/** When a presigned URL stops being valid, epoch seconds: X-Amz-Date plus X-Amz-Expires. */
function expiryOf(link: string): number {
  const query = new URL(link).searchParams;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(query.get('X-Amz-Date') ?? '');
  if (m === null) throw new Error(`no X-Amz-Date in ${link}`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000 + Number(query.get('X-Amz-Expires'));
}

async function poll(server: string, id: string, etag?: string): Promise<{ status: number; etag: string; offer: Offer | undefined }> {
  const response = await fetch(`${server}api/offer?device=${id}`, etag === undefined ? {} : { headers: { 'if-none-match': etag } });
  const offer = response.status === 200 ? ((await response.json()) as Offer) : (await response.arrayBuffer(), undefined);
  return { status: response.status, etag: response.headers.get('etag')!, offer };
}

describe.each(fleetBackends())('presigned payload links and download slots ($name)', (backend) => {
  async function fleet(clock: VirtualClock, artefacts: ArtefactStore, ids: string[], presignTtlS?: number): Promise<string> {
    const store = await FleetStore.open(await backend.open(), clock);
    cleanups.push(() => store.close());
    const server = await startUpdateServer({ api: deviceApi(store, artefacts, { clock, rateLimit: { perMinute: 1e6, burst: 1e6 }, ...(presignTtlS === undefined ? {} : { presignTtlS }) }) });
    cleanups.push(() => server.close());
    await store.assign('line-3', ids);
    await store.createCampaign({ name: 'fw 2', group: 'line-3', envelope: envelopeFor(image, 2, key), policy: parseRolloutPolicy({ downloadSlotsPerMinute: 1 }) });
    await store.schedule();
    return server.url;
  }

  it('a device that waits for its slot downloads from S3 with the links it was given; links that ran out are renewed, not kept by 304', async () => {
    const ttlS = 60;
    const lastSlotS = 4 * 60;
    // On a whole second: links are signed from the second they are made in.
    const clock = new VirtualClock({ start: Math.floor(Date.now() / 1000) * 1000 - lastSlotS * 1000 });
    const s3 = await startTestS3();
    cleanups.push(() => s3.stop());
    const artefacts = openArtefactStore(`s3://${s3.bucket}/fw`, s3.env, { clock });
    await artefacts.put('firmware.bin', image);
    const ids = ['d0', 'd1', 'd2', 'd3', 'd4', 'd5'];
    const server = await fleet(clock, artefacts, ids, ttlS);

    const polls = [];
    for (const id of ids.slice(0, 4)) polls.push(await poll(server, id));
    // d4 is a device with the update agent and the campaign client, on the virtual clock.
    const device = await makeDevice(key);
    cleanups.push(() => device.cleanup());
    const client = new CampaignClient({ serverUrl: server, deviceId: 'd4', clock });
    const first = await client.check();
    expect(first.status).toBe('offer');
    const offers = [...polls.map((p) => p.offer!), { campaign: first.offer!.campaignId, payloads: first.offer!.payloads, downloadAfterS: first.offer!.downloadAfterS }];
    expect(offers.map((o) => o.downloadAfterS)).toEqual([0, 60, 120, 180, 240]);
    const later = new CampaignClient({ serverUrl: server, deviceId: 'd5', clock });
    const laterOffer = await later.check();
    expect(laterOffer.offer!.downloadAfterS).toBe(300);
    const nowS = clock.now() / 1000;
    for (const [i, offer] of offers.entries()) {
      const link = offer.payloads['firmware.bin']!;
      // Valid for the wait until the slot plus the time a download may take.
      expect(expiryOf(link), ids[i]).toBe(nowS + offer.downloadAfterS + ttlS);
      expect(new URL(link).searchParams.get('X-Amz-Expires')).toBe(String(offer.downloadAfterS + ttlS));
    }
    // The tag names the offer and when its links expire.
    for (const [i, p] of polls.entries()) expect(p.etag).toMatch(new RegExp(`^"\\d+\\.\\d+~${expiryOf(offers[i]!.payloads['firmware.bin']!)}"$`));

    // While d4 waits for its slot, its polls are 304; at the slot it downloads with the links it holds.
    const outcome = client.run(device.agent, first.offer!);
    await clock.advance(120_000);
    expect((await client.check()).status).toBe('unchanged');
    await clock.advance(120_000);
    expect(await outcome).toBe('confirmed');

    // d3's slot was a minute ago and its links ran out now: its poll gets new links, not 304.
    const d3 = polls[3]!;
    const renewed = await poll(server, 'd3', d3.etag);
    expect(renewed.status).toBe(200);
    expect(renewed.etag).not.toBe(d3.etag);
    expect(renewed.offer!.downloadAfterS).toBe(0);
    const link = renewed.offer!.payloads['firmware.bin']!;
    expect(expiryOf(link)).toBe(clock.now() / 1000 + ttlS);
    expect((await poll(server, 'd3', renewed.etag)).status).toBe(304);
    // s3rver (by the real time) refuses the old link and serves the new one.
    const old = await fetch(d3.offer!.payloads['firmware.bin']!);
    expect(old.status).toBe(403);
    expect(await old.text()).toMatch(/Request has expired/);
    const part = join(await mkdtemp(join(tmpdir(), 'sensorkit-presign-')), 'fw.part');
    cleanups.push(() => rm(join(part, '..'), { recursive: true, force: true }));
    expect(await downloadImage(nodeFileSystem, { url: link, part, size: image.length, digest })).toMatchObject({ transferred: image.length });

    // Links are renewed once less than half of the download time is left of them. d5's slot is at
    // 300 s and its links last until 360 s: 304 up to 330 s, new links (same offer) from 331 s.
    await clock.advance(60_000);
    expect((await later.check()).status).toBe('unchanged');
    await clock.advance(30_000);
    expect((await later.check()).status).toBe('unchanged');
    expect(later.pollAfterS).toBe(laterOffer.pollAfterS);
    await clock.advance(1_000);
    const renewal = await later.check();
    expect(renewal.status).toBe('unchanged');
    expect(renewal.offer!.payloads['firmware.bin']).not.toBe(laterOffer.offer!.payloads['firmware.bin']);
    expect(expiryOf(renewal.offer!.payloads['firmware.bin']!)).toBe(clock.now() / 1000 + ttlS);
    expect(renewal.pollAfterS).toBe(laterOffer.pollAfterS);
    expect((await later.check()).status).toBe('unchanged');
  }, 60_000);

  it('at the default 3600 s a device 69 slots down a wave still starts with 3600 s of link; links are signed for at most 7 days', async () => {
    const clock = new VirtualClock({ start: Date.UTC(2026, 0, 1) });
    // A store that signs like S3 (`expires` = signing time + ttl), without a bucket behind it.
    const signed: number[] = [];
    const artefacts: ArtefactStore = {
      kind: 's3',
      check: async () => {},
      put: async () => ({ size: 0, sha256: '' }),
      head: async () => ({ size: image.length }),
      get: async () => new Uint8Array(),
      presignGet: async (key, ttlS) => (signed.push(ttlS), `https://bucket.example/${key}?expires=${clock.now() / 1000 + ttlS}`),
    };
    const ids = Array.from({ length: 70 }, (_, i) => `d${String(i).padStart(2, '0')}`);
    const server = await fleet(clock, artefacts, ids);
    let last: { status: number; etag: string; offer: Offer | undefined } | undefined;
    for (const id of ids) last = await poll(server, id);
    const slotS = last!.offer!.downloadAfterS;
    expect(slotS).toBe(69 * 60);
    const expires = Number(new URL(last!.offer!.payloads['firmware.bin']!).searchParams.get('expires'));
    expect(expires).toBe(clock.now() / 1000 + slotS + 3600);
    // At its slot the device's poll is still 304: it holds 3600 s of link.
    await clock.advance(slotS * 1000);
    expect((await poll(server, ids.at(-1)!, last!.etag)).status).toBe(304);
    // Half an hour into the download time, new links (200), valid 3600 s from now.
    await clock.advance(1801_000);
    const renewed = await poll(server, ids.at(-1)!, last!.etag);
    expect(renewed.status).toBe(200);
    expect(Number(new URL(renewed.offer!.payloads['firmware.bin']!).searchParams.get('expires'))).toBe(clock.now() / 1000 + 3600);

    // A download time near the 7-day limit: the wait cannot be added, the link is signed for 7 days.
    const other = await fleet(clock, artefacts, ['e0', 'e1'], MAX_PRESIGN_EXPIRES_S - 30);
    await poll(other, 'e0');
    signed.length = 0;
    const capped = await poll(other, 'e1');
    expect(capped.offer!.downloadAfterS).toBe(60);
    expect(signed).toEqual([MAX_PRESIGN_EXPIRES_S]);
  });
});

/**
 * A TCP relay to `port`. The first connection forwards `stallAfterBytes` bytes of the server's
 * answer and then nothing, until `cut()` breaks it; later connections are relayed whole.
 */
async function stallingRelay(port: number, stallAfterBytes: number): Promise<{ endpoint: string; cut(): void; close(): Promise<void> }> {
  let firstClient: Socket | undefined;
  const sockets = new Set<Socket>();
  const relay = createNetServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    let budget = firstClient === undefined ? stallAfterBytes : Number.POSITIVE_INFINITY;
    firstClient ??= client;
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (budget <= 0) return;
      client.write(chunk.subarray(0, budget));
      budget -= chunk.length;
    });
    upstream.on('end', () => client.end());
    for (const socket of [client, upstream]) socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`,
    cut: () => void firstClient?.destroy(),
    close: () => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), relay.close(() => resolve()))),
  };
}

describe('a download from S3 cut off and offered again with a new signature', () => {
  it('resumes where it stopped (Range, If-Range with the object ETag), not from byte 0', async () => {
    const clock = new VirtualClock({ start: Math.floor(Date.now() / 1000) * 1000 });
    const s3 = await startTestS3();
    cleanups.push(() => s3.stop());
    const relay = await stallingRelay(Number(new URL(s3.endpoint).port), 40_000);
    cleanups.push(() => relay.close());
    // Devices reach the bucket through the relay (the host the links are signed for).
    const artefacts = openArtefactStore(`s3://${s3.bucket}/fw`, { ...s3.env, SENSORKIT_S3_PUBLIC_ENDPOINT: relay.endpoint }, { clock });
    await artefacts.put('firmware.bin', image);
    const first = (await artefacts.presignGet('firmware.bin', 600))!;
    const dir = await mkdtemp(join(tmpdir(), 'sensorkit-presign-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const part = join(dir, 'fw.part');
    // The connection breaks once the first bytes are on disk.
    const cut = await downloadImage(nodeFileSystem, { url: first, part, size: image.length, digest, onProgress: () => relay.cut() }).catch((error: unknown) => error);
    expect(cut).toBeInstanceOf(UpdateError);
    const kept = (await stat(part)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(40_000);
    await clock.advance(60_000);
    const second = (await artefacts.presignGet('firmware.bin', 600))!;
    expect(new URL(second).searchParams.get('X-Amz-Signature')).not.toBe(new URL(first).searchParams.get('X-Amz-Signature'));
    const result = await downloadImage(nodeFileSystem, { url: second, part, size: image.length, digest });
    expect(result).toEqual({ resumedFrom: kept, restarts: 0, transferred: image.length - kept });
    expect(await readFile(part)).toEqual(image);
  }, 60_000);
});

describe('deviceApi presignTtlS', () => {
  it('refuses a link lifetime S3 cannot sign', () => {
    const artefacts = openArtefactStore('s3://bucket/fw', { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' });
    for (const presignTtlS of [0, 1.5, MAX_PRESIGN_EXPIRES_S + 1, Number.NaN]) {
      expect(() => deviceApi({} as FleetStore, artefacts, { presignTtlS }), String(presignTtlS)).toThrow(ArgumentError);
    }
  });
});
