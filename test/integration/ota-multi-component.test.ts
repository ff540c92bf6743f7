/**
 * Two components in one manifest (an application and the firmware of an attached microcontroller):
 * both are installed together or not at all. The agent stages every component into one image
 * directory and switches `current` once, so a component that fails its digest leaves the others
 * unused; a power cut (SIGKILL of a child process) at any persistent step leaves both components of
 * one release running, never a mix.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VirtualClock } from '../../sdk/core/clock.js';
import type { ChunkSource } from '../../ota/agent/chunked-download.js';
import { UpdateAgent } from '../../ota/agent/update-agent.js';
import { signEnvelope } from '../../ota/manifest/suit-envelope.js';
import type { SuitComponentImage } from '../../ota/manifest/suit-manifest.js';
import { startUpdateServer, type UpdateServer } from '../../ota/server/file-server.js';
import { DEVICE, makeImage, makeKey, reasonOfAsync, trustOf } from '../support/ota-fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const key = makeKey('ed25519');
const APP = ['app'];
const MCU = ['mcu', 'firmware'];
const release = (n: number): { app: Buffer; mcu: Buffer } => ({ app: makeImage(40_000 + n, 10 + n), mcu: makeImage(12_000 + n, 20 + n) });

function image(componentId: string[], bytes: Uint8Array, uri: string): SuitComponentImage {
  return { componentId, imageDigest: createHash('sha256').update(bytes).digest(), imageSize: bytes.length, uri, version: '1.0' };
}

function envelopeOf(sequence: number, options: { severable?: boolean } = {}): Uint8Array {
  const { app, mcu } = release(sequence);
  const components = [image(APP, app, `app-${sequence}.bin`), image(MCU, mcu, `mcu-${sequence}.bin`)];
  return signEnvelope({ ...components[0]!, sequence, ...DEVICE, components, description: `release ${sequence}` }, key.privateKey, options);
}

let dir: string;
let server: UpdateServer;
const roots: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-multi-'));
  const served = join(dir, 'served');
  await mkdir(served, { recursive: true });
  for (const n of [2, 3]) {
    const { app, mcu } = release(n);
    await writeFile(join(served, `app-${n}.bin`), app);
    await writeFile(join(served, `mcu-${n}.bin`), mcu);
    await writeFile(join(served, `release-${n}.suit`), envelopeOf(n, { severable: n === 3 }));
  }
  await writeFile(join(dir, 'public.pem'), key.publicPem);
  server = await startUpdateServer({ dir: served });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

async function provisioned(components: readonly (readonly string[])[] = [APP, MCU]): Promise<{ agent: UpdateAgent; root: string }> {
  const root = await mkdtemp(join(tmpdir(), 'sensorkit-ota-multi-dev-'));
  roots.push(root);
  const agent = await UpdateAgent.open({ root, clock: new VirtualClock(), trust: trustOf(key), device: { ...DEVICE, deviceId: 'gw-1' }, components });
  const { app, mcu } = release(1);
  await agent.provision(envelopeOf(1), [app, mcu]);
  await agent.boot();
  return { agent, root };
}

async function running(root: string): Promise<{ app: Buffer; mcu: Buffer }> {
  return { app: await readFile(join(root, 'current', 'image.bin')), mcu: await readFile(join(root, 'current', 'component-1.bin')) };
}

describe('a manifest with two components', () => {
  it('installs both over HTTP, each from its own URI into its own file, with one switch', async () => {
    const { agent, root } = await provisioned();
    expect(await running(root)).toEqual(release(1));
    const result = await agent.update({ envelope: envelopeOf(2), baseUrl: server.url });
    expect(result).toMatchObject({ sequence: 2, trial: 'confirmed' });
    expect(await running(root)).toEqual(release(2));
    // Severed install and text (release 3) install the same way.
    expect(await agent.update({ envelope: await readFile(join(dir, 'served', 'release-3.suit')), baseUrl: server.url })).toMatchObject({ sequence: 3, trial: 'confirmed' });
    expect(await running(root)).toEqual(release(3));
  });

  it('activates neither when the second fails its digest: the first stays staged, never current', async () => {
    const { agent, root } = await provisioned();
    const { app } = release(2);
    const requested: string[] = [];
    const chunks: ChunkSource = {
      read: async (file, offset, length) => {
        requested.push(file);
        // The first component is right; the second is someone else's bytes of the signed size.
        const body = file === 'app-2.bin' ? app : makeImage(12_002, 99);
        return body.subarray(offset, offset + length);
      },
    };
    expect(await reasonOfAsync(agent.update({ envelope: envelopeOf(2), chunks }))).toBe('payload-mismatch');
    expect([...new Set(requested)]).toEqual(['app-2.bin', 'mcu-2.bin']);
    expect(await running(root)).toEqual(release(1));
    expect((await agent.boot()).sequence).toBe(1);
    expect((await readdir(join(root, 'images'))).length).toBe(1);
  });

  it('runs suit-validate at every boot: a damaged second component sends the device back to the previous release', async () => {
    const { agent, root } = await provisioned();
    await agent.update({ envelope: envelopeOf(2), baseUrl: server.url });
    const damaged = Buffer.from(release(2).mcu);
    damaged[0] = damaged[0]! ^ 0xff;
    await writeFile(join(root, 'current', 'component-1.bin'), damaged);
    expect((await agent.boot()).sequence).toBe(1);
    expect(await running(root)).toEqual(release(1));
  });

  it('refuses a component the device does not update, and a single payload URL for two images', async () => {
    const { agent } = await provisioned([APP, MCU]);
    const appOnly = await mkdtemp(join(tmpdir(), 'sensorkit-ota-multi-dev-'));
    roots.push(appOnly);
    const other = await UpdateAgent.open({ root: appOnly, clock: new VirtualClock(), trust: trustOf(key), device: { ...DEVICE, deviceId: 'gw-2' }, components: [APP] });
    await expect(other.update({ envelope: envelopeOf(2), baseUrl: server.url })).rejects.toThrow(/wrong-device: component mcu\/firmware is not one this device updates/);
    expect(await reasonOfAsync(agent.update({ envelope: envelopeOf(2), url: `${server.url}app-2.bin` }))).toBe('download-failed');
  });
});

/** One device process: update or boot on a root, SIGKILL right after OTA_KILL_STEP. */
const CHILD = `
import { readFileSync } from 'node:fs';
import { SystemClock } from './sdk/core/clock.ts';
import { UpdateAgent } from './ota/agent/update-agent.ts';
import { TrustAnchors } from './ota/keys/trust-anchors.ts';
import { DEVICE } from './test/support/ota-fixtures.ts';
const config = JSON.parse(process.env.OTA_CHILD);
const agent = await UpdateAgent.open({
  root: config.root, clock: new SystemClock(), trust: TrustAnchors.of([readFileSync(config.publicPemFile, 'utf8')]),
  device: { ...DEVICE, deviceId: 'crash-gw' }, components: [['app'], ['mcu', 'firmware']],
  onStep: (step) => { if (step === process.env.OTA_KILL_STEP) process.kill(process.pid, 'SIGKILL'); },
});
const result = config.mode === 'update' ? await agent.update({ envelope: readFileSync(config.envelopeFile), baseUrl: config.baseUrl }) : await agent.boot();
process.stdout.write(JSON.stringify(result) + '\\n');
`;

