/**
 * `sensorkit run` as a user runs it (a real child process): where the serial number comes from, and
 * how a device file's own failing code and a missing emulation are reported.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/sensorkit.js`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `sensorkit run … --no-mqtt --no-opcua --duration 1 --json` with `env` over the test's environment (undefined removes a variable). */
function run(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const merged: NodeJS.ProcessEnv = { ...process.env, SENSORKIT_DEBUG: '' };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'run', ...args, '--no-mqtt', '--no-opcua', '--duration', '1', '--json'], { cwd: ROOT, env: merged });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const fixture = (name: string): string => `test/fixtures/devices/${name}`;

/** The serial number in the start line (`… serial X) on the emulated …`), which `--json` sends to stderr. */
function serialOf(result: Run): string | undefined {
  return /, serial (\S+)\) on the emulated/.exec(result.stderr)?.[1];
}

describe('sensorkit run: serial number', () => {
  it('takes --serial first, then SENSORKIT_SERIAL, then EMU-<seed>', async () => {
    const [flag, env, fallback, empty] = await Promise.all([
      run(['--serial', 'SN-FLAG'], { SENSORKIT_SERIAL: 'SN-ENV' }),
      run([], { SENSORKIT_SERIAL: 'SN-ENV' }),
      run(['--seed', '9'], { SENSORKIT_SERIAL: undefined }),
      run(['--seed', '9'], { SENSORKIT_SERIAL: '' }),
    ]);
    for (const result of [flag, env, fallback, empty]) expect(result.code).toBe(0);
    expect(serialOf(flag)).toBe('SN-FLAG');
    expect(serialOf(env)).toBe('SN-ENV');
    expect(serialOf(fallback)).toBe('EMU-9');
    // An empty variable is not a serial number.
    expect(serialOf(empty)).toBe('EMU-9');
  });
});

describe('sensorkit run: the device file\'s own code', () => {
  it.each([
    ['emulation-throws.ts', /emulation-throws\.ts: emulation\(\) failed: no BME280 in the parts bin$/],
    ['setup-throws.ts', /setup-throws\.ts: setup\(\) failed: commands\.calibrate: no command "calibrate" in setup-throws$/],
  ])('reports an error thrown by %s in one line naming the file', async (name, reason) => {
    const result = await run([fixture(name)]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^sensorkit: /);
    expect(lines[0]).toMatch(reason);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe('');
  });

  it('warns once, naming the file, when it exports no emulation; the readings are sensor faults', async () => {
    const result = await run([fixture('no-emulation.ts')]);
    expect(result.code).toBe(0);
    const warnings = result.stderr.split('\n').filter((line) => /warning/.test(line));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^sensorkit: warning: .*no-emulation\.ts exports no `emulation`: the emulated board has no parts attached, so readings will be sensor faults$/);
    const readings = result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(readings.length).toBeGreaterThan(0);
    for (const reading of readings) expect(reading).toMatchObject({ channel: 'temperature', quality: 'bad', reason: 'sensor_fault', value: null });
  });

  it('does not warn for a device file with an emulation', async () => {
    const result = await run([]);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/warning/);
  });
});

// How `sensorkit run` follows a step of the system clock (+2 h, −2 h): clock-step-cli.test.ts.
describe('sensorkit run: the reader of its output', () => {
  it('stops in order, exit 0, when the reader of its output goes away (run --json | head -2)', async () => {
    // The shell's `| head -2`: read two lines, then close the pipe while the device still runs.
    const child = spawn(process.execPath, [BIN, 'run', '--no-mqtt', '--no-opcua', '--json'], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    let lines = 0;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        lines += chunk.toString().split('\n').length - 1;
        if (lines >= 2) {
          child.stdout.destroy();
          resolve();
        }
      });
    });
    const code = await Promise.race([closed, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000))]);
    if (code === 'hung') child.kill('SIGKILL');
    expect(stderr).not.toMatch(/EPIPE|unexpected error|Unhandled/);
    expect(code).toBe(0);
  });
});
