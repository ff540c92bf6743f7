/**
 * Communications plan: the device's MQTT and OPC UA paths, tested from outside.
 *
 * 1. `broker-outage` — telemetry arrives complete through a broker outage: the broker stops for
 *    5 s (longer until the device has reported a sample meanwhile, 65 s at most) and comes back
 *    on the same port; every sample the device reported is observed on the
 *    broker exactly once afterwards (the durable outbox holds what the broker could not take).
 *    Counted: samples held during the outage, missing samples (limit 0), samples observed that the
 *    device never reported (limit 0), duplicate deliveries (recorded: QoS 1 allows them, the
 *    subscriber drops them by channel and time), the time the backlog took to arrive, and the
 *    delivery delay of every sample as a series (the report plots it).
 * 2. `opcua-matches-telemetry` — every telemetry sample has an OPC UA data change of the same
 *    channel, time (within 1.01 ms: OPC UA times reach the harness in whole ms; a sample period is
 *    100 ms or more), value and unit; and OPC UA reads agree with telemetry: each telemetry sample
 *    is followed by a read of its channel, which gives the same sample or a newer one within the
 *    channel's reporting deadband of it. Compared: the first 30 telemetry samples (75 s at most).
 * 3. `malformed-commands` — bad CBOR, an unknown command and an argument of the wrong type on the
 *    device's command topic are each refused with an error reply, and the device keeps reporting.
 *
 * On an emulated target the physical inputs that name a channel follow a sine around mid-range
 * from the first phase on, so that the device reports every sample (see `exerciseInputs`).
 *
 * It needs a target that runs the device with its broker and OPC UA server and can interrupt the
 * broker: `--target emulated` (observed over MQTT, the target's own broker), `firmata:PATH`,
 * `linux`; against Mosquitto the broker must keep sessions across a restart (`persistence true`).
 */
import { fileURLToPath } from 'node:url';
import { NotSupportedError } from '../../sdk/core/errors.js';
import type { Sample } from '../../sdk/core/sample.js';
import { canConvert } from '../../sdk/core/units.js';
import { resolveDeadband } from '../../sdk/pipeline/report-by-exception.js';
import { defineTestPlan } from '../plan/define-test-plan.js';
import type { StepContext } from '../plan/spec.js';
import { communicationsOf, type TargetCommunications } from '../targets/communications.js';
import { OPCUA_TIME_TOLERANCE_MS, completeness, judgeRead, matchSubscription, parseReply } from './communications-checks.js';

/** Telemetry before the outage, the outage, and telemetry after it, ms. */
export const LEAD_MS = 3000;
export const OUTAGE_MS = 5000;
/** Longest outage, waiting for a sample to hold back (beyond env-node's 60 s heartbeat), ms. */
export const MAX_OUTAGE_MS = 65_000;
export const TRAIL_MS = 3000;
/** Longest wait for the backlog after the trail, ms (the device's reconnect back-off is 30 s at most). */
export const DRAIN_MS = 40_000;
/** Telemetry samples compared with OPC UA, and the longest wait for them (beyond env-node's 60 s heartbeat), ms. */
export const TELEMETRY_SAMPLES = 30;
export const WINDOW_MS = 75_000;
/** Longest wait for OPC UA data changes of telemetry already received, ms. */
export const SETTLE_MS = 5000;
/** Longest wait for the device's samples after the malformed requests (beyond a 60 s heartbeat), ms. */
export const ALIVE_MS = 65_000;
/** Longest wait for a command reply, ms. */
export const REPLY_MS = 5000;

const POLL_MS = 250;
/** Period of the sine the emulated inputs follow, ms. */
const EXERCISE_PERIOD_MS = 60_000;

/** The target's communication paths, or the phase ends as aborted saying what is missing. */
function paths(ctx: StepContext): TargetCommunications {
  const comms = communicationsOf(ctx.target);
  if (comms === undefined) {
    return ctx.abort(`target ${ctx.target.description} (${ctx.target.observation}) does not expose the device's MQTT and OPC UA side: run with --target emulated and observation mqtt, firmata:PATH or linux`);
  }
  return comms;
}

