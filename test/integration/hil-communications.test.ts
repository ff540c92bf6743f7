/**
 * The communications plan (hil/plans/communications.ts) run by `runTestPlan` on the emulated board
 * through the runtime, with the target's own aedes broker and against Mosquitto (installed here and
 * in CI: without it the test fails, it does not skip); a device with a typed command argument; and
 * the plan on a target without communication paths (aborted with the reason, no hang); and the
 * comparisons behind it.
 */
import { describe, expect, it } from 'vitest';
import { DeviceFileError } from '../../sdk/core/errors.js';
import type { Sample } from '../../sdk/core/sample.js';
import { PayloadWriter } from '../../sdk/transport/mqtt/payloads.js';
import { defineDevice } from '../../sdk/model/index.js';
import { loadDeviceFile } from '../../sdk/runtime/device-file.js';
import { defineTestPlan } from '../../hil/plan/define-test-plan.js';
import communications from '../../hil/plans/communications.js';
import { completeness, judgeRead, matchSubscription, parseReply } from '../../hil/plans/communications-checks.js';
import type { MeasurementRecord, RunRecord } from '../../hil/record/record.js';
import { runTestPlan } from '../../hil/run/run-plan.js';
import { startOwnedBroker } from '../../hil/targets/broker-control.js';
import { createTarget } from '../../hil/targets/create-target.js';
import { startBroker } from '../support/brokers.js';
import { trackedCleanups } from '../support/cleanups.js';
import { findPeer } from '../support/peers.js';

const { track } = trackedCleanups();

function measurement(record: RunRecord, phase: string, id: string): MeasurementRecord {
  const found = record.phases.find((p) => p.id === phase)?.measurements.find((m) => m.id === id);
  if (found === undefined) throw new Error(`no measurement ${phase}/${id} in the record`);
  return found;
}

/** Every phase and measurement outcome, for one readable assertion. */
function outcomes(record: RunRecord): Record<string, string> {
  const out: Record<string, string> = { run: record.outcome };
  for (const phase of record.phases) {
    out[phase.id] = phase.reason === undefined ? phase.outcome : `${phase.outcome}: ${phase.reason}`;
    for (const m of phase.measurements) out[`${phase.id}/${m.id}`] = m.outcome;
  }
  return out;
}

function expectCommunicationsPassed(record: RunRecord): void {
  expect(outcomes(record)).toEqual({
    run: 'pass',
    'broker-outage': 'pass',
    'broker-outage/samples-reported': 'pass',
    'broker-outage/samples-held-during-outage': 'pass',
    'broker-outage/samples-missing': 'pass',
    'broker-outage/samples-unexpected': 'pass',
    'broker-outage/duplicate-deliveries': 'recorded',
    'broker-outage/packs-refused': 'pass',
    'broker-outage/backlog-delivered-after-restart': 'recorded',
    'opcua-matches-telemetry': 'pass',
    'opcua-matches-telemetry/telemetry-samples-compared': 'pass',
    'opcua-matches-telemetry/telemetry-without-data-change': 'pass',
    'opcua-matches-telemetry/value-mismatches': 'pass',
    'opcua-matches-telemetry/unit-mismatches': 'pass',
    'opcua-matches-telemetry/max-time-offset': 'pass',
    'opcua-matches-telemetry/reads-compared': 'pass',
    'opcua-matches-telemetry/read-mismatches': 'pass',
    'malformed-commands': 'pass',
    'malformed-commands/bad-cbor': 'pass',
    'malformed-commands/unknown-command': 'pass',
    'malformed-commands/wrong-argument-type': 'skipped',
    'malformed-commands/samples-after-malformed-commands': 'pass',
  });
  expect(measurement(record, 'broker-outage', 'samples-missing').value).toBe(0);
  expect(measurement(record, 'broker-outage', 'samples-held-during-outage').value).toBeGreaterThanOrEqual(1);
  expect(measurement(record, 'malformed-commands', 'bad-cbor').reason).toMatch(/^a truncated CBOR map on cmd\/hil-probe: ERR_DECODE: invalid CBOR request: truncated/);
  expect(measurement(record, 'malformed-commands', 'unknown-command').reason).toBe(
    'a command the device does not have on cmd/hil-no-such-command: ERR_VALIDATION: commands.hil-no-such-command: no command "hil-no-such-command" in env-node',
  );
  expect(measurement(record, 'malformed-commands', 'wrong-argument-type').reason).toBe('env-node declares no command, so no argument can have a wrong type');
}

