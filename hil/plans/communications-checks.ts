/**
 * The comparisons behind the communications plan, as pure functions over samples: telemetry
 * complete against what the device reported, OPC UA data changes and reads against telemetry, and
 * the reading of a command reply.
 *
 * A sample is identified by its channel and its time. Times travel at different resolutions — SenML
 * seconds resolved to 10 µs here, OPC UA `DateTime` through JavaScript `Date` to 1 ms — so two
 * samples are the same sample when their channels are equal and their times differ by less than
 * the coarser resolution of the two paths compared.
 */
import { decode } from 'cbor-x';
import type { Sample } from '../../sdk/core/sample.js';

/** Tolerance on times of one sample seen through SenML on two paths: below SenML's 10 µs step here. */
export const SENML_TIME_TOLERANCE_MS = 0.02;
/**
 * Tolerance on times of one sample seen through SenML and through OPC UA: the OPC UA time reaches
 * JavaScript as a `Date` (whole ms, truncated), the SenML time to 10 µs (rounded).
 */
export const OPCUA_TIME_TOLERANCE_MS = 1.01;

/** Samples of `channel` sorted by time. */
function byChannel(samples: readonly Sample[]): Map<string, Sample[]> {
  const channels = new Map<string, Sample[]>();
  for (const sample of samples) {
    let list = channels.get(sample.channel);
    if (list === undefined) channels.set(sample.channel, (list = []));
    list.push(sample);
  }
  for (const list of channels.values()) list.sort((a, b) => a.time - b.time);
  return channels;
}

/** The sample of `sorted` nearest in time to `time`, with its distance. */
function nearest(sorted: readonly Sample[] | undefined, time: number): { sample: Sample; distance: number } | undefined {
  if (sorted === undefined || sorted.length === 0) return undefined;
  let low = 0;
  let high = sorted.length - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (sorted[mid]!.time < time) low = mid + 1;
    else high = mid;
  }
  let best = sorted[low]!;
  if (low > 0 && Math.abs(sorted[low - 1]!.time - time) <= Math.abs(best.time - time)) best = sorted[low - 1]!;
  return { sample: best, distance: Math.abs(best.time - time) };
}

/** What {@link completeness} found. */
export interface Completeness {
  /** Reported samples never observed. */
  readonly missing: readonly Sample[];
  /** Observed samples the device never reported. */
  readonly unexpected: readonly Sample[];
}

/**
 * Compares the samples a device reported with those observed: each reported sample must have been
 * observed (same channel, time within `toleranceMs`), and nothing else.
 *
 * @example
 * ```ts
 * completeness(reported, observed).missing.length // 0 when telemetry arrived complete
 * ```
 */
export function completeness(reported: readonly Sample[], observed: readonly Sample[], toleranceMs = SENML_TIME_TOLERANCE_MS): Completeness {
  const seen = byChannel(observed);
  const sent = byChannel(reported);
  const missing = reported.filter((sample) => !((nearest(seen.get(sample.channel), sample.time)?.distance ?? Infinity) <= toleranceMs));
  const unexpected = observed.filter((sample) => !((nearest(sent.get(sample.channel), sample.time)?.distance ?? Infinity) <= toleranceMs));
  return { missing, unexpected };
}

/** What {@link matchSubscription} found. */
export interface SubscriptionMatch {
  /** Telemetry samples with an OPC UA data change of the same channel and time. */
  readonly matched: number;
  /** Telemetry samples without one. */
  readonly unmatched: readonly Sample[];
  /** Of the matched: values that differ, or units that differ. */
  readonly valueMismatches: readonly { readonly telemetry: Sample; readonly opcua: Sample }[];
  readonly unitMismatches: readonly { readonly telemetry: Sample; readonly opcua: Sample }[];
  /** Largest time difference of a matched pair, ms. */
  readonly maxTimeOffsetMs: number;
}

/**
 * Finds, for each telemetry sample, the OPC UA data change of the same channel and time (within
 * `toleranceMs`), and compares value and unit. The server updates its variables with every sample
 * while telemetry carries the reported ones (deadband, heartbeat), so only telemetry must be
 * covered.
 *
 * @example
 * ```ts
 * const match = matchSubscription(telemetry, dataChanges)
 * match.unmatched.length === 0 && match.valueMismatches.length === 0
 * ```
 */
export function matchSubscription(telemetry: readonly Sample[], opcua: readonly Sample[], toleranceMs = OPCUA_TIME_TOLERANCE_MS): SubscriptionMatch {
  const changes = byChannel(opcua);
  const unmatched: Sample[] = [];
  const valueMismatches: { telemetry: Sample; opcua: Sample }[] = [];
  const unitMismatches: { telemetry: Sample; opcua: Sample }[] = [];
  let matched = 0;
  let maxTimeOffsetMs = 0;
  for (const sample of telemetry) {
    const found = nearest(changes.get(sample.channel), sample.time);
    if (found === undefined || !(found.distance <= toleranceMs)) {
      unmatched.push(sample);
      continue;
    }
    matched++;
    maxTimeOffsetMs = Math.max(maxTimeOffsetMs, found.distance);
    if (found.sample.value !== sample.value) valueMismatches.push({ telemetry: sample, opcua: found.sample });
    if (found.sample.unit !== sample.unit) unitMismatches.push({ telemetry: sample, opcua: found.sample });
  }
  return { matched, unmatched, valueMismatches, unitMismatches, maxTimeOffsetMs };
}