/** Samples of the target and of the device's own reports from now on, with arrival times. */
function collect(ctx: StepContext, comms: TargetCommunications): { reported: Sample[]; observed: Sample[]; arrivals: Map<Sample, number>; stop(): void } {
  const reported: Sample[] = [];
  const observed: Sample[] = [];
  const arrivals = new Map<Sample, number>();
  const offReported = comms.onReported((sample) => reported.push(sample));
  const offObserved = ctx.target.onSample((sample) => {
    observed.push(sample);
    arrivals.set(sample, ctx.target.clock.now());
  });
  return {
    reported,
    observed,
    arrivals,
    stop() {
      offReported();
      offObserved();
    },
  };
}

/**
 * On a target with physical inputs, each input that names a channel follows a sine around the
 * middle of the channel's range (amplitude 5 % of the span, period 60 s): far faster than the
 * channel's deadband, so the device reports every sample and the paths carry a steady stream. A
 * real board's device moves as it moves.
 */
async function exerciseInputs(ctx: StepContext): Promise<void> {
  const driven: string[] = [];
  const t0 = ctx.target.clock.now();
  for (const input of ctx.target.inputs()) {
    const channel = ctx.target.model.channels.find((candidate) => candidate.id === input.name);
    if (channel === undefined || !canConvert(channel.unit, input.unit)) continue;
    const middle = (channel.range.min + channel.range.max) / 2;
    const amplitude = 0.05 * (channel.range.max - channel.range.min);
    await ctx.target.drive(input.name, { valueAt: (t) => middle + amplitude * Math.sin((2 * Math.PI * (t - t0)) / EXERCISE_PERIOD_MS) }, channel.unit);
    driven.push(`${input.name} ${middle} ± ${amplitude} ${channel.unit}`);
  }
  ctx.log(driven.length === 0 ? 'no physical input to drive: the device reports as its world moves' : `inputs driven (sine, ${EXERCISE_PERIOD_MS / 1000} s): ${driven.join(', ')}`);
}

async function telemetryThroughOutage(ctx: StepContext): Promise<void> {
  const comms = paths(ctx);
  if (ctx.target.observation !== 'mqtt') ctx.abort(`telemetry is observed ${ctx.target.observation}, not over MQTT: the plan's observation must be mqtt`);
  if (!comms.canInterruptBroker) ctx.abort(`target ${ctx.target.description} cannot stop and restart the broker at ${comms.brokerUrl}`);
  const clock = ctx.target.clock;
  const statsBefore = comms.telemetryStats();
  const subscribedAt = clock.now();
  const seen = collect(ctx, comms);
  try {
    await ctx.wait(LEAD_MS);
    // Down for 5 s, and on until the device reported a sample meanwhile (a real device at rest
    // reports at its deadband or heartbeat): an outage that holds nothing back tests nothing.
    const downSince = clock.now();
    const heldBack = (): boolean => seen.reported.some((sample) => sample.time >= downSince);
    const outage = await comms.outage(OUTAGE_MS, { until: heldBack, maxMs: MAX_OUTAGE_MS });
    ctx.log(`broker ${comms.brokerUrl} stopped for ${Math.round(outage.restartedAt - outage.stoppedAt)} ms and restarted on the same port`);
    await ctx.wait(TRAIL_MS);
    const cut = clock.now();
    const due = (): Sample[] => seen.reported.filter((sample) => sample.time <= cut);
    const inWindow = (): Sample[] => seen.observed.filter((sample) => sample.time >= subscribedAt && sample.time <= cut);
    let check = completeness(due(), inWindow());
    while (check.missing.length > 0 && clock.now() - cut < DRAIN_MS) {
      await ctx.wait(POLL_MS);
      check = completeness(due(), inWindow());
    }
    const held = due().filter((sample) => sample.time >= outage.stoppedAt && sample.time <= outage.restartedAt);
    const heldArrivals = inWindow()
      .filter((sample) => sample.time >= outage.stoppedAt && sample.time <= outage.restartedAt)
      .map((sample) => seen.arrivals.get(sample)!);
    const stats = comms.telemetryStats();
    ctx.log(`${due().length} samples reported, ${inWindow().length} observed; ${check.missing.length} missing after ${Math.round(clock.now() - cut)} ms of drain`);
    ctx.record({ id: 'samples-reported', value: due().length, unit: 'count', limits: { low: 1, unit: 'count', basis: 'the device reports during the test' } });
    ctx.record({ id: 'samples-held-during-outage', value: held.length, unit: 'count', limits: { low: 1, unit: 'count', basis: 'the outage held samples back' } });
    ctx.record({
      id: 'samples-missing',
      value: check.missing.length,
      unit: 'count',
      limits: { high: 0, unit: 'count', basis: 'every reported sample observed once the broker is back' },
      ...(check.missing.length === 0 ? {} : { reason: `first missing: ${describeSample(check.missing[0]!)}` }),
    });
    ctx.record({
      id: 'samples-unexpected',
      value: check.unexpected.length,
      unit: 'count',
      limits: { high: 0, unit: 'count', basis: 'nothing observed that the device did not report' },
      ...(check.unexpected.length === 0 ? {} : { reason: `first unexpected: ${describeSample(check.unexpected[0]!)}` }),
    });
    if (statsBefore !== undefined && stats !== undefined) {
      ctx.record({ id: 'duplicate-deliveries', value: stats.duplicateSamples - statsBefore.duplicateSamples, unit: 'count', reason: 'QoS 1 delivers at least once; duplicates are dropped by channel and time' });
      ctx.record({ id: 'packs-refused', value: stats.decodeErrors - statsBefore.decodeErrors, unit: 'count', limits: { high: 0, unit: 'count', basis: 'every telemetry pack is valid SenML-CBOR' }, ...(stats.lastDecodeError === undefined ? {} : { reason: stats.lastDecodeError }) });
    }
    // Delivery delay of each observed sample against its time: flat, then a ramp down from the outage.
    const runStart = clock.now() - ctx.time();
    const delivered = inWindow().sort((a, b) => a.time - b.time);
    const series = [{ name: 'delivery delay', unit: 'ms', time: delivered.map((sample) => Math.round(sample.time - runStart)), value: delivered.map((sample) => Math.round(seen.arrivals.get(sample)! - sample.time)) }];
    if (heldArrivals.length > 0) ctx.record({ id: 'backlog-delivered-after-restart', value: Math.round(Math.max(...heldArrivals) - outage.restartedAt), unit: 'ms', series });
  } finally {
    seen.stop();
  }
}

