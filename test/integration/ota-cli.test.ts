/** `sensorkit ota …` as a user runs it: real child processes through bin/sensorkit.js. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../security/audit-log.js';
import { makeImage } from '../support/ota-fixtures.js';
import { freePort, waitFor } from '../support/net.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/sensorkit.js`;
let dir: string;
const started: ChildProcess[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sensorkit(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'ota', ...args], { cwd: ROOT, env: { ...process.env, SENSORKIT_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-cli-'));
  await writeFile(join(dir, 'fw1.bin'), makeImage(10_000, 1));
  await writeFile(join(dir, 'fw2.bin'), makeImage(3 * 1024 * 1024, 2));
});
afterAll(async () => {
  // Also when a test timed out before its own cleanup.
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('sensorkit ota', () => {
  it('keygen writes PKCS#8 (0600) and SPKI keys, and never overwrites', async () => {
    for (const alg of ['ed25519', 'p256']) {
      const run = await sensorkit(['keygen', '--out', join(dir, `keys-${alg}`), '--alg', alg]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^${alg} key [0-9a-f]{16}: `));
      expect((await stat(join(dir, `keys-${alg}`, 'private.pem'))).mode & 0o777).toBe(0o600);
      expect(await readFile(join(dir, `keys-${alg}`, 'private.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(await readFile(join(dir, `keys-${alg}`, 'public.pem'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    }
    const again = await sensorkit(['keygen', '--out', join(dir, 'keys-ed25519')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/a key already exists; not overwritten\n$/);
    const bad = await sensorkit(['keygen', '--out', join(dir, 'k'), '--alg', 'rsa']);
    expect(bad.code).toBe(2);
  }, 60_000);

  it('sign and verify: exit 0 on a good envelope, 1 with a one-line reason otherwise', async () => {
    const keys = join(dir, 'keys-p256');
    const suit = join(dir, 'fw1.suit');
    const signed = await sensorkit(['sign', '--key', join(keys, 'private.pem'), '--payload', join(dir, 'fw1.bin'), '--sequence', '1', '--out', suit, '--vendor-id', 'acme.example', '--class-id', 'EN-1', '--version', '1.0.0']);
    expect(signed.code, signed.stderr).toBe(0);
    const ok = await sensorkit(['verify', suit, '--key', join(keys, 'public.pem'), '--payload', join(dir, 'fw1.bin'), '--vendor-id', 'acme.example', '--class-id', 'EN-1']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok: sequence 1, version 1\.0\.0, key [0-9a-f]{16}, firmware 10000 bytes sha256:[0-9a-f]{64}, payload matches\n$/);

    const bytes = await readFile(suit);
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 1;
    await writeFile(join(dir, 'tampered.suit'), bytes);
    const cases: [string[], RegExp][] = [
      [['verify', join(dir, 'tampered.suit'), '--key', join(keys, 'public.pem')], /^sensorkit: (digest-mismatch|bad-structure|malformed-cbor): /],
      [['verify', suit, '--key', join(dir, 'keys-ed25519', 'public.pem')], /^sensorkit: unknown-key: /],
      [['verify', suit, '--key', join(keys, 'public.pem'), '--payload', join(dir, 'fw2.bin')], /^sensorkit: payload-mismatch: /],
      [['verify', suit, '--key', join(keys, 'public.pem'), '--vendor-id', 'evil.example'], /^sensorkit: wrong-device: /],
    ];
    for (const [args, message] of cases) {
      const run = await sensorkit(args);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
    expect((await sensorkit(['verify', suit])).code).toBe(2);
  }, 120_000);

  it('serve, provision and update with a progress bar', async () => {
    const keys = join(dir, 'keys-ed25519');
    const served = join(dir, 'served');
    const device = join(dir, 'device');
    const common = ['--vendor-id', 'acme.example', '--class-id', 'EN-1'];
    await sensorkit(['sign', '--key', join(keys, 'private.pem'), '--payload', join(dir, 'fw1.bin'), '--sequence', '1', '--out', join(dir, 'fw1-ed.suit'), ...common]);
    await import('node:fs/promises').then((fs) => fs.mkdir(served, { recursive: true }));
    await writeFile(join(served, 'fw2.bin'), await readFile(join(dir, 'fw2.bin')));
    const signed = await sensorkit(['sign', '--key', join(keys, 'private.pem'), '--payload', join(served, 'fw2.bin'), '--sequence', '2', '--out', join(served, 'fw2.suit'), '--version', '2.0.0', ...common]);
    expect(signed.code, signed.stderr).toBe(0);

    const port = await freePort();
    const server: ChildProcess = spawn(process.execPath, [BIN, 'ota', 'serve', '--dir', served, '--port', String(port)], { cwd: ROOT });
    started.push(server);
    let banner = '';
    server.stdout!.on('data', (chunk: Buffer) => (banner += chunk.toString()));
    try {
      await waitFor(() => banner.includes(`http://127.0.0.1:${port}/`), 20_000, 'the update server');
      const provisioned = await sensorkit(['provision', '--root', device, '--key', join(keys, 'public.pem'), '--envelope', join(dir, 'fw1-ed.suit'), '--payload', join(dir, 'fw1.bin'), ...common]);
      expect(provisioned.code, provisioned.stderr).toBe(0);
      const updated = await sensorkit(['update', '--root', device, '--key', join(keys, 'public.pem'), '--envelope', join(served, 'fw2.suit'), '--base-url', `http://127.0.0.1:${port}/`, ...common]);
      expect(updated.code, updated.stderr).toBe(0);
      expect(updated.stdout).toMatch(/^running 000000000002-[0-9a-f]{12} \(sequence 2, version 2\.0\.0\): confirmed\n$/);
      // Not a terminal: one bar line per 10 %, ending at 100 %.
      expect(updated.stderr).toMatch(/downloading \[#{30}\] 100%  3\.0\/3\.0 MiB\n/);
      expect(updated.stderr).toMatch(/staged\ntrial\nconfirmed\n$/);
      expect(await readFile(join(device, 'current', 'image.bin'))).toEqual(await readFile(join(dir, 'fw2.bin')));
      expect((await verifyAuditLog(join(device, 'audit.log'))).ok).toBe(true);
      const replay = await sensorkit(['update', '--root', device, '--key', join(keys, 'public.pem'), '--envelope', join(dir, 'fw1-ed.suit'), '--base-url', `http://127.0.0.1:${port}/`, ...common]);
      expect(replay.code).toBe(1);
      expect(replay.stderr).toMatch(/sensorkit: replayed: manifest [0-9a-f]{16}… \(sequence 1\) was accepted before; the device is at 2\n$/);
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
  }, 120_000);
});
