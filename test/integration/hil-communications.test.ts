/**
 * The communications plan (hil/plans/communications.ts) run by `runTestPlan` on the emulated board
 * through the runtime, with the target's own aedes broker and against Mosquitto (installed here and
 * in CI: without it the test fails, it does not skip); a device with a typed command argument; and
 * the plan on a target without communication paths (aborted with the reason, no hang).
 */
import { describe, expect, it } from 'vitest';
import { DeviceFileError } from '../../sdk/core/errors.js';
import { defineDevice } from '../../sdk/model/index.js';
import { loadDeviceFile } from '../../sdk/runtime/device-file.js';
import { defineTestPlan } from '../../hil/plan/define-test-plan.js';
import communications from '../../hil/plans/communications.js';
import type { MeasurementRecord, RunRecord } from '../../hil/record/record.js';
import { runTestPlan } from '../../hil/run/run-plan.js';
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

  it('a device file that does not exist stops the run before it starts', async () => {
    const target = track(createTarget('emulated', { device: '/nonexistent/device.ts', seed: 1, observation: 'mqtt' }));
    await expect(runTestPlan(communications.withDevice('/nonexistent/device.ts'), { target, seed: 1 })).rejects.toBeInstanceOf(DeviceFileError);
  });
});