function child(config: object, killStep?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', './bin/register-ts.js', '--input-type=module', '-e', CHILD], {
      cwd: ROOT,
      env: { ...process.env, OTA_CHILD: JSON.stringify(config), ...(killStep ? { OTA_KILL_STEP: killStep } : {}) },
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.on('error', reject);
    proc.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('SIGKILL during a two-component update', () => {
  it.each(['downloaded-0', 'downloaded', 'staged', 'trial-armed', 'current-switched', 'confirmed'])('killed after %s → both components of one release run, and the update completes', async (step) => {
    const { root } = await provisioned();
    const update = { root, publicPemFile: join(dir, 'public.pem'), mode: 'update', envelopeFile: join(dir, 'served', 'release-2.suit'), baseUrl: server.url };
    const killed = await child(update, step);
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const booted = await child({ ...update, mode: 'boot' });
    expect(booted.code, booted.stderr).toBe(0);
    const { sequence } = JSON.parse(booted.stdout) as { sequence: number };
    expect(await running(root)).toEqual(release(sequence));
    const retried = await child(update);
    expect(retried.code, retried.stderr).toBe(0);
    expect(JSON.parse(retried.stdout)).toMatchObject({ sequence: 2 });
    expect(await running(root)).toEqual(release(2));
  }, 60_000);
});
