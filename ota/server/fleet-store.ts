/**
 * The update server's state in SQL (PGlite or PostgreSQL, see db/sql.ts): devices with their
 * operator-set group and hardware revision, campaigns with their rollout policy, one assignment per
 * campaign and targeted device, counters per campaign, wave and state kept in the transaction of
 * every change (status never counts rows), the fleet-wide kill switch, the scheduler's lease and
 * an audit trail. Any number of server instances may share one PostgreSQL: every change is one
 * transaction, a device's poll is one indexed lookup, the scheduler claims a campaign with
 * `FOR NO KEY UPDATE SKIP LOCKED` and opens a wave with an update guarded by the wave it expects.
 *
 * Nothing a device says decides who is targeted or what halts a campaign beyond its own
 * assignment: groups come from the operator ({@link FleetStore.assign}), and a report for a
 * campaign the device was never offered is refused and changes nothing.
 */
import { SystemClock, type Clock } from '../../sdk/core/clock.js';
import { StateError, ValidationError } from '../../sdk/core/errors.js';
import type { AuditEvent, AuditSink } from '../../security/audit/event.js';
import { MAX_ENVELOPE_BYTES, readEnvelopeUnverified } from '../manifest/suit-envelope.js';
import { migrate } from './db/migrations.js';
import type { SqlClient } from './db/sql.js';
import {
  CAMPAIGN_COLUMNS, DB_NOW, LEASE_SQL, LIST_SQL, OFFER_SQL, REACTIVATE_SQL, REPORT_SQL, SLOT_SQL, STATUS_SQL, nowOr,
  applyDeltas, figuresOf, mergeDeltas, shardOf, zeroCounts, type CampaignRow, type Delta, type FiguresRow,
} from './db/fleet-queries.js';
import { ASSIGNMENT_STATES, FAILED, IN_PROGRESS, SUCCESS, waveOf, type AssignmentState, type WaveCounts } from './rollout/decide.js';
import { release, scheduleCampaign, storedPolicy, type PassContext } from './rollout/pass.js';
import { DEFAULT_POLICY, FAILURE_TYPES, isFailureType, type FailureType, type RolloutPolicy } from './rollout/policy.js';

export type { AssignmentState } from './rollout/decide.js';
export type { FailureType, RolloutPolicy } from './rollout/policy.js';
export { OFFER_SQL } from './db/fleet-queries.js';

import type { ReportedState } from '../device-protocol.js';

export type { ReportedState };
const REPORTED: readonly string[] = ['downloading', 'staged', 'trial', 'confirmed', 'current', 'failed', 'rolled-back', 'verifying'];

/** What a device is offered. */
export interface DeviceOffer {
  campaignId: number;
  envelope: Uint8Array;
  /** Changes whenever what the device should do changes (a new offer, a retry). */
  etag: string;
  payloadKeys: string[];
  sequence: number;
  /** The campaign's poll interval and download slots (its policy). */
  pollIntervalS: number;
  downloadSlotsPerMinute: number;
}

/** A campaign as the operator sees it. */
export interface CampaignStatus {
  id: number;
  name: string;
  kind: 'update' | 'rollback';
  rollbackOf: number | null;
  state: 'running' | 'paused' | 'halted' | 'finished';
  reason: string | null;
  sequence: number;
  openWave: number;
  waves: number[];
  targeted: number;
  counts: Record<AssignmentState, number>;
  waveCounts: Record<AssignmentState, number>[];
  failures: Record<FailureType, number>;
  successRatio: number;
  failureRatio: number;
  policy: RolloutPolicy;
}

/** What one scheduler pass did. */
export interface SchedulePass {
  timedOut: number;
  retried: number;
  released: number;
  opened: { campaign: number; wave: number }[];
  halted: { campaign: number; reason: string }[];
  paused: number[];
  finished: number[];
}

/** Options of {@link FleetStore.open}. */
export interface FleetStoreOptions {
  /** Where campaign changes are recorded besides the `audit` table. */
  readonly audit?: AuditSink;
  /**
   * Where the times of leases, reports, time-outs, waves and rates come from. `'database'`: the
   * database's clock (`clock_timestamp()`), so instances on hosts whose clocks differ agree; the
   * default with a `SystemClock`. `'clock'`: the clock passed to {@link FleetStore.open}; the
   * default with any other clock, so that a test's `VirtualClock` drives the store.
   */
  readonly time?: 'database' | 'clock';
}

/**
 * A campaign id that names no campaign. Still a `ValidationError` (path `campaign`), so callers
 * that handle those need nothing new; an API answers it with 404 by testing for this class.
 *
 * @example
 * ```ts
 * try { await store.status(99) } catch (error) { if (error instanceof UnknownCampaignError) reply(404, error.message) }
 * ```
 */
export class UnknownCampaignError extends ValidationError {
  readonly campaignId: number;

  constructor(campaignId: number) {
    super('campaign', `no campaign ${campaignId}`);
    this.campaignId = campaignId;
  }
}

/** The etag answered when nothing is offered. */
export const NO_OFFER_ETAG = 'none';
const DEVICE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const KILL_SWITCH = 'offers-stopped';
/** Campaigns whose envelope and policy a store keeps in memory (the most recently used). */
const CACHED_CAMPAIGNS = 64;
/** Assignments not finished: dropped when their device is taken out of the fleet. */
const OPEN: readonly AssignmentState[] = ['pending', ...IN_PROGRESS];


