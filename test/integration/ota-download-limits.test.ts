/**
 * Resource limits of the HTTP download against a hostile or broken server: a Content-Length past
 * the signed size, a server that stalls (idle timeout), and one that drips a byte at a time so the
 * idle timeout never fires (slow loris: the minimum speed must).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentError } from '../../sdk/core/errors.js';
import { ManifestError, UpdateError } from '../../ota/errors.js';
import { downloadImage } from '../../ota/agent/http-download.js';
import { nodeFileSystem } from '../../ota/agent/file-system.js';
import { makeImage } from '../support/ota-fixtures.js';
import { startFaultServer, type FaultServer } from '../support/ota-http.js';

const body = makeImage(200_000, 7);
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

async function part(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sensorkit-dl-limits-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'image.part');
}

async function failure(promise: Promise<unknown>): Promise<ManifestError | UpdateError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ManifestError || error instanceof UpdateError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('downloadImage limits', () => {
  it('refuses a Content-Length past the signed size before storing a byte', async () => {
    const server = await serve({ body, etag: '"v1"', declaredLength: 1e12 });
    const file = await part();
    const error = await failure(downloadImage(nodeFileSystem, { url: server.url, part: file, size: body.length, digest, idleTimeoutMs: 2_000 }));
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).reason).toBe('payload-mismatch');
    expect(error.message).toMatch(/announces 1000000000000 bytes/);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });

  it('gives up on a server that stalls (idle timeout), keeping the bytes for a resume', async () => {
    const server = await serve({ body, etag: '"v1"', stallAfterBytes: 50_000 });
    const file = await part();
    const error = await failure(downloadImage(nodeFileSystem, { url: server.url, part: file, size: body.length, digest, idleTimeoutMs: 300 }));
    expect(error).toBeInstanceOf(UpdateError);
    expect((error as UpdateError).reason).toBe('download-failed');
    expect((await stat(file)).size).toBe(50_000);
    delete server.plan.stallAfterBytes;
    const resumed = await downloadImage(nodeFileSystem, { url: server.url, part: file, size: body.length, digest });
    expect(resumed.resumedFrom).toBe(50_000);
    expect((await readFile(file)).equals(body)).toBe(true);
  });

  it('gives up on a slow-loris server that drips bytes below the minimum speed', async () => {
    // One byte per 20 ms is 15 bytes per 300 ms window, far below 1,000: however loaded the
    // machine, the attempt ends in the first windows instead of taking 200,000 × 20 ms.
    const server = await serve({ body, etag: '"v1"', dripMs: 20 });
    const file = await part();
    const error = await failure(
      downloadImage(nodeFileSystem, { url: server.url, part: file, size: body.length, digest, idleTimeoutMs: 10_000, minSpeed: { bytes: 1_000, windowMs: 300 } }),
    );
    expect(error).toBeInstanceOf(UpdateError);
    expect((error as UpdateError).reason).toBe('download-failed');
    expect(error.message).toMatch(/fewer than 1000 bytes in 300 ms/);
    expect((await stat(file)).size).toBeLessThan(1_000);
  }, 20_000);

  it('refuses a nonsensical minimum speed', async () => {
    const file = await part();
    await expect(downloadImage(nodeFileSystem, { url: 'http://127.0.0.1:9/', part: file, size: 1, digest, minSpeed: { bytes: 1, windowMs: 0 } })).rejects.toThrow(ArgumentError);
  });
});
