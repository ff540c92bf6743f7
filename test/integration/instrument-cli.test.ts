/**
 * `sensorkit instrument simulate` as a process: it prints the spec it listens on, the SCPI driver
 * identifies and drives it, a plan dry-runs against it with `sensorkit hil run`, SIGTERM and SIGINT
 * stop it cleanly (exit 0, port released), and wrong command lines exit 2 with one line.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../sdk/core/clock.js';
import { InstrumentError, ScpiInstrument, connectInstrument, startScpiSimulator } from '../../hil/instruments/index.js';
import { trackedCleanups } from '../support/cleanups.js';
import { tryConnect } from '../support/net.js';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = `${ROOT}bin/sensorkit.js`;
const { cleanups, track } = trackedCleanups();

/** Starts the simulator; resolves with its first line (the spec), its other lines and its exit. */
async function simulate(args: string[]): Promise<{ child: ChildProcess; spec: string; lines: string[]; exited: Promise<{ code: number | null; stderr: string }> }> {
  const child = spawn(process.execPath, [CLI, 'instrument', 'simulate', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const lines: string[] = [];
  const first = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (lines.length === 1) resolve(line);
    });
    void exited.then(({ code }) => reject(new Error(`the simulator exited (${String(code)}) before printing its spec: ${stderr.trim()}`)));
  });
  return { child, spec: await first, lines, exited };
}

describe('sensorkit instrument simulate', () => {
  it('prints its spec, is driven by the SCPI driver, and stops cleanly on SIGTERM', async () => {
    const { child, spec, lines, exited } = await simulate(['dmm', '--port', '0', '--seed', '3']);
    expect(spec).toMatch(/^scpi-tcp:127\.0\.0\.1:\d+$/);
    const { instrument } = await connectInstrument(spec, { clock: new SystemClock(), seed: 0, role: 'dmm' });
    const dmm = track(instrument as ScpiInstrument);
    expect(await dmm.identify()).toMatchObject({ manufacturer: 'sensorkit', model: 'SIM-DMM', serialNumber: 'SIM-3', simulated: true });
    await dmm.write('SIM:INP:CURR 0.02');
    expect((await dmm.measure('current-dc')).value).toBeCloseTo(0.02, 6);
    await expect(dmm.write('NOT:A:COMMAND')).rejects.toMatchObject({ instrumentCode: -113 });
    expect(lines[1]).toMatch(/^simulating SIM-DMM \(dmm\), seed 3, SCPI on 127\.0\.0\.1:\d+; Ctrl-C stops it$/);

    child.kill('SIGTERM');
    const { code, stderr } = await exited;
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const port = Number(spec.split(':').at(-1));
    expect(await tryConnect(port)).toBeUndefined();
  }, 30_000);

  it('misbehaves on request (--idn garbage is refused by connectInstrument) and stops on SIGINT', async () => {
    const { child, spec, exited } = await simulate(['chamber', '--port', '0', '--idn', 'garbage', '--delay', '10']);
    const error = await connectInstrument(spec, { clock: new SystemClock(), seed: 0, role: 'chamber' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstrumentError);
    expect((error as Error).message).toBe(`chamber (${spec}): *IDN?: the instrument did not identify: expected four comma-separated fields (manufacturer,model,serial,firmware), got "garbage"`);
    child.kill('SIGINT');
    expect((await exited).code).toBe(0);
  }, 30_000);

  it('a plan dry-runs against it: sensorkit hil run --instrument reference=scpi-tcp:…', async () => {
    const { child, spec, exited } = await simulate(['calibrator', '--port', '0', '--seed', '4']);
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-dry-run-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const plan = join(dir, 'plan.json');
    writeFileSync(
      plan,
      JSON.stringify({
        id: 'dry-run',
        name: 'reference over SCPI',
        version: '1.0.0',
        device: join(ROOT, 'examples/env-node'),
        instruments: { reference: ['temperature'] },
        phases: [
          {
            id: 'at-30',
            steps: [
              { kind: 'stimulus', input: 'temperature', value: 30, unit: 'Cel' },
              { kind: 'source', instrument: 'reference', quantity: 'temperature', value: 30, unit: 'Cel' },
              { kind: 'settle', channel: 'temperature', tolerance: 0.05, unit: 'Cel', windowMs: 10_000, timeoutMs: 300_000 },
              { kind: 'measure', id: 'temperature@30Cel', channel: 'temperature', samples: 3, reference: { instrument: 'reference', quantity: 'temperature' }, limits: { tolerance: 'mpe' } },
            ],
          },
        ],
      }),
    );
    const run = await exec(process.execPath, [CLI, 'hil', 'run', plan, '--instrument', `reference=${spec}`, '--out', join(dir, 'out')], { cwd: ROOT }).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect((run as { code?: number }).code ?? 0, (run as { stderr: string }).stderr).toBe(0);
    const record = JSON.parse(readFileSync(join(dir, 'out', 'record.json'), 'utf8')) as {
      instruments: unknown[];
      phases: { measurements: { reference?: { value: number; source: string }; outcome: string }[] }[];
    };
    expect(record.instruments).toMatchObject([{ id: 'reference', connection: spec, manufacturer: 'sensorkit', model: 'SIM-CAL', serialNumber: 'SIM-4', simulated: true }]);
    expect(record.phases[0]!.measurements[0]).toMatchObject({ reference: { value: 30, source: 'instrument reference' }, outcome: 'pass' });
    child.kill('SIGTERM');
    expect((await exited).code).toBe(0);
  }, 60_000);

  it('a port in use is one line and exit 1', async () => {
    const busy = track(await startScpiSimulator({ kind: 'dmm', port: 0 }));
    const failed = await exec(process.execPath, [CLI, 'instrument', 'simulate', 'supply', '--port', String(busy.port)], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toBe(`sensorkit: cannot listen on 127.0.0.1:${busy.port}: listen EADDRINUSE: address already in use 127.0.0.1:${busy.port}\n`);
  }, 30_000);

  it('wrong command lines exit 2 with one line and a hint; --help exits 0', async () => {
    const run = (args: string[]) =>
      exec(process.execPath, [CLI, 'instrument', ...args], { cwd: ROOT }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    const [none, unknown, badPort, extra, help] = await Promise.all([
      run([]),
      run(['simulate', 'oscilloscope']),
      run(['simulate', 'dmm', '--port', '70000']),
      run(['simulate', 'dmm', 'now']),
      run(['--help']),
    ]);
    expect(none).toMatchObject({ code: 2, stderr: "sensorkit: instrument: which action? (simulate)\nTry 'sensorkit instrument --help'.\n" });
    expect(unknown).toMatchObject({ code: 2, stderr: "sensorkit: instrument simulate: unknown instrument \"oscilloscope\" (available: dmm, calibrator, supply, chamber)\nTry 'sensorkit instrument --help'.\n" });
    expect(badPort).toMatchObject({ code: 2, stderr: "sensorkit: --port: must be at most 65535, got 70000\nTry 'sensorkit instrument --help'.\n" });
    expect(extra.code).toBe(2);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: sensorkit instrument simulate dmm\|calibrator\|supply\|chamber \[options\]\n/);
  }, 60_000);
});
