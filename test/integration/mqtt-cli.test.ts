/**
 * `sensorkit run` with MQTT, as a user runs it: the embedded broker by default (its URL in the
 * first line), `--mqtt URL` for an external broker, `--outbox DIR`, and a clean stop on SIGINT.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { topics } from '../../sdk/encoding/topics.js';
import { startBroker } from '../support/brokers.js';
import { waitFor } from '../support/net.js';
import { json, resolveSenmlCbor, subscriber } from '../fixtures/mqtt-probe.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function run(args: string[]): { stdout: () => string; stderr: () => string; exited: Promise<number | null>; kill: (signal: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [`${ROOT}bin/sensorkit.js`, 'run', '--no-opcua', ...args], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  cleanups.push(() => void child.kill('SIGKILL'));
  return { stdout: () => stdout, stderr: () => stderr, exited, kill: (signal) => child.kill(signal) };
}

describe('sensorkit run with MQTT', () => {
  it('starts an embedded broker by default, prints its URL, publishes online and telemetry, and stops on SIGINT', async () => {
    const outbox = mkdtempSync(join(tmpdir(), 'sensorkit-cli-outbox-'));
    cleanups.push(() => rmSync(outbox, { recursive: true, force: true }));
    const device = run(['--seed', '11', '--outbox', outbox]);
    const url = await waitFor(() => /MQTT (mqtt:\/\/127\.0\.0\.1:\d+) \(embedded broker, port \d+\)/.exec(device.stdout())?.[1], 15_000, 'the banner');
    const t = topics('env-node-EMU-11');
    const watcher = await subscriber(url, 4, [t.status, t.telemetry]);
    cleanups.push(() => watcher.close());
    expect(json((await watcher.next(t.status)).payload)).toMatchObject({ state: 'online', protocol: 4 });
    const telemetry = await watcher.next(t.telemetry, () => true, 15_000);
    expect(resolveSenmlCbor(telemetry.payload).map((r) => r.name)).toEqual(expect.arrayContaining([`${t.deviceId}/temperature`]));
    await waitFor(() => /MQTT connected \(3\.1\.1\) · pending \d+ · dropped 0/.test(device.stdout()), 5000, 'the footer');
    device.kill('SIGINT');
    expect(await device.exited).toBe(0);
    expect(device.stdout().trimEnd().endsWith('stopped')).toBe(true);
  });

  it('publishes to an external broker with --mqtt and keeps --json output clean', async () => {
    const broker = await startBroker('mosquitto');
    cleanups.push(() => broker.close());
    const t = topics('env-node-EMU-12');
    const watcher = await subscriber(broker.url, broker.protocols.includes(5) ? 5 : 4, [t.telemetry, t.status]);
    cleanups.push(() => watcher.close());
    const outbox = mkdtempSync(join(tmpdir(), 'sensorkit-cli-outbox-'));
    cleanups.push(() => rmSync(outbox, { recursive: true, force: true }));
    const device = run(['--seed', '12', '--mqtt', broker.url, '--outbox', outbox, '--json', '--duration', '2.5']);
    expect(await device.exited).toBe(0);
    expect(device.stderr()).toContain(`MQTT ${broker.url}`);
    expect(device.stderr()).not.toMatch(/error/i);
    const readings = device.stdout().trim().split('\n').map((line) => JSON.parse(line) as { channel: string; time: string });
    // Every reading printed was published before the clean stop (2 s of flushing allowed).
    const records = await waitFor(() => {
      const all = watcher.on(t.telemetry).flatMap((m) => resolveSenmlCbor(m.payload));
      return all.length >= readings.length ? all : undefined;
    }, 10_000, 'every reading at the broker');
    expect(records.map((r) => r.name)).toEqual(readings.map((r) => `${t.deviceId}/${r.channel}`));
    const statuses = watcher.on(t.status).map((m) => json(m.payload).state);
    expect(statuses.at(-1)).toBe('offline');
  });
});
