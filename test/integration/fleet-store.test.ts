import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { StateError, ValidationError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import type { AuditEvent } from '../../security/audit/event.js';
import { DatabaseError } from '../../ota/server/db/errors.js';
import { SCHEMA_VERSION } from '../../ota/server/db/migrations.js';
import { openDatabase } from '../../ota/server/db/sql.js';
import { FleetStore, NO_OFFER_ETAG, OFFER_SQL, UnknownCampaignError, type ReportedState } from '../../ota/server/fleet-store.js';
import { parseRolloutPolicy, type FailureType } from '../../ota/server/rollout/policy.js';
import { trackedCleanups } from '../support/cleanups.js';
import { fleetBackends } from '../support/fleet-db.js';
import { freePort } from '../support/net.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';

const { track, cleanups } = trackedCleanups();
const key = makeKey();
const image = makeImage(256);
const envelope = envelopeFor(image, 5, key);
const devices = (n: number, prefix = 'en-1-SN') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe.each(fleetBackends())('FleetStore on $name', (backend) => {
  async function open(options: { clock?: VirtualClock; audit?: AuditEvent[] } = {}): Promise<FleetStore> {
    const events = options.audit;
    return track(await FleetStore.open(await backend.open(), options.clock ?? new VirtualClock({ start: 1_000_000 }), events ? { audit: { record: (e) => void events.push(e) } } : {}));
  }

  it('offers a one-wave campaign to every device of its group, counts reports, and halts', async () => {
    const store = await open();
    await store.assign('line-3', devices(20));
    await store.assign('line-4', ['other-1']);
    const created = await store.createCampaign({ name: 'fw 1.5', group: 'line-3', envelope, policy: parseRolloutPolicy('{}') });
    expect(created).toMatchObject({ name: 'fw 1.5', kind: 'update', state: 'running', sequence: 5, targeted: 20, openWave: 0, waves: [100] });
    expect(created.counts.offered).toBe(20);
    expect(await store.offerFor('other-1')).toBeUndefined();
    const offer = await store.offerFor('en-1-SN3');
    expect(offer).toMatchObject({ campaignId: created.id, sequence: 5, payloadKeys: ['firmware.bin'], pollIntervalS: 300 });
    expect(Buffer.from(offer!.envelope).equals(Buffer.from(envelope))).toBe(true);
    expect(await store.etagFor('en-1-SN3')).toBe(offer!.etag);

    await store.report(created.id, 'en-1-SN3', 'downloading');
    await store.report(created.id, 'en-1-SN3', 'trial');
    let status = await store.report(created.id, 'en-1-SN3', 'confirmed');
    expect(status.counts).toMatchObject({ offered: 19, confirmed: 1, trial: 0, downloading: 0 });
    expect(status.successRatio).toBe(1);
    expect(await store.offerFor('en-1-SN3')).toBeUndefined();
    expect(await store.etagFor('en-1-SN3')).toBe(NO_OFFER_ETAG);

    status = await store.halt(created.id, 'field returns', 'alice');
    expect(status).toMatchObject({ state: 'halted', reason: 'field returns' });
    expect(await store.offerFor('en-1-SN4')).toBeUndefined();
    await expect(store.resume(created.id)).rejects.toBeInstanceOf(StateError);
    await expect(store.halt(created.id, 'again')).rejects.toBeInstanceOf(StateError);
  });

  it('refuses a report from a device never offered the campaign, and changes nothing', async () => {
    const store = await open();
    await store.assign('line-3', devices(40));
    const policy = parseRolloutPolicy({ waves: [10, 90] });
    const { id } = await store.createCampaign({ name: 'fw', group: 'line-3', envelope, policy });
    const before = await store.status(id);
    const audit = await store.db.query('SELECT count(*)::int AS n FROM audit');
    const reports = await store.db.query('SELECT count(*)::int AS n FROM reports');
    await expect(store.report(id, 'stranger-1', 'failed')).rejects.toThrow('stranger-1 was not offered campaign');
    await expect(store.report(id + 1, 'en-1-SN0', 'failed')).rejects.toBeInstanceOf(ValidationError);
    let notOffered = 0;
    for (const d of devices(40)) {
      if ((await store.offerFor(d)) !== undefined) continue;
      notOffered++;
      await expect(store.report(id, d, 'rolled-back')).rejects.toBeInstanceOf(ValidationError);
    }
    expect(notOffered).toBe(36);
    expect(await store.status(id)).toEqual(before);
    expect((await store.db.query('SELECT count(*)::int AS n FROM audit')).rows).toEqual(audit.rows);
    expect((await store.db.query('SELECT count(*)::int AS n FROM reports')).rows).toEqual(reports.rows);
  });

  it('targets cohorts by group and hardware revision, in waves by a stable hash order', async () => {
    const store = await open();
    await store.assign('line-3', devices(30, 'a'), { hardware: 'revB' });
    await store.assign('line-3', devices(10, 'b'), { hardware: 'revA' });
    await store.assign('line-4', devices(10, 'c'));
    await store.assign('line-5', devices(10, 'd'), { hardware: 'revB' });
    expect((await store.devices({ group: 'line-3' })).length).toBe(40);
    expect(await store.devices({ group: 'line-4' })).toContainEqual({ id: 'c1', group: 'line-4', hardware: null });
    const policy = parseRolloutPolicy({ cohorts: [{ group: 'line-3', hardware: 'revB' }, { group: 'line-4' }], waves: [10, 90] });
    const status = await store.createCampaign({ name: 'revB', envelope, policy });
    expect(status.targeted).toBe(40);
    expect(status.waveCounts.map((w) => w.offered + w.pending)).toEqual([4, 36]);
    expect(status.waveCounts[0]!.offered).toBe(4);
    const offered: string[] = [];
    for (const d of [...devices(30, 'a'), ...devices(10, 'b'), ...devices(10, 'c'), ...devices(10, 'd')]) if (await store.offerFor(d)) offered.push(d);
    expect(offered).toHaveLength(4);
    expect(offered.every((d) => d.startsWith('a') || d.startsWith('c'))).toBe(true);
    await expect(store.createCampaign({ name: 'none', envelope, policy: parseRolloutPolicy({ cohorts: [{ group: 'line-9' }] }) })).rejects.toThrow('cohorts: no device in line-9');
    await expect(store.createCampaign({ name: 'no group', envelope })).rejects.toThrow('group: expected a group');
    await expect(store.assign('line 3', ['x'])).rejects.toBeInstanceOf(ValidationError);
    await expect(store.assign('line-3', ['bad/id'])).rejects.toThrow('devices[0]');
    await expect(store.createCampaign({ name: 'junk', group: 'line-4', envelope: Uint8Array.of(1, 2, 3) })).rejects.toThrow('envelope: not a SUIT envelope');
    await expect(store.createCampaign({ name: 'big', group: 'line-4', envelope: new Uint8Array(20_000) })).rejects.toThrow('above the limit');
    // A device taken out of its group is offered nothing.
    await store.unassign([offered[0]!]);
    expect(await store.offerFor(offered[0]!)).toBeUndefined();
  });

  it('refuses an unknown campaign id with UnknownCampaignError, a ValidationError naming the id', async () => {
    const store = await open();
    await store.assign('line-3', ['a']);
    const { id } = await store.createCampaign({ name: 'fw', group: 'line-3', envelope });
    await store.report(id, 'a', 'confirmed');
    for (const attempt of [() => store.status(id + 1), () => store.pause(id + 1, 'x'), () => store.createRollback(id + 1, { envelope }), () => store.report(id + 1, 'a', 'confirmed')]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnknownCampaignError);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ campaignId: id + 1, path: 'campaign', message: `campaign: no campaign ${id + 1}` });
    }
  });

  it('drops the unfinished assignments of a device taken out of the fleet: no offer again, no late report, no resume', async () => {
    const store = await open();
    await store.assign('g', ['a', 'b', 'c', 'd']);
    const { id } = await store.createCampaign({ name: 'fw', group: 'g', envelope });
    await store.report(id, 'a', 'downloading');
    await store.report(id, 'd', 'confirmed');
    await store.unassign(['a', 'd']);
    expect(await store.offerFor('a')).toBeUndefined();
    // The device was mid-download: its report neither brings the offer back nor counts.
    await expect(store.report(id, 'a', 'downloading')).rejects.toThrow('a was not offered campaign');
    expect(await store.offerFor('a')).toBeUndefined();
    let status = await store.status(id);
    expect(status).toMatchObject({ targeted: 3 });
    expect(status.counts).toMatchObject({ downloading: 0, offered: 2, confirmed: 1 });
    // Taken out while the campaign is paused: resume does not offer it again.
    await store.pause(id, 'line stop');
    await store.unassign(['b']);
    await store.resume(id);
    expect(await store.offerFor('b')).toBeUndefined();
    expect(await store.offerFor('c')).toMatchObject({ campaignId: id });
    status = await store.status(id);
    expect(status).toMatchObject({ targeted: 2 });
    expect(status.counts).toMatchObject({ offered: 1, confirmed: 1 });
    const active = await store.db.query<{ device_id: string }>('SELECT device_id FROM assignments WHERE active ORDER BY device_id');
    expect(active.rows.map((r) => r.device_id)).toEqual(['c']);
  });

  it('devices taken out of the fleet mid-campaign do not time out as failures nor halt it', async () => {
    const clock = new VirtualClock({ start: 1_000_000 });
    const store = await open({ clock });
    const ids = devices(10, 'd');
    await store.assign('g', ids);
    const { id } = await store.createCampaign({ name: 'fw', group: 'g', envelope, policy: parseRolloutPolicy({ deviceTimeoutS: 60, minSample: 5, errorThreshold: 0.2 }) });
    await store.report(id, 'd8', 'staged');
    await store.unassign(['d7', 'd8', 'd9']);
    for (const d of ids.slice(0, 7)) await store.report(id, d, 'confirmed');
    await clock.advance(61_000);
    const pass = await store.schedule();
    expect(pass).toMatchObject({ timedOut: 0, halted: [], finished: [id] });
    const status = await store.status(id);
    expect(status).toMatchObject({ state: 'finished', targeted: 7, failureRatio: 0 });
    expect(status.counts).toMatchObject({ confirmed: 7, 'timed-out': 0, staged: 0 });
  });

  if (backend.name === 'postgres') {
    it('taking devices out and halting their campaign at once do not deadlock', async () => {
      const db = await backend.open('unassign-halt');
      const store = track(await FleetStore.open(db, new VirtualClock({ start: 1_000_000 })));
      const ids = devices(10, 'd');
      await store.assign('g', ids);
      const { id } = await store.createCampaign({ name: 'fw', group: 'g', envelope, policy: parseRolloutPolicy({ waves: [50, 50] }) });
      const { rows } = await db.query<{ device_id: string; state: string }>('SELECT device_id, state FROM assignments WHERE campaign_id = $1 ORDER BY device_id', [id]);
      const offered = rows.find((r) => r.state === 'offered')!.device_id;
      const pending = rows.find((r) => r.state === 'pending')!.device_id;
      // A third session holds the pending row for a moment (a release in flight), so that the removal
      // has locked the offered row when the halt starts: the interleaving is the same on every run.
      const { default: pg } = (await import('pg')) as unknown as { default: { Client: new (url: string) => { connect(): Promise<void>; query(sql: string, params?: unknown[]): Promise<unknown>; end(): Promise<void> } } };
      const third = new pg.Client(await backend.url!('unassign-halt'));
      await third.connect();
      cleanups.push(() => third.end());
      await third.query('BEGIN');
      await third.query('SELECT 1 FROM assignments WHERE campaign_id = $1 AND device_id = $2 FOR UPDATE', [id, pending]);
      const waiting = async (n: number) => {
        for (;;) {
          const { rows: w } = (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")) as { rows: { n: number }[] };
          if (w[0]!.n >= n) return;
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      const removed = store.unassign([offered, pending]).then(() => 'ok', (e: Error) => e.message);
      await waiting(1);
      const halted = store.halt(id, 'operator').then(() => 'ok', (e: Error) => e.message);
      await Promise.race([waiting(2), halted]);
      await third.query('COMMIT');
      expect(await Promise.all([removed, halted])).toEqual(['ok', 'ok']);
      expect(await store.status(id)).toMatchObject({ state: 'halted', targeted: 8 });
    });
  }

  it('reads one page of campaigns and devices, and prunes old reports and audit rows', async () => {
    const clock = new VirtualClock({ start: 1_000_000 });
    const store = await open({ clock });
    await store.assign('g', ['b', 'a', 'c', 'B', 'a-2']);
    await store.assign('h', ['z']);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store.createCampaign({ name: `fw ${i}`, group: 'g', envelope })).id);
    await store.halt(ids[1]!, 'x');
    await store.halt(ids[3]!, 'x');
    expect((await store.list()).map((c) => c.id)).toEqual(ids);
    expect((await store.list({ limit: 2 })).map((c) => c.id)).toEqual(ids.slice(3));
    expect((await store.list({ before: ids[3]!, limit: 2 })).map((c) => c.id)).toEqual(ids.slice(1, 3));
    expect((await store.list({ states: ['halted'] })).map((c) => c.id)).toEqual([ids[1], ids[3]]);
    expect((await store.list({ states: ['running'], before: ids[4]!, limit: 1 })).map((c) => c.id)).toEqual([ids[2]]);
    expect(await store.list({ limit: 0 })).toEqual([]);
    await expect(store.list({ limit: -1 })).rejects.toBeInstanceOf(ValidationError);
    expect((await store.devices()).map((d) => d.id)).toEqual(['B', 'a', 'a-2', 'b', 'c', 'z']);
    expect((await store.devices({ limit: 2 })).map((d) => d.id)).toEqual(['B', 'a']);
    expect((await store.devices({ after: 'a', limit: 2 })).map((d) => d.id)).toEqual(['a-2', 'b']);
    expect((await store.devices({ group: 'g', after: 'b' })).map((d) => d.id)).toEqual(['c']);
    expect(await store.devices({ ids: ['z', 'c', 'nobody'] })).toEqual([{ id: 'c', group: 'g', hardware: null }, { id: 'z', group: 'h', hardware: null }]);
    await store.report(ids[0]!, 'a', 'downloading');
    await clock.advance(60_000);
    await store.report(ids[0]!, 'a', 'confirmed');
    const before = await store.status(ids[0]!);
    expect(await store.prune({ before: 1_000_000 + 30_000 })).toEqual({ reports: 1, audit: 7 });
    expect(await store.status(ids[0]!)).toEqual(before);
    expect((await store.db.query('SELECT state FROM reports')).rows).toEqual([{ state: 'confirmed' }]);
  });

  it('the kill switch stops every offer at once, and they come back', async () => {
    const events: AuditEvent[] = [];
    const store = await open({ audit: events });
    await store.assign('line-3', devices(5));
    const { id } = await store.createCampaign({ name: 'fw', group: 'line-3', envelope, actor: 'alice' });
    const etag = await store.etagFor('en-1-SN0');
    await store.setOffersStopped(true, 'bob');
    expect(await store.offersStopped()).toBe(true);
    for (const d of devices(5)) expect(await store.offerFor(d)).toBeUndefined();
    expect(await store.etagFor('en-1-SN0')).toBe(NO_OFFER_ETAG);
    await store.setOffersStopped(false, 'bob');
    expect(await store.offersStopped()).toBe(false);
    expect((await store.offerFor('en-1-SN0'))?.campaignId).toBe(id);
    expect(await store.etagFor('en-1-SN0')).toBe(etag);
    expect(events.map((e) => [e.event, e.actor])).toEqual([['ota.campaign.create', 'alice'], ['ota.fleet.stop', 'bob'], ['ota.fleet.start', 'bob']]);
    const { rows } = await store.db.query<{ event: string; actor: string }>('SELECT event, actor FROM audit ORDER BY id');
    expect(rows).toEqual([{ event: 'ota.campaign.create', actor: 'alice' }, { event: 'ota.fleet.stop', actor: 'bob' }, { event: 'ota.fleet.start', actor: 'bob' }]);
  });

  it('success only on confirmed or current; a rollback is a health failure; failures retried per type', async () => {
    const store = await open();
    await store.assign('line-3', devices(6));
    const policy = parseRolloutPolicy({ retries: { download: 2 } });
    const { id } = await store.createCampaign({ name: 'fw', group: 'line-3', envelope, policy });
    await store.report(id, 'en-1-SN0', 'staged');
    await store.report(id, 'en-1-SN1', 'trial');
    let status = await store.report(id, 'en-1-SN2', 'current');
    expect(status.successRatio).toBe(1);
    expect(status.counts).toMatchObject({ staged: 1, trial: 1, current: 1, confirmed: 0 });
    status = await store.report(id, 'en-1-SN1', 'rolled-back', { reason: 'watchdog' });
    expect(status.counts['rolled-back']).toBe(1);
    expect(status.failures.health).toBe(1);
    expect(status.failureRatio).toBe(0.5);
    // download failures: re-offered twice (a new etag each time), then failed.
    const etags = [await store.etagFor('en-1-SN3')];
    for (let i = 0; i < 2; i++) {
      status = await store.report(id, 'en-1-SN3', 'failed', { failure: 'download', reason: 'HTTP 503' });
      expect(status.counts.failed).toBe(0);
      etags.push(await store.etagFor('en-1-SN3'));
    }
    expect(new Set(etags).size).toBe(3);
    status = await store.report(id, 'en-1-SN3', 'failed', { failure: 'download' });
    expect(status.counts.failed).toBe(1);
    expect(status.failures.download).toBe(1);
    expect(await store.offerFor('en-1-SN3')).toBeUndefined();
    // no retries for install failures; a failure without a type is 'other'.
    status = await store.report(id, 'en-1-SN4', 'failed', { failure: 'install' });
    status = await store.report(id, 'en-1-SN5', 'failed');
    expect(status.failures).toMatchObject({ install: 1, other: 1, download: 1, health: 1 });
    // a final state stays final; repeating it changes nothing.
    await expect(store.report(id, 'en-1-SN2', 'failed')).rejects.toThrow('already finished');
    expect(await store.report(id, 'en-1-SN2', 'current')).toEqual(status);
    await expect(store.report(id, 'en-1-SN0', 'exploded' as ReportedState)).rejects.toThrow('state: expected one of');
    await expect(store.report(id, 'en-1-SN0', 'failed', { failure: 'disk' as FailureType })).rejects.toThrow('failure: expected one of');
  });

  it('keeps counters equal to a recount after a random seeded sequence of reports', async () => {
    const store = await open();
    const ids = devices(120);
    await store.assign('line-3', ids);
    const policy = parseRolloutPolicy({ waves: [20, 30, 50], retries: { download: 1, verify: 2 }, errorThreshold: 1 });
    const { id } = await store.createCampaign({ name: 'fw', group: 'line-3', envelope, policy });
    // Open every wave by hand through the scheduler is the scheduler's test; here release all three.
    await store.db.query('UPDATE campaigns SET open_wave = 2 WHERE id = $1', [id]);
    await store.schedule();
    const random = new SeededRandom(19);
    const states: ReportedState[] = ['downloading', 'staged', 'trial', 'confirmed', 'current', 'failed', 'rolled-back'];
    const failureTypes: FailureType[] = ['download', 'verify', 'install', 'other'];
    let refused = 0;
    for (let i = 0; i < 600; i++) {
      const device = ids[Math.floor(random.next() * ids.length)]!;
      const state = states[Math.floor(random.next() * states.length)]!;
      const failure = failureTypes[Math.floor(random.next() * failureTypes.length)]!;
      try {
        await store.report(id, device, state, state === 'failed' ? { failure } : {});
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    const status = await store.status(id);
    const recount = await store.db.query<{ wave: number; state: string; n: number }>('SELECT wave, state, count(*)::int AS n FROM assignments WHERE campaign_id = $1 GROUP BY wave, state', [id]);
    const expected = status.waveCounts.map((w) => Object.fromEntries(Object.entries(w).filter(([, n]) => n !== 0)));
    const actual = status.waveCounts.map(() => ({}) as Record<string, number>);
    for (const r of recount.rows) actual[r.wave]![r.state] = r.n;
    expect(actual).toEqual(expected);
    const failures = await store.db.query<{ failure: string; n: number }>("SELECT failure, count(*)::int AS n FROM assignments WHERE campaign_id = $1 AND state IN ('failed', 'rolled-back', 'timed-out') GROUP BY failure", [id]);
    expect(Object.fromEntries(failures.rows.map((r) => [r.failure, r.n]))).toEqual(Object.fromEntries(Object.entries(status.failures).filter(([, n]) => n !== 0)));
    const active = await store.db.query<{ n: number }>("SELECT count(*)::int AS n FROM assignments WHERE campaign_id = $1 AND active", [id]);
    expect(active.rows[0]!.n).toBe(status.counts.offered + status.counts.downloading + status.counts.staged + status.counts.trial);
  });

  it('keeps counters equal to a recount under concurrent reports and scheduler passes of two instances', async () => {
    const clock = new VirtualClock({ start: 1_000_000 });
    const first = await backend.open('concurrent-reports');
    const second = backend.name === 'postgres' ? await backend.open('concurrent-reports') : first;
    cleanups.push(() => first.close(), () => second.close());
    const one = await FleetStore.open(first, clock);
    const two = await FleetStore.open(second, clock);
    const ids = devices(200);
    await one.assign('line-3', ids);
    const policy = parseRolloutPolicy({ waves: [30, 70], successThreshold: 0.2, errorThreshold: 1, deviceTimeoutS: 30, retries: { download: 1, timeout: 1 }, rate: { start: 20, factor: 2, cap: 80 } });
    const { id } = await one.createCampaign({ name: 'fw', group: 'line-3', envelope, policy });
    const random = new SeededRandom(7);
    const states: ReportedState[] = ['downloading', 'staged', 'trial', 'confirmed', 'failed', 'rolled-back'];
    const plan = Array.from({ length: 1200 }, () => ({ device: ids[Math.floor(random.next() * ids.length)]!, state: states[Math.floor(random.next() * states.length)]!, store: random.next() < 0.5 ? one : two }));
    let next = 0;
    const unexpected: unknown[] = [];
    const reporters = Array.from({ length: 16 }, async () => {
      while (next < plan.length) {
        const step = plan[next++]!;
        await step.store.report(id, step.device, step.state, step.state === 'failed' ? { failure: 'download' } : {}).catch((error: unknown) => {
          if (!(error instanceof ValidationError)) unexpected.push(error);
        });
      }
    });
    const schedulers = (async () => {
      for (let i = 0; i < 12; i++) {
        await Promise.all([one.schedule(), two.schedule()]).catch((error: unknown) => unexpected.push(error));
        await clock.advance(10_000);
      }
    })();
    await Promise.all([...reporters, schedulers]);
    expect(unexpected).toEqual([]);
    const status = await one.status(id);
    const recount = await one.db.query<{ wave: number; state: string; n: number }>('SELECT wave, state, count(*)::int AS n FROM assignments WHERE campaign_id = $1 GROUP BY wave, state', [id]);
    const actual = status.waveCounts.map(() => ({}) as Record<string, number>);
    for (const r of recount.rows) actual[r.wave]![r.state] = r.n;
    expect(actual).toEqual(status.waveCounts.map((w) => Object.fromEntries(Object.entries(w).filter(([, n]) => n !== 0))));
    const failures = await one.db.query<{ failure: string; n: number }>("SELECT failure, count(*)::int AS n FROM assignments WHERE campaign_id = $1 AND state IN ('failed', 'rolled-back', 'timed-out') GROUP BY failure", [id]);
    expect(Object.fromEntries(failures.rows.map((r) => [r.failure, r.n]))).toEqual(Object.fromEntries(Object.entries(status.failures).filter(([, n]) => n !== 0)));
    expect(status.counts.confirmed + status.counts.failed + status.counts['rolled-back'] + status.counts['timed-out']).toBeGreaterThanOrEqual(20);
  });

  it('answers a halted campaign with a rollback of a higher sequence for the devices it offered', async () => {
    const events: AuditEvent[] = [];
    const store = await open({ audit: events });
    await store.assign('line-3', devices(50));
    const { id } = await store.createCampaign({ name: 'fw 6', group: 'line-3', envelope, policy: parseRolloutPolicy({ waves: [20, 80] }) });
    const offered = [];
    for (const d of devices(50)) if (await store.offerFor(d)) offered.push(d);
    expect(offered).toHaveLength(10);
    await store.report(id, offered[0]!, 'rolled-back');
    await store.report(id, offered[1]!, 'confirmed');
    await expect(store.createRollback(id, { envelope: envelopeFor(image, 4, key) })).rejects.toBeInstanceOf(StateError);
    await store.halt(id, 'rollbacks in the field', 'alice');
    await expect(store.createRollback(id, { envelope: envelopeFor(image, 5, key) })).rejects.toThrow('sequence 5 must be higher than campaign');
    const rollback = await store.createRollback(id, { envelope: envelopeFor(makeImage(256, 2), 6, key), actor: 'alice' });
    expect(rollback).toMatchObject({ kind: 'rollback', rollbackOf: id, name: 'rollback of fw 6', sequence: 6, targeted: 10, state: 'running' });
    const now = [];
    for (const d of devices(50)) {
      const offer = await store.offerFor(d);
      if (offer) now.push(d);
      if (offer) expect(offer.campaignId).toBe(rollback.id);
    }
    expect(now.sort()).toEqual([...offered].sort());
    expect(events.map((e) => e.event)).toEqual(['ota.campaign.create', 'ota.campaign.halt', 'ota.campaign.rollback']);
    expect(events[2]!.detail).toMatchObject({ campaign: rollback.id, rollbackOf: id, sequence: 6, targeted: 10 });
  });

  it('a rollback targets only the devices still in the fleet, and finishes', async () => {
    const store = await open();
    await store.assign('g', ['a', 'b', 'c']);
    const { id } = await store.createCampaign({ name: 'fw', group: 'g', envelope });
    await store.report(id, 'a', 'rolled-back');
    await store.report(id, 'c', 'confirmed');
    await store.halt(id, 'bad image');
    await store.unassign(['c']);
    const rollback = await store.createRollback(id, { envelope: envelopeFor(image, 6, key) });
    expect(rollback).toMatchObject({ targeted: 2 });
    await store.report(rollback.id, 'a', 'confirmed');
    await store.report(rollback.id, 'b', 'confirmed');
    expect((await store.schedule()).finished).toEqual([rollback.id]);
    expect(await store.status(rollback.id)).toMatchObject({ state: 'finished', counts: { pending: 0, confirmed: 2 } });
    await store.unassign(['a', 'b']);
    await expect(store.createRollback(id, { envelope: envelopeFor(image, 7, key) })).rejects.toThrow(`campaign ${id} offered no device`);
  });

  it('a device is active in one campaign at a time: resume leaves it to the campaign that holds it, which hands it back when done', async () => {
    const store = await open();
    await store.assign('g', ['d', 'e']);
    const a = await store.createCampaign({ name: 'A', group: 'g', envelope });
    await store.report(a.id, 'd', 'downloading');
    await store.pause(a.id, 'line stop');
    const b = await store.createCampaign({ name: 'B', group: 'g', envelope: envelopeFor(image, 6, key) });
    expect((await store.status(b.id)).counts.offered).toBe(2);
    await store.resume(a.id);
    const activeOf = async (device: string) => (await store.db.query<{ campaign_id: number }>('SELECT campaign_id FROM assignments WHERE device_id = $1 AND active', [device])).rows.map((r) => r.campaign_id);
    expect(await activeOf('d')).toEqual([b.id]);
    expect((await store.offerFor('d'))?.campaignId).toBe(b.id);
    // A's report from before does not take the device back either.
    await store.report(a.id, 'd', 'staged');
    expect(await activeOf('d')).toEqual([b.id]);
    // The database refuses a second active assignment.
    await expect(store.db.query('UPDATE assignments SET active = true WHERE device_id = $1', ['d'])).rejects.toThrow(/unique|duplicate/);
    await store.report(b.id, 'd', 'confirmed');
    await store.schedule();
    expect(await activeOf('d')).toEqual([a.id]);
    expect((await store.offerFor('d'))?.campaignId).toBe(a.id);
    expect((await store.status(a.id)).counts).toMatchObject({ staged: 1, offered: 1 });
  });

  it('names the payload keys of running and paused campaigns only', async () => {
    const store = await open();
    await store.assign('line-3', devices(3));
    const a = await store.createCampaign({ name: 'a', group: 'line-3', envelope: envelopeFor(image, 7, key, { uri: 'fw-7.bin' }) });
    const b = await store.createCampaign({ name: 'b', group: 'line-3', envelope: envelopeFor(image, 8, key, { uri: 'fw-8.bin' }) });
    await store.createCampaign({ name: 'c', group: 'line-3', envelope });
    expect(await store.servablePayloadKeys()).toEqual(['firmware.bin', 'fw-7.bin', 'fw-8.bin']);
    await store.pause(a.id, 'check');
    await store.halt(b.id, 'bad');
    expect(await store.servablePayloadKeys()).toEqual(['firmware.bin', 'fw-7.bin']);
  });

  it('pause hides the offers until resume', async () => {
    const store = await open();
    await store.assign('line-3', devices(3));
    const { id } = await store.createCampaign({ name: 'fw', group: 'line-3', envelope });
    const etag = await store.etagFor('en-1-SN0');
    await store.report(id, 'en-1-SN1', 'downloading');
    expect(await store.pause(id, 'shift change')).toMatchObject({ state: 'paused', reason: 'shift change' });
    expect(await store.offerFor('en-1-SN0')).toBeUndefined();
    expect(await store.offerFor('en-1-SN1')).toBeUndefined();
    await store.report(id, 'en-1-SN1', 'staged');
    await expect(store.pause(id, 'again')).rejects.toBeInstanceOf(StateError);
    expect(await store.resume(id)).toMatchObject({ state: 'running', reason: null });
    expect(await store.etagFor('en-1-SN0')).not.toBe(etag);
    expect((await store.offerFor('en-1-SN1'))?.campaignId).toBe(id);
    expect((await store.list()).map((c) => c.id)).toEqual([id]);
    await expect(store.status(id + 7)).rejects.toThrow(`no campaign ${id + 7}`);
  });

  it('spaces download starts by the slots per minute of the policy; a device keeps its slot', async () => {
    const clock = new VirtualClock({ start: 1_000_000 });
    const store = await open({ clock });
    await store.assign('line-3', devices(5));
    const { id } = await store.createCampaign({ name: 'fw', group: 'line-3', envelope, policy: parseRolloutPolicy({ downloadSlotsPerMinute: 2 }) });
    const slots = [];
    for (const d of devices(4)) slots.push(await store.claimDownloadSlot(id, d));
    expect(slots).toEqual([0, 30, 60, 90]);
    expect(await store.claimDownloadSlot(id, 'en-1-SN2')).toBe(60);
    await clock.advance(45_000);
    expect(await store.claimDownloadSlot(id, 'en-1-SN2')).toBe(15);
    expect(await store.claimDownloadSlot(id, 'en-1-SN4')).toBe(75);
    expect(await store.claimDownloadSlot(id, 'stranger')).toBe(0);
    await clock.advance(600_000);
    await store.assign('line-3', ['late-1']);
    const second = await store.createCampaign({ name: 'fw 2', group: 'line-3', envelope, policy: parseRolloutPolicy({ cohorts: [{ group: 'line-3' }] }) });
    expect(await store.claimDownloadSlot(second.id, 'late-1')).toBe(0);
  });

  it('refuses a database whose schema is newer than the code', async () => {
    const db = await backend.open();
    cleanups.push(() => db.close());
    await FleetStore.open(db, new VirtualClock());
    await db.query('UPDATE schema_version SET version = $1', [SCHEMA_VERSION + 6]);
    const error = await FleetStore.open(db, new VirtualClock()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toBe(`database schema version ${SCHEMA_VERSION + 6} is newer than this sensorkit (${SCHEMA_VERSION}): upgrade sensorkit`);
  });

  it('upgrades a database of an older schema version in place', async () => {
    const db = await backend.open();
    cleanups.push(() => db.close());
    const store = await FleetStore.open(db, new VirtualClock());
    await store.assign('line-3', ['a']);
    const first = await store.createCampaign({ name: 'one', group: 'line-3', envelope });
    await db.query('DROP TABLE download_slots');
    await db.query('ALTER TABLE assignments DROP COLUMN download_at');
    await db.query('ALTER TABLE assignments DROP COLUMN retried');
    await db.query('DROP INDEX assignments_active_device');
    await db.query('DROP INDEX assignments_waiting');
    await db.query('CREATE INDEX assignments_active_device ON assignments (device_id) WHERE active');
    // Version 1 let a device be active in two campaigns: the upgrade keeps the oldest one.
    const second = await store.createCampaign({ name: 'two', group: 'line-3', envelope });
    await db.query('UPDATE assignments SET active = true, state = $2 WHERE campaign_id = $1', [second.id, 'offered']);
    await db.query('UPDATE schema_version SET version = 1');
    const again = await FleetStore.open(db, new VirtualClock());
    expect((await db.query<{ version: number }>('SELECT version FROM schema_version')).rows).toEqual([{ version: SCHEMA_VERSION }]);
    expect((await db.query('SELECT campaign_id FROM assignments WHERE active')).rows).toEqual([{ campaign_id: first.id }]);
    const { id } = await again.createCampaign({ name: 'fw', group: 'line-3', envelope });
    expect(await again.claimDownloadSlot(id, 'a')).toBe(0);
    expect(await again.claimDownloadSlot(first.id, 'a')).toBe(0);
    await again.report(first.id, 'a', 'failed', { failure: 'download' });
    expect((await again.db.query('SELECT retried FROM assignments WHERE campaign_id = $1', [first.id])).rows).toEqual([{ retried: {} }]);
  });

  if (backend.name === 'postgres') {
    it('says in one line when the role may not create the schema', async () => {
      const url = await backend.url!('no-rights');
      const admin = await openDatabase(url);
      cleanups.push(() => admin.close());
      await admin.query('DROP ROLE IF EXISTS reader');
      await admin.query('CREATE ROLE reader LOGIN');
      const db = await openDatabase(url.replace('postgres@', 'reader@'));
      cleanups.push(() => db.close());
      const error = await FleetStore.open(db, new VirtualClock()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DatabaseError);
      expect((error as Error).message).toBe('cannot prepare the database schema: permission denied for schema public');
    });

    it('migrates once when several instances start at once', async () => {
      const clients = await Promise.all([1, 2, 3, 4].map(() => backend.open('migrate-race')));
      cleanups.push(...clients.map((c) => () => c.close()));
      const stores = await Promise.all(clients.map((c) => FleetStore.open(c, new VirtualClock())));
      await stores[0]!.assign('line-3', ['a']);
      expect(await stores[3]!.devices()).toEqual([{ id: 'a', group: 'line-3', hardware: null }]);
      expect((await clients[1]!.query('SELECT version FROM schema_version')).rows).toEqual([{ version: SCHEMA_VERSION }]);
    });

    it('answers a poll with one lookup in the partial index, no sequential scan of assignments', async () => {
      const store = await open();
      const ids = devices(3000);
      await store.assign('line-3', ids);
      await store.assign('line-4', devices(3000, 'x'));
      await store.createCampaign({ name: 'a', group: 'line-3', envelope, policy: parseRolloutPolicy({ waves: [50, 50] }) });
      await store.createCampaign({ name: 'b', group: 'line-4', envelope });
      await store.db.query('ANALYZE');
      for (const device of ['en-1-SN7', 'x12', 'nobody']) {
        const { rows } = await store.db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${OFFER_SQL}`, [device, 'offers-stopped']);
        const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(plan).toContain('assignments_active_device');
        expect(plan).not.toMatch(/Seq Scan on assignments/);
      }
    });
  }
});

describe('openDatabase', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
  });

  it('fails with one line naming the URL (no password) when nothing listens', async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await openDatabase(`postgres://ota:secret@127.0.0.1:${port}/ota`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toBe(`cannot reach postgres://…@127.0.0.1:${port}/ota: ECONNREFUSED`);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fails in bounded time when the server accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => void sockets.push(socket));
    servers.push(server);
    server.on('close', () => sockets.forEach((s) => s.destroy()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const started = Date.now();
    const error = await openDatabase(`postgresql://127.0.0.1:${port}/ota`, { connectTimeoutMs: 800 }).catch((e: unknown) => e);
    sockets.forEach((s) => s.destroy());
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toMatch(new RegExp(`^cannot reach postgresql://127\\.0\\.0\\.1:${port}/ota: [^\\n]+$`));
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('keeps the embedded database in a directory across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sensorkit-fleet-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const first = await FleetStore.open(await openDatabase(join(dir, 'db')), new VirtualClock());
    await first.assign('line-3', ['a', 'b']);
    const { id } = await first.createCampaign({ name: 'fw', group: 'line-3', envelope });
    await first.report(id, 'a', 'confirmed');
    await first.close();
    const again = track(await FleetStore.open(await openDatabase(join(dir, 'db')), new VirtualClock()));
    expect((await again.status(id)).counts).toMatchObject({ confirmed: 1, offered: 1 });
    expect((await again.offerFor('b'))?.campaignId).toBe(id);
  });

  it('refuses a URL scheme it does not know', async () => {
    await expect(openDatabase('mysql://db/ota')).rejects.toThrow('unsupported database URL mysql://db/ota');
  });
});
