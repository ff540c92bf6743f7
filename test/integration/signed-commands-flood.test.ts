/**
 * A flood of signed-but-invalid commands (a viewer's, an unknown key's, broken signatures, expired
 * ones) at a device that requires signed requests and samples at 100 Hz, through a real broker:
 * each request is refused or ignored unread (10 at once, then 20/s are read, verified and
 * answered), none runs, the device stays up and its sampling keeps its cadence. The attacker and
 * the broker stand for other machines (see stand-in.ts).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../sdk/core/clock.js';
import { topics } from '../../sdk/encoding/topics.js';
import type { AuditEvent } from '../../security/audit/event.js';
import { CommandAuthorizer, OperatorTrustStore, writeOperatorKey } from '../../security/operators/index.js';
import { startBroker } from '../support/brokers.js';
import { waitFor } from '../support/net.js';
import { standInForAnotherMachine } from '../support/stand-in.js';
import { startProbe } from '../fixtures/mqtt-probe.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const REGISTER = new URL('../../bin/register-ts.js', import.meta.url).href;
const FLOOD = fileURLToPath(new URL('./signed-commands-flooder.ts', import.meta.url));
const REQUESTS = 10_000;
const PERIOD_MS = 10;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

describe('a flood of signed-but-invalid commands', () => {
  it(`of ${REQUESTS} requests at 100 Hz sampling: nothing runs, replies stay bounded, sampling keeps its cadence`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-signed-flood-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const viewer = await writeOperatorKey(dir, 'vic');
    const operators = await OperatorTrustStore.load(join(dir, 'operators.json'));
    const { readFile } = await import('node:fs/promises');
    await operators.trust(await readFile(viewer.publicKeyFile, 'utf8'), { role: 'viewer', name: 'vic' });
    const broker = await startBroker('mosquitto', { unlimitedQueues: true, standIn: true });
    cleanups.push(() => broker.close());
    const audit: AuditEvent[] = [];
    const probe = await startProbe(broker.url, {
      channels: 2,
      rateHz: 1000 / PERIOD_MS,
      transport: { signedRequests: { authorizer: new CommandAuthorizer({ operators, clock: new SystemClock() }), required: true }, audit: { record: (event) => void audit.push(event) } },
    });
    cleanups.push(() => probe.close());
    const t = topics(probe.deviceId);
    const times: number[] = [];
    probe.device.on('sample', (sample) => {
      if (sample.channel === 'v0') times.push(sample.time);
    });
    await probe.transport.start();
    await waitFor(() => probe.transport.state === 'connected', 10_000, 'the transport to connect');
    await probe.device.start();
    await waitFor(() => times.length >= 200, 10_000, '2 s of samples before the flood');

    const attacker = spawn(process.execPath, ['--import', REGISTER, FLOOD, broker.url, t.root, probe.deviceId, viewer.privateKeyFile, String(REQUESTS)], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (attacker.pid !== undefined) standInForAnotherMachine(attacker.pid);
    cleanups.push(() => void attacker.kill());
    const exited = once(attacker, 'exit') as Promise<[number | null]>;
    await waitFor(() => probe.transport.status().mqtt.commands.received > 0, 20_000, 'the flood to start');
    const floodStart = probe.clock.now() - 25;
    const cpuAtStart = process.cpuUsage();
    const [code] = await exited;
    expect(code).toBe(0);
    await waitFor(() => probe.transport.status().mqtt.commands.received >= REQUESTS, 20_000, 'the flood to reach the device');
    const floodEnd = probe.clock.now() + 100;
    const cpu = process.cpuUsage(cpuAtStart);
    await waitFor(() => times.at(-1)! > floodEnd + 500, 10_000, 'samples after the flood');

    const stats = probe.transport.status().mqtt.commands;
    /** |Δt − 10 ms| of the sampling intervals within [from, to]. */
    const deviation = (from: number, to: number): number[] => {
      const out: number[] = [];
      for (let i = 1; i < times.length; i++) if (times[i - 1]! >= from && times[i]! <= to) out.push(Math.abs(times[i]! - times[i - 1]! - PERIOD_MS));
      return out;
    };
    const deviations = deviation(floodStart, floodEnd);
    // The host's own noise in the same run: the 2 s before the flood and the 0.5 s after it.
    const normal = [...deviation(floodStart - 2000, floodStart), ...deviation(floodEnd, floodEnd + 500)];
    const reasons = new Map<string, number>();
    for (const event of audit) reasons.set(String(event.detail?.reason), (reasons.get(String(event.detail?.reason)) ?? 0) + 1);
    const seconds = (floodEnd - floodStart) / 1000;
    console.log(
      `signed-command flood: ${stats.received} requests in ${(seconds * 1000).toFixed(0)} ms (this process: ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU), ` +
        `${stats.answered} verified and refused, ${stats.ignored} ignored unread; refusals ${JSON.stringify(Object.fromEntries(reasons))}; ` +
        `cadence |Δt − 10 ms| p50/p95/max flood ${[50, 95, 100].map((p) => percentile(deviations, p).toFixed(2)).join('/')} ms (${deviations.length} intervals), ` +
        `normal ${[50, 95, 100].map((p) => percentile(normal, p).toFixed(2)).join('/')} ms (${normal.length} intervals)`,
    );
    expect(probe.device.state).toBe('running');
    expect(probe.transport.state).toBe('connected');
    expect(stats.answered + stats.ignored).toBe(stats.received);
    expect(stats.refused).toBe(stats.answered);
    // Signature checks are rate-limited: 10 at once, then 20/s.
    expect(stats.answered).toBeLessThanOrEqual(10 + Math.ceil(seconds * 20) + 2);
    // Nothing ran: every record is a refusal, of the four kinds sent.
    expect(audit.every((event) => event.result === 'denied')).toBe(true);
    expect([...reasons.keys()].every((reason) => ['wrong-role', 'unknown-key', 'bad-signature', 'expired'].includes(reason))).toBe(true);
    // Sampling went on at its rate (no more than 10 % of the ticks missing), and 95 % of the
    // intervals within half a period of 10 ms, or, on a host whose own noise is above that, within
    // twice the host's p95 of the same run.
    expect(deviations.length).toBeGreaterThan(((floodEnd - floodStart) / PERIOD_MS) * 0.9);
    expect(percentile(deviations, 95), "the flood's p95").toBeLessThanOrEqual(Math.max(PERIOD_MS / 2, 2 * percentile(normal, 95)));
  }, 90_000);
});
