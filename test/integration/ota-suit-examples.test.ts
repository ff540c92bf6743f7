/**
 * The draft's examples (draft-ietf-suit-manifest-37) offered to the update agent, as the draft signed
 * them. Their image digests are a sample pattern (`0011…3210`; example 2's text says "not a real
 * one"), so no payload can ever match them: what the agent can run, it runs to the last step, the
 * image check, and refuses there (`payload-mismatch` / `staging-corrupt`), leaving the device as it
 * was; what it cannot run, it refuses by the name of the command before downloading anything.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../sdk/core/clock.js';
import type { ChunkSource } from '../../ota/agent/chunked-download.js';
import { UpdateAgent } from '../../ota/agent/update-agent.js';
import { TrustAnchors } from '../../ota/keys/trust-anchors.js';
import { makeImage, reasonOfAsync } from '../support/ota-fixtures.js';

const dir = new URL('../fixtures/suit/', import.meta.url);
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));
const trust = TrustAnchors.of([readFileSync(new URL('draft-test-public-key.pem', dir), 'utf8')]);
const device = { vendorId: 'fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe', classId: '1492af14-2569-5e48-bf42-9b2d51f2ab45', deviceId: 'lpc1768-1' };
const roots: string[] = [];

afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

async function agent(): Promise<{ agent: UpdateAgent; root: string; requested: string[] }> {
  const root = await mkdtemp(join(tmpdir(), 'sensorkit-suit-examples-'));
  roots.push(root);
  const opened = await UpdateAgent.open({ root, clock: new VirtualClock(), trust, device, components: [[Uint8Array.of(0)], [Uint8Array.of(1)]] });
  return { agent: opened, root, requested: [] };
}

/** Serves the files the examples name (at their example.com URIs) from memory, recording each request. */
function files(requested: string[]): ChunkSource {
  const bodies: Record<string, Uint8Array> = {
    'http://example.com/file.bin': makeImage(34768, 1),
    'http://example.com/very/long/path/to/file/file.bin': makeImage(34768, 2),
    'http://example.com/file1.bin': makeImage(34768, 3),
    'http://example.com/file2.bin': makeImage(76834, 4),
  };
  return {
    read: async (file, offset, length) => {
      requested.push(file);
      const body = bodies[file];
      if (body === undefined) throw new Error(`no ${file}`);
      return body.subarray(offset, offset + length);
    },
  };
}

describe('the draft examples on the update agent', () => {
  it.each([
    ['example1.suit', ['http://example.com/file.bin']],
    ['example2.suit', ['http://example.com/very/long/path/to/file/file.bin']],
    ['example5.suit', ['http://example.com/file1.bin']],
  ])('%s runs up to the image check and is refused there, leaving nothing installed', async (name, fetched) => {
    const d = await agent();
    expect(await reasonOfAsync(d.agent.update({ envelope: read(name), chunks: files(d.requested) }))).toBe('payload-mismatch');
    // Example 5's first image fails its digest, so the second one is never fetched, let alone activated.
    expect([...new Set(d.requested)]).toEqual(fetched);
    expect(await d.agent.slots.current()).toBeUndefined();
    expect(await readdir(join(d.root, 'images'))).toEqual([]);
  });

  it('example 0 (validate and invoke only) fetches nothing: update refuses it, provision checks the given image', async () => {
    const d = await agent();
    await expect(d.agent.update({ envelope: read('example0.suit'), chunks: files(d.requested) })).rejects.toThrow(/has an image that the manifest does not fetch/);
    expect(d.requested).toEqual([]);
    expect(await reasonOfAsync(d.agent.provision(read('example0.suit'), makeImage(34768, 1)))).toBe('staging-corrupt');
    expect(await d.agent.slots.current()).toBeUndefined();
  });

  it.each([
    ['example3.suit', 'unsupported command: suit-directive-try-each (in suit-shared-sequence)'],
    ['example4.suit', 'unsupported command: suit-directive-copy (in suit-install)'],
  ])('%s is refused by name before anything is fetched', async (name, message) => {
    const d = await agent();
    const attempt = d.agent.update({ envelope: read(name), chunks: files(d.requested) });
    await expect(attempt).rejects.toThrow(message);
    expect(await reasonOfAsync(d.agent.update({ envelope: read(name), chunks: files(d.requested) }))).toBe('unsupported-command');
    expect(d.requested).toEqual([]);
  });

  it('example 2 without its severed install (as a distributor may strip it) is refused: there is nothing to run', async () => {
    const d = await agent();
    await expect(d.agent.update({ envelope: read('example2-severed.suit'), chunks: files(d.requested) })).rejects.toThrow('suit-install is severed and not in the envelope');
  });
});
