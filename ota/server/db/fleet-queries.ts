/**
 * The FleetStore's SQL: the poll's lookup, the scheduler's set-based statements (time-outs,
 * release, download slots), a report's one statement, and the counters. Counters are split in
 * shards: the scheduler and the operator write shard 0, a device's reports shard 1 + a hash of
 * its id mod 16, so concurrent reports do not queue on one counter row; a count is the sum over
 * the shards (a single shard may go negative). Every writer locks counter rows in (wave, state)
 * order, so writers never deadlock on them.
 */
import { ASSIGNMENT_STATES, SUCCESS, type AssignmentState, type WaveCounts } from '../rollout/decide.js';
import { FAILURE_TYPES, type FailureType, type RolloutPolicy } from '../rollout/policy.js';
import type { SqlClient } from './sql.js';

/** A campaign row as the store reads it (without its envelope). */
export interface CampaignRow {
  id: number;
  name: string;
  kind: 'update' | 'rollback';
  rollback_of: number | null;
  sequence: string | number;
  policy: RolloutPolicy;
  wave_count: number;
  state: 'running' | 'paused' | 'halted' | 'finished';
  reason: string | null;
  open_wave: number;
  health_wave: number;
  targeted: number;
  rate_epoch: string | number;
  rate_minute: number;
  rate_released: number;
}

/** A change of one counter. */
export type Delta = { wave: number; state: AssignmentState; n: number };

/**
 * Counts of every state, zero.
 *
 * @example
 * ```ts
 * zeroCounts().confirmed // 0
 * ```
 */
export function zeroCounts(): Record<AssignmentState, number> {
  return Object.fromEntries(ASSIGNMENT_STATES.map((s) => [s, 0])) as Record<AssignmentState, number>;
}

/**
 * The poll's query ($1 device id, $2 the kill switch's flag name): one lookup in the partial index
 * `assignments(device_id) WHERE active`. Exported for `EXPLAIN` in tests and diagnostics.
 */
export const OFFER_SQL = `SELECT campaign_id, etag_version FROM assignments
  WHERE device_id = $1 AND active AND NOT EXISTS (SELECT 1 FROM fleet_flags WHERE name = $2)
  ORDER BY campaign_id LIMIT 1`;

/**
 * The database's clock in ms since the epoch (`clock_timestamp()`, the time when it is read): the
 * one clock every instance sharing the database agrees on.
 */
export const DB_NOW = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/**
 * `$n` when it holds a time, else the database's clock: statements take the store's time as a
 * parameter, null when the store keeps time on the database (see `FleetStoreOptions.time`).
 *
 * @example
 * ```ts
 * nowOr('$3') // "coalesce($3::bigint, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)"
 * ```
 */
export function nowOr(param: string): string {
  return `coalesce(${param}::bigint, ${DB_NOW})`;
}

/**
 * Claims the next download slot of campaign $1 for device $2 at time $3 (null: the database's
 * clock), slots $4 ms apart, unless it has one; answers the time it used as `now`.
 */
export const SLOT_SQL = `WITH t AS (SELECT ${nowOr('$3')} AS now),
  mine AS (
    SELECT download_at FROM assignments WHERE campaign_id = $1 AND device_id = $2 AND state <> 'pending'),
  claimed AS (
    INSERT INTO download_slots (campaign_id, next_at) SELECT $1, t.now + $4 FROM t WHERE EXISTS (SELECT 1 FROM mine WHERE download_at IS NULL)
    ON CONFLICT (campaign_id) DO UPDATE SET next_at = GREATEST(download_slots.next_at, excluded.next_at - $4) + $4
    RETURNING next_at - $4 AS at),
  stored AS (
    UPDATE assignments SET download_at = (SELECT at FROM claimed)
    WHERE campaign_id = $1 AND device_id = $2 AND download_at IS NULL AND EXISTS (SELECT 1 FROM claimed))
  SELECT (SELECT download_at FROM mine) AS existing, (SELECT at FROM claimed) AS claimed, (SELECT now FROM t) AS now`;

