/**
 * Rollout campaigns (hawkBit's idea): an envelope offered to the devices of one group, to a staged
 * percentage of them (a stable hash of campaign and device id decides who is in, so raising the
 * percentage only adds devices), halted automatically when the share of failed devices among those
 * that finished passes a threshold. Campaign and device state live in SQLite (better-sqlite3, WAL).
 *
 * The offer and report requests are not authenticated, so nothing a device says decides who is
 * targeted or what halts a campaign: a device's group is set by the operator ({@link CampaignStore.assign},
 * `sensorkit ota device add`), never by its requests, and only reports from devices that were
 * offered that campaign's update count towards its failure ratio.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../sdk/core/clock.js';
import { ValidationError } from '../../sdk/core/errors.js';
import { openSqlite, type SqliteDatabase } from './sqlite.js';

/** What a device reports about a campaign. */
export type DeviceUpdateState = 'offered' | 'downloading' | 'staged' | 'trial' | 'confirmed' | 'rolled-back' | 'failed' | 'current';

const STATES: readonly DeviceUpdateState[] = ['offered', 'downloading', 'staged', 'trial', 'confirmed', 'rolled-back', 'failed', 'current'];
const SUCCESS: ReadonlySet<DeviceUpdateState> = new Set(['confirmed', 'current']);
const FAILURE: ReadonlySet<DeviceUpdateState> = new Set(['rolled-back', 'failed']);

/** A new campaign. */
export interface CampaignSpec {
  readonly name: string;
  readonly group: string;
  readonly envelope: Uint8Array;
  /** Share of the group offered the update, 0–100. Default 100. */
  readonly percent?: number;
  /** Halt when failed / finished is above this, 0–1. Default 0.2. */
  readonly failureThreshold?: number;
  /** Finished devices needed before the ratio can halt the campaign. Default 1. */
  readonly minReports?: number;
}

/** A campaign's status. */
export interface CampaignStatus {
  readonly id: number;
  readonly name: string;
  readonly group: string;
  readonly state: 'running' | 'halted';
  readonly percent: number;
  readonly haltedReason: string | null;
  readonly counts: Readonly<Record<DeviceUpdateState, number>>;
  readonly failureRatio: number;
}

interface CampaignRow {
  id: number;
  name: string;
  grp: string;
  envelope: Buffer;
  percent: number;
  failure_threshold: number;
  min_reports: number;
  state: 'running' | 'halted';
  halted_reason: string | null;
}

/**
 * The campaign database.
 *
 * @example
 * ```ts
 * const store = new CampaignStore('ota.db', clock)
 * store.assign('line-3', ['en-1-SN1', 'en-1-SN2'])
 * const id = store.create({ name: 'fw 1.4', group: 'line-3', envelope, percent: 10, failureThreshold: 0.1 })
 * store.offerFor('en-1-SN1') // { campaignId, envelope } or undefined
 * store.report(id, 'en-1-SN1', 'confirmed')
 * ```
 */
export class CampaignStore {
  readonly #db: SqliteDatabase;
  readonly #clock: Clock;

