/**
 * The device side of mutual TLS: CampaignClient presents the device's certificate to an update
 * server that asks for one (`clientCa`), and a download of an image does the same. Certificates
 * are made with openssl (a Debian peer, installed in CI) in a temporary folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { CampaignClient } from '../../ota/agent/campaign-client.js';
import { requestCapped } from '../../ota/agent/http-request.js';
import { campaignApi } from '../../ota/server/campaign-api.js';
import { CampaignStore } from '../../ota/server/campaign-store.js';
import { startUpdateServer, type UpdateServer } from '../../ota/server/file-server.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';

const envelope = envelopeFor(makeImage(1000, 3), 5, makeKey());
let dir: string;
const running: { server: UpdateServer; store: CampaignStore }[] = [];
const pem = (name: string): Promise<Buffer> => readFile(join(dir, name));
const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-client-tls-'));
  await mkdir(join(dir, 'served'));
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
    store.close();
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function serveWithClientCertificates(): Promise<{ url: string; store: CampaignStore }> {
  const store = new CampaignStore(':memory:', new VirtualClock());
  const server = await startUpdateServer({
    dir: join(dir, 'served'),
    api: campaignApi(store, { deviceCertificates: true }),
    tls: { cert: await pem('server.pem'), key: await pem('server.key'), clientCa: await pem('device-ca.pem') },
  });
  running.push({ server, store });
  return { url: server.url, store };
}

describe('CampaignClient with the device certificate', () => {
  it('polls and reports over mutual TLS; without the certificate the server refuses it', async () => {
    const { url, store } = await serveWithClientCertificates();
    const id = store.create({ name: 'fw 5', group: 'line-3', envelope });
    store.assign('line-3', ['en-1-SN1']);
    const tls = { ca: await pem('device-ca.pem'), cert: await pem('en-1-SN1.pem'), key: await pem('en-1-SN1.key') };

    const client = new CampaignClient({ serverUrl: url, deviceId: 'en-1-SN1', group: 'line-3', tls });
    const offer = await client.poll();
    expect(offer?.campaignId).toBe(id);
    expect(Buffer.from(offer!.offer.envelope).equals(Buffer.from(envelope))).toBe(true);
    await client.report(id, 'confirmed');
    expect(store.status(id).counts).toMatchObject({ confirmed: 1 });

    const anonymous = new CampaignClient({ serverUrl: url, deviceId: 'en-1-SN1', group: 'line-3', tls: { ca: tls.ca } });
    await expect(anonymous.poll()).rejects.toMatchObject({ reason: 'download-failed', message: expect.stringContaining('HTTP 401') });
  });
});

describe('requestCapped', () => {
  it('refuses an answer longer than the cap, declared or sent', async () => {
    const { url, store } = await serveWithClientCertificates();
    store.create({ name: 'fw 5', group: 'line-3', envelope });
    store.assign('line-3', ['en-1-SN1']);
    const tls = { ca: await pem('device-ca.pem'), cert: await pem('en-1-SN1.pem'), key: await pem('en-1-SN1.key') };
    const offerUrl = new URL('api/offer?device=en-1-SN1&group=line-3', url);
    const whole = await requestCapped(offerUrl, { timeoutMs: 10_000, maxBytes: 16_384, tls });
    expect(whole.status).toBe(200);
    await expect(requestCapped(offerUrl, { timeoutMs: 10_000, maxBytes: 10, tls })).rejects.toMatchObject({ reason: 'limit' });
  });

  it('refuses a scheme it cannot speak with one line', async () => {
    await expect(requestCapped(new URL('ftp://127.0.0.1/x'), { timeoutMs: 1000, maxBytes: 10 })).rejects.toMatchObject({ reason: 'download-failed', message: expect.stringContaining('unsupported URL scheme ftp:') });
  });
});
