/**
 * The runtime and `sensorkit run` facing faulty inputs on disk: an outbox path that cannot be a
 * directory (the embedded broker, already started, kept the process alive), a device or
 * configuration path that is not a regular file or is too large (`/dev/zero` was read until memory
 * ran out), and an outbox whose oldest segment has a damaged header (every start failed, pending
 * records stuck): set aside, reported, the records delivered.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceFileError } from '../../sdk/core/errors.js';
import { topics } from '../../sdk/encoding/topics.js';
import { DurableOutbox } from '../../sdk/transport/outbox/index.js';
import { ConfigFileError, loadConfigFile, loadDeviceFile, Runtime } from '../../sdk/runtime/index.js';
import { subscriber } from '../fixtures/mqtt-probe.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENV_NODE = `${ROOT}examples/env-node`;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-runtime-faults-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Whether it had to be killed after `limitMs`. */
  hung: boolean;
}

/** Runs `sensorkit ARGS`; kills it after `limitMs` (a hang is a failure to report, not to wait out). */
function sensorkit(args: string[], limitMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, SENSORKIT_DEBUG: '' };
    delete env.SENSORKIT_SERIAL;
    const child = spawn(process.execPath, ['bin/sensorkit.js', ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, hung });
    });
  });
}

describe('sensorkit run: a fault before it starts ends it with one line, exit 1', () => {
  it('--outbox naming a file (/etc/passwd): the embedded broker is closed again and the process ends', { timeout: 30_000 }, async () => {
    const run = await sensorkit(['run', '--outbox', '/etc/passwd', '--no-opcua', '--duration', '2']);
    expect(run.hung).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe("sensorkit: /etc/passwd: create directory failed: EEXIST: file already exists, mkdir '/etc/passwd'\n");
  });

  it.each([
    [['run', '/dev/zero', '--no-opcua', '--no-mqtt', '--duration', '1'], 'sensorkit: /dev/zero: not a regular file (a device file must be a file of at most 1 MiB)\n'],
    [['run', '--config', '/dev/zero', '--no-opcua', '--no-mqtt', '--duration', '1'], 'sensorkit: /dev/zero: not a regular file (a configuration file must be a file of at most 1 MiB)\n'],
    [['config', 'check', '/dev/zero'], 'sensorkit: /dev/zero: not a regular file (a configuration file must be a file of at most 1 MiB)\n'],
  ])('sensorkit %j is refused before anything is read', { timeout: 30_000 }, async (args, line) => {
    const run = await sensorkit(args);
    expect(run.hung).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(line);
  });
});

describe('device and configuration files: a regular file of at most 1 MiB', () => {
  it('refuses a device file over 1 MiB and a folder whose entry file is not a regular file', async () => {
    const dir = tempDir();
    const large = join(dir, 'large.js');
    // Valid JavaScript that would load: only its size is at fault.
    writeFileSync(large, `// ${'x'.repeat(1024 * 1024)}\nexport default undefined;\n`);
    await expect(loadDeviceFile(large)).rejects.toThrow(new DeviceFileError(large, '1.0 MiB; a device file may be at most 1 MiB'));

    const folder = join(dir, 'device-folder');
    mkdirSync(join(folder, 'device.ts'), { recursive: true });
    await expect(loadDeviceFile(folder)).rejects.toThrow(new DeviceFileError(join(folder, 'device.ts'), 'not a regular file (a device file must be a file of at most 1 MiB)'));
  });

  it('refuses a configuration file over 1 MiB', async () => {
    const dir = tempDir();
    const large = join(dir, 'sensorkit.config.json');
    writeFileSync(large, `{"seed": 1, "serialNumber": "${'x'.repeat(1024 * 1024)}"}`);
    const error = await loadConfigFile(large).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigFileError);
    expect((error as ConfigFileError).message).toBe(`${large}: 1.0 MiB; a configuration file may be at most 1 MiB`);
  });
});

/** A SenML-CBOR pack of one record, `[{0: "x", 2: n}]` (RFC 8428 §6: n is 0, v is 2), n below 24. */
const pack = (n: number): Uint8Array => new Uint8Array([0x81, 0xa2, 0x00, 0x61, 0x78, 0x02, n]);

describe('Runtime: an outbox file with a damaged header', () => {
  it('is set aside with a warning and in the status; the pending records are delivered', { timeout: 30_000 }, async () => {
    const dir = join(tempDir(), 'outbox');
    const outbox = await DurableOutbox.open({ dir, segmentBytes: 1024, fsync: 'always' });
    for (let n = 0; n < 20; n++) await outbox.append(pack(n));
    const pending = outbox.pending().map((entry) => Buffer.from(entry.payload).toString('hex'));
    await outbox.close();
    // One damaged byte in the magic of the (only) segment's header: `not an outbox file` at every start, before.
    const segment = join(dir, '000000000001.seg');
    const bytes = readFileSync(segment);
    bytes[2] = bytes[2]! ^ 0xff;
    writeFileSync(segment, bytes);

    const warnings: string[] = [];
    const runtime = await Runtime.open({ device: ENV_NODE, seed: 22, outbox: { dir }, opcua: false }, { warn: (message) => warnings.push(message) });
    cleanups.push(() => runtime.stop());
    expect(warnings).toEqual([`a damaged outbox file was set aside as ${runtime.status().outbox?.setAside[0]}; its readable records were kept`]);
    const status = runtime.status().outbox;
    expect(status?.setAside).toHaveLength(1);
    expect(status?.setAside[0]).toMatch(/000000000001\.seg\.damaged-\d{8}T\d{6}\.\d{3}Z$/);
    expect(status?.pendingRecords).toBe(20);

    const t = topics('env-node-EMU-22');
    const watcher = await subscriber(runtime.broker!.url, 4, [t.telemetry]);
    cleanups.push(() => watcher.close());
    await runtime.start();
    for (const hex of pending) await watcher.next(t.telemetry, (message) => message.payload.toString('hex') === hex, 15_000);
  });
});
