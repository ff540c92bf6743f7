import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManifestError, UpdateError } from '../../ota/errors.js';
import { downloadImage } from '../../ota/agent/http-download.js';
import { nodeFileSystem } from '../../ota/agent/file-system.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';
import { makeDevice, type TestDevice } from '../support/ota-device.js';
import { diskFullFileSystem } from '../support/ota-fs.js';
import { startFaultServer, type FaultServer } from '../support/ota-http.js';
import { hasOpenssl, makeCertificates } from '../support/brokers.js';
import { PEERS_REQUIRED } from '../support/peers.js';
import { startUpdateServer } from '../../ota/server/file-server.js';

const key = makeKey('p256');
const body = makeImage(300_000, 5);
const digest = createHash('sha256').update(body).digest();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(plan: Parameters<typeof startFaultServer>[0]): Promise<FaultServer> {
  const server = await startFaultServer(plan);
  cleanups.push(() => server.close());
  return server;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sensorkit-dl-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function device(options: Parameters<typeof makeDevice>[1] = {}): Promise<TestDevice> {
  const d = await makeDevice(key, options);
  cleanups.push(() => d.cleanup());
  return d;
}

async function failure(promise: Promise<unknown>): Promise<ManifestError | UpdateError | NodeJS.ErrnoException> {
  try {
    await promise;
  } catch (error) {
    return error as ManifestError;
  }
  throw new Error('expected a failure');
}

describe('downloadImage', () => {
  it('names a presigned URL in its errors without the signature (a credential until it expires)', async () => {
    const server = await serve({ body, etag: '"v1"', cutAfterBytes: 1000 });
    const url = `${server.url}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261205&X-Amz-Signature=5eb1c0ffee&X-Amz-Expires=3600&version=7`;
    const error = await failure(downloadImage(nodeFileSystem, { url, part: join(await tempDir(), 'image.part'), size: body.length, digest }));
    expect((error as UpdateError).reason).toBe('download-failed');
    expect(error.message).not.toMatch(/5eb1c0ffee|AKIDEXAMPLE|X-Amz/);
    expect(error.message).toContain(`${server.url}?version=7&…`);
  });

  it('resumes a truncated download with Range and If-Range', async () => {
    const server = await serve({ body, etag: '"v1"', cutAfterBytes: 100_000 });
    const part = join(await tempDir(), 'image.part');
    const job = { url: server.url, part, size: body.length, digest };
    const error = await failure(downloadImage(nodeFileSystem, job));
    expect(error).toBeInstanceOf(UpdateError);
    expect((error as UpdateError).reason).toBe('download-failed');
    const kept = (await stat(part)).size;
    expect(kept).toBeGreaterThan(0);
    const result = await downloadImage(nodeFileSystem, job);
    expect(result).toMatchObject({ resumedFrom: kept, restarts: 0, transferred: body.length - kept });
    expect(server.requests.at(-1)).toEqual({ range: `bytes=${kept}-`, ifRange: '"v1"', status: 206 });
    expect(await readFile(part)).toEqual(body);
  });

  it('resumes from a presigned URL signed again (only its signing parameters changed); another object or query starts over', async () => {
    const server = await serve({ body, etag: '"v1"', cutAfterBytes: 100_000 });
    const signed = (date: string, signature: string, rest = 'versionId=7'): string => `${new URL('/bucket/fw.bin', server.url).href}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=${date}&X-Amz-Expires=3600&${rest}&X-Amz-Signature=${signature}`;
    const part = join(await tempDir(), 'image.part');
    await failure(downloadImage(nodeFileSystem, { url: signed('20260101T000000Z', 'aa'), part, size: body.length, digest }));
    const kept = (await stat(part)).size;
    expect(kept).toBeGreaterThan(0);
    const result = await downloadImage(nodeFileSystem, { url: signed('20260101T001500Z', 'bb'), part, size: body.length, digest });
    expect(result).toMatchObject({ resumedFrom: kept, restarts: 0, transferred: body.length - kept });
    expect(server.requests.at(-1)).toEqual({ range: `bytes=${kept}-`, ifRange: '"v1"', status: 206 });
    expect(await readFile(part)).toEqual(body);

    // The same signature parameters, but another object version, path or server: from byte 0.
    const elsewhere = await serve({ body, etag: '"v1"' });
    for (const next of [signed('20260101T001500Z', 'cc', 'versionId=8'), `${new URL('/bucket/other.bin', server.url).href}?X-Amz-Signature=dd`, signed('20260101T001500Z', 'ee').replace(new URL(server.url).origin, new URL(elsewhere.url).origin)]) {
      const other = join(await tempDir(), 'image.part');
      server.plan.cutAfterBytes = 100_000;
      await failure(downloadImage(nodeFileSystem, { url: signed('20260101T000000Z', 'aa'), part: other, size: body.length, digest }));
      expect((await stat(other)).size).toBeGreaterThan(0);
      const again = await downloadImage(nodeFileSystem, { url: next, part: other, size: body.length, digest });
      expect(again, next).toMatchObject({ resumedFrom: 0, transferred: body.length });
      expect((next.startsWith(new URL(elsewhere.url).origin) ? elsewhere : server).requests.at(-1), next).toEqual({ range: undefined, ifRange: undefined, status: 200 });
    }
  });

  it('resumed from a URL signed again, a changed object still starts over (If-Range)', async () => {
    const server = await serve({ body, etag: '"v1"', cutAfterBytes: 100_000 });
    const part = join(await tempDir(), 'image.part');
    await failure(downloadImage(nodeFileSystem, { url: `${server.url}?X-Amz-Signature=aa`, part, size: body.length, digest }));
    server.plan.etag = '"v2"';
    const result = await downloadImage(nodeFileSystem, { url: `${server.url}?X-Amz-Signature=bb`, part, size: body.length, digest });
    expect(result.restarts).toBe(1);
    expect(server.requests.at(-1)).toMatchObject({ ifRange: '"v1"', status: 200 });
    expect(await readFile(part)).toEqual(body);
  });

  it('starts over when the server answers 200 instead of 206', async () => {
    const server = await serve({ body, etag: '"v1"', cutAfterBytes: 100_000 });
    const part = join(await tempDir(), 'image.part');
    const job = { url: server.url, part, size: body.length, digest };
    await failure(downloadImage(nodeFileSystem, job));
    server.plan.ignoreRange = true;
    const result = await downloadImage(nodeFileSystem, job);
    expect(result.restarts).toBe(1);
    expect(result.transferred).toBe(body.length);
    expect(server.requests.at(-1)!.status).toBe(200);
    expect(await readFile(part)).toEqual(body);
  });

  it('starts over when the ETag changed: If-Range gives 200, or a 206 with the new ETag is refused', async () => {
    for (const ignoreIfRange of [false, true]) {
      const server = await serve({ body, etag: '"v1"', cutAfterBytes: 100_000 });
      const part = join(await tempDir(), 'image.part');
      const job = { url: server.url, part, size: body.length, digest };
      await failure(downloadImage(nodeFileSystem, job));
      server.plan.etag = '"v2"';
      server.plan.ignoreIfRange = ignoreIfRange;
      const result = await downloadImage(nodeFileSystem, job);
      expect(result.restarts).toBe(1);
      expect(await readFile(part)).toEqual(body);
      expect(server.requests.map((r) => r.status)).toEqual(ignoreIfRange ? [200, 206, 200] : [200, 200]);
    }
  });

  it('cuts off a body longer than the signed size (endless data) and deletes it', async () => {
    const server = await serve({ body, etag: '"v1"', endless: true });
    const part = join(await tempDir(), 'image.part');
    const error = await failure(downloadImage(nodeFileSystem, { url: server.url, part, size: body.length, digest }));
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).reason).toBe('payload-mismatch');
    await expect(stat(part)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a body of the right length with the wrong bytes', async () => {
    const bad = Buffer.from(body);
    bad[299_999] = bad[299_999]! ^ 1;
    const server = await serve({ body: bad, etag: '"v1"' });
    const part = join(await tempDir(), 'image.part');
    const error = await failure(downloadImage(nodeFileSystem, { url: server.url, part, size: body.length, digest }));
    expect((error as ManifestError).reason).toBe('payload-mismatch');
  });
});