/**
 * Takes or renews lease $1 for holder $2 for $3 ms at time $4 (null: the database's clock): taken
 * when free, expired, or already the holder's.
 */
export const LEASE_SQL = `INSERT INTO leases (name, holder, expires_at) SELECT $1, $2, ${nowOr('$4')} + $3
  ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
  WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.expires_at - $3 RETURNING holder`;

/**
 * Offers campaign $1's released, unfinished assignments again to their devices (time $2) when the
 * device is still in the fleet and active in no other campaign: on resume, and in every scheduler
 * pass for a device another campaign held meanwhile. At most one active assignment per device
 * (the unique index `assignments_active_device` enforces it).
 */
export const REACTIVATE_SQL = `UPDATE assignments a SET active = true, etag_version = a.etag_version + 1, updated_at = $2
  WHERE a.campaign_id = $1 AND a.state IN ('offered', 'downloading', 'staged', 'trial') AND NOT a.active
    AND EXISTS (SELECT 1 FROM devices d WHERE d.id = a.device_id)
    AND NOT EXISTS (SELECT 1 FROM assignments b WHERE b.device_id = a.device_id AND b.active)`;

/**
 * Silent devices of campaign $1 (no word since $2, and a download slot that began before $2: a
 * device told to wait for its slot is not silent while it waits): re-offered while their time-out
 * retries last ($3, counted in `retried.timeout`), else timed out. Only active assignments: one
 * whose device another campaign holds waits for it.
 */
export const TIMEOUT_SQL = `WITH picked AS (
    SELECT device_id, state AS old_state, coalesce((retried->>'timeout')::int, 0) AS used FROM assignments
    WHERE campaign_id = $1 AND state IN ('offered', 'downloading', 'staged', 'trial') AND active AND updated_at < $2
      AND (download_at IS NULL OR download_at < $2)
    FOR UPDATE SKIP LOCKED),
  changed AS (
    UPDATE assignments a SET
      state = CASE WHEN picked.used < $3 THEN 'offered' ELSE 'timed-out' END,
      failure = CASE WHEN picked.used < $3 THEN NULL ELSE 'timeout' END,
      attempts = CASE WHEN picked.used < $3 THEN a.attempts + 1 ELSE a.attempts END,
      retried = CASE WHEN picked.used < $3 THEN a.retried || jsonb_build_object('timeout', picked.used + 1) ELSE a.retried END,
      active = a.active AND picked.used < $3,
      etag_version = a.etag_version + 1,
      updated_at = $4
    FROM picked WHERE a.campaign_id = $1 AND a.device_id = picked.device_id
    RETURNING a.wave, picked.old_state, a.state AS new_state)
  SELECT wave, old_state, new_state, count(*)::int AS n FROM changed GROUP BY wave, old_state, new_state`;

export const RELEASE_SQL = `WITH picked AS (
    SELECT p.device_id FROM assignments p
    WHERE p.campaign_id = $1 AND p.state = 'pending' AND p.wave <= $2
      AND EXISTS (SELECT 1 FROM devices d WHERE d.id = p.device_id)
      AND NOT EXISTS (SELECT 1 FROM assignments b WHERE b.device_id = p.device_id AND b.active)
    ORDER BY p.wave, p.ord LIMIT $3
    FOR UPDATE OF p SKIP LOCKED),
  changed AS (
    UPDATE assignments a SET state = 'offered', active = true, updated_at = $4, etag_version = a.etag_version + 1
    FROM picked WHERE a.campaign_id = $1 AND a.device_id = picked.device_id
    RETURNING a.wave)
  SELECT wave, count(*)::int AS n FROM changed GROUP BY wave`;

/** A campaign's columns but its envelope (read once per campaign, see `#cached`). */
export const CAMPAIGN_COLUMNS = 'id, name, kind, rollback_of, sequence, policy, wave_count, state, reason, open_wave, health_wave, targeted, rate_epoch, rate_minute, rate_released';

