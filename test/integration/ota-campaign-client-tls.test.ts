/**
 * The device side of mutual TLS: CampaignClient presents the device's certificate to an update
 * server's device listener that asks for one (`clientCa`), over the fleet store on PGlite.
 * Certificates are made with openssl (a Debian peer, installed in CI) in a temporary folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { CampaignClient } from '../../ota/agent/campaign-client.js';
import { requestCapped } from '../../ota/agent/http-request.js';
import { openDatabase } from '../../ota/server/db/sql.js';
import { deviceApi } from '../../ota/server/device-api.js';
import { startUpdateServer, type UpdateServer } from '../../ota/server/file-server.js';
import { FleetStore } from '../../ota/server/fleet-store.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';

const envelope = envelopeFor(makeImage(1000, 3), 5, makeKey());
let dir: string;
const running: { server: UpdateServer; store: FleetStore }[] = [];
const pem = (name: string): Promise<Buffer> => readFile(join(dir, name));
const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-client-tls-'));
  const ca = (name: string): void => openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '30', '-subj', `/CN=${name}`);
  const issue = (name: string, issuer: string, extra: string[] = []): void => {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '30', ...extra);
  };
  ca('device-ca');
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  issue('server', 'device-ca', ['-extfile', 'server.ext']);
  issue('en-1-SN1', 'device-ca');
});
afterEach(async () => {
  for (const { server, store } of running.splice(0)) {
    await server.close();
    await store.close();
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function serveWithClientCertificates(): Promise<{ url: string; store: FleetStore }> {
  const clock = new VirtualClock();
  const store = await FleetStore.open(await openDatabase(undefined), clock);
  const server = await startUpdateServer({
    api: deviceApi(store, undefined, { deviceCertificates: true, clock }),
    tls: { cert: await pem('server.pem'), key: await pem('server.key'), clientCa: await pem('device-ca.pem') },
  });
  running.push({ server, store });
  return { url: server.url, store };
}

describe('CampaignClient with the device certificate', () => {
  it('polls and reports over mutual TLS; without the certificate the server refuses it', async () => {
    const { url, store } = await serveWithClientCertificates();
    await store.assign('line-3', ['en-1-SN1', 'en-1-SN2']);
    const { id } = await store.createCampaign({ name: 'fw 5', group: 'line-3', envelope });
    const tls = { ca: await pem('device-ca.pem'), cert: await pem('en-1-SN1.pem'), key: await pem('en-1-SN1.key') };

    const client = new CampaignClient({ serverUrl: url, deviceId: 'en-1-SN1', tls });
    const offer = await client.poll();
    expect(offer?.campaignId).toBe(id);
    expect(offer?.payloads).toEqual({ 'firmware.bin': `${url}files/firmware.bin` });
    expect(Buffer.from(offer!.offer.envelope).equals(Buffer.from(envelope))).toBe(true);
    // The same answer again is a 304 over the same mutual-TLS connection setup.
    expect((await client.check()).status).toBe('unchanged');
    await client.report(id, 'confirmed');
    expect((await store.status(id)).counts).toMatchObject({ confirmed: 1 });

    const anonymous = new CampaignClient({ serverUrl: url, deviceId: 'en-1-SN1', tls: { ca: tls.ca } });
    await expect(anonymous.poll()).rejects.toMatchObject({ reason: 'download-failed', message: expect.stringContaining('HTTP 401') });
    // A certificate for one device cannot poll or report for another.
    const impostor = new CampaignClient({ serverUrl: url, deviceId: 'en-1-SN2', tls });
    await expect(impostor.poll()).rejects.toMatchObject({ reason: 'download-failed', message: expect.stringContaining('HTTP 403') });
    await expect(impostor.report(id, 'failed', { failure: 'install' })).rejects.toThrow(/HTTP 403/);
    expect((await store.status(id)).counts).toMatchObject({ confirmed: 1, failed: 0 });
  });
});

describe('requestCapped', () => {
  it('refuses an answer longer than the cap, declared or sent', async () => {
    const { url, store } = await serveWithClientCertificates();
    await store.assign('line-3', ['en-1-SN1']);
    await store.createCampaign({ name: 'fw 5', group: 'line-3', envelope });
    const tls = { ca: await pem('device-ca.pem'), cert: await pem('en-1-SN1.pem'), key: await pem('en-1-SN1.key') };
    const offerUrl = new URL('api/offer?device=en-1-SN1', url);
    const whole = await requestCapped(offerUrl, { timeoutMs: 10_000, maxBytes: 16_384, tls });
    expect(whole.status).toBe(200);
    await expect(requestCapped(offerUrl, { timeoutMs: 10_000, maxBytes: 10, tls })).rejects.toMatchObject({ reason: 'limit' });
  });

  it('refuses a scheme it cannot speak with one line', async () => {
    await expect(requestCapped(new URL('ftp://127.0.0.1/x'), { timeoutMs: 1000, maxBytes: 10 })).rejects.toMatchObject({ reason: 'download-failed', message: expect.stringContaining('unsupported URL scheme ftp:') });
  });
});
