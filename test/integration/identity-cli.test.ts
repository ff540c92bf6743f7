/**
 * `sensorkit identity` as a user runs it (real child processes): init, show, csr checked by
 * OpenSSL, import-cert of a certificate a factory CA issued, the encrypted key and its secret from
 * the environment, and the refusals (a key others can read, another device's certificate, no --cn).
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/sensorkit.js`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sensorkit(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, SENSORKIT_DEBUG: '', ...env };
    for (const name of ['SENSORKIT_PROVISIONING_SECRET', 'SENSORKIT_PROVISIONING_SECRET_FILE']) if (!(name in env)) delete childEnv[name];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv });
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
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-identity-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const openssl = (...args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('sensorkit identity', () => {
  it('init, show, csr (OpenSSL verifies it), import-cert from a factory CA', async () => {
    const dir = tempDir();
    const id = join(dir, 'id');
    const init = await sensorkit(['identity', 'init', '--dir', id, '--cn', 'env-node-0042', '--org', 'Acme Sensors', '--serial', '0042', '--uri', 'urn:sensorkit:device:env-node-0042', '--days', '90']);
    expect(init).toMatchObject({ code: 0, stderr: '' });
    expect(init.stdout).toMatch(/: p256 key \(owner-only file\), self-signed certificate ([0-9A-F]{2}:){31}[0-9A-F]{2}\n$/);
    const show = await sensorkit(['identity', 'show', '--dir', id]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^subject     O=Acme Sensors, CN=env-node-0042, serialNumber=0042$/m);
    expect(show.stdout).toMatch(/^key         p256 \(owner-only file\)$/m);
    expect(show.stdout).toMatch(/^fingerprint SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/m);
    expect(show.stdout).toMatch(/^valid       \S+ to \S+ \((89|90) days left\)$/m);
    const json = JSON.parse((await sensorkit(['identity', 'show', '--dir', id, '--json'])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ keyType: 'p256', selfSigned: true, subject: 'O=Acme Sensors, CN=env-node-0042, serialNumber=0042' });

    const csrFile = join(dir, 'device.csr');
    expect(await sensorkit(['identity', 'csr', '--dir', id, '--out', csrFile])).toMatchObject({ code: 0 });
    expect(openssl('req', '-in', csrFile, '-verify', '-noout')).toBe('');
    const csr = await sensorkit(['identity', 'csr', '--dir', id]);
    expect(csr.stdout).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n/);

    const caKey = join(dir, 'ca.key');
    const caCert = join(dir, 'ca.pem');
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', caCert, '-subj', '/O=Acme Sensors/CN=Acme Factory CA', '-days', '30');
    const issued = join(dir, 'device.crt');
    openssl('x509', '-req', '-in', csrFile, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', issued, '-days', '20', '-copy_extensions', 'copy');
    const imported = await sensorkit(['identity', 'import-cert', issued, '--dir', id, '--ca', caCert]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/installed O=Acme Sensors, CN=env-node-0042, serialNumber=0042 issued by O=Acme Sensors, CN=Acme Factory CA/);
    expect((await sensorkit(['identity', 'show', '--dir', id])).stdout).toMatch(/^issuer      O=Acme Sensors, CN=Acme Factory CA$/m);

    // Another device's certificate: refused in one line, the installed one kept.
    const other = join(dir, 'other');
    expect((await sensorkit(['identity', 'init', '--dir', other, '--cn', 'env-node-0043'])).code).toBe(0);
    const wrong = await sensorkit(['identity', 'import-cert', join(other, 'cert.pem'), '--dir', id]);
    expect(wrong).toMatchObject({ code: 1, stderr: "sensorkit: certificate: its public key is not this device's key\n" });
  }, 60_000);

  it('an Ed25519 key encrypted under the provisioning secret from the environment, never from argv', async () => {
    const dir = tempDir();
    const id = join(dir, 'id');
    const noSecret = await sensorkit(['identity', 'init', '--dir', id, '--cn', 'dev-7', '--key-type', 'ed25519', '--encrypt']);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr.split('\n')[0]).toBe('sensorkit: --encrypt: set $SENSORKIT_PROVISIONING_SECRET or $SENSORKIT_PROVISIONING_SECRET_FILE (the secret is never given on the command line)');
    const secretFile = join(dir, 'secret');
    writeFileSync(secretFile, 'line-7 provisioning secret\n', { mode: 0o600 });
    const env = { SENSORKIT_PROVISIONING_SECRET_FILE: secretFile };
    const init = await sensorkit(['identity', 'init', '--dir', id, '--cn', 'dev-7', '--key-type', 'ed25519', '--encrypt'], env);
    expect(init.stdout).toMatch(/: ed25519 key \(encrypted\)/);
    expect(readFileSync(join(id, 'key.enc.json'), 'utf8')).not.toContain('PRIVATE KEY');
    expect((await sensorkit(['identity', 'show', '--dir', id], env)).stdout).toMatch(/^key         ed25519 \(encrypted\)$/m);
    const locked = await sensorkit(['identity', 'show', '--dir', id]);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toMatch(/^sensorkit: .*key\.enc\.json: the key is encrypted: give the provisioning secret in \$SENSORKIT_PROVISIONING_SECRET/);
  }, 60_000);

  it('refuses a key file others can read, and init without --cn', async () => {
    const dir = tempDir();
    const id = join(dir, 'id');
    expect((await sensorkit(['identity', 'init', '--dir', id])).stderr.split('\n')[0]).toBe('sensorkit: identity init: --cn NAME is required (e.g. the device id)');
    expect((await sensorkit(['identity', 'init', '--dir', id, '--cn', 'dev-8'])).code).toBe(0);
    chmodSync(join(id, 'key.pem'), 0o644);
    const show = await sensorkit(['identity', 'show', '--dir', id]);
    expect(show).toMatchObject({ code: 1, stderr: `sensorkit: ${join(id, 'key.pem')}: readable by group or others (mode 0644); chmod 600 ${join(id, 'key.pem')}\n` });
  }, 60_000);
});
