/**
 * The artefact stores through their public interface: a folder, and an S3 bucket served by s3rver
 * on 127.0.0.1 with every V4 signature checked (test/support/s3.ts).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { ArgumentError, ValidationError } from '../../sdk/core/errors.js';
import { ArtefactStoreError, FolderArtefactStore, S3ArtefactStore, openArtefactStore, type ArtefactStore } from '../../ota/server/artefacts/index.js';
import { trackedCleanups } from '../support/cleanups.js';
import { startTestS3, type TestS3 } from '../support/s3.js';

const { cleanups, track } = trackedCleanups();

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sensorkit-artefacts-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Deterministic bytes (a counter through SHA-256), `size` long. */
function bytes(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  for (let block = 0, at = 0; at < size; block++, at += 32) createHash('sha256').update(`${seed}:${block}`).digest().copy(out, at);
  return out;
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The error a promise rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<ArtefactStoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArtefactStoreError);
  expect((error as Error).message).not.toContain('\n');
  return error as ArtefactStoreError;
}

/** Runs the same contract against a store. */
async function roundTrip(store: ArtefactStore, dir: string): Promise<void> {
  const small = bytes(1000, 7);
  expect(await store.put('envelopes/fw-2.suit', small)).toEqual({ size: 1000, sha256: sha256(small) });
  expect(await store.head('envelopes/fw-2.suit')).toEqual({ size: 1000 });
  expect(Buffer.from(await store.get('envelopes/fw-2.suit')).equals(small)).toBe(true);

  const file = join(dir, 'fw-2.bin');
  const payload = bytes(300_000, 8);
  await writeFile(file, payload);
  expect(await store.put('images/fw 2+ü.bin', file)).toEqual({ size: payload.length, sha256: sha256(payload) });
  expect(await store.head('images/fw 2+ü.bin')).toEqual({ size: payload.length });
  expect(Buffer.from(await store.get('images/fw 2+ü.bin')).equals(payload)).toBe(true);

  const empty = join(dir, 'empty.bin');
  await writeFile(empty, '');
  expect(await store.put('images/empty.bin', empty)).toEqual({ size: 0, sha256: sha256(new Uint8Array(0)) });
  expect(await store.head('images/empty.bin')).toEqual({ size: 0 });
  expect((await store.get('images/empty.bin')).byteLength).toBe(0);

  // A put replaces the object.
  await store.put('envelopes/fw-2.suit', Buffer.from('v2'));
  expect(Buffer.from(await store.get('envelopes/fw-2.suit')).toString()).toBe('v2');

  expect(await store.head('images/absent.bin')).toBeUndefined();
  expect((await failure(store.get('images/absent.bin'))).reason).toBe('not-found');
  // A segment starting with "." is refused too: the update server's device listener never serves
  // such a file, and the stores' own files (`.check-…`, `.sensorkit-check`) are named so.
  for (const key of ['../escape.bin', '/etc/passwd', 'a\\b', 'a//b', 'a/./b', 'C:/x', '', 'a/..', '.fw-2.bin', 'images/.fw-2.bin', 'images/.git/config']) {
    await expect(store.put(key, Buffer.from('x'))).rejects.toThrow(ValidationError);
    await expect(store.head(key)).rejects.toThrow(ValidationError);
    await expect(store.presignGet(key, 60)).rejects.toThrow(ValidationError);
  }
}

