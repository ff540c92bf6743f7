/**
 * `sensorkit ota serve` end to end on PGlite, the way an operator runs it: devices and a campaign
 * with a rollout policy created with the CLI, the server started, a device polling (200, then 304
 * with the ETag), downloading its payload from the device listener, the kill switch (204) through
 * the management API; and bad input refused with one line before anything listens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { openDatabase } from '../../ota/server/db/sql.js';
import { FleetStore } from '../../ota/server/fleet-store.js';
import { BIN, ROOT, expectOneLine, runSensorkit, type CliRun } from '../support/cli.js';
import { freePort, waitFor } from '../support/net.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';
import { startTestS3 } from '../support/s3.js';

const key = makeKey();
const image = makeImage(50_000, 11);
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-serve-fleet-'));
  await writeFile(join(dir, 'fw.bin'), image);
  await writeFile(join(dir, 'fw.suit'), envelopeFor(image, 2, key, { uri: 'fw.bin' }));
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ota = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> =>
  env === undefined || Object.keys(env).length === 0 ? runSensorkit(['ota', ...args]) : runWithEnv(['ota', ...args], env);

function runWithEnv(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `sensorkit ota serve ARGS` until it prints both listeners' URLs. */
async function serve(args: string[]): Promise<{ child: ChildProcess; device: string; admin: string; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, 'ota', 'serve', ...args], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const urls = await new Promise<{ device: string; admin: string }>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const device = /^device API on (\S+) /m.exec(stdout);
      const admin = /^management API on (\S+) /m.exec(stdout);
      if (device && admin) resolve({ device: device[1]!, admin: admin[1]! });
    });
    child.once('exit', (code) => reject(new Error(`ota serve exited with ${code}: ${stderr}`)));
  });
  return { child, ...urls, stderr: () => stderr };
}

describe('sensorkit ota serve on PGlite', () => {
  it('serves a campaign created with the CLI: 200 with the ETag, 304, the payload from /files/, the kill switch (204)', async () => {
    const db = join(dir, 'db');
    const store = join(dir, 'store');
    const tokens = join(dir, 'tokens.json');
    await writeFile(join(dir, 'policy.json'), JSON.stringify({ waves: [100], pollIntervalS: 5, errorThreshold: 0.5 }));
    const created = await ota(['token', 'create', 'root', '--role', 'admin', '--tokens', tokens]);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    const added = await ota(['device', 'add', '--db', db, '--group', 'line-3', '--hardware', 'revB', 'en-1-SN1', 'en-1-SN2']);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toEqual([
      { id: 'en-1-SN1', group: 'line-3', hardware: 'revB' },
      { id: 'en-1-SN2', group: 'line-3', hardware: 'revB' },
    ]);
    const campaign = await ota(['campaign', 'create', '--db', db, '--name', 'fw 2', '--group', 'line-3', '--envelope', join(dir, 'fw.suit'), '--policy', join(dir, 'policy.json'), '--payload', join(dir, 'fw.bin'), '--store', store]);
    expect(campaign.code, campaign.stderr).toBe(0);
    const status = JSON.parse(campaign.stdout) as { id: number; targeted: number; state: string; policy: { pollIntervalS: number } };
    expect(status).toMatchObject({ targeted: 2, state: 'running', policy: { pollIntervalS: 5 } });

    const server = await serve(['--db', db, '--store', store, '--device-port', '0', '--admin-port', '0', '--admin-tokens', tokens, '--instance', 'ota-a']);
    expect(server.device).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.admin).not.toBe(server.device);
    // The scheduler (this instance holds the lease) releases the wave: the device is offered it.
    const first = await waitFor(async () => {
      const response = await fetch(`${server.device}api/offer?device=en-1-SN1`);
      return response.status === 200 ? response : void (await response.arrayBuffer());
    }, 20_000, 'the first offer');
    const etag = first.headers.get('etag')!;
    const offer = (await first.json()) as { campaign: number; payloads: Record<string, string>; pollAfterS: number };
    expect(offer.campaign).toBe(status.id);
    expect(offer.pollAfterS).toBeGreaterThanOrEqual(4);
    expect(offer.pollAfterS).toBeLessThanOrEqual(6);
    expect(offer.payloads).toEqual({ 'fw.bin': `${server.device}files/fw.bin` });
    expect(Buffer.from(await (await fetch(offer.payloads['fw.bin']!)).arrayBuffer())).toEqual(image);
    const again = await fetch(`${server.device}api/offer?device=en-1-SN1`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(Number(again.headers.get('x-poll-after'))).toBe(offer.pollAfterS);

    const admin = ['--server', server.admin, '--token', token];
    const stop = await ota(['fleet', 'stop', ...admin]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ offersStopped: true, instance: 'ota-a', scheduling: true });
    expect((await fetch(`${server.device}api/offer?device=en-1-SN1`, { headers: { 'if-none-match': etag } })).status).toBe(204);
    expect((await ota(['fleet', 'start', ...admin])).code).toBe(0);
    expect((await fetch(`${server.device}api/offer?device=en-1-SN1`, { headers: { 'if-none-match': etag } })).status).toBe(304);

    const report = await fetch(`${server.device}api/report`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ campaign: status.id, device: 'en-1-SN1', state: 'confirmed' }) });
    expect(report.status).toBe(200);
    const after = await ota(['campaign', 'status', String(status.id), ...admin]);
    expect(JSON.parse(after.stdout)).toMatchObject({ id: status.id, counts: { confirmed: 1 } });
    const unknown = await ota(['campaign', 'pause', String(status.id + 1), ...admin]);
    expect(unknown.code).toBe(1);
    expectOneLine(unknown, new RegExp(`404 campaign: no campaign ${status.id + 1}$`));
    // Without a token the management API reads but changes nothing.
    const refused = await ota(['fleet', 'stop', '--server', server.admin], { SENSORKIT_OTA_TOKEN: '' });
    expect(refused.code).toBe(1);
    expectOneLine(refused, /401 an administrator token is required/);

    server.child.kill('SIGTERM');
    expect(await new Promise((resolve) => server.child.once('exit', resolve))).toBe(0);
    // The lease was released on the way out; the database is free for the CLI again.
    const fleet = await ota(['fleet', 'status', '--db', db]);
    expect(fleet.code, fleet.stderr).toBe(0);
    expect(JSON.parse(fleet.stdout)).toEqual({ offersStopped: false, scheduler: null });
  }, 120_000);
});

