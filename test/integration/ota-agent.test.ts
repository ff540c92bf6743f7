import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../sdk/core/clock.js';
import { ManifestError, UpdateError } from '../../ota/errors.js';
import { startUpdateServer, type UpdateServer } from '../../ota/server/file-server.js';
import { verifyAuditLog } from '../../security/audit-log.js';
import { NAMESPACE_DNS, uuidV5 } from '../../ota/manifest/uuid.js';
import { signKeyUpdate } from '../../ota/keys/key-update.js';
import { DEVICE, envelopeFor, makeImage, makeKey, reasonOfAsync } from '../support/ota-fixtures.js';
import { makeDevice, publishImage, type TestDevice } from '../support/ota-device.js';
import { waitFor } from '../support/net.js';

const key = makeKey('ed25519');
const image2 = makeImage(256 * 1024, 2);
let served: string;
let server: UpdateServer;
const devices: TestDevice[] = [];

beforeAll(async () => {
  served = await mkdtemp(join(tmpdir(), 'sensorkit-ota-served-'));
  await publishImage(served, 'firmware-2.bin', image2, envelopeFor(image2, 2, key, { uri: 'firmware-2.bin' }));
  server = await startUpdateServer({ dir: served });
});
afterAll(async () => {
  await server.close();
  await rm(served, { recursive: true, force: true });
});
afterEach(async () => {
  for (const device of devices.splice(0)) await device.cleanup();
});

async function device(options: Parameters<typeof makeDevice>[1] = {}): Promise<TestDevice> {
  const d = await makeDevice(key, options);
  devices.push(d);
  return d;
}


const offer2 = (): { envelope: Uint8Array; baseUrl: string } => ({ envelope: envelopeFor(image2, 2, key, { uri: 'firmware-2.bin' }), baseUrl: server.url });

