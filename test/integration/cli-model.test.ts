/**
 * `sensorkit model` as a user runs it: a real child process through bin/sensorkit.js.
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

function sensorkit(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const base: NodeJS.ProcessEnv = { ...process.env, SENSORKIT_DEBUG: '' };
    delete base.SENSORKIT_SERIAL;
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Td {
  title: string;
  id: string;
  properties: Record<string, { unit?: string; forms: { href: string }[] }>;
  actions: Record<string, unknown>;
  events: Record<string, unknown>;
  security: string[];
  'schema:serialNumber': string;
}

describe('sensorkit model', () => {
  it('prints its help, and is listed in the binary\'s help', async () => {
    const help = await sensorkit(['model', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: sensorkit model \[DEVICE\]/);
    expect(help.stdout).toMatch(/--format FORMAT +what to print: wot, cddl or nodeset/);
    const top = await sensorkit(['--help']);
    expect(top.stdout).toMatch(/model \[DEVICE\]/);
  });

  it('prints the Thing Description of the default device (env-node) as pretty JSON, with serial EMU-1', async () => {
    const result = await sensorkit(['model']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\{\n {2}"@context"/);
    const td = JSON.parse(result.stdout) as Td;
    expect(td.title).toBe('EN-1 environmental node');
    expect(Object.keys(td.properties)).toEqual(['temperature', 'humidity', 'pressure', 'location']);
    expect(td.properties.pressure!.unit).toBe('hPa');
    expect(td.properties.temperature!.forms[0]!.href).toBe('mqtt://127.0.0.1:1883/sensorkit/v1/env-node-EMU-1/telemetry');
    expect(Object.keys(td.events)).toEqual(['status', 'overheat', 'condensation-risk']);
  });

  it('takes the device, serial, broker and security from the command line', async () => {
    const result = await sensorkit(['model', 'examples/motor-monitor', '--format', 'wot', '--serial', 'MM 0042', '--broker', 'mqtts://broker.example', '--security', 'basic']);
    expect(result.code).toBe(0);
    const td = JSON.parse(result.stdout) as Td;
    expect(td['schema:serialNumber']).toBe('MM 0042');
    expect(td.properties['vibration-rms']!.forms[0]!.href).toBe('mqtts://broker.example:8883/sensorkit/v1/motor-monitor-MM_0042/telemetry');
    expect(Object.keys(td.actions)).toEqual(['acknowledge']);
    expect(td.security).toEqual(['basic_sc']);
  });

  it('takes the serial from SENSORKIT_SERIAL when the model reads it from the environment', async () => {
    const result = await sensorkit(['model', 'examples/pressure-transmitter'], { SENSORKIT_SERIAL: 'PT-7' });
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as Td).properties.pressure!.forms[0]!.href).toContain('/sensorkit/v1/pressure-transmitter-PT-7/telemetry');
  });

  it('prints the CDDL of the payloads with --format cddl', async () => {
    const result = await sensorkit(['model', 'examples/pressure-transmitter', '--format', 'cddl']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^; Payloads of the sensorkit device model "pressure-transmitter"/);
    expect(result.stdout).toContain('\npayload = telemetry / status / thing-description / overpressure-event / low-pressure-event\n');
    expect(result.stdout).toContain('pressure-record = { record-base, n => "pressure", u => "Pa", reading }');
  });

  it.each([
    [['model', '--format', 'xml'], /^sensorkit: --format: unknown format "xml"; available: wot, cddl, nodeset\nTry 'sensorkit model --help'\.\n$/],
    [['model', '--broker', 'http://broker.example'], /^sensorkit: --broker: expected an mqtt:\/\/ or mqtts:\/\/ URL, got "http:\/\/broker.example"\n/],
    [['model', '--security', 'cert'], /^sensorkit: --security: unknown scheme "cert"; available: nosec, basic, psk\n/],
    [['model', '--format', 'cddl', '--serial', 'X'], /^sensorkit: --serial applies to --format wot only\n/],
    [['model', 'a', 'b'], /^sensorkit: model takes one DEVICE, got 2: a b\n/],
    [['model', '--nope'], /^sensorkit: Unknown option '--nope'/],
  ])('exits 2 with a one-line usage error for %j', async (args, message) => {
    const result = await sensorkit(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(2);
  });

  it.each([
    ['test/fixtures/devices/missing', /no such file or folder/],
    ['test/fixtures/devices/bad-unit.ts', /bad-unit\.ts: .*unit/],
    ['test/fixtures/devices/syntax-error.ts', /syntax-error\.ts/],
    ['test/fixtures/devices/not-a-model.js', /must export a device model/],
  ])('reports a device file error in one line, exit 1: %s', async (device, message) => {
    const result = await sensorkit(['model', device, '--format', 'cddl']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