interface CachedCampaign {
  envelope: Uint8Array;
  sequence: number;
  payloadKeys: string[];
  policy: RolloutPolicy;
}

/**
 * The fleet's update state in SQL. Times (leases, reports, time-outs, soak, release rates) come
 * from the database's clock when the store is opened with a `SystemClock`, so instances whose
 * hosts' clocks differ agree; with another clock (a test's `VirtualClock`) from that clock. See
 * {@link FleetStoreOptions.time}.
 *
 * @example
 * ```ts
 * const store = await FleetStore.open(await openDatabase(undefined), new SystemClock())
 * await store.assign('line-3', ['en-1-SN1', 'en-1-SN2'])
 * const campaign = await store.createCampaign({ name: 'fw 1.4', group: 'line-3', envelope, policy: parseRolloutPolicy('{}') })
 * const offer = await store.offerFor('en-1-SN1') // { campaignId, envelope, etag, … }
 * await store.report(campaign.id, 'en-1-SN1', 'confirmed')
 * ```
 */
export class FleetStore {
  readonly #db: SqlClient;
  readonly #clock: Clock;
  readonly #audit: AuditSink | undefined;
  readonly #databaseTime: boolean;
  readonly #campaigns = new Map<number, CachedCampaign>();

  private constructor(db: SqlClient, clock: Clock, options: FleetStoreOptions) {
    this.#db = db;
    this.#clock = clock;
    this.#audit = options.audit;
    this.#databaseTime = (options.time ?? (clock instanceof SystemClock ? 'database' : 'clock')) === 'database';
  }

  /**
   * Opens the store on a database, applying the schema's migrations. Throws `DatabaseError` when
   * the database's schema is newer than this code.
   *
   * @example
   * ```ts
   * const store = await FleetStore.open(await openDatabase('postgres://ota@db/ota'), clock, { audit: auditLog })
   * ```
   */
  static async open(db: SqlClient, clock: Clock, options: FleetStoreOptions = {}): Promise<FleetStore> {
    await migrate(db);
    return new FleetStore(db, clock, options);
  }

  /**
   * The database under the store (for tests and diagnostics).
   *
   * @example
   * ```ts
   * await store.db.query('SELECT count(*) FROM audit')
   * ```
   */
  get db(): SqlClient {
    return this.#db;
  }

  /**
   * Closes the database the store was opened on.
   *
   * @example
   * ```ts
   * await store.close()
   * ```
   */
  async close(): Promise<void> {
    await this.#db.close();
  }

  /**
   * Whether times come from the database's clock (see {@link FleetStoreOptions.time}).
   *
   * @example
   * ```ts
   * (await FleetStore.open(db, new SystemClock())).databaseTime // true
   * ```
   */
  get databaseTime(): boolean {
    return this.#databaseTime;
  }

  /** The time, ms: read from the database's clock on `db`, or the clock's. */
  async #time(db: SqlClient): Promise<number> {
    if (!this.#databaseTime) return Math.round(this.#clock.now());
    const { rows } = await db.query<{ now: string | number }>(`SELECT ${DB_NOW} AS now`);
    return Number(rows[0]!.now);
  }

