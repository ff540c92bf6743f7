import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadChunked, type ChunkSource } from '../../ota/agent/chunked-download.js';
import { nodeFileSystem } from '../../ota/agent/file-system.js';
import { ManifestError, UpdateError } from '../../ota/errors.js';
import { makeImage } from '../support/ota-fixtures.js';

const image = makeImage(200_000, 3);
const digest = createHash('sha256').update(image).digest();
const dirs: string[] = [];
async function part(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sensorkit-chunks-'));
  dirs.push(dir);
  return join(dir, 'image.bin');
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function source(body: Uint8Array, options: { failAt?: number; extra?: number } = {}): ChunkSource & { offsets: number[] } {
  const offsets: number[] = [];
  return {
    offsets,
    read: async (_file, offset, length) => {
      offsets.push(offset);
      if (options.failAt !== undefined && offset >= options.failAt) throw new UpdateError('download-failed', 'link lost');
      return body.subarray(offset, offset + length + (options.extra ?? 0));
    },
  };
}

describe('downloadChunked', () => {
  it('fetches, resumes from the part, and checks the digest', async () => {
    const file = await part();
    const job = { file: 'fw.bin', part: file, size: image.length, digest, chunkBytes: 30_000 };
    await expect(downloadChunked(nodeFileSystem, { ...job, source: source(image, { failAt: 90_000 }) })).rejects.toThrow(/link lost/);
    expect((await stat(file)).size).toBe(90_000);
    const resumed = source(image);
    expect(await downloadChunked(nodeFileSystem, { ...job, source: resumed })).toMatchObject({ resumedFrom: 90_000, transferred: 110_000 });
    expect(resumed.offsets[0]).toBe(90_000);
    expect(await readFile(file)).toEqual(image);
  });

  it('refuses a chunk longer than asked (more than the signed size) and deletes the part', async () => {
    const file = await part();
    const endless = new Uint8Array(image.length * 2);
    const error = await downloadChunked(nodeFileSystem, { file: 'fw.bin', part: file, size: image.length, digest, source: source(endless, { extra: 1 }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).reason).toBe('payload-mismatch');
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });

  it('refuses wrong bytes and a source that ends early', async () => {
    const wrong = Buffer.from(image);
    wrong[5] = wrong[5]! ^ 1;
    const bad = await downloadChunked(nodeFileSystem, { file: 'f', part: await part(), size: image.length, digest, source: source(wrong) }).catch((e: unknown) => e);
    expect((bad as ManifestError).reason).toBe('payload-mismatch');
    const short = await downloadChunked(nodeFileSystem, { file: 'f', part: await part(), size: image.length, digest, source: source(image.subarray(0, 1000)) }).catch((e: unknown) => e);
    expect((short as UpdateError).reason).toBe('download-failed');
  });
});
