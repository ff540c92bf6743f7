/**
 * The rollout policy's reactions, each rehearsed the way an operator would: `sensorkit ota serve`
 * on PGlite, devices and a campaign created with the CLI, and `sensorkit ota fleet simulate`
 * polling it. Policy times are short (a device timeout of 5 s, poll intervals of 1 s, no
 * release rate); states are waited for by polling `ota campaign status` with a bound, never by
 * sleeping a guessed time.
 *
 * - silent devices time out and count as failed (type timeout);
 * - an error rate over the threshold halts the rollout within its first wave;
 * - devices in their trial are not counted as success, and the next wave waits for their confirm;
 * - a device rolling back counts as a failure (type health);
 * - the rollback campaign brings the halted campaign's devices to the known-good image;
 * - the kill switch stops all offers, and offers go on after it is released.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FleetSummary } from '../../ota/fleet/fleet-simulator.js';
import { BIN, ROOT, expectOneLine, runSensorkit, type CliRun } from '../support/cli.js';
import { freePort } from '../support/net.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';

const key = makeKey();
const known = makeImage(4096, 21);
const update = makeImage(6144, 22);
let dir: string;
let token: string;
const children: ChildProcess[] = [];

interface Status {
  id: number;
  state: string;
  reason: string | null;
  openWave: number;
  counts: Record<string, number>;
  waveCounts: Record<string, number>[];
  failures: Record<string, number>;
  successRatio: number;
  failureRatio: number;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-fleet-simulate-'));
  await writeFile(join(dir, 'public.pem'), key.publicPem);
  await writeFile(join(dir, 'fw-a.bin'), known);
  await writeFile(join(dir, 'fw-b.bin'), update);
  await writeFile(join(dir, 'factory.suit'), envelopeFor(known, 1, key, { uri: 'fw-a.bin' }));
  await writeFile(join(dir, 'update.suit'), envelopeFor(update, 2, key, { uri: 'fw-b.bin' }));
  await writeFile(join(dir, 'rollback.suit'), envelopeFor(known, 3, key, { uri: 'fw-a.bin' }));
  const created = await ota(['token', 'create', 'operator', '--role', 'admin', '--tokens', join(dir, 'tokens.json')]);
  expect(created.code, created.stderr).toBe(0);
  token = created.stdout.trim();
}, 60_000);
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ota = (args: string[]): Promise<CliRun> => runSensorkit(['ota', ...args]);

/** A child `sensorkit ota …` that the test ends (or that ends by itself). */
function start(args: string[]): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [BIN, 'ota', ...args], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliRun>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

interface Rehearsal {
  readonly device: string;
  readonly admin: string[];
  /** The artefact store's folder. */
  readonly store: string;
  /** The campaign's id, once launched. */
  readonly campaign: number;
  readonly ids: string[];
  launch(): Promise<number>;
  status(id?: number): Promise<Status>;
  /** Polls the campaign's status until `until` holds, at most `timeoutMs`. */
  waitFor(until: (status: Status) => boolean, what: string, id?: number, timeoutMs?: number): Promise<Status>;
  simulate(args: string[]): { child: ChildProcess; summary: () => Promise<FleetSummary> };
}

/**
 * A fresh PGlite fleet database with `devices` devices in group `line-1` (ids `<name>-<i>`) and
 * `ota serve` on it (admin token, rate limits high enough for one address polling for the whole
 * fleet, an idle poll interval of 1 s). `launch()` creates the campaign of the update image under
 * `policy` through the management API, as an operator does while devices already poll.
 */