async function opcuaMatchesTelemetry(ctx: StepContext): Promise<void> {
  const comms = paths(ctx);
  if (ctx.target.observation !== 'mqtt') ctx.abort(`telemetry is observed ${ctx.target.observation}, not over MQTT: the plan's observation must be mqtt`);
  const client = await comms.openOpcua().catch((error: unknown) => ctx.abort(error instanceof NotSupportedError ? error.message : `OPC UA client: ${error instanceof Error ? error.message : String(error)}`));
  const clock = ctx.target.clock;
  const telemetry: Sample[] = [];
  const changes: Sample[] = [];
  const reads: Promise<Sample | undefined>[] = [];
  let start = Infinity;
  // Each telemetry sample is followed by a read of its channel: the read gives the same sample, or
  // a newer one the device has not reported (within its deadband).
  const offTelemetry = ctx.target.onSample((sample) => {
    if (sample.time < start) return;
    telemetry.push(sample);
    reads.push(client.read(sample.channel).then((reading) => reading.sample, () => undefined));
  });
  const offChanges = client.onSample((sample) => changes.push(sample));
  try {
    // The subscription's first publish comes a publishing interval after it is created.
    await ctx.wait(1000);
    start = clock.now();
    while (telemetry.length < TELEMETRY_SAMPLES && clock.now() - start < WINDOW_MS) await ctx.wait(POLL_MS);
    const end = clock.now();
    const window = telemetry.filter((sample) => sample.time <= end);
    // Data changes still in flight (a publishing interval, more on a busy machine).
    const settledBy = clock.now() + SETTLE_MS;
    while (matchSubscription(window, changes).unmatched.length > 0 && clock.now() < settledBy) await ctx.wait(POLL_MS);
    const readings = (await Promise.all(reads)).filter((read): read is Sample => read !== undefined);
    const match = matchSubscription(window, changes);
    ctx.log(`${window.length} telemetry samples and ${changes.length} OPC UA data changes in ${Math.round(end - start)} ms; ${readings.length} reads`);
    ctx.record({ id: 'telemetry-samples-compared', value: match.matched + match.unmatched.length, unit: 'count', limits: { low: 1, unit: 'count', basis: 'telemetry during the window' } });
    ctx.record({
      id: 'telemetry-without-data-change',
      value: match.unmatched.length,
      unit: 'count',
      limits: { high: 0, unit: 'count', basis: 'each telemetry sample has an OPC UA data change of the same channel and time' },
      ...(match.unmatched.length === 0 ? {} : { reason: `first: ${describeSample(match.unmatched[0]!)}` }),
    });
    ctx.record({
      id: 'value-mismatches',
      value: match.valueMismatches.length,
      unit: 'count',
      limits: { high: 0, unit: 'count', basis: 'same value over OPC UA and in telemetry' },
      ...(match.valueMismatches.length === 0 ? {} : { reason: `${describeSample(match.valueMismatches[0]!.telemetry)} vs ${describeSample(match.valueMismatches[0]!.opcua)}` }),
    });
    ctx.record({
      id: 'unit-mismatches',
      value: match.unitMismatches.length,
      unit: 'count',
      limits: { high: 0, unit: 'count', basis: 'EngineeringUnits (UNECE) map to the SenML unit of telemetry' },
      ...(match.unitMismatches.length === 0 ? {} : { reason: `${describeSample(match.unitMismatches[0]!.telemetry)} vs ${describeSample(match.unitMismatches[0]!.opcua)}` }),
    });
    ctx.record({ id: 'max-time-offset', value: match.maxTimeOffsetMs, unit: 'ms', limits: { high: OPCUA_TIME_TOLERANCE_MS, unit: 'ms', basis: 'source timestamp = sample time (OPC UA times in whole ms here, SenML to 10 µs)' } });

    let compared = 0;
    const mismatches: string[] = [];
    for (const read of readings) {
      const channel = ctx.target.model.channels.find((candidate) => candidate.id === read.channel)!;
      const { deadband = 0, heartbeatMs } = resolveDeadband(channel.reporting, channel.range);
      const verdict = judgeRead(read, telemetry, { deadband, heartbeatMs });
      if (verdict.kind === 'not-comparable') continue;
      compared++;
      if (verdict.kind === 'mismatch') mismatches.push(`${read.channel}: ${verdict.reason}`);
    }
    ctx.log(`${compared} of ${readings.length} reads compared`);
    ctx.record({ id: 'reads-compared', value: compared, unit: 'count', limits: { low: 1, unit: 'count', basis: 'reads with telemetry of their channel before and after them' } });
    ctx.record({
      id: 'read-mismatches',
      value: mismatches.length,
      unit: 'count',
      limits: { high: 0, unit: 'count', basis: 'a read is the reported sample, or within the reporting deadband of it' },
      ...(mismatches.length === 0 ? {} : { reason: mismatches[0]! }),
    });
  } finally {
    offTelemetry();
    offChanges();
    await client.close();
  }
}