/**
 * A campaign's counters summed over their shards, as JSON columns; `id` is the SQL of the campaign id.
 *
 * @example
 * ```ts
 * await db.query(`SELECT ${figuresColumns('$1')}`, [3])
 * ```
 */
export function figuresColumns(id: string): string {
  return `(SELECT coalesce(json_agg(json_build_array(wave, state, n, updated_at)), '[]'::json)
    FROM (SELECT wave, state, sum(n)::int AS n, max(updated_at) AS updated_at FROM counters WHERE campaign_id = ${id} GROUP BY wave, state) k) AS counters,
  (SELECT coalesce(json_agg(json_build_array(failure, n)), '[]'::json)
    FROM (SELECT failure, sum(n)::int AS n FROM failure_counters WHERE campaign_id = ${id} GROUP BY failure) f) AS failures`;
}
export const STATUS_SQL = `SELECT ${CAMPAIGN_COLUMNS}, ${figuresColumns('$1')} FROM campaigns WHERE id = $1`;
/** Campaigns in states $1 (null: any) with an id below $2 (null: any), the newest $3 (null: all), newest first. */
export const LIST_SQL = `SELECT ${CAMPAIGN_COLUMNS}, ${figuresColumns('campaigns.id')} FROM campaigns
  WHERE ($1::text[] IS NULL OR state = ANY($1::text[])) AND ($2::int IS NULL OR id < $2::int)
  ORDER BY id DESC LIMIT $3::int`;
export const FIGURES_SQL = `SELECT ${figuresColumns('$1')}`;

export interface FiguresRow {
  counters: [number, AssignmentState, number, number | string][] | string;
  failures: [FailureType, number][] | string;
}

/**
 * Per-wave counts, failures by type and the last success (up to `upToWave`) from the JSON
 * columns of {@link figuresColumns}.
 *
 * @example
 * ```ts
 * figuresOf({ counters: [[0, 'confirmed', 2, 1000]], failures: [] }, 1, 0).lastSuccessAt // 1000
 * ```
 */
export function figuresOf(row: FiguresRow, waveCount: number, upToWave: number): { waveCounts: WaveCounts; failures: Record<FailureType, number>; lastSuccessAt: number | undefined } {
  const waveCounts: WaveCounts = Array.from({ length: waveCount }, () => zeroCounts());
  let lastSuccessAt: number | undefined;
  const counters = (typeof row.counters === 'string' ? JSON.parse(row.counters) : row.counters) as [number, AssignmentState, number, number | string][];
  for (const [w, state, n, updatedAt] of counters) {
    const wave = waveCounts[w];
    if (wave !== undefined && state in wave) wave[state] = n;
    // A success counter row exists only once a device reached that state: its time is the last success.
    if (SUCCESS.includes(state) && w <= upToWave) lastSuccessAt = Math.max(lastSuccessAt ?? -Infinity, Number(updatedAt));
  }
  const failures = Object.fromEntries(FAILURE_TYPES.map((f) => [f, 0])) as Record<FailureType, number>;
  const failed = (typeof row.failures === 'string' ? JSON.parse(row.failures) : row.failures) as [FailureType, number][];
  for (const [failure, n] of failed) if (failure in failures) failures[failure] = n;
  return { waveCounts, failures, lastSuccessAt };
}

/** Counter shards written by device reports (1…REPORT_SHARDS); shard 0 is the scheduler's and the operator's. */
export const REPORT_SHARDS = 16;

/**
 * The counter shard of a device's reports: 1 + FNV-1a of its id mod {@link REPORT_SHARDS}.
 *
 * @example
 * ```ts
 * shardOf('en-1-SN1') // a number from 1 to 16, always the same for this id
 * ```
 */
export function shardOf(deviceId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < deviceId.length; i++) hash = Math.imul(hash ^ deviceId.charCodeAt(i), 0x01000193) >>> 0;
  return 1 + (hash % REPORT_SHARDS);
}

