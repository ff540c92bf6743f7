/**
 * The fleet simulator against a stand-in device listener: fates dealt exactly and reproducibly by
 * seed, each device's reports in the agent's order, payloads fetched with a Range request and
 * checked, signatures verified, silent devices heard once, known-good images never failed, the
 * concurrency bound held, and the summary's counts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../sdk/core/random.js';
import { dealFates, FleetSimulator } from '../../ota/fleet/fleet-simulator.js';
import { startDeviceApiStandIn, type DeviceApiStandIn, type StandInOptions } from '../support/device-api-stand-in.js';
import { envelopeFor, makeImage, makeKey, trustOf } from '../support/ota-fixtures.js';

const key = makeKey();
const good = makeImage(4096, 1);
const next = makeImage(6000, 2);
const update = { id: 1, envelope: envelopeFor(next, 2, key), sequence: 2, payloads: { 'firmware.bin': next } };
const open: DeviceApiStandIn[] = [];

afterEach(async () => {
  for (const server of open.splice(0)) await server.close();
});

async function standIn(options: StandInOptions = {}): Promise<DeviceApiStandIn> {
  const server = await startDeviceApiStandIn({ pollAfterS: 0.05, ...options });
  open.push(server);
  return server;
}

function statesOf(server: DeviceApiStandIn, device: string): string[] {
  return server.reports.filter((r) => r.device === device).map((r) => r.state);
}

describe('dealFates', () => {
  it('deals exactly round(n × rate) of each fate, the same for the same seed', () => {
    const rates = { failRate: 0.2, rollbackRate: 0.05, silentRate: 0.1 };
    const fates = dealFates(100, rates, new SeededRandom(7));
    const count = (fate: string): number => fates.filter((f) => f === fate).length;
    expect([count('fail'), count('rollback'), count('silent'), count('healthy')]).toEqual([20, 5, 10, 65]);
    expect(dealFates(100, rates, new SeededRandom(7))).toEqual(fates);
    expect(dealFates(100, rates, new SeededRandom(8))).not.toEqual(fates);
  });
});

describe('FleetSimulator', () => {
  it('rolls an update to every healthy device, each reporting downloading → staged → trial → confirmed', async () => {
    const server = await standIn();
    server.offer(update);
    const fleet = new FleetSimulator({ serverUrl: server.url, devices: 20, idPrefix: 'line3-', trust: trustOf(key), running: envelopeFor(good, 1, key), concurrency: 4 });
    const summary = await fleet.run({ durationS: 30 });
    expect(summary).toMatchObject({ devices: 20, settled: true, states: { confirmed: 20 }, sequences: { 2: 20 }, reports: { confirmed: 20, refused: 0 }, downloads: { total: 20, bytes: 20 * 6000, errors: 0 } });
    for (let i = 0; i < 20; i++) expect(statesOf(server, `line3-${i}`)).toEqual(['downloading', 'staged', 'trial', 'confirmed']);
    // The payload is fetched as the agent does, with a Range request, answered 206.
    const downloads = server.requests.filter((r) => r.path === '/files/firmware.bin');
    expect(downloads).toHaveLength(20);
    expect(new Set(downloads.map((r) => `${r.range} ${r.status}`))).toEqual(new Set(['bytes=0-5999 206']));
    // Every device polled again after its outcome with the last ETag, and settled on "nothing more".
    expect(summary.polls.offers).toBe(20);
    expect(summary.polls.none + summary.polls.unchanged).toBeGreaterThanOrEqual(20);
    expect(summary.polls.latencyMs.p99).toBeGreaterThan(0);
    expect(summary.polls.latencyMs.p50).toBeLessThanOrEqual(summary.polls.latencyMs.p99);
  });

  it('deals fates: failing devices report the failure type, rolling-back ones roll back, silent ones are heard once', async () => {
    const server = await standIn();
    server.offer(update);
    const fleet = new FleetSimulator({ serverUrl: server.url, devices: 40, seed: 3, failRate: 0.25, failure: 'download', rollbackRate: 0.1, silentRate: 0.05, trust: trustOf(key) });
    const summary = await fleet.run({ durationS: 30 });
    expect(summary.fates).toEqual({ healthy: 24, fail: 10, rollback: 4, silent: 2 });
    expect(summary.states).toMatchObject({ confirmed: 24, failed: 10, 'rolled-back': 4, silent: 2 });
    const failed = server.reports.filter((r) => r.state === 'failed');
    expect(failed).toHaveLength(10);
    expect(new Set(failed.map((r) => r.failure))).toEqual(new Set(['download']));
    const silent = [...new Set(server.reports.map((r) => r.device))].filter((d) => statesOf(server, d).join() === 'downloading');
    expect(silent).toHaveLength(2);
    // A silent device never polls again after its one report.
    for (const device of silent) {
      const reportAt = server.requests.find((r) => r.device === device && r.path === '/api/report')!.at;
      expect(server.requests.filter((r) => r.device === device && r.path === '/api/offer' && r.at > reportAt)).toEqual([]);
    }
    // Same seed, same devices.
    const again = await standIn();
    again.offer(update);
    await new FleetSimulator({ serverUrl: again.url, devices: 40, seed: 3, failRate: 0.25, failure: 'download', rollbackRate: 0.1, silentRate: 0.05, trust: trustOf(key) }).run({ durationS: 30 });
    expect(again.outcomes()).toEqual(server.outcomes());
  });

  it('sends an outcome the server did not take again, while the server still offers the campaign', async () => {
    // Every report of the first devices is refused: their outcomes must still arrive.
    const server = await standIn({ refuseReports: 12 });
    server.offer(update);
    const summary = await new FleetSimulator({ serverUrl: server.url, devices: 3 }).run({ durationS: 30 });
    expect(summary.settled).toBe(true);
    expect([...server.outcomes().values()]).toEqual(['confirmed', 'confirmed', 'confirmed']);
    expect(summary.reports.refused).toBe(12);
    expect(summary.reports.confirmed).toBe(3);
  });

  it('re-tries a re-offered campaign: a failing device fails every attempt', async () => {
    const server = await standIn({ retries: 2 });
    server.offer(update);
    const summary = await new FleetSimulator({ serverUrl: server.url, devices: 4, failRate: 0.5 }).run({ durationS: 30 });
    expect(summary.states).toMatchObject({ confirmed: 2, failed: 2 });
    expect(summary.reports.failed).toBe(6);
  });

  it('never fails an image it has run: a rollback campaign to the known-good image confirms on every device', async () => {
    const server = await standIn();
    server.offer({ id: 2, envelope: envelopeFor(good, 3, key), sequence: 3, payloads: { 'firmware.bin': good } });
    const summary = await new FleetSimulator({ serverUrl: server.url, devices: 10, failRate: 0.3, rollbackRate: 0.3, running: envelopeFor(good, 1, key), trust: trustOf(key) }).run({ durationS: 30 });
    expect(summary.states).toMatchObject({ confirmed: 10 });
    expect(summary.sequences).toEqual({ 3: 10 });
  });

  it('refuses an envelope signed by another key (failed, verify) and one older than it runs', async () => {
    const server = await standIn();
    server.offer({ ...update, envelope: envelopeFor(next, 2, makeKey()) });
    const summary = await new FleetSimulator({ serverUrl: server.url, devices: 3, trust: trustOf(key) }).run({ durationS: 30 });
    expect(summary.states).toMatchObject({ failed: 3 });
    expect(server.reports.map((r) => [r.state, r.reason, r.failure])).toEqual(Array(3).fill(['failed', 'unknown-key', 'verify']));
    expect(server.requests.filter((r) => r.path.startsWith('/files/'))).toEqual([]);

    const older = await standIn();
    older.offer(update);
    await new FleetSimulator({ serverUrl: older.url, devices: 2, running: envelopeFor(good, 5, key) }).run({ durationS: 30 });
    expect(older.reports.map((r) => [r.state, r.reason])).toEqual(Array(2).fill(['failed', 'downgrade']));
  });

  it('reports a payload whose bytes do not match the signed digest as failed, verify', async () => {
    const server = await standIn();
    server.offer({ ...update, payloads: { 'firmware.bin': makeImage(6000, 3) } });
    const summary = await new FleetSimulator({ serverUrl: server.url, devices: 2 }).run({ durationS: 30 });
    expect(summary.downloads.errors).toBe(2);
    expect(server.reports.filter((r) => r.state === 'failed').map((r) => [r.reason, r.failure])).toEqual(Array(2).fill(['payload-mismatch', 'verify']));
  });

  it('keeps at most `concurrency` exchanges in flight', async () => {
    const server = await standIn({ delayMs: 5 });
    server.offer(update);
    const fleet = new FleetSimulator({ serverUrl: server.url, devices: 50, concurrency: 3 });
    const summary = await fleet.run({ durationS: 30 });
    expect(summary.states.confirmed).toBe(50);
    expect(server.mostInFlight()).toBe(3);
  });

  it('stops on stop() or at the duration, with devices still polling when told to keep polling', async () => {
    const server = await standIn();
    const fleet = new FleetSimulator({ serverUrl: server.url, devices: 5 });
    const run = fleet.run({ durationS: 0.5, untilSettled: false });
    const summary = await run;
    expect(summary.elapsedS).toBeGreaterThanOrEqual(0.5);
    expect(summary.elapsedS).toBeLessThan(5);
    expect(summary.settled).toBe(false); // never offered anything: no outcome
    expect(summary.polls.total).toBeGreaterThan(5);

    const stopped = new FleetSimulator({ serverUrl: server.url, devices: 5 });
    const pending = stopped.run({ durationS: 600 });
    stopped.stop();
    expect((await pending).elapsedS).toBeLessThan(5);
  });
});