describe('folder artefact store', () => {
  it('puts bytes and files, heads, gets; keys stay inside the folder; no URL (the server serves files)', async () => {
    const dir = await tempDir();
    const root = join(dir, 'store');
    const store = openArtefactStore(root);
    expect(store.kind).toBe('folder');
    await store.check();
    expect((await stat(root)).isDirectory()).toBe(true);
    await roundTrip(store, dir);
    expect(await store.presignGet('images/fw 2+ü.bin', 900)).toBeUndefined();
    await expect(store.presignGet('images/fw 2+ü.bin', 604_801)).rejects.toThrow(ArgumentError);
    expect((store as FolderArtefactStore).pathOf('images/fw 2+ü.bin')).toBe(join(root, 'images', 'fw 2+ü.bin'));
    await expect(stat(join(dir, 'escape.bin'))).rejects.toThrow();
    await expect(store.put('images/.fw-2.bin', Buffer.from('x'))).rejects.toThrow('key: "images/.fw-2.bin" has a segment starting with "." (".fw-2.bin"), which the update server does not serve');
    await expect(stat(join(root, 'images', '.fw-2.bin'))).rejects.toThrow();
    expect(() => (store as FolderArtefactStore).pathOf('.hidden')).toThrow(ValidationError);
    expect(openArtefactStore(`file://${root}`)).toBeInstanceOf(FolderArtefactStore);
  });

  it('refuses, with one line, to read, stat or write through a symbolic link that leads out of the folder', async () => {
    const dir = await tempDir();
    const root = join(dir, 'store');
    const outside = join(dir, 'outside');
    await mkdir(join(root, 'real'), { recursive: true });
    await mkdir(outside);
    await writeFile(join(outside, 'secret.bin'), 'private');
    await symlink(outside, join(root, 'images')); // a directory link out of the folder
    await symlink(join(outside, 'secret.bin'), join(root, 'real', 'linked.bin')); // a file link out of it
    await symlink(join(dir, 'nowhere'), join(root, 'dangling')); // a link to nothing
    const store = new FolderArtefactStore(root);
    const refused = (error: ArtefactStoreError, path: string): void => {
      expect(error.reason).toBe('io');
      expect(error.message).toBe(`${path}: refused: a symbolic link leads out of the artefact folder`);
    };
    refused(await failure(store.get('images/secret.bin')), join(root, 'images', 'secret.bin'));
    refused(await failure(store.head('images/secret.bin')), join(root, 'images', 'secret.bin'));
    refused(await failure(store.get('real/linked.bin')), join(root, 'real', 'linked.bin'));
    refused(await failure(store.put('images/planted.bin', Buffer.from('x'))), join(root, 'images', 'planted.bin'));
    refused(await failure(store.put('images/deeper/planted.bin', Buffer.from('x'))), join(root, 'images', 'deeper', 'planted.bin'));
    refused(await failure(store.put('dangling/planted.bin', Buffer.from('x'))), join(root, 'dangling', 'planted.bin'));
    expect((await readdir(outside)).sort()).toEqual(['secret.bin']);
    await expect(stat(join(dir, 'nowhere'))).rejects.toThrow();

    // A link that stays inside the folder is followed; a put replaces a file link, never writes through it.
    await symlink(join(root, 'real'), join(root, 'alias'));
    await store.put('alias/fw.bin', Buffer.from('inside'));
    expect(await readFile(join(root, 'real', 'fw.bin'), 'utf8')).toBe('inside');
    expect(await store.head('alias/fw.bin')).toEqual({ size: 6 });
    await store.put('real/linked.bin', Buffer.from('replaced'));
    expect(await readFile(join(outside, 'secret.bin'), 'utf8')).toBe('private');
    expect(Buffer.from(await store.get('real/linked.bin')).toString()).toBe('replaced');
    // The folder itself may be a link.
    await symlink(root, join(dir, 'store-link'));
    expect(Buffer.from(await new FolderArtefactStore(join(dir, 'store-link')).get('alias/fw.bin')).toString()).toBe('inside');
  });

  it('one line when the folder cannot be used or a file to put does not exist', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'plain-file'), 'x');
    const error = await failure(openArtefactStore(join(dir, 'plain-file')).check());
    expect(error.reason).toBe('io');
    expect(error.message).toMatch(/plain-file: cannot write: (ENOTDIR|EEXIST)|not a directory/);
    const missing = await failure(openArtefactStore(join(dir, 'store')).put('a.bin', join(dir, 'no-such.bin')));
    expect(missing.message).toBe(`${join(dir, 'no-such.bin')}: cannot read: no such file or directory`);
  });
});