  /** The time for a statement that reads it as `nowOr($n)`: null when the database's clock is used. */
  #nowParam(): number | null {
    return this.#databaseTime ? null : Math.round(this.#clock.now());
  }

  // ---- devices (operator) ----

  /**
   * Puts devices in a group (moving them out of any other), with a hardware revision when given
   * (kept when not). The only way a device gets a group. Throws `ValidationError` for a bad id.
   *
   * @example
   * ```ts
   * await store.assign('line-3', ['en-1-SN1'], { hardware: 'revB' })
   * ```
   */
  async assign(group: string, ids: readonly string[], options: { hardware?: string } = {}): Promise<void> {
    checkName(group, 'group');
    if (options.hardware !== undefined) checkName(options.hardware, 'hardware');
    ids.forEach((id, i) => checkName(id, `devices[${i}]`));
    if (ids.length === 0) return;
    await this.#db.query(
      `INSERT INTO devices (id, grp, hardware, assigned_at) SELECT id, $2, $3, ${nowOr('$4')} FROM unnest($1::text[]) AS t(id)
       ON CONFLICT (id) DO UPDATE SET grp = excluded.grp, hardware = COALESCE(excluded.hardware, devices.hardware), assigned_at = excluded.assigned_at`,
      [[...new Set(ids)], group, options.hardware ?? null, this.#nowParam()],
    );
  }

  /**
   * Takes devices out of their group: they are offered nothing until assigned again. Their
   * assignments that have not finished (pending, offered or in progress) are dropped and no longer
   * targeted, so a device taken out of the fleet neither times out as a failure nor holds a
   * campaign open, and a late report of it is refused; finished assignments keep their outcome.
   *
   * @example
   * ```ts
   * await store.unassign(['en-1-SN1'])
   * ```
   */
  async unassign(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const list = [...new Set(ids)];
    await this.#db.transaction(async (tx) => {
      const now = await this.#time(tx);
      // The campaigns first, by id, then their assignments, the device rows last: a state change
      // and the scheduler lock a campaign before its assignments, a report an assignment before
      // its device, so none of them waits in the opposite order.
      await tx.query(
        `SELECT id FROM campaigns WHERE id IN (SELECT campaign_id FROM assignments WHERE device_id = ANY($1::text[]) AND state = ANY($2::text[]))
         ORDER BY id FOR NO KEY UPDATE`,
        [list, OPEN],
      );
      const { rows } = await tx.query<{ campaign_id: number; wave: number; state: AssignmentState; n: number }>(
        `WITH gone AS (DELETE FROM assignments WHERE device_id = ANY($1::text[]) AND state = ANY($2::text[]) RETURNING campaign_id, wave, state)
         SELECT campaign_id, wave, state, count(*)::int AS n FROM gone GROUP BY campaign_id, wave, state ORDER BY campaign_id, wave, state`,
        [list, OPEN],
      );
      const campaigns = new Map<number, Delta[]>();
      for (const r of rows) campaigns.set(r.campaign_id, [...(campaigns.get(r.campaign_id) ?? []), { wave: r.wave, state: r.state, n: -r.n }]);
      for (const [campaignId, deltas] of campaigns) {
        await tx.query('UPDATE campaigns SET targeted = targeted - $2 WHERE id = $1', [campaignId, deltas.reduce((n, d) => n - d.n, 0)]);
        await applyDeltas(tx, campaignId, deltas, now);
      }
      await tx.query('DELETE FROM devices WHERE id = ANY($1::text[])', [list]);
    });
  }

  /**
   * The devices the operator assigned, sorted by id (code points): all of them, or those of a
   * group, of a list of ids, and one page (`after` an id, at most `limit`).
   *
   * @example
   * ```ts
   * await store.devices({ group: 'line-3' }) // [{ id: 'en-1-SN1', group: 'line-3', hardware: 'revB' }]
   * await store.devices({ after: 'en-1-SN1', limit: 1000 }) // the next page
   * ```
   */
  async devices(filter: { group?: string; ids?: readonly string[]; after?: string; limit?: number } = {}): Promise<{ id: string; group: string; hardware: string | null }[]> {
    if (filter.limit !== undefined && !(Number.isSafeInteger(filter.limit) && filter.limit >= 0)) throw new ValidationError('limit', `expected an integer from 0, got ${String(filter.limit)}`);
    const { rows } = await this.#db.query<{ id: string; grp: string; hardware: string | null }>(
      `SELECT id, grp, hardware FROM devices
       WHERE ($1::text IS NULL OR grp = $1) AND ($2::text[] IS NULL OR id = ANY($2::text[])) AND ($3::text IS NULL OR id > $3 COLLATE "C")
       ORDER BY id COLLATE "C" LIMIT $4::int`,
      [filter.group ?? null, filter.ids === undefined ? null : [...filter.ids], filter.after ?? null, filter.limit ?? null],
    );
    return rows.map((r) => ({ id: r.id, group: r.grp, hardware: r.hardware }));
  }

  // ---- campaigns (operator) ----

  /**
   * Creates a running campaign for the devices of its cohorts (the policy's, or `group`), each
   * put in a wave; releases the first wave's offers the rate allows. Throws `ValidationError` for
   * a bad name, an envelope that is too large or not an envelope, or cohorts without devices.
   *
   * @example
   * ```ts
   * const status = await store.createCampaign({ name: 'fw 1.4', group: 'line-3', envelope, policy: parseRolloutPolicy('{"waves":[10,90]}') })
   * ```
   */
  async createCampaign(spec: { name: string; envelope: Uint8Array; policy?: RolloutPolicy; group?: string; actor?: string }): Promise<CampaignStatus> {
    const policy = spec.policy ?? DEFAULT_POLICY;
    const cohorts = policy.cohorts.length > 0 ? policy.cohorts : spec.group !== undefined ? [{ group: spec.group }] : [];
    if (cohorts.length === 0) throw new ValidationError('group', 'expected a group or cohorts in the policy');
    for (const [i, cohort] of cohorts.entries()) checkName(cohort.group, `cohorts[${i}].group`);
    const effective: RolloutPolicy = { ...policy, cohorts };
    return this.#create({ name: spec.name, envelope: spec.envelope, policy: effective, kind: 'update', rollbackOf: null, actor: spec.actor }, async (tx) => {
      const ids = new Set<string>();
      for (const cohort of cohorts) {
        const { rows } = await tx.query<{ id: string }>('SELECT id FROM devices WHERE grp = $1 AND ($2::text IS NULL OR hardware = $2)', [cohort.group, cohort.hardware ?? null]);
        for (const row of rows) ids.add(row.id);
      }
      if (ids.size === 0) throw new ValidationError('cohorts', `no device in ${cohorts.map((c) => (c.hardware ? `${c.group} (${c.hardware})` : c.group)).join(', ')}: add devices first`);
      return [...ids];
    });
  }

  /**
   * Answers a halted campaign with a rollback campaign: a new envelope whose sequence number is
   * higher than the halted one's (SUIT anti-rollback forbids going back), for the halted
   * campaign's devices that were offered it and are still in the fleet, all in one wave.
   *
   * @example
   * ```ts
   * await store.createRollback(3, { envelope: knownGoodAtSequence9 })
   * ```
   */
  async createRollback(haltedId: number, spec: { name?: string; envelope: Uint8Array; actor?: string }): Promise<CampaignStatus> {
    const halted = await this.#row(this.#db, haltedId);
    if (halted.state !== 'halted') throw new StateError(`campaign ${haltedId} is ${halted.state}: only a halted campaign is rolled back`);
    const oldPolicy = storedPolicy(halted.policy);
    const policy: RolloutPolicy = { ...DEFAULT_POLICY, deviceTimeoutS: oldPolicy.deviceTimeoutS, retries: oldPolicy.retries, pollIntervalS: oldPolicy.pollIntervalS, downloadSlotsPerMinute: oldPolicy.downloadSlotsPerMinute, minSample: oldPolicy.minSample };
    const sequence = envelopeFacts(spec.envelope).sequence;
    if (sequence <= Number(halted.sequence)) throw new ValidationError('envelope', `sequence ${sequence} must be higher than campaign ${haltedId}'s ${Number(halted.sequence)} (anti-rollback)`);
    return this.#create({ name: spec.name ?? `rollback of ${halted.name}`, envelope: spec.envelope, policy, kind: 'rollback', rollbackOf: haltedId, actor: spec.actor }, async (tx) => {
      // Only devices still in the fleet: one taken out could never be released, and the rollback would never end.
      const { rows } = await tx.query<{ device_id: string }>("SELECT a.device_id FROM assignments a JOIN devices d ON d.id = a.device_id WHERE a.campaign_id = $1 AND a.state <> 'pending'", [haltedId]);
      if (rows.length === 0) throw new ValidationError('campaign', `campaign ${haltedId} offered no device still in the fleet: nothing to roll back`);
      return rows.map((r) => r.device_id);
    });
  }

  async #create(
    spec: { name: string; envelope: Uint8Array; policy: RolloutPolicy; kind: 'update' | 'rollback'; rollbackOf: number | null; actor: string | undefined },
    targets: (tx: SqlClient) => Promise<string[]>,
  ): Promise<CampaignStatus> {
    if (typeof spec.name !== 'string' || spec.name.trim() === '' || spec.name.length > 200) throw new ValidationError('name', 'expected a name of 1 to 200 characters');
    const facts = envelopeFacts(spec.envelope);
    const events: AuditEvent[] = [];
    const id = await this.#db.transaction(async (tx) => {
      const now = await this.#time(tx);
      const ids = await targets(tx);
      const { rows } = await tx.query<{ id: number }>(
        `INSERT INTO campaigns (name, kind, rollback_of, envelope, sequence, payload_keys, policy, wave_count, state, targeted, rate_epoch, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, 'running', $9, $10, $10, $10) RETURNING id`,
        [spec.name, spec.kind, spec.rollbackOf, Buffer.from(spec.envelope), facts.sequence, JSON.stringify(facts.payloadKeys), JSON.stringify(spec.policy), spec.policy.waves.length, ids.length, now],
      );
      const campaignId = rows[0]!.id;
      const waves = waveOf(campaignId, ids, spec.policy.waves);
      const devices = [...waves.keys()];
      await tx.query(
        `INSERT INTO assignments (campaign_id, device_id, wave, ord, state, updated_at)
         SELECT $1, d, w, o, 'pending', $5 FROM unnest($2::text[], $3::int[], $4::int[]) AS t(d, w, o)`,
        [campaignId, devices, devices.map((d) => waves.get(d)!.wave), devices.map((d) => waves.get(d)!.ord), now],
      );
      const perWave = spec.policy.waves.map(() => 0);
      for (const { wave } of waves.values()) perWave[wave]!++;
      await applyDeltas(tx, campaignId, perWave.map((n, wave) => ({ wave, state: 'pending' as const, n })), now);
      await this.#record(tx, events, { event: spec.kind === 'update' ? 'campaign.create' : 'campaign.rollback', campaignId, actor: spec.actor, detail: { name: spec.name, sequence: facts.sequence, targeted: ids.length, waves: spec.policy.waves, ...(spec.rollbackOf === null ? {} : { rollbackOf: spec.rollbackOf }) } });
      await release(tx, campaignId, spec.policy, 0, { rate_epoch: now, rate_minute: 0, rate_released: 0 }, now);
      return campaignId;
    });
    this.#emit(events);
    return this.status(id);
  }

  /**
   * Pauses a running campaign: nothing of it is offered until {@link resume}.
   *
   * @example
   * ```ts
   * await store.pause(3, 'line stop', 'alice')
   * ```
   */
  async pause(id: number, reason: string, actor?: string): Promise<CampaignStatus> {
    return this.#changeState(id, ['running'], 'paused', reason, 'campaign.pause', actor);
  }

  /**
   * Resumes a paused campaign (also after a health-check pause: the next wave then opens).
   *
   * @example
   * ```ts
   * await store.resume(3, 'alice')
   * ```
   */
  async resume(id: number, actor?: string): Promise<CampaignStatus> {
    return this.#changeState(id, ['paused'], 'running', null, 'campaign.resume', actor);
  }

  /**
   * Halts a running or paused campaign for good; answer it with {@link createRollback}.
   *
   * @example
   * ```ts
   * await store.halt(3, 'field returns', 'alice')
   * ```
   */
  async halt(id: number, reason: string, actor?: string): Promise<CampaignStatus> {
    return this.#changeState(id, ['running', 'paused'], 'halted', reason, 'campaign.halt', actor);
  }

  async #changeState(id: number, from: readonly CampaignStatus['state'][], to: CampaignStatus['state'], reason: string | null, event: string, actor: string | undefined): Promise<CampaignStatus> {
    const events: AuditEvent[] = [];
    await this.#db.transaction(async (tx) => {
      const row = await this.#row(tx, id, true);
      if (!from.includes(row.state)) throw new StateError(`campaign ${id} is ${row.state}: cannot ${event.slice('campaign.'.length)} it`);
      await this.#setState(tx, id, to, reason, events, event, actor ?? 'operator', { from: row.state, ...(reason === null ? {} : { reason }) });
    });
    this.#emit(events);
    return this.status(id);
  }

  /** Sets a campaign's state and its assignments' `active` flags to match, with an audit record. */
  async #setState(tx: SqlClient, id: number, to: CampaignStatus['state'], reason: string | null, events: AuditEvent[], event: string, actor: string, detail: Record<string, unknown>): Promise<void> {
    const now = await this.#time(tx);
    await tx.query('UPDATE campaigns SET state = $2, reason = $3, updated_at = $4 WHERE id = $1', [id, to, reason, now]);
    if (to === 'running') {
      // The time-out clock restarts: a device could not be offered anything while the campaign was
      // paused. A device active in another campaign meanwhile waits until that one is done with it.
      await tx.query(REACTIVATE_SQL, [id, now]);
    } else {
      await tx.query('UPDATE assignments SET active = false, etag_version = etag_version + 1 WHERE campaign_id = $1 AND active', [id]);
    }
    await this.#record(tx, events, { event, campaignId: id, actor, detail, failure: to === 'halted' && actor === 'scheduler' });
  }

  /**
   * A campaign's status, from its counters.
   *
   * @example
   * ```ts
   * (await store.status(3)).counts.confirmed // 42
   * ```
   */
  async status(id: number): Promise<CampaignStatus> {
    if (!Number.isSafeInteger(id)) throw new ValidationError('campaign', `expected a campaign id, got ${JSON.stringify(id)}`);
    const { rows } = await this.#db.query<CampaignRow & FiguresRow>(STATUS_SQL, [id]);
    const row = rows[0];
    if (row === undefined) throw new UnknownCampaignError(id);
    const { waveCounts, failures } = figuresOf(row, row.wave_count, Infinity);
    return statusOf(row, waveCounts, failures);
  }

  /**
   * Campaigns' statuses by id: all of them, or one page: those in `states`, with an id below
   * `before`, the newest `limit` of them (still in ascending id order).
   *
   * @example
   * ```ts
   * for (const c of await store.list()) console.log(c.id, c.state)
   * await store.list({ states: ['running', 'paused'], limit: 100 })
   * ```
   */
  async list(page: { states?: readonly CampaignStatus['state'][]; before?: number; limit?: number } = {}): Promise<CampaignStatus[]> {
    if (page.limit !== undefined && !(Number.isSafeInteger(page.limit) && page.limit >= 0)) throw new ValidationError('limit', `expected an integer from 0, got ${String(page.limit)}`);
    if (page.before !== undefined && !Number.isSafeInteger(page.before)) throw new ValidationError('before', `expected a campaign id, got ${String(page.before)}`);
    const before = page.before === undefined ? null : Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, page.before));
    const { rows } = await this.#db.query<CampaignRow & FiguresRow>(LIST_SQL, [page.states === undefined ? null : [...page.states], before, page.limit ?? null]);
    return rows.reverse().map((row) => {
      const { waveCounts, failures } = figuresOf(row, row.wave_count, Infinity);
      return statusOf(row, waveCounts, failures);
    });
  }

  /**
   * Deletes the device reports and audit rows older than `before` (ms, on the store's time), so
   * the tables do not grow for ever; campaign figures come from counters and do not change.
   * Returns how many rows went.
   *
   * @example
   * ```ts
   * await store.prune({ before: Date.now() - 90 * 86_400_000 }) // { reports: 120000, audit: 40 }
   * ```
   */
  async prune(options: { before: number }): Promise<{ reports: number; audit: number }> {
    if (!Number.isFinite(options.before)) throw new ValidationError('before', `expected a time in ms, got ${String(options.before)}`);
    const before = Math.round(options.before);
    return this.#db.transaction(async (tx) => {
      const reports = await tx.query('DELETE FROM reports WHERE at < $1', [before]);
      const audit = await tx.query('DELETE FROM audit WHERE at < $1', [before]);
      return { reports: reports.rowCount, audit: audit.rowCount };
    });
  }

  /**
   * The payload keys named by the envelopes of running and paused campaigns, sorted: what the
   * device listener may serve from a folder store. Every instance reads the same answer.
   *
   * @example
   * ```ts
   * if (!(await store.servablePayloadKeys()).includes(key)) reply(404)
   * ```
   */
  async servablePayloadKeys(): Promise<string[]> {
    const { rows } = await this.#db.query<{ key: string }>(
      "SELECT DISTINCT k.key FROM campaigns c CROSS JOIN LATERAL jsonb_array_elements_text(c.payload_keys) AS k(key) WHERE c.state IN ('running', 'paused') ORDER BY k.key",
    );
    return rows.map((r) => r.key);
  }

  /**
   * The fleet-wide kill switch: while stopped, no device is offered anything.
   *
   * @example
   * ```ts
   * await store.setOffersStopped(true, 'alice')
   * ```
   */
  async setOffersStopped(stopped: boolean, actor?: string): Promise<void> {
    const events: AuditEvent[] = [];
    await this.#db.transaction(async (tx) => {
      const now = await this.#time(tx);
      const { rowCount } = stopped
        ? await tx.query('INSERT INTO fleet_flags (name, set_at, actor) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [KILL_SWITCH, now, actor ?? null])
        : await tx.query('DELETE FROM fleet_flags WHERE name = $1', [KILL_SWITCH]);
      if (rowCount === 0) return;
      // The time-out clocks restart: no device could be offered anything while offers were stopped.
      if (!stopped) await tx.query('UPDATE assignments SET updated_at = $1 WHERE active', [now]);
      await this.#record(tx, events, { event: stopped ? 'fleet.stop' : 'fleet.start', campaignId: null, actor: actor ?? 'operator', detail: {} });
    });
    this.#emit(events);
  }

  /**
   * Whether the kill switch is on.
   *
   * @example
   * ```ts
   * if (await store.offersStopped()) console.log('offers stopped')
   * ```
   */
  async offersStopped(): Promise<boolean> {
    const { rows } = await this.#db.query('SELECT 1 FROM fleet_flags WHERE name = $1', [KILL_SWITCH]);
    return rows.length > 0;
  }

  // ---- devices' side ----

  /**
   * What to offer a device now: one indexed lookup of its active assignment. Undefined when it has
   * none, or the kill switch is on.
   *
   * @example
   * ```ts
   * const offer = await store.offerFor('en-1-SN1')
   * if (offer && offer.etag !== ifNoneMatch) send(offer.envelope)
   * ```
   */
  async offerFor(deviceId: string): Promise<DeviceOffer | undefined> {
    const { rows } = await this.#db.query<{ campaign_id: number; etag_version: number }>(OFFER_SQL, [deviceId, KILL_SWITCH]);
    const row = rows[0];
    if (row === undefined) return undefined;
    const campaign = await this.#cached(row.campaign_id);
    return {
      campaignId: row.campaign_id,
      envelope: campaign.envelope,
      etag: `${row.campaign_id}.${row.etag_version}`,
      payloadKeys: campaign.payloadKeys,
      sequence: campaign.sequence,
      pollIntervalS: campaign.policy.pollIntervalS,
      downloadSlotsPerMinute: campaign.policy.downloadSlotsPerMinute,
    };
  }

  /**
   * The etag of what {@link offerFor} would answer now ({@link NO_OFFER_ETAG} for nothing), by the
   * same lookup without reading the envelope: for `If-None-Match`.
   *
   * @example
   * ```ts
   * if ((await store.etagFor(id)) === ifNoneMatch) reply(304)
   * ```
   */
  async etagFor(deviceId: string): Promise<string> {
    const { rows } = await this.#db.query<{ campaign_id: number; etag_version: number }>(OFFER_SQL, [deviceId, KILL_SWITCH]);
    const row = rows[0];
    return row === undefined ? NO_OFFER_ETAG : `${row.campaign_id}.${row.etag_version}`;
  }

  /**
   * When a device offered a campaign may start its download, seconds from now: download starts
   * are spaced `60 / downloadSlotsPerMinute` s apart per campaign across every instance sharing the
   * database, so a wave does not become a thundering herd. A device keeps the slot it was given
   * (asking again answers the same time, less what has passed). 0 for a device not offered it.
   *
   * @example
   * ```ts
   * const offer = await store.offerFor(id)
   * if (offer) reply({ …, downloadAfterS: await store.claimDownloadSlot(offer.campaignId, id) })
   * ```
   */
  async claimDownloadSlot(campaignId: number, deviceId: string): Promise<number> {
    const campaign = await this.#cached(campaignId);
    const spacing = Math.max(1, Math.round(60_000 / campaign.policy.downloadSlotsPerMinute));
    const { rows } = await this.#db.query<{ existing: string | number | null; claimed: string | number | null; now: string | number }>(SLOT_SQL, [campaignId, deviceId, this.#nowParam(), spacing]);
    const at = rows[0]?.existing ?? rows[0]?.claimed;
    return at === null || at === undefined ? 0 : Math.max(0, Number(at) - Number(rows[0]!.now)) / 1000;
  }

  /**
   * Records a device's report. A failure is re-offered while the policy's retries for its type
   * last, else counts as failed (`rolled-back` is a failure of type `health`). Throws
   * `ValidationError`, changing nothing, for a device never offered the campaign, an unknown
   * state or failure type, or a change after a final state.
   *
   * @example
   * ```ts
   * await store.report(3, 'en-1-SN1', 'failed', { failure: 'download', reason: 'HTTP 503' })
   * ```
   */
  async report(campaignId: number, deviceId: string, state: ReportedState, detail: { reason?: string; failure?: FailureType } = {}): Promise<CampaignStatus> {
    const reported = (state as string) === 'verifying' ? 'downloading' : state;
    if (!REPORTED.includes(reported)) throw new ValidationError('state', `expected one of ${REPORTED.join(', ')}, got ${JSON.stringify(state)}`);
    if (detail.failure !== undefined && !isFailureType(detail.failure)) throw new ValidationError('failure', `expected one of ${FAILURE_TYPES.join(', ')}, got ${JSON.stringify(detail.failure)}`);
    if (!Number.isSafeInteger(campaignId)) throw new ValidationError('campaign', `expected a campaign id, got ${JSON.stringify(campaignId)}`);
    const reason = detail.reason === undefined ? null : String(detail.reason).slice(0, 500);
    const campaign = await this.#cached(campaignId);
    await this.#db.transaction(async (tx) => {
      // `free`: the device is active in no other campaign (at most one active assignment per device).
      const { rows } = await tx.query<{ wave: number; state: AssignmentState; attempts: number; retried: Record<string, number> | string; failure: FailureType | null; running: boolean; free: boolean; now: string | number }>(
        `SELECT a.wave, a.state, a.attempts, a.retried, a.failure, c.state = 'running' AS running, ${nowOr('$3')} AS now,
           NOT EXISTS (SELECT 1 FROM assignments b WHERE b.device_id = a.device_id AND b.active AND b.campaign_id <> a.campaign_id) AS free
         FROM assignments a JOIN campaigns c ON c.id = a.campaign_id
         WHERE a.campaign_id = $1 AND a.device_id = $2 FOR UPDATE OF a`,
        [campaignId, deviceId, this.#nowParam()],
      );
      const current = rows[0];
      if (current === undefined || current.state === 'pending') throw new ValidationError('device', `${deviceId} was not offered campaign ${campaignId}`);
      const now = Number(current.now);
      const old = current.state;
      const isFinal = (s: AssignmentState) => SUCCESS.includes(s) || (FAILED.includes(s) && s !== 'timed-out');
      if (isFinal(old)) {
        if (old === reported) return;
        throw new ValidationError('state', `${deviceId} already finished campaign ${campaignId} (${old})`);
      }
      // A device that timed out may still tell how it ended, never that it is working on it again.
      const late = old === 'timed-out';
      if (late && !SUCCESS.includes(reported as AssignmentState) && !FAILED.includes(reported as AssignmentState)) {
        throw new ValidationError('state', `${deviceId} timed out of campaign ${campaignId}: only its outcome is taken (confirmed, current, failed, rolled-back)`);
      }
      let next = reported as AssignmentState;
      let failure: FailureType | null = null;
      let attempts = current.attempts;
      // Retries are counted per failure type: each type has its own budget in the policy.
      const retried = { ...((typeof current.retried === 'string' ? JSON.parse(current.retried) : current.retried) as Record<string, number>) };
      let bump = 0;
      if (next === 'failed' || next === 'rolled-back') {
        failure = next === 'rolled-back' ? 'health' : (detail.failure ?? 'other');
        const used = retried[failure] ?? 0;
        if (!late && used < (campaign.policy.retries[failure] ?? 0)) {
          next = 'offered';
          attempts++;
          retried[failure] = used + 1;
          bump = 1;
        }
      }
      const active = IN_PROGRESS.includes(next) && current.running && current.free;
      const counted = next === old ? [] : mergeDeltas([{ wave: current.wave, state: old, n: -1 }, { wave: current.wave, state: next, n: 1 }]);
      const failed = new Map<string, number>();
      if (next !== old && FAILED.includes(old) && current.failure !== null) failed.set(current.failure, -1);
      if (next !== old && FAILED.includes(next) && failure !== null) failed.set(failure, (failed.get(failure) ?? 0) + 1);
      const failedRows = [...failed.entries()].filter(([, n]) => n !== 0).sort(([a], [b]) => (a < b ? -1 : 1));
      await tx.query(REPORT_SQL, [
        campaignId, deviceId, next, FAILED.includes(next) ? failure : null, reason, attempts, active, now, bump,
        current.wave, counted.map((d) => d.state), counted.map((d) => d.n), shardOf(deviceId),
        failedRows.map(([f]) => f), failedRows.map(([, n]) => n), reported, failure, JSON.stringify(retried),
      ]);
    });
    return this.status(campaignId);
  }

  // ---- scheduler ----

  /**
   * Takes or renews the named lease for `holder` for `ttlMs`; true when held.
   *
   * @example
   * ```ts
   * if (await store.tryLease('scheduler', 'ota-1', 15_000)) await store.schedule()
   * ```
   */
  async tryLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const { rows } = await this.#db.query(LEASE_SQL, [name, holder, Math.round(ttlMs), this.#nowParam()]);
    return rows.length > 0;
  }

  /**
   * Gives the lease up (when `holder` holds it), so another instance takes it at once.
   *
   * @example
   * ```ts
   * await store.releaseLease('scheduler', 'ota-1')
   * ```
   */
  async releaseLease(name: string, holder: string): Promise<void> {
    await this.#db.query('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
  }

  /**
   * Who holds a lease now, or undefined.
   *
   * @example
   * ```ts
   * await store.leaseHolder('scheduler') // 'ota-1'
   * ```
   */
  async leaseHolder(name: string): Promise<string | undefined> {
    const { rows } = await this.#db.query<{ holder: string }>(`SELECT holder FROM leases WHERE name = $1 AND expires_at > ${nowOr('$2')}`, [name, this.#nowParam()]);
    return rows[0]?.holder;
  }

  /**
   * One scheduler pass over the running campaigns, each in its own transaction, claimed with
   * `FOR NO KEY UPDATE SKIP LOCKED` (a campaign another instance is scheduling is skipped): silent
   * devices time out (or are retried), abort criteria and the error threshold halt, a wave at its
   * success threshold whose soak has passed opens the next (guarded by the wave it expects, so it
   * opens once), the release rate offers the next devices, a campaign whose devices all finished
   * finishes. Idempotent.
   *
   * @example
   * ```ts
   * const pass = await store.schedule() // { timedOut: 0, released: 10, opened: [{ campaign: 3, wave: 1 }], … }
   * ```
   */
  async schedule(): Promise<SchedulePass> {
    const pass: SchedulePass = { timedOut: 0, retried: 0, released: 0, opened: [], halted: [], paused: [], finished: [] };
    // While offers are stopped nothing is released and no silent device times out.
    const { rows } = await this.#db.query<{ id: number }>("SELECT id FROM campaigns WHERE state = 'running' AND NOT EXISTS (SELECT 1 FROM fleet_flags WHERE name = $1) ORDER BY id", [KILL_SWITCH]);
    // A campaign whose pass fails (a lost connection, a conflict) does not hold up the others; the
    // first failure is thrown once every campaign had its turn.
    let failure: { error: unknown } | undefined;
    for (const { id } of rows) {
      const events: AuditEvent[] = [];
      try {
        await this.#db.transaction(async (tx) => scheduleCampaign(tx, id, pass, await this.#passContext(tx, events)));
        this.#emit(events);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
    return pass;
  }

  /** What a scheduler pass may do besides SQL: the time, state changes and audit records. */
  async #passContext(tx: SqlClient, events: AuditEvent[]): Promise<PassContext> {
    return {
      now: await this.#time(tx),
      setState: (tx, id, to, reason, event, detail) => this.#setState(tx, id, to, reason, events, event, 'scheduler', detail),
      record: (tx, event, campaignId, detail) => this.#record(tx, events, { event, campaignId, actor: 'scheduler', detail }),
    };
  }


  async #row(db: SqlClient, id: number, lock = false): Promise<CampaignRow> {
    if (!Number.isSafeInteger(id)) throw new ValidationError('campaign', `expected a campaign id, got ${JSON.stringify(id)}`);
    const { rows } = await db.query<CampaignRow>(lock ? `SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1 FOR NO KEY UPDATE` : `SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1`, [id]);
    const row = rows[0];
    if (row === undefined) throw new UnknownCampaignError(id);
    return row;
  }

  /** A campaign's unchanging part (envelope, sequence, payload keys, policy), read once and kept while among the most recently used. */
  async #cached(id: number): Promise<CachedCampaign> {
    let cached = this.#campaigns.get(id);
    if (cached !== undefined) {
      // Most recently used last: the first entry is the one to drop.
      this.#campaigns.delete(id);
      this.#campaigns.set(id, cached);
    } else {
      if (!Number.isSafeInteger(id)) throw new ValidationError('campaign', `expected a campaign id, got ${JSON.stringify(id)}`);
      const { rows } = await this.#db.query<{ envelope: Uint8Array; sequence: string | number; payload_keys: string[]; policy: unknown }>('SELECT envelope, sequence, payload_keys, policy FROM campaigns WHERE id = $1', [id]);
      const row = rows[0];
      if (row === undefined) throw new UnknownCampaignError(id);
      cached = { envelope: new Uint8Array(row.envelope), sequence: Number(row.sequence), payloadKeys: row.payload_keys, policy: storedPolicy(row.policy) };
      this.#campaigns.set(id, cached);
      if (this.#campaigns.size > CACHED_CAMPAIGNS) this.#campaigns.delete(this.#campaigns.keys().next().value!);
    }
    return cached;
  }

  async #record(tx: SqlClient, events: AuditEvent[], entry: { event: string; campaignId: number | null; actor: string | undefined; detail: Record<string, unknown>; failure?: boolean }): Promise<void> {
    const actor = entry.actor ?? 'operator';
    const detail = entry.campaignId === null ? entry.detail : { campaign: entry.campaignId, ...entry.detail };
    await tx.query(`INSERT INTO audit (at, actor, event, campaign_id, detail) VALUES (${nowOr('$1')}, $2, $3, $4, $5::jsonb)`, [this.#nowParam(), actor, `ota.${entry.event}`, entry.campaignId, JSON.stringify(detail)]);
    events.push({ category: 'ota', event: `ota.${entry.event}`, result: entry.failure ? 'failure' : 'success', source: 'ota-server', actor, detail });
  }

  /** Hands committed events to the audit sink (never before the change is stored). */
  #emit(events: readonly AuditEvent[]): void {
    for (const event of events) void Promise.resolve(this.#audit?.record(event)).catch(() => {});
  }
}


