/**
 * One scheduler pass over one running campaign, in the caller's transaction: claim the campaign
 * (`FOR NO KEY UPDATE SKIP LOCKED`: a campaign another instance is scheduling is skipped), time
 * out or retry silent devices, decide (see decide.ts) and apply the decision (halt, pause for the
 * health check, finish, or open the next wave with an update guarded by the wave it expects), then
 * release offers at the policy's rate. Every statement is set-based: no query per device.
 */
import { applyDeltas, applyFailureDeltas, CAMPAIGN_COLUMNS, FIGURES_SQL, figuresOf, REACTIVATE_SQL, RELEASE_SQL, TIMEOUT_SQL, type CampaignRow, type Delta, type FiguresRow } from '../db/fleet-queries.js';
import type { SqlClient } from '../db/sql.js';
import type { SchedulePass } from '../fleet-store.js';
import { decide, rateBudget, type AssignmentState } from './decide.js';
import { DEFAULT_POLICY, type RolloutPolicy } from './policy.js';

/** What a pass may do besides SQL: the time, state changes and audit records (the store's). */
export interface PassContext {
  readonly now: number;
  setState(tx: SqlClient, id: number, to: 'running' | 'paused' | 'halted' | 'finished', reason: string | null, event: string, detail: Record<string, unknown>): Promise<void>;
  record(tx: SqlClient, event: string, campaignId: number, detail: Record<string, unknown>): Promise<void>;
}

/**
 * Schedules one campaign; adds what it did to `pass`.
 *
 * @example
 * ```ts
 * await db.transaction((tx) => scheduleCampaign(tx, 3, pass, context))
 * ```
 */
export async function scheduleCampaign(tx: SqlClient, id: number, pass: SchedulePass, context: PassContext): Promise<void> {
  const { rows } = await tx.query<CampaignRow>(`SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1 AND state = 'running' FOR NO KEY UPDATE SKIP LOCKED`, [id]);
  const row = rows[0];
  if (row === undefined) return;
  const policy = storedPolicy(row.policy);
  const now = context.now;
  // Silent devices (counted from their last word or their download slot, whichever is later):
  // re-offered while their timeout retries last, else timed out. Whole ms: the column is bigint.
  const timeouts = await tx.query<{ wave: number; old_state: AssignmentState; new_state: AssignmentState; n: number }>(TIMEOUT_SQL, [id, Math.round(now - policy.deviceTimeoutS * 1000), policy.retries.timeout ?? 0, now]);
  if (timeouts.rows.length > 0) {
    const deltas: Delta[] = [];
    let timedOut = 0;
    for (const r of timeouts.rows) {
      if (r.old_state !== r.new_state) deltas.push({ wave: r.wave, state: r.old_state, n: -r.n }, { wave: r.wave, state: r.new_state, n: r.n });
      if (r.new_state === 'timed-out') timedOut += r.n;
      else pass.retried += r.n;
    }
    pass.timedOut += timedOut;
    await applyDeltas(tx, id, deltas, now);
    if (timedOut > 0) await applyFailureDeltas(tx, id, 'timeout', timedOut);
  }
  const { waveCounts, failures, lastSuccessAt } = figuresOf((await tx.query<FiguresRow>(FIGURES_SQL, [id])).rows[0]!, row.wave_count, row.open_wave);
  const decision = decide({ policy, counts: waveCounts, failures, openWave: row.open_wave, lastSuccessAt, healthWave: row.health_wave, now });
  let openWave = row.open_wave;
  let rate = { rate_epoch: Number(row.rate_epoch), rate_minute: row.rate_minute, rate_released: row.rate_released };
  switch (decision.action) {
    case 'halt':
      await context.setState(tx, id, 'halted', decision.reason, 'campaign.halt', { reason: decision.reason });
      pass.halted.push({ campaign: id, reason: decision.reason });
      return;
    case 'pause':
      await tx.query('UPDATE campaigns SET health_wave = $2 WHERE id = $1', [id, decision.healthWave]);
      await context.setState(tx, id, 'paused', decision.reason, 'campaign.pause', { reason: decision.reason });
      pass.paused.push(id);
      return;
    case 'finish':
      await context.setState(tx, id, 'finished', null, 'campaign.finish', {});
      pass.finished.push(id);
      return;
    case 'open': {
      const opened = await tx.query(
        "UPDATE campaigns SET open_wave = $3, rate_epoch = $4, rate_minute = 0, rate_released = 0, updated_at = $4 WHERE id = $1 AND open_wave = $2 AND state = 'running'",
        [id, row.open_wave, decision.wave, now],
      );
      if (opened.rowCount === 1) {
        openWave = decision.wave;
        rate = { rate_epoch: now, rate_minute: 0, rate_released: 0 };
        pass.opened.push({ campaign: id, wave: decision.wave });
        await context.record(tx, 'campaign.wave', id, { wave: decision.wave });
      }
      break;
    }
    case 'none':
      break;
  }
  // Devices another campaign held while this one was paused get its offer back once free.
  await tx.query(REACTIVATE_SQL, [id, now]);
  pass.released += await release(tx, id, policy, openWave, rate, now);
}

/**
 * Offers the next pending devices of the open waves, as many as the rate allows this minute,
 * claimed with `FOR UPDATE SKIP LOCKED`; a device already active in another campaign waits.
 * Returns how many it offered.
 *
 * @example
 * ```ts
 * await release(tx, campaignId, policy, 0, { rate_epoch: now, rate_minute: 0, rate_released: 0 }, now) // 10
 * ```
 */
export async function release(tx: SqlClient, id: number, policy: RolloutPolicy, openWave: number, window: { rate_epoch: number; rate_minute: number; rate_released: number }, now: number): Promise<number> {
  let limit = 1_000_000_000;
  let minute = window.rate_minute;
  let released = window.rate_released;
  if (policy.rate !== undefined) {
    minute = Math.max(0, Math.floor((now - window.rate_epoch) / 60_000));
    if (minute !== window.rate_minute) released = 0;
    limit = rateBudget(policy.rate, minute) - released;
    if (limit <= 0) return 0;
  }
  const { rows } = await tx.query<{ wave: number; n: number }>(RELEASE_SQL, [id, openWave, limit, now]);
  const total = rows.reduce((n, r) => n + r.n, 0);
  if (total > 0) {
    await applyDeltas(tx, id, rows.flatMap((r) => [{ wave: r.wave, state: 'pending' as const, n: -r.n }, { wave: r.wave, state: 'offered' as const, n: r.n }]), now);
  }
  if (policy.rate !== undefined && (total > 0 || minute !== window.rate_minute)) {
    await tx.query('UPDATE campaigns SET rate_minute = $2, rate_released = $3 WHERE id = $1', [id, minute, released + total]);
  }
  return total;
}

/**
 * A stored policy: checked when the campaign was created, read back as it was written (defaults
 * filled in for fields a later version added).
 *
 * @example
 * ```ts
 * storedPolicy(row.policy).waves // [10, 90]
 * ```
 */
export function storedPolicy(value: unknown): RolloutPolicy {
  const stored = (typeof value === 'string' ? JSON.parse(value) : value) as Partial<RolloutPolicy>;
  return Object.freeze({ ...DEFAULT_POLICY, ...stored });
}
