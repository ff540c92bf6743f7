/**
 * The rollout's decisions as pure functions of a campaign's counters, its policy and the time: who
 * falls in which wave, how many offers the release rate allows now, and what a scheduler pass must
 * do (halt, pause for a health check, open the next wave, finish). The store applies them in SQL.
 */
import { createHash } from 'node:crypto';
import type { FailureType, ReleaseRate, RolloutPolicy } from './policy.js';

/** Where an assignment is: not yet released, offered, in progress as the device reported, or final. */
export type AssignmentState = 'pending' | 'offered' | 'downloading' | 'staged' | 'trial' | 'confirmed' | 'current' | 'failed' | 'rolled-back' | 'timed-out';
export const ASSIGNMENT_STATES: readonly AssignmentState[] = ['pending', 'offered', 'downloading', 'staged', 'trial', 'confirmed', 'current', 'failed', 'rolled-back', 'timed-out'];
/** Released and not final: the device may be working on it. */
export const IN_PROGRESS: readonly AssignmentState[] = ['offered', 'downloading', 'staged', 'trial'];
/** Success is the device's confirmed trial boot, or the image it already runs; nothing before. */
export const SUCCESS: readonly AssignmentState[] = ['confirmed', 'current'];
export const FAILED: readonly AssignmentState[] = ['failed', 'rolled-back', 'timed-out'];

/** Devices of one campaign per wave and state. */
export type WaveCounts = Record<AssignmentState, number>[];

/**
 * The wave and rank of each device in a campaign: devices sorted by a hash of campaign and device
 * id (stable, and unrelated to the order they were added), cut at the cumulative percentages
 * (rounded up, so a first wave of 1 % of 10 devices still holds one).
 *
 * @example
 * ```ts
 * waveOf(7, ['a', 'b', 'c', 'd'], [25, 75]) // Map { 'c' => { wave: 0, ord: 0 }, 'a' => { wave: 1, ord: 1 }, … }
 * ```
 */
export function waveOf(campaignId: number, deviceIds: readonly string[], waves: readonly number[]): Map<string, { wave: number; ord: number }> {
  const keyed = deviceIds.map((id) => ({ id, key: createHash('sha256').update(`${campaignId}:${id}`).digest('hex') }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const bounds: number[] = [];
  let cumulative = 0;
  for (const percent of waves) {
    cumulative += percent;
    bounds.push(cumulative >= 100 ? keyed.length : Math.ceil((keyed.length * cumulative) / 100));
  }
  const result = new Map<string, { wave: number; ord: number }>();
  let wave = 0;
  keyed.forEach(({ id }, ord) => {
    while (wave < bounds.length - 1 && ord >= (bounds[wave] ?? 0)) wave++;
    result.set(id, { wave, ord });
  });
  return result;
}

/**
 * Offers the rate allows in minute `minute` (0-based) of a wave: `start × factor^minute`, at most `cap`.
 *
 * @example
 * ```ts
 * rateBudget({ start: 10, factor: 2, cap: 100 }, 3) // 80
 * ```
 */
export function rateBudget(rate: ReleaseRate, minute: number): number {
  return Math.min(rate.cap, Math.floor(rate.start * rate.factor ** Math.min(minute, 1000)));
}

/**
 * Sum of some states over the waves up to `upToWave`.
 *
 * @example
 * ```ts
 * sum(counts, SUCCESS, 0) // confirmed + current in wave 0
 * ```
 */
export function sum(counts: WaveCounts, states: readonly AssignmentState[], upToWave = Infinity): number {
  let total = 0;
  counts.forEach((wave, i) => {
    if (i <= upToWave) for (const state of states) total += wave[state];
  });
  return total;
}

/** What a campaign's counters say about it. */
export interface CampaignFigures {
  readonly policy: RolloutPolicy;
  readonly counts: WaveCounts;
  readonly failures: Record<FailureType, number>;
  readonly openWave: number;
  /** The last success in waves up to the open one, ms; undefined when none. */
  readonly lastSuccessAt: number | undefined;
  /** The wave the health check last let through (0 when none). */
  readonly healthWave: number;
  readonly now: number;
}

/** What a scheduler pass does with a running campaign. */
export type Decision =
  | { readonly action: 'halt'; readonly reason: string }
  | { readonly action: 'pause'; readonly reason: string; readonly healthWave: number }
  | { readonly action: 'open'; readonly wave: number }
  | { readonly action: 'finish' }
  | { readonly action: 'none' };

/**
 * The decision for a running campaign, in order: abort criteria and the error threshold halt it;
 * a wave whose devices all finished below the success threshold halts it; a wave at the success
 * threshold whose soak has passed opens the next one (or pauses for the health check first); the
 * last wave with every device finished finishes it.
 *
 * @example
 * ```ts
 * decide({ policy, counts, failures, openWave: 0, lastSuccessAt: 0, healthWave: 0, now: 600_000 }) // { action: 'open', wave: 1 }
 * ```
 */
export function decide(figures: CampaignFigures): Decision {
  const { policy, counts, failures, openWave, now } = figures;
  const succeeded = sum(counts, SUCCESS);
  const failed = sum(counts, FAILED);
  const finished = succeeded + failed;
  for (const criterion of policy.abort) {
    const share = finished === 0 ? 0 : failures[criterion.failure] / finished;
    if (finished >= criterion.minSample && share > criterion.threshold) {
      return { action: 'halt', reason: `${criterion.failure} failures ${ratio(share)} of ${finished} finished, above ${criterion.threshold}` };
    }
  }
  if (finished >= policy.minSample && failed / finished > policy.errorThreshold) {
    return { action: 'halt', reason: `failure ratio ${ratio(failed / finished)} of ${finished} finished, above errorThreshold ${policy.errorThreshold}` };
  }
  const targeted = sum(counts, [...ASSIGNMENT_STATES], openWave);
  const succeededSoFar = sum(counts, SUCCESS, openWave);
  const open = sum(counts, ['pending', ...IN_PROGRESS], openWave);
  const reached = targeted === 0 || succeededSoFar / targeted >= policy.successThreshold;
  const last = openWave >= policy.waves.length - 1;
  if (!reached) {
    if (open === 0) return { action: 'halt', reason: `wave ${openWave} ended with success ${ratio(succeededSoFar / targeted)}, below successThreshold ${policy.successThreshold}` };
    return { action: 'none' };
  }
  if (last) return open === 0 ? { action: 'finish' } : { action: 'none' };
  if (figures.lastSuccessAt !== undefined && now < figures.lastSuccessAt + policy.soakS * 1000) return { action: 'none' };
  if (policy.healthCheck === 'pause' && figures.healthWave < openWave + 1) {
    return { action: 'pause', reason: `health check: wave ${openWave} done, resume to open wave ${openWave + 1}`, healthWave: openWave + 1 };
  }
  return { action: 'open', wave: openWave + 1 };
}

function ratio(value: number): string {
  return value.toFixed(3);
}
