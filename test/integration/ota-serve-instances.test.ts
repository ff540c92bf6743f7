/**
 * Two `sensorkit ota serve` instances on one PostgreSQL: a campaign created through one is offered
 * by both; exactly one schedules (the lease); when its holder is killed (SIGKILL, no goodbye) the
 * other takes the lease over and the rollout goes on, each wave opened once. Two device listeners
 * on two stores of one PostgreSQL database hand out download slots that together keep the policy's
 * rate, also when their polls arrive at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { openArtefactStore } from '../../ota/server/artefacts/index.js';
import { openDatabase } from '../../ota/server/db/sql.js';
import { deviceApi } from '../../ota/server/device-api.js';
import { startUpdateServer } from '../../ota/server/file-server.js';
import { FleetStore } from '../../ota/server/fleet-store.js';
import { parseRolloutPolicy } from '../../ota/server/rollout/policy.js';
import { BIN, ROOT, runSensorkit, type CliRun } from '../support/cli.js';
import { waitFor } from '../support/net.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';
import { findPostgres, startPostgres, type TestPostgres } from '../support/postgres.js';

const key = makeKey();
const image = makeImage(20_000, 13);
const DEVICES = Array.from({ length: 20 }, (_, i) => `en-1-SN${String(i).padStart(2, '0')}`);
let dir: string;
let pg: TestPostgres | undefined;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-instances-'));
  await writeFile(join(dir, 'fw.bin'), image);
  await writeFile(join(dir, 'fw.suit'), envelopeFor(image, 2, key, { uri: 'fw.bin' }));
  // Three waves: 10 %, 40 %, 50 %; each opens when every device of the waves before confirmed.
  await writeFile(join(dir, 'policy.json'), JSON.stringify({ waves: [10, 40, 50], successThreshold: 1, pollIntervalS: 2 }));
  pg = await startPostgres();
}, 120_000);
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
});
afterAll(async () => {
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
});

const ota = (args: string[]): Promise<CliRun> => runSensorkit(['ota', ...args]);

interface Instance {
  readonly name: string;
  readonly child: ChildProcess;
  readonly device: string;
  readonly admin: string;
}

async function serve(name: string, db: string, tokens: string): Promise<Instance> {
  const args = ['ota', 'serve', '--db', db, '--store', join(dir, 'store'), '--device-port', '0', '--admin-port', '0', '--admin-tokens', tokens, '--instance', name, '--lease', '2'];
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
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
    child.once('exit', (code) => reject(new Error(`ota serve ${name} exited with ${code}: ${stderr}`)));
  });
  return { name, child, ...urls };
}

async function fleetOf(instance: Instance, token: string): Promise<{ scheduling: boolean; instance: string }> {
  const response = await fetch(`${instance.admin}api/fleet`, { headers: { authorization: `Bearer ${token}` } });
  return (await response.json()) as { scheduling: boolean; instance: string };
}

/** Polls every device once through `instance`; reports `confirmed` for each one offered the campaign. */
async function confirmOffered(instance: Instance, campaign: number): Promise<number> {
  let confirmed = 0;
  for (const device of DEVICES) {
    const offer = await fetch(`${instance.device}api/offer?device=${device}`);
    if (offer.status !== 200) {
      await offer.arrayBuffer();
      continue;
    }
    expect(((await offer.json()) as { campaign: number }).campaign).toBe(campaign);
    const report = await fetch(`${instance.device}api/report`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ campaign, device, state: 'confirmed' }) });
    expect(report.status).toBe(200);
    confirmed++;
  }
  return confirmed;
}

