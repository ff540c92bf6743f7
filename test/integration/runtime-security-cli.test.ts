/**
 * `sensorkit run --profile production` as a user runs it (real child processes): an unprovisioned
 * device prints each problem and exits 1 without sampling; provisioned with `--identity`, it runs
 * and its audit log (`--audit-log`) verifies with `sensorkit audit-log verify`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/sensorkit.js`;

function sensorkit(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, SENSORKIT_DEBUG: '' };
    for (const name of ['SENSORKIT_SERIAL', 'SENSORKIT_PROVISIONING_SECRET', 'SENSORKIT_PROVISIONING_SECRET_FILE', 'SENSORKIT_MQTT_PASSWORD']) delete env[name];
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe('sensorkit run --profile production', () => {
  it('an unprovisioned device names each problem and exits 1 without a reading; provisioned, it runs and its audit log verifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-runtime-security-cli-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const unprovisioned = await sensorkit(['run', '--profile', 'production', '--no-opcua', '--json', '--duration', '1'], dir);
    expect(unprovisioned.code).toBe(1);
    expect(unprovisioned.stdout).toBe('');
    expect(unprovisioned.stderr.split('\n').filter((line) => line !== '')).toEqual([
      expect.stringMatching(/^sensorkit: env-node .* MQTT mqtt:\/\/127\.0\.0\.1:\d+ \(embedded broker, port \d+\); OPC UA off$/),
      expect.stringMatching(/^sensorkit: warning: not provisioned: no device identity in .*\.sensorkit\/identity \(sensorkit identity init --dir .* --cn env-node-EMU-1, or a CA-issued one\)$/),
      expect.stringMatching(/^sensorkit: warning: not provisioned: no operator trust store \(security\.operators\)/),
      'sensorkit: not provisioned for the production profile (2 problems above); the device does not enter operation',
    ]);

    const identity = join(dir, 'identity');
    expect((await sensorkit(['identity', 'init', '--dir', identity, '--cn', 'env-node-EMU-1', '--serial', 'EMU-1'], dir)).code).toBe(0);
    const log = join(dir, 'audit.log');
    const provisioned = await sensorkit(['run', '--profile', 'production', '--no-opcua', '--no-mqtt', '--json', '--identity', identity, '--audit-log', log, '--duration', '2'], dir);
    // With --json the start line is on stderr, and nothing else: no warning, no refusal.
    expect(provisioned.stderr).toMatch(/^sensorkit: env-node .*; MQTT off; OPC UA off\n$/);
    expect(provisioned.code).toBe(0);
    expect(provisioned.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { channel: string }).some((reading) => reading.channel === 'temperature')).toBe(true);
    const verified = await sensorkit(['audit-log', 'verify', log], dir);
    expect(verified).toMatchObject({ code: 0, stdout: 'ok: 2 records (1–2) in 1 file, chain intact\n' });
    const shown = await sensorkit(['audit-log', 'show', log], dir);
    expect(shown.stdout).toMatch(/^\S+ #1 system success runtime\.start source=runtime \{"profile":"production",.*"identity":"([0-9A-F]{2}:){31}[0-9A-F]{2}"\}\n\S+ #2 system success runtime\.stop source=runtime\n$/);
  }, 90_000);
});