/** A request the command server must refuse, and the error code it must refuse it with. */
interface MalformedRequest {
  readonly id: string;
  readonly command: string;
  readonly payload: Uint8Array;
  readonly code: string;
  readonly what: string;
}

/** The malformed requests for this device: bad CBOR, an unknown command, a wrongly typed argument. */
function malformedRequests(ctx: StepContext): { requests: MalformedRequest[]; skipped?: string } {
  const commands = ctx.target.model.commands;
  const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
  const requests: MalformedRequest[] = [
    // A CBOR map of one entry whose key is cut short (RFC 8949 §3: not well-formed).
    { id: 'bad-cbor', command: commands[0]?.id ?? 'hil-probe', payload: Uint8Array.of(0xa1, 0x63, 0x61), code: 'ERR_DECODE', what: 'a truncated CBOR map' },
    { id: 'unknown-command', command: 'hil-no-such-command', payload: json({}), code: 'ERR_VALIDATION', what: 'a command the device does not have' },
  ];
  const withArgument = commands.find((command) => (command.arguments ?? []).length > 0);
  if (withArgument !== undefined) {
    const argument = withArgument.arguments![0]!;
    const wrong = argument.type === 'string' ? 42 : 'not-a-number';
    requests.push({ id: 'wrong-argument-type', command: withArgument.id, payload: json({ [argument.name]: wrong }), code: 'ERR_VALIDATION', what: `${JSON.stringify(wrong)} for ${argument.type} argument "${argument.name}"` });
    return { requests };
  }
  if (commands[0] !== undefined) {
    requests.push({ id: 'wrong-argument-type', command: commands[0].id, payload: json({ 'hil-unexpected': 'x' }), code: 'ERR_VALIDATION', what: `an argument "${commands[0].id}" does not take (it takes none)` });
    return { requests };
  }
  return { requests, skipped: `${ctx.target.model.id} declares no command, so no argument can have a wrong type` };
}

