/**
 * SIGKILL at every persistent step of an update: a child process runs the agent and kills itself
 * right after the step; the next start (`boot()` in a fresh process) must run a verified image, the
 * anti-rollback counter must never decrease, and the update must still go through afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startUpdateServer, type UpdateServer } from '../../ota/server/file-server.js';
import { verifyAuditLog } from '../../security/audit-log.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';
import { makeDevice, publishImage } from '../support/ota-device.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const key = makeKey('ed25519');
const image1 = makeImage(64 * 1024, 1);
const image2 = makeImage(512 * 1024, 2);
let dir: string;
let server: UpdateServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-crash-'));
  await publishImage(join(dir, 'served'), 'firmware.bin', image2, envelopeFor(image2, 2, key));
  await writeFile(join(dir, 'public.pem'), key.publicPem);
  server = await startUpdateServer({ dir: join(dir, 'served') });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function child(config: object, killStep?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', './bin/register-ts.js', 'test/support/ota-kill-child.ts'], {
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

async function counterOf(root: string): Promise<number> {
  return (JSON.parse(await readFile(join(root, 'state', 'counter.json'), 'utf8')) as { sequence: number }).sequence;
}

const HEALTHY_STEPS = ['download-half', 'downloaded', 'staged', 'trial-armed', 'previous-switched', 'current-switched', 'trial-booted', 'confirmed', 'counter-raised'];
const UNHEALTHY_STEPS = ['trial-booted', 'rolled-back-switched', 'rolled-back'];

describe('SIGKILL at every persistent step', () => {
  const cases = [...HEALTHY_STEPS.map((step) => ({ step, healthy: true })), ...UNHEALTHY_STEPS.map((step) => ({ step, healthy: false }))];

  it.each(cases)('killed after $step (healthy image: $healthy) → boots a verified image, counter never decreases', async ({ step, healthy }) => {
    const root = join(dir, `dev-${step}-${healthy}`);
    const device = await makeDevice(key, { root, provision: true });
    expect(await counterOf(root)).toBe(1);
    const base = { root, publicPemFile: join(dir, 'public.pem'), healthy };
    const update = { ...base, mode: 'update', envelopeFile: join(dir, 'served', 'firmware.bin.suit'), url: `${server.url}firmware.bin` };

    const killed = await child(update, step);
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const afterKill = await counterOf(root);
    expect(afterKill).toBeGreaterThanOrEqual(1);

    const booted = await child({ ...base, mode: 'boot' });
    expect(booted.code, booted.stderr).toBe(0);
    const result = JSON.parse(booted.stdout) as { sequence: number; image: string };
    // A verified image runs (boot() re-verifies the signature and digest); which one depends on the step.
    const running = await readFile(join(root, 'current', 'image.bin'));
    expect(running).toEqual(result.sequence === 2 ? image2 : image1);
    const afterBoot = await counterOf(root);
    expect(afterBoot).toBeGreaterThanOrEqual(afterKill);
    if (result.sequence === 2) expect(afterBoot).toBe(2);

    // And the update still completes (or is already done), unless the image was reverted: a failed
    // health check, or a power cut during the trial (killed after 'trial-booted'), which reverts on
    // the next boot. A reverted image stays refused, so a campaign cannot loop it through trials.
    const retried = await child(update);
    const reverted = !healthy || step === 'trial-booted';
    if (reverted) {
      expect(retried.code).not.toBe(0);
      expect(retried.stderr).toMatch(/health-check-failed: image 2 was reverted before/);
    }
    if (!reverted) {
      expect(retried.code, retried.stderr).toBe(0);
      expect(JSON.parse(retried.stdout)).toMatchObject({ sequence: 2 });
      expect(await counterOf(root)).toBe(2);
    } else {
      expect(await readFile(join(root, 'current', 'image.bin'))).toEqual(image1);
      expect(await counterOf(root)).toBe(1);
    }
    expect((await verifyAuditLog(join(root, 'audit.log'))).ok).toBe(true);
    await device.cleanup();
  });
});
