/**
 * Words of the device protocol between the update agent and the update server (the offer, the
 * reports): both sides name them from here, so they cannot drift apart.
 */

/** What a device reports about a campaign's update, in order; the last four are outcomes. */
export type ReportedState = 'downloading' | 'staged' | 'trial' | 'confirmed' | 'current' | 'failed' | 'rolled-back';

/** Why an update failed: the kinds a rollout policy counts, retries and aborts on. */
export const FAILURE_TYPES = ['download', 'verify', 'install', 'health', 'timeout', 'other'] as const;

/** One of {@link FAILURE_TYPES}. */
export type FailureType = (typeof FAILURE_TYPES)[number];