/**
 * Deltas merged per (wave, state) and sorted, zeros dropped: every writer locks counter rows in one order.
 *
 * @example
 * ```ts
 * mergeDeltas([{ wave: 0, state: 'offered', n: 1 }, { wave: 0, state: 'offered', n: -1 }]) // []
 * ```
 */
export function mergeDeltas(deltas: readonly Delta[]): Delta[] {
  const merged = new Map<string, Delta>();
  for (const d of deltas) {
    const key = `${String(d.wave).padStart(6, '0')}:${d.state}`;
    const m = merged.get(key);
    if (m) m.n += d.n;
    else merged.set(key, { ...d });
  }
  return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, d]) => d).filter((d) => d.n !== 0);
}

export const COUNTERS_UPSERT = `INSERT INTO counters (campaign_id, wave, state, shard, n, updated_at)
  SELECT $1, w, s, $6, n, $5 FROM unnest($2::int[], $3::text[], $4::int[]) WITH ORDINALITY AS t(w, s, n, i) ORDER BY i
  ON CONFLICT (campaign_id, wave, state, shard) DO UPDATE SET n = counters.n + excluded.n, updated_at = CASE WHEN excluded.n > 0 THEN excluded.updated_at ELSE counters.updated_at END`;

/**
 * Adds deltas to shard 0 of the counters in one statement.
 *
 * @example
 * ```ts
 * await applyDeltas(tx, 3, [{ wave: 0, state: 'pending', n: -5 }, { wave: 0, state: 'offered', n: 5 }], now)
 * ```
 */
export async function applyDeltas(tx: SqlClient, campaignId: number, deltas: readonly Delta[], now: number): Promise<void> {
  const rows = mergeDeltas(deltas);
  if (rows.length === 0) return;
  await tx.query(COUNTERS_UPSERT, [campaignId, rows.map((d) => d.wave), rows.map((d) => d.state), rows.map((d) => d.n), now, 0]);
}

/**
 * Adds `n` failures of one type to shard 0 of the failure counters.
 *
 * @example
 * ```ts
 * await applyFailureDeltas(tx, 3, 'timeout', 12)
 * ```
 */
export async function applyFailureDeltas(tx: SqlClient, campaignId: number, failure: FailureType, n: number): Promise<void> {
  await tx.query('INSERT INTO failure_counters (campaign_id, failure, shard, n) VALUES ($1, $2, 0, $3) ON CONFLICT (campaign_id, failure, shard) DO UPDATE SET n = failure_counters.n + excluded.n', [campaignId, failure, n]);
}

/**
 * A report's changes in one statement: the assignment, its counter and failure-counter shard, the
 * report row and the device's last-seen time (its row already locked by the caller).
 */
export const REPORT_SQL = `WITH changed AS (
    UPDATE assignments SET state = $3, failure = $4, reason = $5, attempts = $6, active = $7, updated_at = $8, etag_version = etag_version + $9, retried = $18::jsonb
    WHERE campaign_id = $1 AND device_id = $2 RETURNING wave),
  counted AS (
    INSERT INTO counters (campaign_id, wave, state, shard, n, updated_at)
    SELECT $1, $10, s, $13, n, $8 FROM unnest($11::text[], $12::int[]) WITH ORDINALITY AS t(s, n, i) ORDER BY i
    ON CONFLICT (campaign_id, wave, state, shard) DO UPDATE SET n = counters.n + excluded.n, updated_at = CASE WHEN excluded.n > 0 THEN excluded.updated_at ELSE counters.updated_at END),
  failed AS (
    INSERT INTO failure_counters (campaign_id, failure, shard, n)
    SELECT $1, f, $13, n FROM unnest($14::text[], $15::int[]) WITH ORDINALITY AS t(f, n, i) ORDER BY i
    ON CONFLICT (campaign_id, failure, shard) DO UPDATE SET n = failure_counters.n + excluded.n),
  reported AS (
    INSERT INTO reports (campaign_id, device_id, state, failure, reason, at) VALUES ($1, $2, $16, $17, $5, $8))
  UPDATE devices SET seen_at = $8 WHERE id = $2`;
