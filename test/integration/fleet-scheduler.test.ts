import { describe, expect, it } from 'vitest';
import { SystemClock, VirtualClock } from '../../sdk/core/clock.js';
import { StateError } from '../../sdk/core/errors.js';
import type { AuditEvent } from '../../security/audit/event.js';
import type { SqlClient } from '../../ota/server/db/sql.js';
import { FleetStore, type SchedulePass } from '../../ota/server/fleet-store.js';
import { parseRolloutPolicy } from '../../ota/server/rollout/policy.js';
import { SCHEDULER_LEASE, startScheduler } from '../../ota/server/scheduler.js';
import { trackedCleanups } from '../support/cleanups.js';
import { fleetBackends } from '../support/fleet-db.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';

const { track, cleanups } = trackedCleanups();
const key = makeKey();
const envelope = envelopeFor(makeImage(256), 5, key);
const devices = (n: number, prefix = 'en-1-SN') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const MINUTE = 60_000;

describe.each(fleetBackends())('rollout scheduler on $name', (backend) => {
  async function setup(count: number, policy: unknown, audit?: AuditEvent[]): Promise<{ store: FleetStore; clock: VirtualClock; id: number }> {
    const clock = new VirtualClock({ start: 1_000_000 });
    const store = track(await FleetStore.open(await backend.open(), clock, audit ? { audit: { record: (e) => void audit.push(e) } } : {}));
    await store.assign('line-3', devices(count));
    const { id } = await store.createCampaign({ name: 'fw', group: 'line-3', envelope, policy: parseRolloutPolicy(policy) });
    return { store, clock, id };
  }
  async function offered(store: FleetStore, count: number): Promise<string[]> {
    const result: string[] = [];
    for (const d of devices(count)) if (await store.offerFor(d)) result.push(d);
    return result;
  }

  it('times out silent devices as failed (type timeout), after their retries; a late confirm still counts', async () => {
    const { store, clock, id } = await setup(4, { deviceTimeoutS: 100, retries: { timeout: 1 } });
    await clock.advance(50_000);
    await store.report(id, 'en-1-SN0', 'downloading');
    await clock.advance(51_000);
    let pass = await store.schedule();
    expect(pass).toMatchObject({ retried: 3, timedOut: 0 });
    await clock.advance(50_000);
    pass = await store.schedule();
    expect(pass).toMatchObject({ retried: 1, timedOut: 0 });
    await clock.advance(51_000);
    pass = await store.schedule();
    expect(pass).toMatchObject({ retried: 0, timedOut: 3 });
    let status = await store.status(id);
    expect(status.counts).toMatchObject({ 'timed-out': 3, offered: 1 });
    expect(status.failures.timeout).toBe(3);
    expect(status.failureRatio).toBe(1);
    expect(await store.offerFor('en-1-SN1')).toBeUndefined();
    status = await store.report(id, 'en-1-SN1', 'confirmed');
    expect(status.counts).toMatchObject({ 'timed-out': 2, confirmed: 1 });
    expect(status.failures.timeout).toBe(2);
  });

  it('after a time-out a device may still report its outcome, never that it is in progress again (also once the campaign finished)', async () => {
    const { store, clock, id } = await setup(3, { deviceTimeoutS: 60, successThreshold: 0.3, retries: { download: 1 } });
    await store.report(id, 'en-1-SN0', 'confirmed');
    await clock.advance(61_000);
    expect(await store.schedule()).toMatchObject({ timedOut: 2, finished: [id] });
    for (const state of ['downloading', 'staged', 'trial'] as const) {
      await expect(store.report(id, 'en-1-SN1', state)).rejects.toThrow(`en-1-SN1 timed out of campaign ${id}: only its outcome is taken`);
    }
    // Late and failed: final at once (no retry), never offered again.
    let status = await store.report(id, 'en-1-SN1', 'failed', { failure: 'download' });
    expect(status.counts).toMatchObject({ 'timed-out': 1, failed: 1, offered: 0, downloading: 0 });
    expect(status.failures).toMatchObject({ timeout: 1, download: 1 });
    status = await store.report(id, 'en-1-SN2', 'confirmed');
    expect(status).toMatchObject({ state: 'finished', counts: { confirmed: 2, failed: 1, 'timed-out': 0 } });
    const active = await store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM assignments WHERE active');
    expect(active.rows[0]!.n).toBe(0);
  });

  it('a late report of a timed-out device does not take it back from the campaign it is active in now', async () => {
    const { store, clock, id } = await setup(2, { deviceTimeoutS: 60 });
    await store.report(id, 'en-1-SN1', 'downloading');
    await clock.advance(61_000);
    await store.report(id, 'en-1-SN1', 'downloading');
    expect((await store.schedule()).timedOut).toBe(1);
    const b = await store.createCampaign({ name: 'B', group: 'line-3', envelope: envelopeFor(makeImage(256), 6, key) });
    expect((await store.offerFor('en-1-SN0'))?.campaignId).toBe(b.id);
    await expect(store.report(id, 'en-1-SN0', 'downloading')).rejects.toThrow('timed out of campaign');
    const active = await store.db.query<{ campaign_id: number }>('SELECT campaign_id FROM assignments WHERE device_id = $1 AND active', ['en-1-SN0']);
    expect(active.rows).toEqual([{ campaign_id: b.id }]);
  });

  it('counts retries per failure type: download retries leave the time-out retry, and the other way round', async () => {
    const { store, clock, id } = await setup(3, { deviceTimeoutS: 60, retries: { download: 2, timeout: 1 } });
    const [d, e, f] = devices(3) as [string, string, string];
    await store.report(id, d, 'failed', { failure: 'download' });
    await store.report(id, d, 'failed', { failure: 'download' });
    expect((await store.offerFor(d))?.campaignId).toBe(id);
    // e keeps talking; d and f go silent: both still have their one time-out retry.
    await store.report(id, e, 'downloading');
    await clock.advance(61_000);
    await store.report(id, e, 'downloading');
    expect(await store.schedule()).toMatchObject({ retried: 2, timedOut: 0 });
    // f used its time-out retry; its two download retries are untouched.
    await store.report(id, f, 'failed', { failure: 'download' });
    await store.report(id, f, 'failed', { failure: 'download' });
    let status = await store.status(id);
    expect(status.counts).toMatchObject({ failed: 0, 'timed-out': 0 });
    status = await store.report(id, f, 'failed', { failure: 'download' });
    await store.report(id, d, 'failed', { failure: 'download' });
    await store.report(id, e, 'confirmed');
    status = await store.status(id);
    expect(status.counts).toMatchObject({ failed: 2, 'timed-out': 0, confirmed: 1 });
    const attempts = await store.db.query<{ device_id: string; attempts: number }>('SELECT device_id, attempts FROM assignments ORDER BY device_id');
    expect(attempts.rows.map((r) => r.attempts)).toEqual([3, 0, 3]);
  });

  it('counts the time-out of a device from the start of the download slot it was told to wait for', async () => {
    const { store, clock, id } = await setup(20, { deviceTimeoutS: 60, downloadSlotsPerMinute: 10, errorThreshold: 1 });
    const waits: number[] = [];
    for (const d of devices(20)) waits.push(await store.claimDownloadSlot(id, d));
    expect(waits.at(-1)).toBe(114);
    // Every device does what it was told: it starts at its slot and reports then.
    const reported = new Set<string>();
    let t = 0;
    for (const step of [30, 61, 89]) {
      await clock.advance((step - t) * 1000);
      t = step;
      for (const [i, d] of devices(20).entries()) {
        if (waits[i]! <= t && !reported.has(d)) {
          await store.report(id, d, 'downloading');
          reported.add(d);
        }
      }
      expect((await store.schedule()).timedOut).toBe(0);
    }
    // Silence does time out: the devices that reported by 89 s, and those that never started their
    // download 60 s after their slot began (the last one at 114 s).
    await clock.advance((174 - t) * 1000);
    expect((await store.schedule()).timedOut).toBe(19);
    await clock.advance(1000);
    expect((await store.schedule()).timedOut).toBe(1);
  });

  it('halts within the first wave when the error ratio passes the threshold, once the sample is reached', async () => {
    const audit: AuditEvent[] = [];
    const { store, id } = await setup(100, { waves: [10, 90], errorThreshold: 0.2, minSample: 5 }, audit);
    const first = await offered(store, 100);
    expect(first).toHaveLength(10);
    await store.report(id, first[0]!, 'failed', { failure: 'install' });
    await store.report(id, first[1]!, 'rolled-back');
    for (const d of first.slice(2, 4)) await store.report(id, d, 'confirmed');
    expect((await store.schedule()).halted).toEqual([]);
    await store.report(id, first[4]!, 'trial');
    expect((await store.schedule()).halted).toEqual([]);
    await store.report(id, first[4]!, 'confirmed');
    const pass = await store.schedule();
    expect(pass.halted).toEqual([{ campaign: id, reason: 'failure ratio 0.400 of 5 finished, above errorThreshold 0.2' }]);
    const status = await store.status(id);
    expect(status).toMatchObject({ state: 'halted', openWave: 0 });
    expect(status.waveCounts[1]!.pending).toBe(90);
    expect(await offered(store, 100)).toEqual([]);
    expect(audit.at(-1)).toMatchObject({ event: 'ota.campaign.halt', result: 'failure', actor: 'scheduler' });
  });

  it('halts on one failure type by its own threshold and sample', async () => {
    const { store, id } = await setup(20, { errorThreshold: 1, abort: [{ failure: 'download', threshold: 0.3, minSample: 4 }] });
    const all = await offered(store, 20);
    await store.report(id, all[0]!, 'failed', { failure: 'download' });
    await store.report(id, all[1]!, 'failed', { failure: 'install' });
    await store.report(id, all[2]!, 'failed', { failure: 'install' });
    await store.report(id, all[3]!, 'confirmed');
    expect((await store.schedule()).halted).toEqual([]);
    await store.report(id, all[4]!, 'failed', { failure: 'download' });
    expect((await store.schedule()).halted).toEqual([{ campaign: id, reason: 'download failures 0.400 of 5 finished, above 0.3' }]);
  });

  it('opens the next wave at the success threshold only after the soak, and only once', async () => {
    const { store, clock, id } = await setup(20, { waves: [50, 50], successThreshold: 0.8, soakS: 600 });
    const first = await offered(store, 20);
    expect(first).toHaveLength(10);
    for (const d of first.slice(0, 7)) await store.report(id, d, 'confirmed');
    for (const d of first.slice(7)) await store.report(id, d, 'trial');
    await clock.advance(3_600_000);
    expect((await store.schedule()).opened).toEqual([]);
    await store.report(id, first[7]!, 'confirmed');
    await clock.advance(599_000);
    expect((await store.schedule()).opened).toEqual([]);
    await clock.advance(1000);
    const pass = await store.schedule();
    expect(pass.opened).toEqual([{ campaign: id, wave: 1 }]);
    expect(pass.released).toBe(10);
    expect((await store.schedule()).opened).toEqual([]);
    expect(await offered(store, 20)).toHaveLength(12);
    expect((await store.status(id)).openWave).toBe(1);
  });

  it('pauses for the health check after a wave, opens the next on resume, then finishes', async () => {
    const audit: AuditEvent[] = [];
    const { store, id } = await setup(10, { waves: [30, 70], healthCheck: 'pause' }, audit);
    for (const d of await offered(store, 10)) await store.report(id, d, 'confirmed');
    let pass = await store.schedule();
    expect(pass.paused).toEqual([id]);
    expect(await store.status(id)).toMatchObject({ state: 'paused', reason: 'health check: wave 0 done, resume to open wave 1', openWave: 0 });
    expect(await offered(store, 10)).toEqual([]);
    expect((await store.schedule()).opened).toEqual([]);
    await store.resume(id, 'qa');
    pass = await store.schedule();
    expect(pass.opened).toEqual([{ campaign: id, wave: 1 }]);
    const second = await offered(store, 10);
    expect(second).toHaveLength(7);
    for (const d of second) await store.report(id, d, d.endsWith('1') ? 'current' : 'confirmed');
    pass = await store.schedule();
    expect(pass.finished).toEqual([id]);
    expect(await store.status(id)).toMatchObject({ state: 'finished', successRatio: 1 });
    await expect(store.halt(id, 'late')).rejects.toBeInstanceOf(StateError);
    expect(audit.map((e) => e.event)).toEqual(['ota.campaign.create', 'ota.campaign.pause', 'ota.campaign.resume', 'ota.campaign.wave', 'ota.campaign.finish']);
  });

  it('halts a wave whose devices all finished below the success threshold', async () => {
    const { store, id } = await setup(10, { waves: [50, 50], successThreshold: 0.9, errorThreshold: 0.5 });
    const first = await offered(store, 10);
    for (const d of first.slice(0, 4)) await store.report(id, d, 'confirmed');
    expect((await store.schedule()).halted).toEqual([]);
    await store.report(id, first[4]!, 'failed', { failure: 'verify' });
    expect((await store.schedule()).halted).toEqual([{ campaign: id, reason: 'wave 0 ended with success 0.800, below successThreshold 0.9' }]);
  });

  it('releases offers at an exponential rate up to its cap, starting again with each wave', async () => {
    const { store, clock, id } = await setup(40, { waves: [75, 25], successThreshold: 0, rate: { start: 2, factor: 2, cap: 5 } });
    expect((await store.status(id)).counts.offered).toBe(2);
    const released: number[] = [];
    for (let minute = 0; minute < 9; minute++) {
      released.push((await store.schedule()).released);
      await clock.advance(MINUTE);
    }
    // 30 in wave 0: 2 at creation, 4, 5, 5, …; wave 1 opens as soon as wave 0 holds 0 % success (threshold 0).
    expect(released.slice(0, 3)).toEqual([2, 4, 5]);
    const status = await store.status(id);
    expect(status.openWave).toBe(1);
    expect(status.counts.offered).toBe(2 + released.reduce((a, b) => a + b, 0));
    expect(status.counts.offered).toBeLessThanOrEqual(40);
  });

  it('neither releases nor times out while the kill switch is on; the time-out clock restarts after it', async () => {
    const { store, clock, id } = await setup(20, { waves: [50, 50], successThreshold: 0, deviceTimeoutS: 600 });
    await store.setOffersStopped(true, 'alice');
    await clock.advance(3_600_000);
    expect(await store.schedule()).toEqual({ timedOut: 0, retried: 0, released: 0, opened: [], halted: [], paused: [], finished: [] });
    await store.setOffersStopped(false, 'alice');
    await clock.advance(599_000);
    const pass = await store.schedule();
    expect(pass).toMatchObject({ timedOut: 0, opened: [{ campaign: id, wave: 1 }], released: 10 });
    await clock.advance(1001);
    expect((await store.schedule()).timedOut).toBe(10);
  });

  it('stops waiting for devices taken out of their group before they were offered', async () => {
    const { store, id } = await setup(10, { waves: [50, 50] });
    const first = await offered(store, 10);
    for (const d of first) await store.report(id, d, 'confirmed');
    expect((await store.schedule()).opened).toEqual([{ campaign: id, wave: 1 }]);
    const second = await offered(store, 10);
    await store.unassign(second.slice(0, 2));
    for (const d of second.slice(2)) await store.report(id, d, 'confirmed');
    // The two removed devices had been offered: they are no longer targeted, and the campaign finishes without them.
    expect(await store.status(id)).toMatchObject({ targeted: 8, counts: { confirmed: 8, offered: 0 } });
    expect((await store.schedule()).finished).toEqual([id]);
    const { store: other, id: otherId } = await setup(4, { waves: [50, 50] });
    const early = await offered(other, 4);
    for (const d of early) await other.report(otherId, d, 'confirmed');
    const later = devices(4).filter((d) => !early.includes(d));
    await other.unassign(later);
    expect((await other.schedule()).opened).toEqual([{ campaign: otherId, wave: 1 }]);
    expect((await other.schedule()).finished).toEqual([otherId]);
    expect(await other.status(otherId)).toMatchObject({ state: 'finished', targeted: 2 });
    expect((await other.list()).map((c) => [c.id, c.state, c.targeted])).toEqual([[otherId, 'finished', 2]]);
  });

  it('moves the lease to another holder after it expires, never to two at once', async () => {
    const { store, clock } = await setup(1, {});
    expect(await store.tryLease(SCHEDULER_LEASE, 'a', 15_000)).toBe(true);
    expect(await store.tryLease(SCHEDULER_LEASE, 'b', 15_000)).toBe(false);
    await clock.advance(10_000);
    expect(await store.tryLease(SCHEDULER_LEASE, 'a', 15_000)).toBe(true);
    await clock.advance(14_999);
    expect(await store.tryLease(SCHEDULER_LEASE, 'b', 15_000)).toBe(false);
    expect(await store.leaseHolder(SCHEDULER_LEASE)).toBe('a');
    await clock.advance(1);
    expect(await store.tryLease(SCHEDULER_LEASE, 'b', 15_000)).toBe(true);
    expect(await store.tryLease(SCHEDULER_LEASE, 'a', 15_000)).toBe(false);
    expect(await store.leaseHolder(SCHEDULER_LEASE)).toBe('b');
    await store.releaseLease(SCHEDULER_LEASE, 'a');
    expect(await store.leaseHolder(SCHEDULER_LEASE)).toBe('b');
    await store.releaseLease(SCHEDULER_LEASE, 'b');
    expect(await store.tryLease(SCHEDULER_LEASE, 'a', 15_000)).toBe(true);
  });

  describe('instances whose clocks differ keep time on the database', () => {
    /** Two stores on one database, on system clocks `skewMs` apart (hosts without a common time). */
    async function skewed(skewMs: number, name: string): Promise<[FleetStore, FleetStore]> {
      const first = await backend.open(name);
      const second: SqlClient = backend.name === 'postgres' ? await backend.open(name) : first;
      cleanups.push(() => first.close(), () => second.close());
      const a = await FleetStore.open(first, new SystemClock());
      const b = await FleetStore.open(second, new SystemClock({ wallNow: () => Date.now() + skewMs }));
      expect([a.databaseTime, b.databaseTime]).toEqual([true, true]);
      return [a, b];
    }

    it('an instance whose clock is 20 s ahead does not take a lease held a moment ago', async () => {
      const [a, b] = await skewed(20_000, 'skew-lease');
      expect(await a.tryLease(SCHEDULER_LEASE, 'a', 15_000)).toBe(true);
      expect(await b.tryLease(SCHEDULER_LEASE, 'b', 15_000)).toBe(false);
      expect(await b.leaseHolder(SCHEDULER_LEASE)).toBe('a');
    });

    it('the lease of a holder whose clock is 1 h ahead is taken over once its time-to-live has passed', async () => {
      const [ahead, behind] = await skewed(-3_600_000, 'skew-takeover');
      expect(await ahead.tryLease(SCHEDULER_LEASE, 'ahead', 300)).toBe(true);
      const started = performance.now();
      expect(await behind.tryLease(SCHEDULER_LEASE, 'behind', 300)).toBe(false);
      while (!(await behind.tryLease(SCHEDULER_LEASE, 'behind', 300))) {
        expect(performance.now() - started).toBeLessThan(5000);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    });

    it('a report taken by an instance 15 min behind is not timed out by the scheduling instance', async () => {
      const [scheduling, behind] = await skewed(-900_000, 'skew-report');
      await scheduling.assign('g', ['d', 'e']);
      const { id } = await scheduling.createCampaign({ name: 'fw', group: 'g', envelope, policy: parseRolloutPolicy({ deviceTimeoutS: 600 }) });
      await behind.report(id, 'd', 'downloading');
      await scheduling.report(id, 'e', 'downloading');
      expect(await scheduling.schedule()).toMatchObject({ timedOut: 0, retried: 0 });
      expect((await scheduling.status(id)).counts).toMatchObject({ downloading: 2 });
      // Both stamped on the database's clock, which is this host's.
      const { rows } = await scheduling.db.query<{ updated_at: string | number }>('SELECT updated_at FROM assignments ORDER BY device_id');
      for (const r of rows) expect(Math.abs(Number(r.updated_at) - Date.now())).toBeLessThan(60_000);
      // A download slot is counted on the same clock: the first device may start at once.
      expect(await behind.claimDownloadSlot(id, 'd')).toBe(0);
    });
  });

  it('schedules on exactly one instance; the other takes over when the holder dies', async () => {
    const { store, clock, id } = await setup(10, { waves: [10, 90], successThreshold: 0 });
    let dead = false;
    // The first instance's database goes away (the process died): it neither renews nor releases.
    const dying = {
      tryLease: (...args: Parameters<FleetStore['tryLease']>) => (dead ? Promise.reject(new StateError('database gone')) : store.tryLease(...args)),
      schedule: () => (dead ? Promise.reject(new StateError('database gone')) : store.schedule()),
      releaseLease: (...args: Parameters<FleetStore['releaseLease']>) => (dead ? Promise.reject(new StateError('database gone')) : store.releaseLease(...args)),
    } as unknown as FleetStore;
    const passes: Record<string, SchedulePass[]> = { a: [], b: [] };
    const errors: unknown[] = [];
    const a = startScheduler({ store: dying, clock, holder: 'a', leaseMs: 5000, intervalMs: 1000, onPass: (p) => passes.a!.push(p), onError: (e) => errors.push(e) });
    await a.idle();
    const b = startScheduler({ store, clock, holder: 'b', leaseMs: 5000, intervalMs: 1000, onPass: (p) => passes.b!.push(p) });
    cleanups.push(() => b.stop(), () => a.stop());
    await b.idle();
    expect([a.holding(), b.holding()]).toEqual([true, false]);
    expect(passes.a![0]!.opened).toEqual([{ campaign: id, wave: 1 }]);
    for (let i = 0; i < 3; i++) {
      await clock.advance(1000);
      await Promise.all([a.idle(), b.idle()]);
    }
    expect([a.holding(), b.holding(), passes.b!.length]).toEqual([true, false, 0]);
    dead = true;
    let waited = 0;
    while (!b.holding()) {
      await clock.advance(1000);
      await Promise.all([a.idle(), b.idle()]);
      waited += 1000;
    }
    expect(waited).toBeGreaterThanOrEqual(4000);
    expect(waited).toBeLessThanOrEqual(6000);
    expect(a.holding()).toBe(false);
    expect(errors.length).toBeGreaterThan(0);
    expect(passes.b!.length).toBeGreaterThan(0);
    expect(await store.leaseHolder(SCHEDULER_LEASE)).toBe('b');
    await b.stop();
    expect(await store.leaseHolder(SCHEDULER_LEASE)).toBeUndefined();
  });

  it('two instances scheduling at once open each wave exactly once and release each device once', async () => {
    const clock = new VirtualClock({ start: 1_000_000 });
    // Two pools on one PostgreSQL database; PGlite has one connection, shared by both stores.
    const first = await backend.open('concurrent');
    const second: SqlClient = backend.name === 'postgres' ? await backend.open('concurrent') : first;
    cleanups.push(() => first.close(), () => second.close());
    const one = await FleetStore.open(first, clock);
    const two = await FleetStore.open(second, clock);
    await one.assign('line-3', devices(300));
    await one.assign('line-4', devices(100, 'x'));
    const a = await one.createCampaign({ name: 'a', group: 'line-3', envelope, policy: parseRolloutPolicy({ waves: [10, 20, 30, 40], successThreshold: 0, rate: { start: 7, factor: 2, cap: 40 } }) });
    const b = await two.createCampaign({ name: 'b', group: 'line-4', envelope, policy: parseRolloutPolicy({ waves: [50, 50], successThreshold: 0.5 }) });
    const passes: SchedulePass[] = [];
    for (let round = 0; round < 20; round++) {
      passes.push(...(await Promise.all([one.schedule(), two.schedule(), one.schedule(), two.schedule()])));
      for (const d of devices(100, 'x')) {
        const offer = await (round % 2 ? one : two).offerFor(d);
        if (offer) await (round % 2 ? two : one).report(b.id, d, 'confirmed');
      }
      await clock.advance(MINUTE);
    }
    const opened = passes.flatMap((p) => p.opened).map((o) => `${o.campaign}:${o.wave}`).sort();
    expect(opened).toEqual([`${a.id}:1`, `${a.id}:2`, `${a.id}:3`, `${b.id}:1`].sort());
    const released = passes.reduce((n, p) => n + p.released, 0);
    const statusA = await one.status(a.id);
    const statusB = await two.status(b.id);
    expect(statusA.counts.pending).toBe(0);
    expect(statusB.counts.confirmed).toBe(100);
    expect(statusB.state).toBe('finished');
    // 7 offers of campaign a and 50 of b were released at creation.
    expect(released).toBe(300 - 7 + 50);
    const twice = await one.db.query<{ n: number }>("SELECT count(*)::int AS n FROM assignments WHERE etag_version <> 1");
    expect(twice.rows[0]!.n).toBe(0);
    const waves = await one.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit WHERE event = 'ota.campaign.wave'");
    expect(waves.rows[0]!.n).toBe(4);
  });
});

