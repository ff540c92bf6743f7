/**
 * Configuration files from the command line, as a user runs them (real child processes):
 * `sensorkit config check` and `config schema`, `sensorkit run --config FILE` with flags over the
 * file, a configuration module that registers its own board kind, and ./sensorkit.config.json found
 * in the working directory. Errors name the file and the field, or the flag that set the setting.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/sensorkit.js`;
const CONFIG = 'test/fixtures/config';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sensorkit(args: string[], cwd = ROOT): Promise<Run> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, SENSORKIT_DEBUG: '' };
    delete env.SENSORKIT_SERIAL;
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

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-config-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The start line (`sensorkit: <model> (…, serial X) on …`), which --json sends to stderr. */
const startLine = (run: Run): string | undefined => run.stderr.split('\n').find((line) => /^sensorkit: [a-z-]+ \(/.test(line));

describe('sensorkit config', () => {
  it('checks the example deployment without starting anything: one line, exit 0', async () => {
    const result = await sensorkit(['config', 'check', 'examples/app/sensorkit.config.json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `examples/app/sensorkit.config.json: ok: device env-node (${ROOT}examples/app/device.ts) on linux; MQTT mqtts://broker.plant:8883 (TLS: ca, cert, key); ` +
        'outbox /var/lib/sensor/outbox; OPC UA port 4840 (production)\n',
    );
  });

  it.each([
    ['bad-url.json', 'bad-url.json: mqtt.url: must be mqtt:// or mqtts://, got "http://x"'],
    ['typo.json', 'typo.json: opcua.prot: unknown field; did you mean "port"?'],
    ['bad-define.ts', 'bad-define.ts: seed: must be from 0 to 4294967295, got -1'],
    ['bad-device.json', `bad-device.json: device: ${ROOT}test/fixtures/devices/bad-unit.ts: channels[0].unit: unknown unit "degrees"`],
  ])('answers %s with one line naming the file and the field, exit 1', async (name, message) => {
    const result = await sensorkit(['config', 'check', `${CONFIG}/${name}`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.startsWith(`sensorkit: ${CONFIG}/${message}`)).toBe(true);
  });

  it('looks for ./sensorkit.config.* without FILE, and says so when there is none (exit 2)', async () => {
    const dir = tempDir();
    const none = await sensorkit(['config', 'check'], dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^sensorkit: config check: no sensorkit\.config\.json, sensorkit\.config\.ts, sensorkit\.config\.js, sensorkit\.config\.mjs here; give FILE\n/);
    writeFileSync(join(dir, 'sensorkit.config.json'), JSON.stringify({ opcua: false }));
    const found = await sensorkit(['config', 'check'], dir);
    expect(found.code).toBe(0);
    expect(found.stdout).toBe('sensorkit.config.json: ok: no device (sensorkit run takes DEVICE) on emulated, seed 1; MQTT embedded broker; outbox .sensorkit/outbox/<device id>; OPC UA off\n');
  });

  it('never prints the password of a broker URL in its summary', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'sensorkit.config.json'), JSON.stringify({ mqtt: { url: 'mqtt://admin:S3cret@broker.plant:1883' }, opcua: false }));
    const result = await sensorkit(['config', 'check'], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('MQTT mqtt://admin:***@broker.plant:1883');
    expect(`${result.stdout}${result.stderr}`).not.toContain('S3cret');
  });

  it('prints the JSON Schema for editors', async () => {
    const result = await sensorkit(['config', 'schema']);
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as { $schema: string; properties: Record<string, { description: string }>; additionalProperties: boolean };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(Object.keys(schema.properties)).toEqual(['$schema', 'device', 'board', 'seed', 'realtime', 'serialNumber', 'mqtt', 'outbox', 'opcua', 'profile', 'security', 'calibration']);
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('sensorkit run --config FILE', () => {
  it('runs what the file says, its device path relative to the file', async () => {
    const result = await sensorkit(['run', '--config', `${CONFIG}/good.json`, '--duration', '1', '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr.split('\n')[0]).toBe(`sensorkit: config ${CONFIG}/good.json`);
    expect(startLine(result)).toMatch(/^sensorkit: env-node \(.*, serial CFG-5\) on the emulated Raspberry Pi 4 Model B, seed 5; MQTT off; OPC UA off$/);
    const readings = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { channel: string; quality: string });
    expect(new Set(readings.map((reading) => reading.channel))).toEqual(new Set(['temperature', 'humidity', 'pressure']));
  });

  it('lets flags override the file', async () => {
    const result = await sensorkit(['run', '--config', `${CONFIG}/good.json`, '--seed', '8', '--serial', 'SN-FLAG', '--duration', '1', '--json']);
    expect(result.code).toBe(0);
    expect(startLine(result)).toMatch(/, serial SN-FLAG\) on the emulated Raspberry Pi 4 Model B, seed 8; MQTT off; OPC UA off$/);
  });

  it('names the file and field for a bad setting in the file (exit 1), and the flag for a bad flag (exit 2)', async () => {
    const inFile = await sensorkit(['run', '--config', `${CONFIG}/bad-board.json`, '--duration', '1']);
    expect(inFile.code).toBe(1);
    expect(inFile.stderr.trim()).toBe(`sensorkit: ${CONFIG}/bad-board.json: board: unknown board "esp32"; available: emulated, firmata:PATH[@BAUD], linux[:ROOT]`);
    // The file is checked as a whole, as `config check` does: a flag over a bad setting does not hide it.
    const overridden = await sensorkit(['run', '--config', `${CONFIG}/bad-board.json`, '--board', 'emulated', '--duration', '1', '--json']);
    expect(overridden.code).toBe(1);
    expect(overridden.stderr.trim()).toBe(inFile.stderr.trim());
    const flag = await sensorkit(['run', '--config', `${CONFIG}/good.json`, '--mqtt', 'http://x', '--duration', '1']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^sensorkit: --mqtt: must be mqtt:\/\/ or mqtts:\/\/, got "http:\/\/x"\nTry 'sensorkit run --help'\.\n$/);
  });

  it('runs on a board kind that a TypeScript configuration registers', async () => {
    const result = await sensorkit(['run', '--config', `${CONFIG}/custom-board.ts`, '--duration', '1', '--json']);
    expect(result.code).toBe(0);
    expect(startLine(result)).toMatch(/ on the test bench \(Raspberry Pi 4 Model B\), bench seed 42; MQTT off; OPC UA off$/);
    expect(result.stdout.trim().split('\n').length).toBeGreaterThan(0);
    const bad = await sensorkit(['run', '--config', `${CONFIG}/custom-board.ts`, '--board', 'bench:x', '--duration', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^sensorkit: --board bench:SEED: SEED must be digits, got "x"\n/);
  });

  it('uses ./sensorkit.config.json of the working directory', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'sensorkit.config.json'), JSON.stringify({ device: `${ROOT}examples/env-node`, seed: 4, mqtt: false, opcua: false }));
    const result = await sensorkit(['run', '--duration', '1', '--json'], dir);
    expect(result.code).toBe(0);
    expect(result.stderr.split('\n')[0]).toBe('sensorkit: config sensorkit.config.json');
    expect(startLine(result)).toMatch(/, serial EMU-4\) on the emulated Raspberry Pi 4 Model B, seed 4; MQTT off; OPC UA off$/);
  });

  it('names the file for a runtime failure of a setting the file made (the OPC UA port in use)', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const dir = tempDir();
      const file = join(dir, 'sensorkit.config.json');
      writeFileSync(file, JSON.stringify({ device: `${ROOT}examples/env-node`, mqtt: false, opcua: { port, pki: './pki', users: './users.json' } }));
      const result = await sensorkit(['run', '--config', file, '--duration', '30']);
      expect(result.code).toBe(1);
      const lines = result.stderr.split('\n').filter((line) => line.startsWith('sensorkit: ') && !line.startsWith('sensorkit: warning:'));
      expect(lines).toEqual([`sensorkit: ${file}: opcua.port: ${port} is already in use on 127.0.0.1 (another OPC UA server?); choose another port or stop the other server`]);
    } finally {
      blocker.close();
    }
  }, 60_000);
});

describe('sensorkit model --config FILE', () => {
  it('takes the device, serial number and broker from the configuration, flags over them', async () => {
    const fromFile = await sensorkit(['model', '--config', 'examples/app/sensorkit.config.json']);
    expect(fromFile.code).toBe(0);
    const td = JSON.parse(fromFile.stdout) as { title: string; forms?: unknown; properties: Record<string, { forms: { href: string }[] }> };
    const hrefs = Object.values(td.properties).flatMap((property) => property.forms.map((form) => form.href));
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href.startsWith('mqtts://broker.plant:8883/sensorkit/v1/env-node-')).toBe(true);
    const overridden = await sensorkit(['model', '--config', 'examples/app/sensorkit.config.json', '--broker', 'mqtt://127.0.0.1:1883', '--serial', 'SN-9']);
    expect(overridden.code).toBe(0);
    expect(overridden.stdout).toContain('"mqtt://127.0.0.1:1883/sensorkit/v1/env-node-SN-9/telemetry"');
    expect(overridden.stdout).not.toContain('broker.plant');
  });
});

