/**
 * The `sensorkit` binary as a user runs it: a real child process through bin/sensorkit.js.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/sensorkit.js`;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function sensorkit(args: string[], options: { killAfterFirstLine?: NodeJS.Signals } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.killAfterFirstLine && !signalled && stdout.includes('\n{')) {
        signalled = true;
        child.kill(options.killAfterFirstLine);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const fixture = (name: string): string => `test/fixtures/devices/${name}`;

describe('sensorkit CLI', () => {
  it('prints help for the binary and the run verb', async () => {
    const top = await sensorkit(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Usage: sensorkit <command>/);
    const run = await sensorkit(['run', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--duration SECONDS/);
  });

  it('runs the default device and prints one JSON object per reading with --json', async () => {
    // --no-opcua: tests run side by side and must not compete for port 4840 (see opcua-cli.test.ts).
    const result = await sensorkit(['run', '--json', '--duration', '2.5', '--seed', '7', '--no-opcua']);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const readings = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const channels = new Set(readings.map((r) => r.channel));
    expect(channels).toEqual(new Set(['temperature', 'humidity', 'pressure']));
    for (const reading of readings) {
      expect(Object.keys(reading).sort()).toEqual(['channel', 'quality', 'time', 'unit', 'value']);
      expect(reading.quality).toBe('good');
      expect(typeof reading.value).toBe('number');
      expect(Number.isNaN(Date.parse(reading.time as string))).toBe(false);
    }
    const units = Object.fromEntries(readings.map((r) => [r.channel, r.unit]));
    expect(units).toEqual({ temperature: 'Cel', humidity: '%RH', pressure: 'hPa' });
  });

  it('shows a table of the latest values and stops cleanly on SIGINT', async () => {
    const child = spawn(process.execPath, [BIN, 'run', '--seed', '2', '--no-opcua'], { cwd: ROOT });
    let stdout = '';
    const sawValues = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (/temperature\s+-?\d+\.\d+\s+Cel\s+good/.test(stdout)) resolve();
      }),
    );
    await sawValues;
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(stdout).toMatch(/CHANNEL\s+VALUE\s+UNIT\s+QUALITY/);
    expect(stdout).toMatch(/pressure\s+\d+\.\d+\s+hPa\s+good/);
    expect(stdout.trimEnd().endsWith('stopped')).toBe(true);
  });

  it.each([
    ['bad-unit.ts', /bad-unit\.ts: channels\[0\]\.unit: unknown unit "degrees"/],
    ['bad-rate.ts', /bad-rate\.ts: channels\[0\]\.sampleRate: bme280 can deliver at most/],
    ['bad-pin.js', /bad-pin\.js: channels\[0\]\.driver\.pin: board arduino-uno has no analog pin "A7"/],
    ['not-a-model.js', /not-a-model\.js: must export a device model as default/],
    ['syntax-error.ts', /syntax-error\.ts: /],
    ['missing.ts', /missing\.ts: no such file or folder/],
  ])('rejects the device file %s with one line naming the file and field', async (name, reason) => {
    const result = await sensorkit(['run', fixture(name), '--duration', '1', '--no-opcua']);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^sensorkit: /);
    expect(lines[0]).toMatch(reason);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    [['run', '--seed', 'abc'], /--seed: expected a number, got "abc"/],
    [['run', '--board', 'esp32'], /--board: unknown board "esp32"; available: emulated/],
    [['run', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['launch'], /unknown command "launch"/],
  ])('answers a wrong command line %j with a usage error and exit code 2', async (args, reason) => {
    const result = await sensorkit(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).toMatch(/Try 'sensorkit .*--help'/);
  });
});