/** How one OPC UA read compares with telemetry. */
export type ReadVerdict =
  /** A telemetry sample has the read's time: value and unit are equal. */
  | { readonly kind: 'same-sample' }
  /** A newer sample the device did not report: within its reporting deadband of the last report. */
  | { readonly kind: 'within-deadband'; readonly difference: number }
  /**
   * No telemetry of the channel at or before the read's time to compare with, or none at or after
   * it yet (whether the device reports the read sample is not known yet).
   */
  | { readonly kind: 'not-comparable' }
  | { readonly kind: 'mismatch'; readonly reason: string };

/**
 * Judges an OPC UA read against telemetry of its channel. The device reports a sample only when it
 * moved past the channel's deadband (or at the heartbeat), so a read newer than the last report
 * must lie within `deadband` of it, and be no older than `heartbeatMs` after it. A read is judged
 * once telemetry of its channel at or after its time has arrived: until then the device may still
 * be reporting it.
 *
 * @example
 * ```ts
 * judgeRead(read, telemetry, { deadband: 0.05, heartbeatMs: 60_000 }) // { kind: 'within-deadband', difference: 0.01 }
 * ```
 */
export function judgeRead(read: Sample, telemetry: readonly Sample[], reporting: { readonly deadband: number; readonly heartbeatMs: number | undefined }, toleranceMs = OPCUA_TIME_TOLERANCE_MS): ReadVerdict {
  const channel = telemetry.filter((sample) => sample.channel === read.channel);
  const last = channel.filter((sample) => sample.time <= read.time + toleranceMs).sort((a, b) => a.time - b.time).at(-1);
  if (last === undefined || !channel.some((sample) => sample.time >= read.time - toleranceMs)) return { kind: 'not-comparable' };
  if (last.unit !== read.unit) return { kind: 'mismatch', reason: `unit ${read.unit} over OPC UA, ${last.unit} in telemetry` };
  if (Math.abs(last.time - read.time) <= toleranceMs) {
    return last.value === read.value ? { kind: 'same-sample' } : { kind: 'mismatch', reason: `value ${String(read.value)} over OPC UA, ${String(last.value)} in telemetry at the same time` };
  }
  if (read.value === null || last.value === null) return { kind: 'mismatch', reason: 'a sample without a value, not reported' };
  const difference = Math.abs(read.value - last.value);
  // A deadband compares with the last reported value; allow the last bit of a double.
  if (difference > reporting.deadband * (1 + 1e-12) + 1e-12) return { kind: 'mismatch', reason: `value ${read.value} over OPC UA is ${difference} from the last report ${last.value}, beyond the deadband ${reporting.deadband}` };
  if (reporting.heartbeatMs !== undefined && read.time - last.time > reporting.heartbeatMs + 1000) return { kind: 'mismatch', reason: `no report for ${Math.round(read.time - last.time)} ms, beyond the heartbeat` };
  return { kind: 'within-deadband', difference };
}

/** A command reply as the device sends it: `{ ok: true, result? }` or `{ ok: false, error: { code, message } }`. */
export type ParsedReply = { readonly ok: true; readonly result?: unknown } | { readonly ok: false; readonly code: string; readonly message: string } | { readonly ok: 'unreadable'; readonly detail: string };

/**
 * Reads a command reply: JSON (a JSON request's reply) or CBOR (a CBOR request's).
 *
 * @example
 * ```ts
 * parseReply(new TextEncoder().encode('{"ok":false,"error":{"code":"ERR_VALIDATION","message":"…"}}')) // { ok: false, code: 'ERR_VALIDATION', message: '…' }
 * ```
 */
export function parseReply(payload: Uint8Array): ParsedReply {
  let value: unknown;
  try {
    value = payload[0] === 0x7b ? JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)) : decode(payload);
  } catch (error) {
    return { ok: 'unreadable', detail: error instanceof Error ? error.message.split('\n')[0]! : String(error) };
  }
  const reply = value as { ok?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown } } | null;
  if (reply?.ok === true) return 'result' in reply ? { ok: true, result: reply.result } : { ok: true };
  if (reply?.ok === false && typeof reply.error?.code === 'string') return { ok: false, code: reply.error.code, message: String(reply.error.message ?? '') };
  return { ok: 'unreadable', detail: `not a command result: ${JSON.stringify(value)?.slice(0, 80)}` };
}