async function rehearse(name: string, devices: number, policy: object): Promise<Rehearsal> {
  const here = join(dir, name);
  const db = join(here, 'db');
  const store = join(here, 'store');
  // Fixed ids per case: the waves (a hash order of the ids) and the fates (the seed) do not depend on which cases run.
  const prefix = `${name}-`;
  const ids = Array.from({ length: devices }, (_, i) => `${prefix}${i}`);
  await mkdir(here);
  const policyFile = join(here, 'policy.json');
  await writeFile(policyFile, JSON.stringify(policy));
  const added = await ota(['device', 'add', '--db', db, '--group', 'line-1', ...ids]);
  expect(added.code, added.stderr).toBe(0);
  const serve = start(['serve', '--db', db, '--store', store, '--device-port', '0', '--admin-port', '0', '--admin-tokens', join(dir, 'tokens.json'), '--rate-limit', '1000000', '--device-rate-limit', '100000000', '--poll-interval', '1', '--instance', name]);
  const urls = await new Promise<{ device: string; admin: string }>((resolve, reject) => {
    let stdout = '';
    serve.child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const device = /^device API on (\S+) /m.exec(stdout);
      const admin = /^management API on (\S+) /m.exec(stdout);
      if (device && admin) resolve({ device: device[1]!, admin: admin[1]! });
    });
    void serve.done.then((run) => reject(new Error(`ota serve exited with ${run.code}: ${run.stderr}`)));
  });
  const admin = ['--server', urls.admin, '--token', token];
  let campaign = 0;
  const launch = async (): Promise<number> => {
    const created = await ota(['campaign', 'create', ...admin, '--name', 'fw 2', '--group', 'line-1', '--envelope', join(dir, 'update.suit'), '--policy', policyFile, '--payload', join(dir, 'fw-b.bin'), '--store', store]);
    expect(created.code, created.stderr).toBe(0);
    campaign = (JSON.parse(created.stdout) as Status).id;
    return campaign;
  };
  const status = async (id = campaign): Promise<Status> => {
    const run = await ota(['campaign', 'status', String(id), ...admin]);
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as Status;
  };
  return {
    device: urls.device,
    admin,
    store,
    get campaign() {
      return campaign;
    },
    launch,
    ids,
    status,
    waitFor: async (until, what, id = campaign, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = await status(id);
        if (until(now)) return now;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last status: ${JSON.stringify({ state: now.state, reason: now.reason, openWave: now.openWave, counts: now.counts })}`);
      }
    },
    simulate: (args) => {
      const run = start(['fleet', 'simulate', '--devices', String(devices), '--id-prefix', prefix, '--server', urls.device, '--key', join(dir, 'public.pem'), '--running', join(dir, 'factory.suit'), '--json', ...args]);
      return {
        child: run.child,
        summary: async () => {
          const result = await run.done;
          expect(result.code, result.stderr).toBe(0);
          return JSON.parse(result.stdout) as FleetSummary;
        },
      };
    },
  };
}

const nonzero = (record: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(record).filter(([, n]) => n > 0));

describe('sensorkit ota fleet simulate against ota serve (PGlite)', () => {
  it('silent devices time out and count as failed (timeout)', async () => {
    const fleet = await rehearse('silent', 10, { deviceTimeoutS: 5, pollIntervalS: 1, errorThreshold: 0.9, minSample: 10 });
    // Devices poll before the campaign exists: each is offered it within a poll interval.
    const simulation = fleet.simulate(['--silent-rate', '0.3', '--duration', '60']);
    await fleet.launch();
    const summary = await simulation.summary();
    expect(summary.states, JSON.stringify(summary)).toMatchObject({ confirmed: 7, silent: 3 });
    const status = await fleet.waitFor((s) => s.counts['timed-out'] === 3, 'three devices timed out');
    expect(nonzero(status.counts)).toEqual({ confirmed: 7, 'timed-out': 3 });
    expect(nonzero(status.failures)).toEqual({ timeout: 3 });
    expect(status.failureRatio).toBeCloseTo(0.3);
    expect(status.successRatio).toBeCloseTo(0.7);
  }, 120_000);

  it('an error rate over the threshold halts the rollout within its first wave', async () => {
    // Without the error threshold, 50 % success would open the second wave (successThreshold 0.3).
    const fleet = await rehearse('errors', 20, { waves: [50, 50], successThreshold: 0.3, errorThreshold: 0.2, minSample: 5, soakS: 2, pollIntervalS: 1 });
    const simulation = fleet.simulate(['--fail-rate', '0.5', '--seed', '4', '--duration', '60', '--keep-polling']);
    await fleet.launch();
    const halted = await fleet.waitFor((s) => s.state === 'halted', 'the halt');
    expect(halted.reason).toMatch(/fail|error/i);
    expect(halted.openWave).toBe(0);
    // No device of the second wave was ever offered the campaign.
    expect(nonzero(halted.waveCounts[1]!)).toEqual({ pending: 10 });
    expect(halted.failureRatio).toBeGreaterThan(0.2);
    simulation.child.kill('SIGTERM');
    const summary = await simulation.summary();
    expect(summary.states.idle).toBeGreaterThanOrEqual(10);
    expect(summary.reports.failed).toBe((await fleet.status()).counts.failed);
  }, 120_000);

  it('does not count devices in their trial as success: the next wave waits for their confirm', async () => {
    const fleet = await rehearse('trial', 6, { waves: [50, 50], successThreshold: 1, pollIntervalS: 1 });
    const simulation = fleet.simulate(['--trial-s', '8', '--duration', '90']);
    await fleet.launch();
    const inTrial = await fleet.waitFor((s) => s.counts.trial === 3, 'the first wave in its trial');
    expect(inTrial.counts.confirmed).toBe(0);
    expect(inTrial.successRatio).toBe(0);
    expect(inTrial.openWave).toBe(0);
    expect(nonzero(inTrial.waveCounts[1]!)).toEqual({ pending: 3 });
    const done = await fleet.waitFor((s) => s.counts.confirmed === 6, 'every device confirmed');
    expect(done.openWave).toBe(1);
    const summary = await simulation.summary();
    expect(summary.states.confirmed).toBe(6);
    expect(summary.sequences).toEqual({ 2: 6 });
  }, 120_000);

  it('counts a device that rolls back as a failure (health)', async () => {
    const fleet = await rehearse('rollback', 10, { errorThreshold: 0.5, pollIntervalS: 1 });
    const simulation = fleet.simulate(['--rollback-rate', '0.2', '--duration', '60']);
    await fleet.launch();
    const summary = await simulation.summary();
    expect(summary.states).toMatchObject({ confirmed: 8, 'rolled-back': 2 });
    const status = await fleet.waitFor((s) => (s.counts.confirmed ?? 0) + (s.counts['rolled-back'] ?? 0) === 10, 'every outcome');
    expect(nonzero(status.counts)).toEqual({ confirmed: 8, 'rolled-back': 2 });
    expect(nonzero(status.failures)).toEqual({ health: 2 });
    expect(status.failureRatio).toBeCloseTo(0.2);
    expect(status.successRatio).toBeCloseTo(0.8);
  }, 120_000);

  it('brings the halted campaign\'s devices to the known-good image with a rollback campaign', async () => {
    const fleet = await rehearse('known-good', 10, { errorThreshold: 0.1, minSample: 3, pollIntervalS: 1 });
    const simulation = fleet.simulate(['--rollback-rate', '0.3', '--duration', '90', '--keep-polling']);
    await fleet.launch();
    const halted = await fleet.waitFor((s) => s.state === 'halted', 'the halt');
    expect(halted.counts['rolled-back']).toBeGreaterThan(0);
    const rollback = await ota(['campaign', 'rollback', String(fleet.campaign), '--envelope', join(dir, 'rollback.suit'), '--payload', join(dir, 'fw-a.bin'), '--store', fleet.store, ...fleet.admin]);
    expect(rollback.code, rollback.stderr).toBe(0);
    const id = (JSON.parse(rollback.stdout) as Status).id;
    const back = await fleet.waitFor((s) => s.counts.confirmed === 10, 'the rollback confirmed on every device', id);
    expect(nonzero(back.counts)).toEqual({ confirmed: 10 });
    simulation.child.kill('SIGTERM');
    const summary = await simulation.summary();
    // Every device runs the known-good image again, at the rollback's sequence.
    expect(summary.sequences).toEqual({ 3: 10 });
    expect(summary.states.confirmed).toBe(10);
  }, 150_000);

  it('stops every offer with the kill switch, and goes on when it is released', async () => {
    const fleet = await rehearse('kill', 8, { pollIntervalS: 1 });
    const stop = await ota(['fleet', 'stop', ...fleet.admin]);
    expect(stop.code, stop.stderr).toBe(0);
    await fleet.launch();
    const stopped = await fleet.simulate(['--duration', '4', '--keep-polling']).summary();
    expect(stopped.polls.offers).toBe(0);
    expect(stopped.polls.total).toBeGreaterThanOrEqual(8);
    expect(stopped.states.idle).toBe(8);
    expect(nonzero((await fleet.status()).counts)).toEqual({ offered: 8 });
    expect((await ota(['fleet', 'start', ...fleet.admin])).code).toBe(0);
    const resumed = await fleet.simulate(['--duration', '60']).summary();
    expect(resumed.states.confirmed).toBe(8);
    expect(nonzero((await fleet.status()).counts)).toEqual({ confirmed: 8 });
  }, 120_000);
});

describe('sensorkit ota fleet simulate refuses bad input with one line', () => {
  it('exits 2 for a bad flag, 1 when no poll reaches the server', async () => {
    for (const [args, pattern] of [
      [['--server', 'http://127.0.0.1:9/'], /--devices is required/],
      [['--devices', '0', '--server', 'http://127.0.0.1:9/'], /--devices: must be at least 1, got 0/],
      [['--devices', '5', '--server', 'ftp://127.0.0.1/'], /--server: expected an http:\/\/ or https:\/\/ URL/],
      [['--devices', '5', '--server', 'http://127.0.0.1:9/', '--fail-rate', '0.7', '--silent-rate', '0.5'], /must add up to at most 1/],
      [['--devices', '5', '--server', 'http://127.0.0.1:9/', '--failure', 'gremlins'], /--failure: expected one of download, verify, install, health, other/],
    ] as const) {
      const run = await ota(['fleet', 'simulate', ...args]);
      expect(run.code, run.stderr).toBe(2);
      // The reason, then the hint to --help; no stack trace.
      expect(run.stderr.split('\n')[0]).toMatch(pattern);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    const closed = await freePort();
    const unreachable = await ota(['fleet', 'simulate', '--devices', '3', '--server', `http://127.0.0.1:${closed}/`, '--key', join(dir, 'public.pem'), '--duration', '1.5']);
    expect(unreachable.code).toBe(1);
    expectOneLine(unreachable, new RegExp(`no poll reached http://127\\.0\\.0\\.1:${closed}/ \\(\\d+ failed\\)`));
  }, 60_000);
});