describe('sensorkit ota campaign on the database', () => {
  it('pauses, resumes, halts and answers a halted campaign with a rollback to a higher sequence', async () => {
    const db = join(dir, 'lifecycle-db');
    const store = join(dir, 'lifecycle-store');
    const good = makeImage(30_000, 12);
    await writeFile(join(dir, 'good.bin'), good);
    await writeFile(join(dir, 'good-3.suit'), envelopeFor(good, 3, key, { uri: 'good.bin' }));
    await writeFile(join(dir, 'good-1.suit'), envelopeFor(good, 1, key, { uri: 'good.bin' }));
    expect((await ota(['device', 'add', '--db', db, '--group', 'line-3', 'en-1-SN1', 'en-1-SN2'])).code).toBe(0);
    const wrongPayload = await ota(['campaign', 'create', '--db', db, '--name', 'fw 2', '--group', 'line-3', '--envelope', join(dir, 'fw.suit'), '--payload', join(dir, 'good.bin'), '--store', store]);
    expect(wrongPayload.code).toBe(1);
    expectOneLine(wrongPayload, /good\.bin is no payload the manifest signs/);
    const created = await ota(['campaign', 'create', '--db', db, '--name', 'fw 2', '--group', 'line-3', '--envelope', join(dir, 'fw.suit'), '--payload', join(dir, 'fw.bin'), '--store', store]);
    expect(created.code, created.stderr).toBe(0);
    const id = String((JSON.parse(created.stdout) as { id: number }).id);
    const step = async (args: string[]): Promise<Record<string, unknown>> => {
      const run = await ota(['campaign', ...args, '--db', db]);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout) as Record<string, unknown>;
    };
    expect(await step(['pause', id, '--reason', 'line stop'])).toMatchObject({ state: 'paused', reason: 'line stop' });
    expect(await step(['resume', id])).toMatchObject({ state: 'running' });
    expect(await step(['halt', id, '--reason', 'bad batch'])).toMatchObject({ state: 'halted', reason: 'bad batch' });
    // SUIT anti-rollback: the answer must carry a higher sequence than the halted campaign's.
    const lower = await ota(['campaign', 'rollback', id, '--envelope', join(dir, 'good-1.suit'), '--db', db, '--payload', join(dir, 'good.bin'), '--store', store]);
    expect(lower.code).toBe(1);
    expectOneLine(lower, /sequence 1 must be higher than campaign \d+'s 2/);
    const rollback = await step(['rollback', id, '--envelope', join(dir, 'good-3.suit'), '--name', 'back to good', '--payload', join(dir, 'good.bin'), '--store', store]);
    expect(rollback).toMatchObject({ kind: 'rollback', rollbackOf: Number(id), sequence: 3, name: 'back to good', targeted: 2 });
    const all = (await ota(['campaign', 'status', '--db', db, '--json'])).stdout;
    expect((JSON.parse(all) as { state: string }[]).map((c) => c.state)).toEqual(['halted', 'running']);
  }, 120_000);
});

