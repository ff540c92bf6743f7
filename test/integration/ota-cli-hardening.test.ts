/**
 * `sensorkit ota` against a careless operator, as child processes: sign refuses envelopes devices
 * would refuse and names the option; verify reads a payload streaming and capped by the signed
 * size; serve refuses system folders; device groups come from `ota device`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeImage } from '../support/ota-fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sensorkit(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${ROOT}bin/sensorkit.js`, 'ota', ...args], { cwd: dir, env: { ...process.env, SENSORKIT_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A hang (reading /dev/zero to the end) is one of the failures guarded against.
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

const firstLine = (run: Run): string => run.stderr.split('\n')[0] ?? '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-cli-hardening-'));
  await writeFile(join(dir, 'fw.bin'), makeImage(10_000, 1));
  const keygen = await sensorkit(['keygen', '--out', 'keys']);
  expect(keygen.code, keygen.stderr).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sign = (...extra: string[]): Promise<Run> => sensorkit(['sign', '--key', 'keys/private.pem', '--payload', 'fw.bin', '--sequence', '1', ...extra]);

describe('ota sign', () => {
  it('refuses to write an envelope verify would refuse, naming the option', async () => {
    const long = await sign('--out', 'long.suit', '--uri', 'a'.repeat(20_000));
    expect(long.code).toBe(2);
    expect(firstLine(long)).toMatch(/^sensorkit: --uri \(20000 characters\): limit: an envelope of \d+ bytes is above 16384; devices would refuse this envelope, so it was not written$/);
    const control = await sign('--out', 'control.suit', '--version', '1.0\u001b[31m');
    expect(control.code).toBe(2);
    expect(firstLine(control)).toMatch(/^sensorkit: --version: .*control characters/);
    const uri = await sign('--out', 'uri.suit', '--uri', 'fw\u0007.bin');
    expect(firstLine(uri)).toMatch(/^sensorkit: --uri: .*control characters/);
    const files = await readdir(dir);
    for (const name of ['long.suit', 'control.suit', 'uri.suit']) expect(files).not.toContain(name);
  }, 60_000);

  it('creates the folder of --out, and says so when a file is in its way', async () => {
    const made = await sign('--out', 'dist/release/fw.suit');
    expect(made.code, made.stderr).toBe(0);
    expect((await stat(join(dir, 'dist', 'release', 'fw.suit'))).isFile()).toBe(true);
    const blocked = await sign('--out', 'fw.bin/fw.suit');
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toBe('sensorkit: fw.bin/fw.suit: cannot write --out: a file is in the way of the folder fw.bin\n');
  }, 60_000);

  it('names --key for a key of the wrong kind, never an unexpected error', async () => {
    for (const file of ['keys/public.pem', 'fw.bin']) {
      const run = await sign('--out', 'k.suit', '--key', file);
      expect(run.code, file).toBe(2);
      expect(firstLine(run)).toMatch(new RegExp(`^sensorkit: --key ${file.replace('.', '\\.')}: not a PKCS#8 private key`));
      expect(run.stderr).not.toMatch(/unexpected error/);
    }
  }, 60_000);
});

describe('ota verify --payload', () => {
  it('refuses /dev/zero and a payload longer than signed with one line, without reading it whole', async () => {
    expect((await sign('--out', 'fw.suit')).code).toBe(0);
    const zero = await sensorkit(['verify', 'fw.suit', '--key', 'keys/public.pem', '--payload', '/dev/zero']);
    expect(zero.code).toBe(1);
    expect(zero.stderr).toBe('sensorkit: /dev/zero: not a regular file\n');
    // 100 MB of zeros: stopped at the signed size + 1 byte (the old code read it all into memory).
    await writeFile(join(dir, 'huge.bin'), Buffer.alloc(0));
    const { truncate } = await import('node:fs/promises');
    await truncate(join(dir, 'huge.bin'), 100 * 1024 * 1024);
    const huge = await sensorkit(['verify', 'fw.suit', '--key', 'keys/public.pem', '--payload', 'huge.bin']);
    expect(huge.code).toBe(1);
    expect(huge.stderr).toBe('sensorkit: payload-mismatch: huge.bin: larger than the 10000 bytes the manifest signs\n');
    const ok = await sensorkit(['verify', 'fw.suit', '--key', 'keys/public.pem', '--payload', 'fw.bin']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/payload matches\n$/);
  }, 60_000);
});

describe('ota serve', () => {
  it('refuses a system folder or a home folder as --dir', async () => {
    for (const folder of ['/', '/etc', '/root', '/home/someone']) {
      const run = await sensorkit(['serve', '--dir', folder, '--port', '0']);
      expect(run.code, folder).toBe(2);
      expect(firstLine(run)).toMatch(new RegExp(`^sensorkit: --dir ${folder} is a (system|home) folder`));
    }
  }, 60_000);
});

describe('ota device', () => {
  it('assigns devices to groups, lists and removes them', async () => {
    const added = await sensorkit(['device', 'add', '--db', 'ota.db', '--group', 'line-3', 'en-1-SN1', 'en-1-SN2']);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toEqual([{ id: 'en-1-SN1', group: 'line-3' }, { id: 'en-1-SN2', group: 'line-3' }]);
    await sensorkit(['device', 'add', '--db', 'ota.db', '--group', 'line-4', 'en-1-SN2']);
    expect(JSON.parse((await sensorkit(['device', 'list', '--db', 'ota.db', '--group', 'line-4'])).stdout)).toEqual([{ id: 'en-1-SN2', group: 'line-4' }]);
    const removed = await sensorkit(['device', 'remove', '--db', 'ota.db', 'en-1-SN1']);
    expect(JSON.parse(removed.stdout)).toEqual([{ id: 'en-1-SN2', group: 'line-4' }]);
    const bad = await sensorkit(['device', 'add', '--db', 'ota.db', '--group', 'line-3', '../x']);
    expect(bad.code).toBe(2);
    expect(firstLine(bad)).toMatch(/^sensorkit: DEVICE: expected 1–128 letters/);
    expect((await sensorkit(['device', 'add', '--db', 'ota.db', 'en-1-SN3'])).stderr).toMatch(/--group is required/);
  }, 60_000);
});
