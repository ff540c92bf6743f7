/**
 * The update server serves what is signed for and nothing else: the envelopes in its directory and
 * the payloads they name by URI with a matching size and SHA-256. A secret file beside them (or
 * `/etc/shadow` when the directory is `/`) is 404 whatever its name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUpdateServer, type UpdateServer } from '../../ota/server/file-server.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';
import { publishImage } from '../support/ota-device.js';

const key = makeKey();
const image = makeImage(20_000, 5);
let dir: string;
let server: UpdateServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-signed-'));
  await publishImage(dir, 'fw-2.bin', image, envelopeFor(image, 2, key, { uri: 'fw-2.bin' }));
  // Files that are no payload of any envelope: what `--dir /` or a careless folder would expose.
  await writeFile(join(dir, 'shadow'), 'root:$6$secret:19000:0:99999:7:::\n');
  await writeFile(join(dir, 'opcua-users.json'), '{"users":[{"name":"op","hash":"x"}]}');
  await mkdir(join(dir, 'etc'));
  await writeFile(join(dir, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  // An envelope names fw-3.bin, but the file there is not what it signs (replaced or tampered).
  await writeFile(join(dir, 'fw-3.bin.suit'), envelopeFor(image, 3, key, { uri: 'fw-3.bin' }));
  await writeFile(join(dir, 'fw-3.bin'), Buffer.concat([image.subarray(1), Buffer.of(0)]));
  // A .suit that is not an envelope.
  await writeFile(join(dir, 'notes.suit'), 'not an envelope');
  server = await startUpdateServer({ dir });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const status = async (path: string): Promise<number> => {
  const response = await fetch(`${server.url}${path}`);
  await response.arrayBuffer();
  return response.status;
};

describe('an update server (files: signed, the default)', () => {
  it('serves the envelopes and the payloads they sign', async () => {
    expect(await status('fw-2.bin.suit')).toBe(200);
    const payload = await fetch(`${server.url}fw-2.bin`, { headers: { range: 'bytes=100-' } });
    expect(payload.status).toBe(206);
    expect(Buffer.from(await payload.arrayBuffer())).toEqual(image.subarray(100));
  });

  it('serves nothing that no envelope signs: secrets, system files, a payload that does not match, a .suit that is no envelope', async () => {
    for (const path of ['shadow', 'opcua-users.json', 'etc/passwd', 'fw-3.bin', 'notes.suit']) expect(await status(path), path).toBe(404);
    // The envelope itself is served: it is public and signed.
    expect(await status('fw-3.bin.suit')).toBe(200);
  });

  it('serves a payload published after it started, once its envelope is there', async () => {
    const next = makeImage(5_000, 9);
    await writeFile(join(dir, 'fw-4.bin'), next);
    expect(await status('fw-4.bin')).toBe(404);
    await writeFile(join(dir, 'fw-4.bin.suit'), envelopeFor(next, 4, key, { uri: 'fw-4.bin' }));
    expect(await status('fw-4.bin')).toBe(200);
  });
});