  constructor(file: string, clock: Clock) {
    this.#db = openSqlite(file);
    this.#clock = clock;
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS devices (id TEXT PRIMARY KEY, grp TEXT NOT NULL, seen_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS device_groups (id TEXT PRIMARY KEY, grp TEXT NOT NULL, assigned_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS campaigns (
        id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, grp TEXT NOT NULL, envelope BLOB NOT NULL,
        percent INTEGER NOT NULL, failure_threshold REAL NOT NULL, min_reports INTEGER NOT NULL,
        state TEXT NOT NULL, halted_reason TEXT, created_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS device_status (
        campaign_id INTEGER NOT NULL REFERENCES campaigns(id), device_id TEXT NOT NULL, state TEXT NOT NULL,
        reason TEXT, updated_at INTEGER NOT NULL, PRIMARY KEY (campaign_id, device_id));
    `);
  }

  close(): void {
    this.#db.close();
  }

  /** Creates a running campaign; returns its id. Throws `ValidationError` for a bad spec. */
  create(spec: CampaignSpec): number {
    const percent = spec.percent ?? 100;
    const threshold = spec.failureThreshold ?? 0.2;
    const minReports = spec.minReports ?? 1;
    if (spec.name.trim() === '') throw new ValidationError('name', 'expected a non-empty name');
    if (spec.group.trim() === '') throw new ValidationError('group', 'expected a non-empty group');
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new ValidationError('percent', `expected an integer from 0 to 100, got ${percent}`);
    if (!(threshold >= 0 && threshold <= 1)) throw new ValidationError('failureThreshold', `expected a number from 0 to 1, got ${threshold}`);
    if (!Number.isInteger(minReports) || minReports < 1) throw new ValidationError('minReports', `expected an integer from 1, got ${minReports}`);
    const result = this.#db
      .prepare('INSERT INTO campaigns (name, grp, envelope, percent, failure_threshold, min_reports, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(spec.name, spec.group, Buffer.from(spec.envelope), percent, threshold, minReports, 'running', Math.round(this.#clock.now()));
    return Number(result.lastInsertRowid);
  }

  /** Sets the staged percentage (a higher one adds devices; those already in stay in). */
  setPercent(id: number, percent: number): void {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new ValidationError('percent', `expected an integer from 0 to 100, got ${percent}`);
    this.#row(id);
    this.#db.prepare('UPDATE campaigns SET percent = ? WHERE id = ?').run(percent, id);
  }

  /** Whether a device falls in the first `percent` of a campaign: a stable hash bucket 0–99. */
  static bucket(campaignId: number, deviceId: string): number {
    return createHash('sha256').update(`${campaignId}:${deviceId}`).digest().readUInt32BE(0) % 100;
  }

  /**
   * Puts devices in a group (moving them out of any other): the only way a device gets a group.
   * Throws `ValidationError` for an empty group or device id.
   */
  assign(group: string, deviceIds: readonly string[]): void {
    if (group.trim() === '') throw new ValidationError('group', 'expected a non-empty group');
    for (const [i, id] of deviceIds.entries()) if (id.trim() === '') throw new ValidationError(`devices[${i}]`, 'expected a non-empty device id');
    const now = Math.round(this.#clock.now());
    const insert = this.#db.prepare('INSERT INTO device_groups (id, grp, assigned_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET grp = excluded.grp, assigned_at = excluded.assigned_at');
    this.#db.transaction(() => {
      for (const id of deviceIds) insert.run(id, group, now);
    })();
  }

  /** Takes devices out of their group (they are offered nothing until assigned again). */
  unassign(deviceIds: readonly string[]): void {
    const remove = this.#db.prepare('DELETE FROM device_groups WHERE id = ?');
    this.#db.transaction(() => {
      for (const id of deviceIds) remove.run(id);
    })();
  }

  /** The devices the operator assigned, with their groups, sorted by id. */
  devices(group?: string): { id: string; group: string }[] {
    const rows = (group === undefined ? this.#db.prepare('SELECT id, grp FROM device_groups ORDER BY id').all() : this.#db.prepare('SELECT id, grp FROM device_groups WHERE grp = ? ORDER BY id').all(group)) as { id: string; grp: string }[];
    return rows.map((r) => ({ id: r.id, group: r.grp }));
  }

  /**
   * The envelope to offer a device, or undefined when it is in no group, no running campaign
   * targets its group, or it has finished the campaign. The group comes from {@link assign}; a
   * request cannot choose it.
   */
  offerFor(deviceId: string): { campaignId: number; envelope: Uint8Array } | undefined {
    const now = Math.round(this.#clock.now());
    const assigned = this.#db.prepare('SELECT grp FROM device_groups WHERE id = ?').get(deviceId) as { grp: string } | undefined;
    if (assigned === undefined) return undefined;
    this.#db.prepare('INSERT INTO devices (id, grp, seen_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET grp = excluded.grp, seen_at = excluded.seen_at').run(deviceId, assigned.grp, now);
    const campaigns = this.#db.prepare("SELECT * FROM campaigns WHERE grp = ? AND state = 'running' ORDER BY id").all(assigned.grp) as CampaignRow[];
    for (const campaign of campaigns) {
      if (CampaignStore.bucket(campaign.id, deviceId) >= campaign.percent) continue;
      const status = this.#db.prepare('SELECT state FROM device_status WHERE campaign_id = ? AND device_id = ?').get(campaign.id, deviceId) as { state: DeviceUpdateState } | undefined;
      if (status && (SUCCESS.has(status.state) || FAILURE.has(status.state))) continue;
      if (!status) this.#db.prepare('INSERT INTO device_status (campaign_id, device_id, state, updated_at) VALUES (?, ?, ?, ?)').run(campaign.id, deviceId, 'offered', now);
      return { campaignId: campaign.id, envelope: new Uint8Array(campaign.envelope) };
    }
    return undefined;
  }

  /**
   * Records a device's report; halts the campaign when the failure ratio passes its threshold.
   * Throws `ValidationError` for a device that was never offered this campaign's update: its
   * report would otherwise count (anyone could halt a campaign with made-up device ids).
   */
  report(campaignId: number, deviceId: string, state: DeviceUpdateState, reason?: string): CampaignStatus {
    if (!STATES.includes(state)) throw new ValidationError('state', `expected one of ${STATES.join(', ')}, got ${JSON.stringify(state)}`);
    const campaign = this.#row(campaignId);
    const offered = this.#db.prepare('SELECT 1 FROM device_status WHERE campaign_id = ? AND device_id = ?').get(campaignId, deviceId);
    if (offered === undefined) throw new ValidationError('device', `${deviceId} was not offered campaign ${campaignId}`);
    this.#db.transaction(() => {
      this.#db
        .prepare('UPDATE device_status SET state = ?, reason = ?, updated_at = ? WHERE campaign_id = ? AND device_id = ?')
        .run(state, reason ?? null, Math.round(this.#clock.now()), campaignId, deviceId);
      const status = this.status(campaignId);
      const finished = [...SUCCESS, ...FAILURE].reduce((n, s) => n + status.counts[s], 0);
      if (campaign.state === 'running' && finished >= campaign.min_reports && status.failureRatio > campaign.failure_threshold) {
        this.#db.prepare("UPDATE campaigns SET state = 'halted', halted_reason = ? WHERE id = ?").run(`failure ratio ${status.failureRatio.toFixed(3)} above ${campaign.failure_threshold}`, campaignId);
      }
    })();
    return this.status(campaignId);
  }

  /** Halts a campaign by hand. */
  halt(id: number, reason: string): void {
    this.#row(id);
    this.#db.prepare("UPDATE campaigns SET state = 'halted', halted_reason = ? WHERE id = ?").run(reason, id);
  }

  status(id: number): CampaignStatus {
    const campaign = this.#row(id);
    const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<DeviceUpdateState, number>;
    for (const row of this.#db.prepare('SELECT state, COUNT(*) AS n FROM device_status WHERE campaign_id = ? GROUP BY state').all(id) as { state: DeviceUpdateState; n: number }[]) counts[row.state] = row.n;
    const failed = [...FAILURE].reduce((n, s) => n + counts[s], 0);
    const finished = failed + [...SUCCESS].reduce((n, s) => n + counts[s], 0);
    return { id, name: campaign.name, group: campaign.grp, state: campaign.state, percent: campaign.percent, haltedReason: campaign.halted_reason, counts, failureRatio: finished === 0 ? 0 : failed / finished };
  }

  list(): CampaignStatus[] {
    return (this.#db.prepare('SELECT id FROM campaigns ORDER BY id').all() as { id: number }[]).map((r) => this.status(r.id));
  }

  #row(id: number): CampaignRow {
    const row = this.#db.prepare('SELECT * FROM campaigns WHERE id = ?').get(id) as CampaignRow | undefined;
    if (row === undefined) throw new ValidationError('campaign', `no campaign ${id}`);
    return row;
  }
}
