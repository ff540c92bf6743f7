/**
 * The update server's file listener and device API against hostile requests, the campaign client
 * against a hostile server, and the CLI against hostile files: path tricks (bad percent-encoding,
 * NUL, dot files, keys, symlinks out of the folder), malformed and oversized reports, an endless
 * offer, an endless envelope file, system folders as the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VirtualClock } from '../../sdk/core/clock.js';
import { ManifestError, UpdateError } from '../../ota/errors.js';
import { CampaignClient } from '../../ota/agent/campaign-client.js';
import { openArtefactStore } from '../../ota/server/artefacts/index.js';
import { openDatabase } from '../../ota/server/db/sql.js';
import { deviceApi } from '../../ota/server/device-api.js';
import { startUpdateServer, type UpdateServer } from '../../ota/server/file-server.js';
import { FleetStore } from '../../ota/server/fleet-store.js';
import { parseRolloutPolicy } from '../../ota/server/rollout/policy.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const key = makeKey();
const image = makeImage(10_000, 4);
let base: string;
let served: string;
let store: FleetStore;
let server: UpdateServer;
let devices: UpdateServer;
let campaign: number;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'sensorkit-ota-hardening-'));
  served = join(base, 'served');
  await mkdir(served);
  await writeFile(join(served, 'firmware.bin'), image);
  await writeFile(join(served, '.hidden'), 'secret');
  await writeFile(join(served, 'private.pem'), '-----BEGIN PRIVATE KEY-----');
  await writeFile(join(base, 'outside.txt'), 'outside the served directory');
  await symlink(join(base, 'outside.txt'), join(served, 'escape.txt'));
  await symlink('firmware.bin', join(served, 'alias.bin'));
  store = await FleetStore.open(await openDatabase(undefined), new VirtualClock());
  await store.assign('line-1', ['d1']);
  campaign = (await store.createCampaign({ name: 'fw', group: 'line-1', envelope: envelopeFor(image, 2, key), policy: parseRolloutPolicy({}) })).id;
  // 'any': the path rules below hold for every file, signed for or not (signed-only serving is
  // tested in ota-serve-signed.test.ts).
  server = await startUpdateServer({ dir: served, files: 'any' });
  // The device listener over a folder store in the same folder: /files/ serves only what a campaign names.
  devices = await startUpdateServer({ api: deviceApi(store, openArtefactStore(served)) });
});
afterAll(async () => {
  await server.close();
  await devices.close();
  await store.close();
  await rm(base, { recursive: true, force: true });
});

/** A raw request, so paths reach the server exactly as written. */
function raw(method: string, path: string, body?: string | Buffer, port = server.port): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('update server paths', () => {
  it('answers 400 to bad percent-encoding (not a 500 with an internal message)', async () => {
    expect((await raw('GET', '/%E0%A4%A')).status).toBe(400);
  });

  it('serves nothing outside --dir: traversal, NUL, and a symlink that leads out', async () => {
    for (const path of ['/../outside.txt', '/..%2Foutside.txt', '/%2e%2e/outside.txt', '/firmware.bin%00.txt', '/escape.txt']) {
      expect((await raw('GET', path)).status, path).toBe(404);
    }
    // A symlink that stays inside is fine.
    expect((await raw('GET', '/alias.bin')).status).toBe(200);
  });

  it('serves no dot files and nothing that looks like a key or a database', async () => {
    expect((await raw('GET', '/.hidden')).status).toBe(404);
    expect((await raw('GET', '/private.pem')).status).toBe(404);
    expect((await raw('GET', '/firmware.bin')).status).toBe(200);
  });
});

describe('device listener /files/', () => {
  it('serves a payload a campaign names, and nothing else of the folder: traversal, dot files, keys, symlinks', async () => {
    expect((await raw('GET', '/files/firmware.bin', undefined, devices.port)).status).toBe(200);
    for (const path of ['/files/../outside.txt', '/files/..%2Foutside.txt', '/files/%2e%2e/outside.txt', '/files/firmware.bin%00', '/files/escape.txt', '/files/alias.bin', '/files/.hidden', '/files/private.pem', '/files//firmware.bin', '/files/']) {
      expect((await raw('GET', path, undefined, devices.port)).status, path).toBe(404);
    }
    expect((await raw('GET', '/files/%E0%A4%A', undefined, devices.port)).status).toBe(400);
    expect((await raw('POST', '/files/firmware.bin', 'x', devices.port)).status).toBe(404);
  });
});