async function malformedCommands(ctx: StepContext): Promise<void> {
  const comms = paths(ctx);
  const { requests, skipped } = malformedRequests(ctx);
  for (const request of requests) {
    const sentAt = ctx.target.clock.now();
    const reply = await comms.command(request.command, request.payload, REPLY_MS).catch((error: unknown) => error as Error);
    if (reply instanceof Error) {
      ctx.record({ id: request.id, value: null, unit: 'ms', outcome: 'fail', reason: `${request.what} on cmd/${request.command}: ${reply.message}` });
      continue;
    }
    const parsed = parseReply(reply.payload);
    const latency = Math.round(ctx.target.clock.now() - sentAt);
    const refused = parsed.ok === false && parsed.code === request.code;
    const told = parsed.ok === false ? `${parsed.code}: ${parsed.message}` : parsed.ok === true ? 'accepted' : `unreadable reply (${parsed.detail})`;
    ctx.record({ id: request.id, value: latency, unit: 'ms', outcome: refused ? 'pass' : 'fail', reason: `${request.what} on cmd/${request.command}: ${told}${refused ? '' : ` (expected ${request.code})`}` });
  }
  if (skipped !== undefined) ctx.record({ id: 'wrong-argument-type', value: null, unit: 'ms', outcome: 'skipped', reason: skipped });

  // Still running: samples taken after the malformed requests keep arriving (within the longest
  // heartbeat of a device at rest).
  const since = ctx.target.clock.now();
  const after: Sample[] = [];
  const off = ctx.target.onSample((sample) => void (sample.time > since && after.push(sample)));
  try {
    while (after.length === 0 && ctx.target.clock.now() - since < ALIVE_MS) await ctx.wait(POLL_MS);
  } finally {
    off();
  }
  ctx.record({ id: 'samples-after-malformed-commands', value: after.length, unit: 'count', limits: { low: 1, unit: 'count', basis: 'the device keeps reporting' } });
}

function describeSample(sample: Sample): string {
  return `${sample.channel} ${String(sample.value)} ${sample.unit} at ${new Date(sample.time).toISOString()}`;
}

export default defineTestPlan({
  id: 'communications',
  name: 'Communications: broker outage, OPC UA against telemetry, malformed commands',
  version: '1.0.0',
  description: 'Telemetry arrives complete through a broker outage, OPC UA reads and subscriptions match telemetry, malformed commands are refused',
  device: fileURLToPath(new URL('../../examples/env-node', import.meta.url)),
  observation: 'mqtt',
  metadata: { outageMs: OUTAGE_MS, telemetrySamples: TELEMETRY_SAMPLES },
  phases: [
    { id: 'broker-outage', name: 'Telemetry complete through a broker outage', setup: [{ name: 'exercise the emulated inputs', run: exerciseInputs }], steps: [{ name: `broker down for ${OUTAGE_MS / 1000} s`, run: telemetryThroughOutage }], timeoutMs: LEAD_MS + MAX_OUTAGE_MS + TRAIL_MS + DRAIN_MS + 10_000 },
    { id: 'opcua-matches-telemetry', name: 'OPC UA reads and subscriptions match telemetry', steps: [{ name: 'compare OPC UA with telemetry', run: opcuaMatchesTelemetry }], timeoutMs: WINDOW_MS + SETTLE_MS + 30_000 },
    { id: 'malformed-commands', name: 'Malformed commands are refused', steps: [{ name: 'send malformed requests', run: malformedCommands }], timeoutMs: 4 * REPLY_MS + ALIVE_MS + 10_000 },
  ],
});
