/**
 * The agent's persistent state under attack or damage: a reverted image stays refused, the
 * anti-rollback counter never falls back to 0 (deleted, truncated, edited), and names read back
 * from symlinks and `state/boot.json` never reach a path outside the device's root.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ManifestError, UpdateError } from '../../ota/errors.js';
import { startUpdateServer, type UpdateServer } from '../../ota/server/file-server.js';
import { envelopeFor, makeImage, makeKey, reasonOfAsync } from '../support/ota-fixtures.js';
import { makeDevice, publishImage, type TestDevice } from '../support/ota-device.js';
import { waitFor } from '../support/net.js';

const key = makeKey('ed25519');
const image1 = makeImage(64 * 1024, 1);
const image2 = makeImage(128 * 1024, 2);
const image3 = makeImage(128 * 1024, 3);
let served: string;
let server: UpdateServer;
const devices: TestDevice[] = [];
const cleanups: string[] = [];

beforeAll(async () => {
  served = await mkdtemp(join(tmpdir(), 'sensorkit-ota-state-served-'));
  await publishImage(served, 'fw-1.bin', image1, envelopeFor(image1, 1, key, { uri: 'fw-1.bin' }));
  await publishImage(served, 'fw-2.bin', image2, envelopeFor(image2, 2, key, { uri: 'fw-2.bin' }));
  await publishImage(served, 'fw-3.bin', image3, envelopeFor(image3, 3, key, { uri: 'fw-3.bin' }));
  server = await startUpdateServer({ dir: served });
});
afterAll(async () => {
  await server.close();
  await rm(served, { recursive: true, force: true });
});
afterEach(async () => {
  for (const device of devices.splice(0)) await device.cleanup();
  for (const dir of cleanups.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function device(options: Parameters<typeof makeDevice>[1] = {}): Promise<TestDevice> {
  const d = await makeDevice(key, options);
  if (options.root === undefined) devices.push(d);
  return d;
}


const offer = (sequence: number, image: Uint8Array): { envelope: Uint8Array; baseUrl: string } => ({
  envelope: envelopeFor(image, sequence, key, { uri: `fw-${sequence}.bin` }),
  baseUrl: server.url,
});
const auditEvents = async (root: string): Promise<string[]> =>
  (await readFile(join(root, 'audit.log'), 'utf8')).trimEnd().split('\n').map((line) => (JSON.parse(line) as { event: string }).event);

describe('a reverted image', () => {
  it('stays refused after a restart during its trial, until a newer sequence arrives', async () => {
    const d = await device({ restart: async () => ({ image: '', sequence: 0, version: undefined }), healthProbes: [() => new Promise<boolean>(() => undefined)] });
    await d.agent.update(offer(2, image2));
    // The first trial boot hangs in its probes (the process "dies" there); the next boot reverts.
    void d.agent.boot();
    await waitFor(async () => JSON.parse(await readFile(join(d.root, 'state', 'boot.json'), 'utf8')).booted === true, 10_000, 'the trial boot');
    const rebooted = await device({ root: d.root });
    expect(await rebooted.agent.boot()).toMatchObject({ sequence: 1, trial: 'rolled-back' });
    // A campaign offering the same image again must not loop it through another trial.
    expect(await reasonOfAsync(rebooted.agent.update(offer(2, image2)))).toBe('health-check-failed');
    expect((await readdir(join(d.root, 'images'))).some((n) => n.startsWith('000000000002'))).toBe(false);
    // The refusal survives another restart (it is in state/boot.json), and a newer sequence passes.
    const again = await device({ root: d.root });
    expect(await reasonOfAsync(again.agent.update(offer(2, image2)))).toBe('health-check-failed');
    expect(await again.agent.update(offer(3, image3))).toMatchObject({ sequence: 3, trial: 'confirmed' });
  });
});

describe('the anti-rollback counter', () => {
  it('is rebuilt from the installed images, never from 0, when its file is deleted', async () => {
    const d = await device();
    expect(await d.agent.update(offer(2, image2))).toMatchObject({ sequence: 2, trial: 'confirmed' });
    await unlink(join(d.root, 'state', 'counter.json'));
    // With the counter gone, sequence 1 is a downgrade all the same.
    expect(await reasonOfAsync(d.agent.update(offer(1, image1)))).toBe('downgrade');
    expect(await d.counter()).toBe(2);
    expect(await auditEvents(d.root)).toContain('ota.counter-restored');
    expect((await readFile(join(d.root, 'current', 'image.bin'))).equals(image2)).toBe(true);
  });

  it('binds provisioning too: deleting `current` does not let an older image be provisioned', async () => {
    const d = await device();
    await d.agent.update(offer(2, image2));
    await unlink(join(d.root, 'current'));
    const rebooted = await device({ root: d.root });
    expect(await reasonOfAsync(rebooted.agent.provision(envelopeFor(image1, 1, key), image1))).toBe('downgrade');
    expect(await d.counter()).toBe(2);
  });

  for (const [what, damage] of [
    ['truncated', (text: string) => text.slice(0, 7)],
    ['emptied', () => ''],
    ['edited to a negative sequence', () => '{"sequence":-1}\n'],
    ['edited to a malformed digest', () => '{"sequence":1,"imageDigest":"../x"}\n'],
  ] as const) {
    it(`refuses updates when its file is ${what}, keeps running the verified image, and does not rewrite it`, async () => {
      const d = await device();
      const file = join(d.root, 'state', 'counter.json');
      const damaged = damage(await readFile(file, 'utf8'));
      await writeFile(file, damaged);
      expect(await reasonOfAsync(d.agent.update(offer(2, image2)))).toBe('state-damaged');
      const rebooted = await device({ root: d.root });
      expect(await rebooted.agent.boot()).toMatchObject({ sequence: 1 });
      expect(await readFile(file, 'utf8')).toBe(damaged);
      expect(await auditEvents(d.root)).toContain('ota.counter-damaged');
      expect((await readFile(join(d.root, 'current', 'image.bin'))).equals(image1)).toBe(true);
    });
  }
});

describe('names read back from the disk', () => {
  it('never follow a tampered trial name out of the root (no recursive remove of ../../victim)', async () => {
    const d = await device();
    await d.agent.update(offer(2, image2));
    const victim = join(d.root, '..', `${basename(d.root)}-victim`);
    cleanups.push(victim);
    await mkdir(victim);
    await writeFile(join(victim, 'precious.txt'), 'keep me');
    const escape = `../../${basename(victim)}`;
    const image1Name = (await readdir(join(d.root, 'images'))).find((n) => n.startsWith('000000000001'));
    const fallback = image1Name ?? (await readdir(join(d.root, 'images')))[0]!;
    await writeFile(
      join(d.root, 'state', 'boot.json'),
      JSON.stringify({ phase: 'trial', rejected: [], trial: escape, fallback, sequence: 9, imageDigest: 'ab'.repeat(32), booted: true }),
    );
    await unlink(join(d.root, 'current'));
    await symlink(`images/${escape}`, join(d.root, 'current'));
    const rebooted = await device({ root: d.root });
    const result = await rebooted.agent.boot();
    expect(await readFile(join(victim, 'precious.txt'), 'utf8')).toBe('keep me');
    expect((await stat(join(d.root, 'current', 'image.bin'))).isFile()).toBe(true);
    expect(result.sequence).toBe(1);
    expect(await auditEvents(d.root)).toContain('ota.boot-state-damaged');
    // And updates stay refused while the boot state is damaged.
    expect(await reasonOfAsync(rebooted.agent.update(offer(3, image3)))).toBe('state-damaged');
  });

  it('do not start an image that `current` names outside images/, even one that verifies', async () => {
    const d = await device();
    await d.agent.update(offer(2, image2));
    const outside = join(d.root, '..', `${basename(d.root)}-outside`);
    cleanups.push(outside);
    await mkdir(outside);
    // A verifying copy of image 2 outside the image store: still not something the agent wrote.
    const name2 = (await readdir(join(d.root, 'images'))).find((n) => n.startsWith('000000000002'))!;
    await writeFile(join(outside, 'image.bin'), await readFile(join(d.root, 'images', name2, 'image.bin')));
    await writeFile(join(outside, 'manifest.suit'), await readFile(join(d.root, 'images', name2, 'manifest.suit')));
    await unlink(join(d.root, 'current'));
    await symlink(`images/../../${basename(outside)}`, join(d.root, 'current'));
    const rebooted = await device({ root: d.root });
    expect(await rebooted.agent.boot()).toMatchObject({ sequence: 1 });
    expect(await auditEvents(d.root)).toContain('ota.image-invalid');
  });
});