describe('device API input', () => {
  const report = (value: unknown): Promise<{ status: number; text: string }> => raw('POST', '/api/report', typeof value === 'string' ? value : JSON.stringify(value), devices.port);
  const offer = (query: string): Promise<{ status: number; text: string }> => raw('GET', `/api/offer?${query}`, undefined, devices.port);

  it('answers 400 with a reason to malformed reports, and records nothing from them', async () => {
    const before = await store.status(campaign);
    for (const body of ['{', 'null', '[]', '"x"']) expect((await report(body)).status, body).toBe(400);
    expect((await report({ campaign: '1', device: 'd1', state: 'confirmed' })).status).toBe(400);
    expect((await report({ campaign: 1.5, device: 'd1', state: 'confirmed' })).status).toBe(400);
    expect((await report({ campaign, device: 'd1', state: 'exploded' })).status).toBe(400);
    expect((await report({ campaign: 999, device: 'd1', state: 'confirmed' })).status).toBe(400);
    expect((await report({ campaign, device: 'd1', state: 'failed', failure: 'meteor' })).status).toBe(400);
    for (const device of ['', '../etc', 'a/b', 'line\nbreak', 'x'.repeat(129)]) {
      expect((await report({ campaign, device, state: 'confirmed' })).status, JSON.stringify(device)).toBe(400);
    }
    expect((await report({ campaign, device: 'd1', state: 'failed', reason: 'r'.repeat(513) })).status).toBe(400);
    expect(await store.status(campaign)).toEqual(before);
  });

  it('refuses oversized report bodies (413) before parsing them', async () => {
    const padded = JSON.stringify({ campaign, device: 'd1', state: 'confirmed', pad: 'x'.repeat(5000) });
    expect((await report(padded)).status).toBe(413);
    expect((await raw('POST', '/api/report', Buffer.alloc(2 * 1024 * 1024, 0x20), devices.port)).status).toBe(413);
    expect((await store.status(campaign)).counts.confirmed).toBe(0);
  });

  it('checks the device and group of an offer request', async () => {
    expect((await offer('device=..%2Fx&group=line-1')).status).toBe(400);
    expect((await offer(`device=d1&group=${'g'.repeat(200)}`)).status).toBe(400);
    expect((await offer('device=d1&group=line-1')).status).toBe(200);
    expect((await offer('device=d1')).status).toBe(200);
    expect((await offer('nodevice=1')).status).toBe(400);
  });

  it("lets no request pick a device's group, and counts no report from a device that was not offered", async () => {
    // The group a request names is not the device's: d2 is in no group, so nothing is offered.
    expect((await offer('device=d2&group=line-1')).status).toBe(204);
    // A forged failure from a device never offered the update is refused and does not count.
    const forged = await report({ campaign, device: 'never-offered', state: 'failed', reason: 'forged' });
    expect(forged.status).toBe(400);
    expect(forged.text).toMatch(/never-offered/);
    expect(await store.status(campaign)).toMatchObject({ state: 'running', counts: { failed: 0 } });
  });
});

describe('CampaignClient against a hostile server', () => {
  it('stops reading an endless offer at the envelope cap', async () => {
    const hostile: Server = createServer((request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0xa5);
      const pump = (): void => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once('drain', pump);
      };
      pump();
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', () => resolve()));
    try {
      const client = new CampaignClient({ serverUrl: `http://127.0.0.1:${(hostile.address() as AddressInfo).port}/`, deviceId: 'd1', group: 'line-1' });
      const error = await client.poll().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ManifestError);
      expect((error as ManifestError).reason).toBe('limit');
    } finally {
      hostile.closeAllConnections();
      await new Promise<void>((resolve) => hostile.close(() => resolve()));
    }
  });
});

describe('CampaignClient against a silent server', () => {
  for (const [what, behave] of [
    ['never answers', () => undefined],
    ['sends headers, then nothing', (response: import('node:http').ServerResponse) => response.writeHead(200, { 'content-type': 'application/json' }).write('{"campaign":')],
  ] as const) {
    it(`gives up on a server that ${what} (timeoutMs)`, async () => {
      const silent: Server = createServer((_request, response) => void behave(response));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
      try {
        const client = new CampaignClient({ serverUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, deviceId: 'd1', group: 'line-1', timeoutMs: 300 });
        const error = await client.poll().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UpdateError);
        expect((error as UpdateError).reason).toBe('download-failed');
      } finally {
        silent.closeAllConnections();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    }, 20_000);
  }
});

describe('sensorkit ota CLI against hostile files', () => {
  function sensorkit(args: string[]): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [`${ROOT}bin/sensorkit.js`, 'ota', ...args], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      // A hang (reading /dev/zero to the end) is the failure this guards against.
      const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('close', (code) => {
        clearTimeout(guard);
        resolve({ code, stderr });
      });
    });
  }

  it('verify refuses an endless envelope file with a one-line reason instead of reading it all', async () => {
    const pem = join(base, 'public.pem');
    await writeFile(pem, key.publicPem);
    const run = await sensorkit(['verify', '/dev/zero', '--key', pem]);
    expect(run.code).toBe(1);
    // Not read at all: only a regular file is taken where a file is expected.
    expect(run.stderr).toMatch(/\/dev\/zero: not a regular file/);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  }, 30_000);

  it('serve refuses a fleet database inside the folder store, and a system folder as the store', async () => {
    const inside = await sensorkit(['serve', '--dir', served, '--db', join(served, 'ota-db'), '--port', '0']);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/inside --dir/);
    const system = await sensorkit(['serve', '--store', '/', '--db', join(base, 'ota-db'), '--device-port', '0', '--admin-port', '0']);
    expect(system.code).toBe(2);
    expect(system.stderr).toMatch(/--store \/ is a system folder/);
    const files = await sensorkit(['serve', '--dir', '/etc', '--port', '0']);
    expect(files.code).toBe(2);
    expect(files.stderr).toMatch(/--dir \/etc is a system folder/);
  }, 30_000);
});