describe.runIf(findPostgres() !== undefined)('two ota serve instances on one PostgreSQL', () => {
  it('both offer a campaign created through one; the lease moves when its holder is killed, and no wave opens twice', async () => {
    const db = await pg!.createDatabase('instances');
    const tokens = join(dir, 'tokens.json');
    const token = (await ota(['token', 'create', 'root', '--role', 'admin', '--tokens', tokens])).stdout.trim();
    const added = await ota(['device', 'add', '--db', db, '--group', 'line-3', ...DEVICES]);
    expect(added.code, added.stderr).toBe(0);
    const a = await serve('ota-a', db, tokens);
    const b = await serve('ota-b', db, tokens);
    const byName = { 'ota-a': a, 'ota-b': b };

    // Created through b's management API; the payload uploaded to the store both serve from.
    const created = await ota(['campaign', 'create', '--server', b.admin, '--token', token, '--name', 'fw 2', '--group', 'line-3', '--envelope', join(dir, 'fw.suit'), '--policy', join(dir, 'policy.json'), '--payload', join(dir, 'fw.bin'), '--store', join(dir, 'store')]);
    expect(created.code, created.stderr).toBe(0);
    const campaign = (JSON.parse(created.stdout) as { id: number; targeted: number }).id;

    // Wave 0 (2 devices) is offered by both instances, with the same tag.
    const firstOffered = await waitFor(async () => {
      for (const device of DEVICES) {
        const response = await fetch(`${a.device}api/offer?device=${device}`);
        if (response.status === 200) return { device, etag: response.headers.get('etag')! };
        await response.arrayBuffer();
      }
      return undefined;
    }, 20_000, 'an offer of wave 0');
    const fromB = await fetch(`${b.device}api/offer?device=${firstOffered.device}`);
    expect(fromB.status).toBe(200);
    expect(fromB.headers.get('etag')).toBe(firstOffered.etag);
    expect(((await fromB.json()) as { campaign: number }).campaign).toBe(campaign);

    // Exactly one instance schedules.
    const holderName = await waitFor(async () => {
      const [fa, fb] = [await fleetOf(a, token), await fleetOf(b, token)];
      return fa.scheduling !== fb.scheduling ? (fa.scheduling ? 'ota-a' : 'ota-b') : undefined;
    }, 20_000, 'one scheduling instance');
    const holder = byName[holderName];
    const survivor = holder === a ? b : a;
    const status = await ota(['fleet', 'status', '--db', db]);
    expect(JSON.parse(status.stdout)).toEqual({ offersStopped: false, scheduler: holderName });

    // Wave 0 confirms; the holder opens wave 1 and is then killed without releasing its lease.
    expect(await confirmOffered(survivor, campaign)).toBe(2);
    const store = await openDatabase(db);
    try {
      const statusOf = async (): Promise<{ state: string; openWave: number }> => (await (await fetch(`${survivor.admin}api/campaigns/${campaign}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { state: string; openWave: number };
      await waitFor(async () => (await statusOf()).openWave >= 1 || undefined, 20_000, 'wave 1 to open');
      holder.child.kill('SIGKILL');
      await new Promise((resolve) => holder.child.once('exit', resolve));

      // The survivor takes the lease once it expires, and the rollout goes on to the end.
      await waitFor(async () => (await fleetOf(survivor, token)).scheduling || undefined, 20_000, 'the survivor to take the lease');
      const after = await ota(['fleet', 'status', '--db', db]);
      expect(JSON.parse(after.stdout)).toMatchObject({ scheduler: survivor.name });
      await waitFor(async () => {
        await confirmOffered(survivor, campaign);
        return (await statusOf()).state === 'finished' || undefined;
      }, 60_000, 'the campaign to finish');
      const final = JSON.parse((await ota(['campaign', 'status', String(campaign), '--db', db])).stdout) as { state: string; counts: Record<string, number>; openWave: number };
      expect(final).toMatchObject({ state: 'finished', openWave: 2, counts: { confirmed: 20 } });
      // Each wave after the first was opened by exactly one scheduler pass, across the takeover.
      const waves = await store.query<{ wave: string; n: string }>("SELECT detail->>'wave' AS wave, count(*) AS n FROM audit WHERE event = 'ota.campaign.wave' AND campaign_id = $1 GROUP BY 1 ORDER BY 1", [campaign]);
      expect(waves.rows.map((r) => [Number(r.wave), Number(r.n)])).toEqual([
        [1, 1],
        [2, 1],
      ]);
    } finally {
      await store.close();
    }
  }, 180_000);
});

describe.runIf(findPostgres() !== undefined)('download slots of two instances on one PostgreSQL', () => {
  it('are claimed in the database: concurrent polls through both listeners get distinct slots 60 / rate s apart', async () => {
    const url = await pg!.createDatabase('slots');
    const clock = new VirtualClock();
    const stores = [await FleetStore.open(await openDatabase(url), clock), await FleetStore.open(await openDatabase(url), clock)] as const;
    const artefacts = openArtefactStore(join(dir, 'slots-store'));
    const listeners = [await startUpdateServer({ api: deviceApi(stores[0], artefacts, { clock }) }), await startUpdateServer({ api: deviceApi(stores[1], artefacts, { clock }) })];
    try {
      await artefacts.check();
      await artefacts.put('fw.bin', image);
      await stores[0].assign('line-3', DEVICES);
      // 12 a minute: one start every 5 s.
      const { id } = await stores[1].createCampaign({ name: 'fw 2', group: 'line-3', envelope: envelopeFor(image, 2, key, { uri: 'fw.bin' }), policy: parseRolloutPolicy({ downloadSlotsPerMinute: 12 }) });
      await stores[0].schedule();
      const offers = await Promise.all(
        DEVICES.map(async (device, i) => {
          const response = await fetch(`${listeners[i % 2]!.url}api/offer?device=${device}`);
          expect(response.status).toBe(200);
          return (await response.json()) as { campaign: number; downloadAfterS: number };
        }),
      );
      expect(offers.every((offer) => offer.campaign === id)).toBe(true);
      const slots = offers.map((offer) => offer.downloadAfterS).sort((a, b) => a - b);
      expect(slots).toEqual(DEVICES.map((_, i) => i * 5));
      // No 60 s window holds more than 12 starts.
      for (const start of slots) expect(slots.filter((s) => s >= start && s < start + 60).length).toBeLessThanOrEqual(12);
      // Asking the other instance answers the same slot, less the time gone by.
      const first = DEVICES[offers.findIndex((offer) => offer.downloadAfterS === 35)]!;
      await clock.advance(10_000);
      const again = await Promise.all(listeners.map(async (listener) => ((await (await fetch(`${listener.url}api/offer?device=${first}`)).json()) as { downloadAfterS: number }).downloadAfterS));
      expect(again).toEqual([25, 25]);
    } finally {
      for (const listener of listeners) await listener.close();
      for (const store of stores) await store.close();
    }
  }, 60_000);
});