function statusOf(row: CampaignRow, waveCounts: WaveCounts, failures: Record<FailureType, number>): CampaignStatus {
  const counts = zeroCounts();
  for (const wave of waveCounts) for (const state of ASSIGNMENT_STATES) counts[state] += wave[state];
  const succeeded = SUCCESS.reduce((n, s) => n + counts[s], 0);
  const failed = FAILED.reduce((n, s) => n + counts[s], 0);
  const finished = succeeded + failed;
  const policy = storedPolicy(row.policy);
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    rollbackOf: row.rollback_of,
    state: row.state,
    reason: row.reason,
    sequence: Number(row.sequence),
    openWave: row.open_wave,
    waves: [...policy.waves],
    targeted: row.targeted,
    counts,
    waveCounts,
    failures,
    successRatio: finished === 0 ? 0 : succeeded / finished,
    failureRatio: finished === 0 ? 0 : failed / finished,
    policy,
  };
}


function envelopeFacts(envelope: Uint8Array): { sequence: number; payloadKeys: string[] } {
  if (!(envelope instanceof Uint8Array) || envelope.length === 0) throw new ValidationError('envelope', 'expected the bytes of a SUIT envelope');
  if (envelope.length > MAX_ENVELOPE_BYTES) throw new ValidationError('envelope', `${envelope.length} bytes, above the limit of ${MAX_ENVELOPE_BYTES}`);
  let manifest;
  try {
    manifest = readEnvelopeUnverified(envelope).manifest;
  } catch (error) {
    throw new ValidationError('envelope', `not a SUIT envelope: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const keys = (manifest.components ?? [manifest]).map((c) => c.uri).filter((u): u is string => typeof u === 'string' && u !== '');
  return { sequence: manifest.sequence, payloadKeys: [...new Set(keys)] };
}

function checkName(value: unknown, path: string): void {
  if (typeof value !== 'string' || !DEVICE_ID.test(value)) throw new ValidationError(path, `expected 1 to 128 of A-Z a-z 0-9 . _ : -, got ${JSON.stringify(value)}`);
}