describe('UpdateAgent', () => {
  it('downloads, stages, switches, passes its health probes and confirms', async () => {
    let probed = 0;
    const d = await device({ healthProbes: [() => (probed++, true)] });
    const result = await d.agent.update(offer2());
    expect(result).toMatchObject({ sequence: 2, version: '1.0.2', trial: 'confirmed' });
    expect(probed).toBe(1);
    expect(await d.counter()).toBe(2);
    expect(await readFile(join(d.root, 'current', 'image.bin'))).toEqual(image2);
    expect((await d.agent.boot()).sequence).toBe(2);
    const states = d.statuses.map((s) => s.state);
    expect(states[0]).toBe('verifying');
    expect(states).toContain('downloading');
    expect(states.slice(-3)).toEqual(['staged', 'trial', 'confirmed']);
    expect(d.published.every((p) => /^sensorkit\/v1\/en-1-SN1\/ota\/(status|progress)$/.test(p.topic))).toBe(true);
    expect(d.published.at(-1)!.payload).toMatchObject({ state: 'confirmed', sequence: 2 });
    const log = await verifyAuditLog(join(d.root, 'audit.log'));
    expect(log.ok).toBe(true);
    expect(log.entries.map((e) => e.event)).toEqual(['ota.provisioned', 'ota.accepted', 'ota.staged', 'ota.switched', 'ota.confirmed']);
    // Same offer again: already installed, nothing downloaded.
    expect((await d.agent.update(offer2())).sequence).toBe(2);
    expect(d.statuses.at(-1)!.state).toBe('current');
  });

  it('refuses a replayed older manifest, an equal sequence with another image and a downgrade', async () => {
    const d = await device();
    await d.agent.update(offer2());
    // The factory manifest, replayed byte for byte:
    const old = makeImage(64 * 1024, 1);
    expect(await reasonOfAsync(d.agent.update({ envelope: envelopeFor(old, 1, key), baseUrl: server.url }))).toBe('replayed');
    // A validly signed manifest with a lower sequence number, never seen before:
    expect(await reasonOfAsync(d.agent.update({ envelope: envelopeFor(makeImage(5000, 8), 1, key), baseUrl: server.url }))).toBe('downgrade');
    const other = makeImage(1000, 9);
    expect(await reasonOfAsync(d.agent.update({ envelope: envelopeFor(other, 2, key), baseUrl: server.url }))).toBe('sequence-conflict');
    expect(await d.counter()).toBe(2);
    expect(d.published.at(-1)!.payload).toMatchObject({ state: 'failed', reason: 'sequence-conflict' });
  });

  it('refuses a wrong vendor or class id, a wrong key and a tampered envelope before downloading', async () => {
    const d = await device();
    const vendorId = uuidV5(NAMESPACE_DNS, 'evil.example');
    expect(await reasonOfAsync(d.agent.update({ envelope: envelopeFor(image2, 3, key, { vendorId }), baseUrl: server.url }))).toBe('wrong-device');
    expect(await reasonOfAsync(d.agent.update({ envelope: envelopeFor(image2, 3, key, { classId: uuidV5(vendorId, 'X') }), baseUrl: server.url }))).toBe('wrong-device');
    expect(await reasonOfAsync(d.agent.update({ envelope: envelopeFor(image2, 3, makeKey()), baseUrl: server.url }))).toBe('unknown-key');
    const tampered = Uint8Array.from(envelopeFor(image2, 3, key));
    tampered[tampered.length - 5] = tampered[tampered.length - 5]! ^ 1;
    expect(await reasonOfAsync(d.agent.update({ envelope: tampered, baseUrl: server.url }))).not.toBe('accepted');
    expect(await readdir(join(d.root, 'staging'))).toEqual([]);
    expect((await d.agent.boot()).sequence).toBe(1);
  });

  it('refuses a tampered payload byte and keeps the current image', async () => {
    const d = await device();
    const bad = Buffer.from(image2);
    bad[12345] = bad[12345]! ^ 0x01;
    // The update server serves only payloads that match an envelope; a server that serves anything
    // (a compromised or careless one) stands in for the attacker here.
    const open = await startUpdateServer({ dir: served, files: 'any' });
    await writeFile(join(served, 'tampered.bin'), bad);
    try {
      expect(await reasonOfAsync(d.agent.update({ envelope: envelopeFor(image2, 3, key), url: `${open.url}tampered.bin` }))).toBe('payload-mismatch');
    } finally {
      await open.close();
    }
    expect(await readFile(join(d.root, 'current', 'image.bin'))).toEqual(makeImage(64 * 1024, 1));
    expect(await d.counter()).toBe(1);
    // The wrong bytes are not kept for a resume.
    const staging = await readdir(join(d.root, 'staging'), { recursive: true });
    expect(staging.filter((f) => f.endsWith('image.bin'))).toEqual([]);
  });

  it('rolls back and reports when the health check fails, and does not take the same image again', async () => {
    const d = await device({ healthProbes: [() => true, async () => false] });
    const result = await d.agent.update(offer2());
    expect(result).toMatchObject({ sequence: 1, trial: 'rolled-back' });
    expect(await readFile(join(d.root, 'current', 'image.bin'))).toEqual(makeImage(64 * 1024, 1));
    expect(await d.counter()).toBe(1);
    expect(d.published.at(-1)!.payload).toMatchObject({ state: 'rolled-back', sequence: 2, reason: 'health-check-failed' });
    const log = await verifyAuditLog(join(d.root, 'audit.log'));
    expect(log.entries.at(-1)).toMatchObject({ event: 'ota.rolled-back', data: { sequence: 2, reason: 'health-check-failed' } });
    expect(await reasonOfAsync(d.agent.update(offer2()))).toBe('health-check-failed');
  });

  it('rolls back when the probes do not answer within the timeout (virtual clock)', async () => {
    const clock = new VirtualClock();
    const d = await device({ clock, healthTimeoutMs: 10_000, healthProbes: [() => new Promise<boolean>(() => undefined)], restart: async () => ({ image: '', sequence: 0, version: undefined }) });
    await d.agent.update(offer2());
    const booting = d.agent.boot();
    await waitFor(() => clock.pending > 0, 10_000, 'the health timeout to be scheduled');
    await clock.advance(9_999);
    expect(d.statuses.at(-1)!.state).toBe('trial');
    await clock.advance(1);
    expect(await booting).toMatchObject({ sequence: 1, trial: 'rolled-back' });
  });

  it('reverts an image that restarts during its trial without confirming', async () => {
    const d = await device({ restart: async () => ({ image: '', sequence: 0, version: undefined }), healthProbes: [() => new Promise<boolean>(() => undefined)] });
    await d.agent.update(offer2());
    // First trial boot hangs in its probes (the process "dies" there); the next boot reverts.
    void d.agent.boot();
    await waitFor(async () => JSON.parse(await readFile(join(d.root, 'state', 'boot.json'), 'utf8')).booted === true, 10_000, 'the trial boot');
    const again = await (await makeDevice(key, { root: d.root })).agent.boot();
    expect(again).toMatchObject({ sequence: 1, trial: 'rolled-back' });
  });

  it('refuses a staging slot corrupted between download and switch', async () => {
    const d = await device({
      onStep: async (step) => {
        if (step !== 'staged') return;
        const name = (await readdir(join(d.root, 'images'))).find((n) => n.startsWith('000000000002'))!;
        const file = join(d.root, 'images', name, 'image.bin');
        const bytes = await readFile(file);
        bytes[7] = bytes[7]! ^ 0xff;
        await writeFile(file, bytes);
      },
    });
    expect(await reasonOfAsync(d.agent.update(offer2()))).toBe('staging-corrupt');
    expect((await d.agent.boot()).sequence).toBe(1);
    expect(await readdir(join(d.root, 'images'))).toHaveLength(1);
  });

  it('rotates its keys by a signed key update that survives a restart; the revoked key is refused', async () => {
    const next = makeKey('p256');
    const d = await device();
    const update = signKeyUpdate({ add: [next.publicPem], revoke: [key.keyId] }, { sequence: 1, device: DEVICE }, key.privateKey);
    await d.agent.rotateKeys(update.envelope, update.payload);
    const restarted = await makeDevice(key, { root: d.root });
    expect(restarted.agent.trust.keyIds).toEqual([next.keyId]);
    // The running image was signed by the now revoked key: it still boots (installed while valid) …
    expect((await restarted.agent.boot()).sequence).toBe(1);
    // … but nothing new signed by it is taken.
    expect(await reasonOfAsync(restarted.agent.update(offer2()))).toBe('revoked-key');
    expect(await reasonOfAsync(restarted.agent.rotateKeys(update.envelope, update.payload))).toBe('revoked-key');
    const byNext = await restarted.agent.update({ envelope: envelopeFor(image2, 2, next, { uri: 'firmware-2.bin' }), baseUrl: server.url });
    expect(byNext).toMatchObject({ sequence: 2, trial: 'confirmed' });
    const events = (await verifyAuditLog(join(d.root, 'audit.log'))).entries.map((e) => e.event);
    expect(events).toContain('ota.keys-rotated');
  });

  it('falls back to the previous image when the current one is corrupted on disk', async () => {
    const d = await device();
    await d.agent.update(offer2());
    const file = join(d.root, 'current', 'image.bin');
    const bytes = await readFile(file);
    bytes[0] = bytes[0]! ^ 1;
    await writeFile(file, bytes);
    expect(await d.agent.boot()).toMatchObject({ sequence: 1 });
    expect(await d.counter()).toBe(2); // the counter stays where it was
  });
});