describe('the communications plan', () => {
  it('passes on the emulated board with the target\'s own broker (aedes)', async () => {
    const target = track(createTarget('emulated', { device: communications.device, seed: 3, observation: communications.observation }));
    const record = await runTestPlan(communications, { target, seed: 3 });
    expectCommunicationsPassed(record);
    expect(record.target).toMatchObject({ description: 'emulated', observation: 'mqtt', virtualTime: false });
  }, 150_000);

  it('passes against Mosquitto, stopped and restarted on the same port', async () => {
    if (findPeer('mosquitto') === undefined) throw new Error('Mosquitto is required for this test: apt-get install -y mosquitto');
    const broker = track(await startBroker('mosquitto', { persistence: true }));
    expect(broker.kind).toBe('mosquitto');
    const target = track(createTarget('emulated', { device: communications.device, seed: 4, observation: 'mqtt', mqtt: { url: broker.url, broker } }));
    const record = await runTestPlan(communications, { target, seed: 4 });
    expectCommunicationsPassed(record);
  }, 150_000);

  it('refuses an argument of the wrong type when the device has a command that takes one', async () => {
    const envNode = await loadDeviceFile('examples/env-node');
    const model = defineDevice({
      ...envNode.model.spec,
      commands: [{ id: 'set-interval', description: 'Reporting interval', arguments: [{ name: 'seconds', type: 'integer', range: { min: 1, max: 3600 } }], result: { type: 'integer' } }],
    });
    const device = { model, emulation: envNode.emulation!, setup: (d: import('../../sdk/device/device.js').Device) => d.handleCommand('set-interval', (args) => args.seconds as number), file: 'env-node with a command' };
    const plan = defineTestPlan({ ...communications.spec, id: 'communications-commands', device, phases: [communications.spec.phases[2]!] });
    const target = track(createTarget('emulated', { device, seed: 5, observation: 'mqtt', opcua: false }));
    const record = await runTestPlan(plan, { target, seed: 5 });
    expect(outcomes(record)).toMatchObject({ run: 'pass', 'malformed-commands/wrong-argument-type': 'pass', 'malformed-commands/bad-cbor': 'pass' });
    expect(measurement(record, 'malformed-commands', 'wrong-argument-type').reason).toBe(
      '"not-a-number" for integer argument "seconds" on cmd/set-interval: ERR_VALIDATION: commands.set-interval.seconds: expected a finite number, got "not-a-number"',
    );
    expect(measurement(record, 'malformed-commands', 'bad-cbor').reason).toMatch(/^a truncated CBOR map on cmd\/set-interval: ERR_DECODE/);
  }, 60_000);

  it('on the in-process emulated target each phase is aborted with the reason, without a hang', async () => {
    const target = track(createTarget('emulated', { device: communications.device, seed: 1 }));
    const record = await runTestPlan(communications, { target, seed: 1 });
    expect(record.outcome).toBe('aborted');
    for (const phase of record.phases) {
      expect(phase.outcome).toBe('aborted');
      expect(phase.reason).toBe('target emulated (in-process) does not expose the device\'s MQTT and OPC UA side: run with --target emulated and observation mqtt, firmata:PATH or linux');
    }
  }, 30_000);

  it('a broker the target cannot restart: the outage phase is aborted with the reason', async () => {
    const broker = track(await startOwnedBroker());
    const target = track(createTarget('emulated', { device: communications.device, seed: 1, observation: 'mqtt', opcua: false, mqtt: { url: broker.url } }));
    const plan = defineTestPlan({ ...communications.spec, id: 'communications-outage', phases: [communications.spec.phases[0]!] });
    const record = await runTestPlan(plan, { target, seed: 1 });
    expect(record.phases[0]).toMatchObject({ outcome: 'aborted', reason: `target emulated cannot stop and restart the broker at ${broker.url}` });
  }, 30_000);

  it('a device file that does not exist stops the run before it starts', async () => {
    const target = track(createTarget('emulated', { device: '/nonexistent/device.ts', seed: 1, observation: 'mqtt' }));
    await expect(runTestPlan(communications.withDevice('/nonexistent/device.ts'), { target, seed: 1 })).rejects.toBeInstanceOf(DeviceFileError);
  });
});