describe('UpdateAgent on a full disk', () => {
  it('checks free space before downloading anything', async () => {
    const server = await serve({ body, etag: '"v1"' });
    const d = await device({ fs: diskFullFileSystem({ budgetBytes: Infinity, freeBytes: 200_000 }) });
    const error = await failure(d.agent.update({ envelope: envelopeFor(body, 2, key), url: server.url }));
    expect((error as UpdateError).reason).toBe('no-space');
    expect(server.requests).toHaveLength(0);
    expect(d.published.at(-1)!.payload).toMatchObject({ state: 'failed', reason: 'no-space' });
    expect((await d.agent.boot()).sequence).toBe(1);
  });

  it('survives ENOSPC in the middle of a download (file-system shim) and keeps the current image', async () => {
    const server = await serve({ body, etag: '"v1"' });
    const d = await device();
    const full = await makeDevice(key, { root: d.root, fs: diskFullFileSystem({ budgetBytes: 150_000 }) });
    const error = await failure(full.agent.update({ envelope: envelopeFor(body, 2, key), url: server.url }));
    expect((error as UpdateError).reason).toBe('storage');
    expect(error.message).toMatch(/ENOSPC/);
    expect((await d.agent.boot()).sequence).toBe(1);
    expect(await d.counter()).toBe(1);
    // The partial download that filled the disk is gone.
    const staged = await readdir(join(d.root, 'staging'), { recursive: true });
    expect(staged.filter((f) => f.endsWith('image.bin'))).toEqual([]);
    expect(full.published.at(-1)!.payload).toMatchObject({ state: 'failed', reason: 'storage' });
    // With space again, the same offer installs.
    expect((await d.agent.update({ envelope: envelopeFor(body, 2, key), url: server.url })).sequence).toBe(2);
  });

  const canMount = process.getuid?.() === 0 && (() => {
    try {
      execFileSync('mount', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!canMount)('refuses an image larger than a real 1 MiB tmpfs (root only)', async () => {
    const mountPoint = await tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
    cleanups.push(async () => void execFileSync('umount', [mountPoint]));
    const big = makeImage(2 * 1024 * 1024, 6);
    const server = await serve({ body: big, etag: '"big"' });
    const d = await makeDevice(key, { root: join(mountPoint, 'dev'), provision: true });
    const error = await failure(d.agent.update({ envelope: envelopeFor(big, 2, key), url: server.url }));
    expect((error as UpdateError).reason).toBe('no-space');
    // Free space lied about (check bypassed): the real ENOSPC is reported as a storage failure.
    const lying = await makeDevice(key, { root: join(mountPoint, 'dev'), freeSpaceMarginBytes: -1e9 });
    const real = await failure(lying.agent.update({ envelope: envelopeFor(big, 2, key), url: server.url }));
    expect((real as UpdateError).reason).toBe('storage');
    expect(real.message).toMatch(/ENOSPC/);
    expect((await d.agent.boot()).sequence).toBe(1);
    expect(await readdir(join(mountPoint, 'dev', 'images'))).toHaveLength(1);
  });
});

describe('UpdateAgent over HTTPS', () => {
  it.skipIf(!hasOpenssl() && !PEERS_REQUIRED)('downloads from a server whose certificate chains to the given CA, and refuses others', async () => {
    const certificates = makeCertificates();
    const dir = await tempDir();
    await writeFile(join(dir, 'firmware.bin'), body);
    await writeFile(join(dir, 'firmware.bin.suit'), envelopeFor(body, 2, key));
    const server = await startUpdateServer({ dir, tls: { cert: certificates.serverCert, key: certificates.serverKey } });
    cleanups.push(() => server.close());
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const stranger = await device();
    const refused = await failure(stranger.agent.update({ envelope: envelopeFor(body, 2, key), url: `${server.url}firmware.bin` }));
    expect((refused as UpdateError).reason).toBe('download-failed');
    const d = await device({ requestOptions: { ca: certificates.ca } });
    expect(await d.agent.update({ envelope: envelopeFor(body, 2, key), url: `${server.url}firmware.bin` })).toMatchObject({ sequence: 2, trial: 'confirmed' });
  });
});