describe('sensorkit ota serve and campaign refuse bad input with one line, before listening', () => {
  const store = (): string => join(dir, 'bad-store');

  it('a database that does not answer', async () => {
    const port = await freePort();
    const run = await ota(['serve', '--db', `postgres://ota:secret@127.0.0.1:${port}/ota`, '--store', store(), '--device-port', '0', '--admin-port', '0']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expectOneLine(run, new RegExp(`^sensorkit: cannot reach postgres://…@127\\.0\\.0\\.1:${port}/ota`));
  }, 30_000);

  it('a schema newer than this sensorkit', async () => {
    const db = join(dir, 'newer-db');
    const store = await FleetStore.open(await openDatabase(db), new VirtualClock());
    await store.db.query('UPDATE schema_version SET version = 999');
    await store.close();
    const run = await ota(['serve', '--db', db, '--store', join(dir, 'newer-store'), '--device-port', '0', '--admin-port', '0']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expectOneLine(run, /schema version 999 is newer than this sensorkit \(\d+\): upgrade sensorkit/);
  }, 30_000);

  it('an S3 bucket the credentials may not write, or a wrong secret', async () => {
    const s3 = await startTestS3();
    try {
      const args = ['serve', '--db', join(dir, 's3-db'), '--store', `s3://${s3.bucket}/fw`, '--device-port', '0', '--admin-port', '0'];
      const readOnly = await ota(args, { ...s3.env, AWS_ACCESS_KEY_ID: s3.readOnly.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.readOnly.secretAccessKey });
      expect(readOnly.code).toBe(1);
      expect(readOnly.stdout).toBe('');
      expectOneLine(readOnly, /^sensorkit: s3:\/\/artefacts\/fw.*access denied/i);
      const wrong = await ota(args, { ...s3.env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
      expect(wrong.code).toBe(1);
      expectOneLine(wrong, /access denied/i);
    } finally {
      await s3.stop();
    }
  }, 60_000);

  it('a policy out of range, a payload missing from the store, and bad flags', async () => {
    const db = join(dir, 'policy-db');
    const create = (policy: object, extra: string[] = []): Promise<CliRun> =>
      writeFile(join(dir, 'bad-policy.json'), JSON.stringify(policy)).then(() =>
        ota(['campaign', 'create', '--db', db, '--name', 'fw', '--group', 'g', '--envelope', join(dir, 'fw.suit'), '--policy', join(dir, 'bad-policy.json'), '--store', store(), ...extra]),
      );
    for (const [policy, field] of [
      [{ waves: [50, 40] }, /waves/],
      [{ successThreshold: 1.5 }, /successThreshold/],
      [{ rate: { start: 10, factor: 2, cap: 5 } }, /rate/],
      [{ abort: [{ failure: 'meteor', threshold: 0.1 }] }, /abort/],
      [{ surprise: 1 }, /surprise/],
    ] as const) {
      const run = await create(policy);
      expect(run.code, JSON.stringify(policy)).toBe(1);
      expectOneLine(run, field);
    }
    const missing = await create({});
    expect(missing.code).toBe(1);
    expectOneLine(missing, /payload fw\.bin is not in the folder store/);
    const status = await ota(['campaign', 'status', '--db', db]);
    expect(JSON.parse(status.stdout)).toEqual([]);
    expect((await ota(['serve', '--db', db, '--store', store(), '--device-port', 'http'])).code).toBe(2);
    // Usage errors: exit 2, one line and the hint to --help.
    const system = await ota(['serve', '--db', db, '--store', '/etc']);
    expect(system.code).toBe(2);
    expect(system.stderr).toMatch(/^sensorkit: --store \/etc is a system folder.*\nTry 'sensorkit ota --help'\.\n$/);
    const inside = await ota(['serve', '--db', join(store(), 'db'), '--store', store()]);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/^sensorkit: --db .* is inside --store .*\nTry/);
  }, 60_000);
});