describe('the comparisons behind it', () => {
  const at = (channel: string, time: number, value: number, unit = 'Cel'): Sample => ({ channel, time, value, unit, quality: { level: 'good' } });

  it('completeness: a reported sample never observed is missing, an observed one never reported is unexpected', () => {
    const reported = [at('t', 1000.004, 1), at('t', 2000, 2), at('h', 2000, 3, '%RH')];
    const observed = [at('t', 1000.0, 1), at('h', 2000.01, 3, '%RH'), at('h', 3000, 4, '%RH')];
    const { missing, unexpected } = completeness(reported, observed);
    expect(missing).toEqual([at('t', 2000, 2)]);
    expect(unexpected).toEqual([at('h', 3000, 4, '%RH')]);
  });

  it('matchSubscription: same channel and time within the OPC UA resolution; values and units compared', () => {
    // 1000.999996 ms: SenML rounds it to 1001.00, OPC UA truncates it to 1000.
    const telemetry = [at('t', 1001.0, 20), at('t', 2000.5, 21), at('t', 3000, 22), at('h', 3000, 50, '%RH')];
    const opcua = [at('t', 1000, 20), at('t', 2000, 21.5), at('t', 3002, 22), at('h', 3000, 50, 'Cel')];
    const match = matchSubscription(telemetry, opcua);
    expect(match.matched).toBe(3);
    expect(match.unmatched).toEqual([at('t', 3000, 22)]);
    expect(match.valueMismatches.map((m) => m.telemetry.value)).toEqual([21]);
    expect(match.unitMismatches.map((m) => m.opcua.unit)).toEqual(['Cel']);
    expect(match.maxTimeOffsetMs).toBe(1);
  });

  it('judgeRead: the same sample, a newer one within the deadband, or a mismatch', () => {
    const telemetry = [at('t', 1000, 20), at('t', 5000, 21), at('t', 80_000, 22)];
    const reporting = { deadband: 0.05, heartbeatMs: 60_000 };
    expect(judgeRead(at('t', 5000.4, 21), telemetry, reporting)).toEqual({ kind: 'same-sample' });
    expect(judgeRead(at('t', 6000, 21.04), telemetry, reporting)).toMatchObject({ kind: 'within-deadband' });
    expect(judgeRead(at('t', 6000, 21.2), telemetry, reporting)).toMatchObject({ kind: 'mismatch', reason: expect.stringContaining('beyond the deadband 0.05') });
    expect(judgeRead(at('t', 5000, 20.5), telemetry, reporting)).toMatchObject({ kind: 'mismatch', reason: 'value 20.5 over OPC UA, 21 in telemetry at the same time' });
    expect(judgeRead(at('t', 500, 20), telemetry, reporting)).toEqual({ kind: 'not-comparable' });
    expect(judgeRead(at('t', 70_000, 21), telemetry, reporting)).toMatchObject({ kind: 'mismatch', reason: expect.stringContaining('beyond the heartbeat') });
    // Newer than every report so far: the device may still report it.
    expect(judgeRead(at('t', 81_000, 30), telemetry, reporting)).toEqual({ kind: 'not-comparable' });
  });

  it('parseReply: JSON and CBOR replies, and what is not a reply', () => {
    const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
    expect(parseReply(json({ ok: false, error: { code: 'ERR_VALIDATION', message: 'no' } }))).toEqual({ ok: false, code: 'ERR_VALIDATION', message: 'no' });
    expect(parseReply(new PayloadWriter().reply({ ok: false, error: { code: 'ERR_DECODE', message: 'bad' } }, 'cbor'))).toEqual({ ok: false, code: 'ERR_DECODE', message: 'bad' });
    expect(parseReply(new PayloadWriter().reply({ ok: true, result: 3 }, 'cbor'))).toEqual({ ok: true, result: 3 });
    expect(parseReply(json([1]))).toMatchObject({ ok: 'unreadable' });
    expect(parseReply(Uint8Array.of(0xff))).toMatchObject({ ok: 'unreadable' });
  });
});
