/**
 * examples/app: an application on the runtime library. It runs as documented (a real child process,
 * its readings on standard output, a clean stop on SIGINT), and its `startApp` runs in-process on
 * virtual time.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startApp } from '../../examples/app/main.js';
import { VirtualClock } from '../../sdk/core/clock.js';
import { waitFor } from '../support/net.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('examples/app', () => {
  it('runs as documented: the start line, readings, and "stopped" after SIGINT', async () => {
    const child = spawn(process.execPath, ['--import', './bin/register-ts.js', 'examples/app/main.ts'], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await waitFor(() => /^pressure \d+\.\d\d hPa \(good\)$/m.test(stdout), 30_000, 'a pressure reading');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stdout.split('\n')[0]).toMatch(/^running env-node on the emulated Raspberry Pi 4 Model B, seed 1; MQTT mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(stdout.trimEnd().endsWith('stopped')).toBe(true);
    expect(stderr).toBe('');
  }, 60_000);

  it('starts in-process with settings of the caller, on virtual time', async () => {
    const clock = new VirtualClock({ start: Date.UTC(2026, 10, 25, 8) });
    const lines: string[] = [];
    const runtime = await startApp({ mqtt: false, seed: 2, clock }, (line) => lines.push(line));
    try {
      await clock.advance(5_000);
      expect(lines.length).toBeGreaterThanOrEqual(3);
      for (const line of lines) expect(line).toMatch(/^(temperature|humidity|pressure) -?\d+\.\d\d (Cel|%RH|hPa) \(good\)$/);
    } finally {
      await runtime.stop();
    }
    expect(clock.pending).toBe(0);
  });
});