describe('S3 artefact store against s3rver', () => {
  async function s3Store(prefix = 'releases'): Promise<{ s3: TestS3; store: ArtefactStore; dir: string }> {
    const s3 = track(await startTestS3());
    const store = openArtefactStore(`s3://${s3.bucket}/${prefix}`, s3.env);
    return { s3, store, dir: await tempDir() };
  }

  it('check, put (bytes and a streamed file), head and get, under the prefix', async () => {
    const { s3, store, dir } = await s3Store();
    expect(store.kind).toBe('s3');
    await store.check();
    await roundTrip(store, dir);
    expect(s3.refused).toEqual({});
    // The object is under the prefix, path-style on the custom endpoint.
    expect((store as S3ArtefactStore).objectUrl('images/fw 2+ü.bin').href).toBe(`${s3.endpoint}/${s3.bucket}/releases/images/fw%202%2B%C3%BC.bin`);
  });

  it('a presigned URL serves a byte range (206) and the whole object (200), to a client without credentials', async () => {
    const { store } = await s3Store();
    const payload = bytes(4096, 3);
    await store.put('images/fw-3.bin', payload);
    const url = await store.presignGet('images/fw-3.bin', 900);
    expect(url).toMatch(/X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=[0-9a-f]{64}$/);

    const ranged = await fetch(url!, { headers: { Range: 'bytes=10-99' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe('bytes 10-99/4096');
    expect(Buffer.from(await ranged.arrayBuffer()).equals(payload.subarray(10, 100))).toBe(true);

    const whole = await fetch(url!);
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(payload)).toBe(true);
  });

  it('presigned URLs name the public endpoint when devices reach the service under another address', async () => {
    const s3 = track(await startTestS3());
    const publicEndpoint = s3.endpoint.replace('127.0.0.1', 'localhost');
    const store = openArtefactStore(`s3://${s3.bucket}/fw`, { ...s3.env, SENSORKIT_S3_PUBLIC_ENDPOINT: publicEndpoint });
    const payload = bytes(500, 6);
    await store.put('fw.bin', payload);
    const url = (await store.presignGet('fw.bin', 60))!;
    expect(url.startsWith(`${publicEndpoint}/${s3.bucket}/fw/fw.bin?`)).toBe(true);
    const ranged = await fetch(url, { headers: { Range: 'bytes=10-99' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(payload.subarray(10, 100))).toBe(true);
    // The host is signed: the same URL sent to the other address is refused.
    expect((await fetch(url.replace(publicEndpoint, s3.endpoint))).status).toBe(403);
  });

  it('a presigned URL is refused after it expires, or when it is altered or its signature removed', async () => {
    const s3 = track(await startTestS3());
    const payload = bytes(200, 4);
    await openArtefactStore(`s3://${s3.bucket}/fw`, s3.env).put('fw.bin', payload);
    // Signed two hours ago (a clock the test sets): 60 s of life are long gone, 3 h are not.
    const signedAt = Date.now() - 2 * 3600_000;
    const past = openArtefactStore(`s3://${s3.bucket}/fw`, s3.env, { clock: { now: () => signedAt } });
    const expired = await fetch((await past.presignGet('fw.bin', 60))!, { headers: { Range: 'bytes=10-99' } });
    expect(expired.status).toBe(403);
    expect(await expired.text()).toMatch(/<Code>AccessDenied<\/Code><Message>Request has expired/);
    const stillValid = await fetch((await past.presignGet('fw.bin', 3 * 3600))!, { headers: { Range: 'bytes=10-99' } });
    expect(stillValid.status).toBe(206);
    expect(Buffer.from(await stillValid.arrayBuffer()).equals(payload.subarray(10, 100))).toBe(true);

    const fresh = (await openArtefactStore(`s3://${s3.bucket}/fw`, s3.env).presignGet('fw.bin', 60))!;
    const otherKey = fresh.replace('/fw/fw.bin?', '/fw/fx.bin?');
    expect((await fetch(otherKey)).status).toBe(403);
    const longer = fresh.replace('X-Amz-Expires=60', 'X-Amz-Expires=600');
    expect((await fetch(longer)).status).toBe(403);
    const unsigned = fresh.slice(0, fresh.indexOf('?'));
    expect((await fetch(unsigned)).status).toBe(403);
    expect(s3.refused).toEqual({ SignatureDoesNotMatch: 2, AccessDenied: 1 });
  });

  it('refuses, with one line, a file above the 5 GiB of one PUT and a whole-object read above its limit', async () => {
    const { s3, store, dir } = await s3Store();
    const huge = join(dir, 'huge.bin');
    const handle = await open(huge, 'w');
    await handle.truncate(5 * 1024 ** 3 + 1); // sparse: nothing is written or read
    await handle.close();
    const tooBig = await failure(store.put('huge.bin', huge));
    expect(tooBig.reason).toBe('too-large');
    expect(tooBig.message).toBe(`${huge}: 5368709121 bytes: one PUT stores at most 5 GiB`);

    await store.put('two-k.bin', bytes(2000));
    const small = new S3ArtefactStore({
      bucket: s3.bucket,
      prefix: 'releases/',
      endpoint: new URL(s3.endpoint),
      region: 'us-east-1',
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      pathStyle: true,
      maxGetBytes: 1000,
    });
    const error = await failure(small.get('two-k.bin'));
    expect(error.reason).toBe('too-large');
    expect(error.message).toBe(`s3://${s3.bucket}/releases/two-k.bin: larger than 1000 bytes, the most a whole-object read takes`);
  });

  it('a presigned URL lives 1 s to 7 days', async () => {
    const { store } = await s3Store();
    await expect(store.presignGet('fw.bin', 604_800)).resolves.toMatch(/X-Amz-Expires=604800/);
    for (const ttl of [0, -5, 1.5, 604_801]) await expect(store.presignGet('fw.bin', ttl)).rejects.toThrow(ArgumentError);
  });

  it('a wrong secret is refused (SignatureDoesNotMatch): one line from check, put (a streamed file), head and get', async () => {
    const s3 = track(await startTestS3());
    const dir = await tempDir();
    const store = openArtefactStore(`s3://${s3.bucket}/fw`, { ...s3.env, AWS_SECRET_ACCESS_KEY: `${s3.secretAccessKey.slice(0, -2)}xx` });
    const checked = await failure(store.check());
    expect(checked.reason).toBe('access-denied');
    expect(checked.message).toBe(
      `s3://${s3.bucket}/fw/: access denied (SignatureDoesNotMatch): the request signature does not match the secret key; check AWS_SECRET_ACCESS_KEY`,
    );
    const file = join(dir, 'big.bin');
    await writeFile(file, bytes(8 * 1024 * 1024, 5));
    const put = await failure(store.put('big.bin', file));
    expect(put.reason).toBe('access-denied');
    expect(put.message).toMatch(/SignatureDoesNotMatch/);
    expect((await failure(store.head('big.bin'))).reason).toBe('access-denied');
    expect((await failure(store.get('big.bin'))).reason).toBe('access-denied');
    expect(s3.refused['SignatureDoesNotMatch']).toBe(4);
    // Nothing was stored.
    expect(await openArtefactStore(`s3://${s3.bucket}/fw`, s3.env).head('big.bin')).toBeUndefined();
  });

  it('an unknown access key, and a key that may only read, are refused with one line', async () => {
    const s3 = track(await startTestS3());
    const unknown = openArtefactStore(`s3://${s3.bucket}/fw`, { ...s3.env, AWS_ACCESS_KEY_ID: 'AKIANOBODY' });
    const error = await failure(unknown.check());
    expect(error.reason).toBe('access-denied');
    expect(error.message).toMatch(/\(InvalidAccessKeyId\): the endpoint does not know this access key id; check AWS_ACCESS_KEY_ID$/);

    const reader = openArtefactStore(`s3://${s3.bucket}/fw`, { ...s3.env, AWS_ACCESS_KEY_ID: s3.readOnly.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.readOnly.secretAccessKey });
    const denied = await failure(reader.check());
    expect(denied.reason).toBe('access-denied');
    expect(denied.message).toBe(`s3://${s3.bucket}/fw/: access denied (AccessDenied): the credentials may not write here: Access Denied`);
    expect(await reader.head('fw.bin')).toBeUndefined();
  });

  it('a missing bucket is one line (NoSuchBucket)', async () => {
    const s3 = track(await startTestS3());
    const error = await failure(openArtefactStore('s3://no-such-bucket/fw', s3.env).check());
    expect(error.reason).toBe('no-such-bucket');
    expect(error.message).toBe(`s3://no-such-bucket/fw/: bucket "no-such-bucket" does not exist at ${s3.endpoint} (NoSuchBucket)`);
  });

  it('missing credentials are one line when the store is opened', () => {
    const env = { SENSORKIT_S3_ENDPOINT: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'AKID' };
    expect(() => openArtefactStore('s3://firmware/fw', env)).toThrow(ArtefactStoreError);
    expect(() => openArtefactStore('s3://firmware/fw', env)).toThrow('s3://firmware/fw/: no credentials: set AWS_SECRET_ACCESS_KEY');
    expect(() => openArtefactStore('s3://firmware', {})).toThrow('s3://firmware/: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  });

  it('an endpoint that refuses connections, or accepts and stays silent, is one line within a bounded time', async () => {
    const refusing = await closedPort();
    const env = { SENSORKIT_S3_ENDPOINT: `http://127.0.0.1:${refusing}`, AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' };
    const refused = await failure(openArtefactStore('s3://firmware/fw', env).check());
    expect(refused.reason).toBe('unreachable');
    expect(refused.message).toBe(`http://127.0.0.1:${refusing}: cannot reach the endpoint: ECONNREFUSED`);

    const silent = await silentServer();
    cleanups.push(() => silent.close());
    const store = openArtefactStore('s3://firmware/fw', { ...env, SENSORKIT_S3_ENDPOINT: `http://127.0.0.1:${silent.port}` }, { timeoutMs: 300 });
    const started = Date.now();
    const timedOut = await failure(store.head('fw.bin'));
    expect(timedOut.reason).toBe('unreachable');
    expect(timedOut.message).toBe(`http://127.0.0.1:${silent.port}: no answer within 300 ms`);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a request has an overall deadline: an answer trickled a byte at a time is cut, one that keeps the minimum rate is not', async () => {
    const env = (port: number) => ({ SENSORKIT_S3_ENDPOINT: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' });
    // One byte every 100 ms, each pause well under the 300 ms idle limit: only the deadline
    // (3 × 300 ms, plus 1 s per 16 KiB moved) ends it.
    for (const status of ['200 OK', '500 Internal Server Error']) {
      const trickle = await answeringServer(status, { chunk: 1, everyMs: 100, chunks: 1000 });
      cleanups.push(() => trickle.close());
      const store = openArtefactStore('s3://firmware/fw', env(trickle.port), { timeoutMs: 300 });
      for (const operation of [() => store.get('fw.suit'), () => store.check()]) {
        const started = performance.now();
        const error = await failure(operation());
        const elapsed = performance.now() - started;
        expect(error.reason).toBe('unreachable');
        expect(error.message).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${trickle.port}: too slow: \\d+ bytes moved in \\d+ ms, below 16384 bytes/s after 3 × 300 ms$`));
        expect(elapsed).toBeGreaterThanOrEqual(890);
        expect(elapsed).toBeLessThan(2500);
      }
    }
    // 25 × 800 bytes, one every 40 ms: about 1 s, longer than 3 × 200 ms, at 20,000 bytes/s.
    const steady = await answeringServer('200 OK', { chunk: 800, everyMs: 40, chunks: 25 });
    cleanups.push(() => steady.close());
    const store = openArtefactStore('s3://firmware/fw', { ...env(steady.port), SENSORKIT_S3_MIN_BYTES_PER_S: '4096' }, { timeoutMs: 200 });
    const started = performance.now();
    expect((await store.get('fw.suit')).byteLength).toBe(20_000);
    expect(performance.now() - started).toBeGreaterThan(600);

    // An endless error answer is read up to 64 KiB and answered at once, not when the deadline cuts it.
    const endless = await answeringServer('500 Internal Server Error', { chunk: 16_384, everyMs: 5, chunks: 1_000_000 });
    cleanups.push(() => endless.close());
    const errorStore = openArtefactStore('s3://firmware/fw', env(endless.port), { timeoutMs: 2000 });
    const at = performance.now();
    const error = await failure(errorStore.get('fw.suit'));
    expect(error.reason).toBe('server-error');
    expect(error.message).toBe('s3://firmware/fw/fw.suit: the endpoint failed: HTTP 500');
    expect(performance.now() - at).toBeLessThan(2000);
  });

  it('a put refused part-way through the body, or cut there, has closed its file when it settles', async () => {
    const dir = await tempDir();
    const file = join(dir, 'fw.bin');
    await writeFile(file, bytes(8 * 1024 * 1024, 11));
    const descriptorsOn = (path: string): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === path;
        } catch {
          return false;
        }
      }).length;
    // After `100 Continue`: a 500 once 256 KiB arrived (a quota, a proxy's limit), or silence (the idle limit).
    for (const mode of ['refuses', 'stalls'] as const) {
      const endpoint = await midBodyServer(mode, 256 * 1024);
      cleanups.push(() => endpoint.close());
      const env = { SENSORKIT_S3_ENDPOINT: `http://127.0.0.1:${endpoint.port}`, AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' };
      const store = openArtefactStore('s3://firmware/fw', env, { timeoutMs: 300 });
      for (let i = 0; i < 3; i++) {
        const error = await failure(store.put(`fw-${i}.bin`, file));
        expect(error.reason).toBe(mode === 'refuses' ? 'server-error' : 'unreachable');
        expect(descriptorsOn(file)).toBe(0);
      }
    }
  });

  it('a put of a large file streams it: memory grows far less than the file', async () => {
    const { store, dir } = await s3Store();
    const size = 192 * 1024 * 1024;
    const file = join(dir, 'large.bin');
    const handle = await open(file, 'w');
    const block = bytes(1024 * 1024, 9);
    for (let at = 0; at < size; at += block.length) await handle.write(block, 0, block.length, at);
    await handle.close();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    let put: { size: number; sha256: string };
    try {
      put = await store.put('large.bin', file);
    } finally {
      clearInterval(sampler);
    }
    // Reading it whole would add at least its 192 MiB; streamed, about 30 MiB were measured.
    expect(peak - before).toBeLessThan(size / 3);
    expect(put.size).toBe(size);
    expect(put.sha256).toBe(createHash('sha256').update(await readFile(file)).digest('hex'));
    expect(await store.head('large.bin')).toEqual({ size });
  });
});

describe('openArtefactStore: the --store value and the environment', () => {
  const creds = { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' };

  it('AWS: virtual-hosted in the region; path-style for a dotted bucket or when asked; a custom endpoint is path-style', () => {
    const aws = openArtefactStore('s3://firmware/releases/', { ...creds, AWS_REGION: 'eu-central-1' }) as S3ArtefactStore;
    expect(aws.objectUrl('fw.bin').href).toBe('https://firmware.s3.eu-central-1.amazonaws.com/releases/fw.bin');
    expect((openArtefactStore('s3://fw.example.com', creds) as S3ArtefactStore).objectUrl('a/b.bin').href).toBe('https://s3.us-east-1.amazonaws.com/fw.example.com/a/b.bin');
    expect((openArtefactStore('s3://firmware', { ...creds, SENSORKIT_S3_PATH_STYLE: 'true' }) as S3ArtefactStore).objectUrl('b.bin').href).toBe('https://s3.us-east-1.amazonaws.com/firmware/b.bin');
    const minio = openArtefactStore('s3://firmware/p', { ...creds, AWS_ENDPOINT_URL: 'http://minio.local:9000/' }) as S3ArtefactStore;
    expect(minio.objectUrl('b.bin').href).toBe('http://minio.local:9000/firmware/p/b.bin');
    const virtual = openArtefactStore('s3://firmware/p', { ...creds, SENSORKIT_S3_ENDPOINT: 'https://objects.example.net', SENSORKIT_S3_PATH_STYLE: 'false' }) as S3ArtefactStore;
    expect(virtual.objectUrl('b.bin').href).toBe('https://firmware.objects.example.net/p/b.bin');
  });

  it('refuses a bad bucket, prefix, scheme, endpoint or flag with ValidationError', () => {
    for (const url of ['s3://Firmware/x', 's3://ab', 's3:///x', 's3://bucket/../x', 's3://bucket/.x', 'http://host/x', 'ftp://host/x']) {
      expect(() => openArtefactStore(url, creds), url).toThrow(ValidationError);
    }
    expect(() => openArtefactStore('s3://firmware', { ...creds, SENSORKIT_S3_ENDPOINT: 'not a url' })).toThrow(ValidationError);
    expect(() => openArtefactStore('s3://firmware', { ...creds, SENSORKIT_S3_ENDPOINT: 'ftp://x' })).toThrow(ValidationError);
    expect(() => openArtefactStore('s3://firmware', { ...creds, AWS_ENDPOINT_URL: 'http://u:p@x' })).toThrow('AWS_ENDPOINT_URL: "http://u:p@x": expected no query');
    expect(() => openArtefactStore('s3://firmware', { ...creds, SENSORKIT_S3_PUBLIC_ENDPOINT: 'nope' })).toThrow('SENSORKIT_S3_PUBLIC_ENDPOINT: "nope" is not a URL');
    expect(() => openArtefactStore('s3://firmware', { ...creds, SENSORKIT_S3_PATH_STYLE: 'maybe' })).toThrow(ValidationError);
    expect(() => openArtefactStore('s3://firmware', { ...creds, SENSORKIT_S3_TIMEOUT_MS: '-1' })).toThrow(ValidationError);
    expect(() => openArtefactStore('')).toThrow(ValidationError);
  });
});

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A TCP server that answers every request with `status` and a chunked body of `chunks` chunks of
 * `chunk` bytes, one every `everyMs` ms (a slow endpoint, or a proxy trickling an answer).
 */
async function answeringServer(status: string, pace: { chunk: number; everyMs: number; chunks: number }): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', () => {
      socket.write(`HTTP/1.1 ${status}\r\ncontent-type: application/xml\r\ntransfer-encoding: chunked\r\n\r\n`);
      let sent = 0;
      const timer = setInterval(() => {
        if (sent++ === pace.chunks) {
          clearInterval(timer);
          socket.end('0\r\n\r\n');
          return;
        }
        socket.write(`${pace.chunk.toString(16)}\r\n${'x'.repeat(pace.chunk)}\r\n`);
      }, pace.everyMs);
      socket.on('close', () => clearInterval(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A TCP server that answers `100 Continue` to every request, then, once `after` bytes arrived,
 * either refuses with a 500 and closes (`refuses`) or stops reading and stays silent (`stalls`).
 */
async function midBodyServer(mode: 'refuses' | 'stalls', after: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      if (received === 0) socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      received += chunk.byteLength;
      if (received <= after) return;
      socket.removeAllListeners('data');
      if (mode === 'stalls') return void socket.pause();
      const body = '<Error><Code>InternalError</Code></Error>';
      socket.end(`HTTP/1.1 500 Internal Server Error\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A TCP server that accepts connections and never answers. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
