/**
 * `sensorkit identity init --key-type rsa` (or `--type rsa`) as a user runs it: an RSA-3072 key
 * and a self-signed certificate whose subjectAltName carries the OPC UA application URI
 * `urn:sensorkit:<cn>` and this host's name unless given; `csr` keeps them for the factory CA;
 * an unknown type or two differing ones are usage errors (exit 2, one line).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/sensorkit.js`;

function sensorkit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, SENSORKIT_DEBUG: '' };
    delete env.SENSORKIT_PROVISIONING_SECRET;
    delete env.SENSORKIT_PROVISIONING_SECRET_FILE;
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env });
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

const openssl = (...args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('sensorkit identity init --key-type rsa', () => {
  it('an RSA-3072 identity naming the OPC UA application URI and the host; its request keeps them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-identity-rsa-cli-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const id = join(dir, 'id');
    const init = await sensorkit(['identity', 'init', '--dir', id, '--type', 'rsa', '--cn', 'env-node-0042', '--serial', '0042']);
    expect(init).toMatchObject({ code: 0, stderr: '' });
    expect(init.stdout).toMatch(/: rsa key \(owner-only file\), self-signed certificate ([0-9A-F]{2}:){31}[0-9A-F]{2}\n/);
    expect(init.stdout).toContain(`subjectAltName DNS:${hostname()}, URI:urn:sensorkit:env-node-0042 (the OPC UA application URI and host: opcua.identity)\n`);
    const text = openssl('x509', '-in', join(id, 'cert.pem'), '-noout', '-text');
    expect(text).toMatch(/Public-Key: \(3072 bit\)/);
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    const show = await sensorkit(['identity', 'show', '--dir', id, '--json']);
    expect(JSON.parse(show.stdout)).toMatchObject({ keyType: 'rsa', selfSigned: true, subject: 'CN=env-node-0042, serialNumber=0042' });
    const csr = await sensorkit(['identity', 'csr', '--dir', id]);
    expect(csr.code).toBe(0);
    const request = execFileSync('openssl', ['req', '-noout', '-text', '-verify'], { input: csr.stdout, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    expect(request).toContain(`DNS:${hostname()}, URI:urn:sensorkit:env-node-0042`);
  }, 60_000);

  it('refuses an unknown key type, and --type and --key-type that differ', async () => {
    expect(await sensorkit(['identity', 'init', '--type', 'dsa', '--cn', 'x'])).toMatchObject({ code: 2, stdout: '', stderr: "sensorkit: --key-type: expected p256, ed25519 or rsa, got \"dsa\"\nTry 'sensorkit identity --help'.\n" });
    expect(await sensorkit(['identity', 'init', '--type', 'rsa', '--key-type', 'p256', '--cn', 'x'])).toMatchObject({ code: 2, stderr: "sensorkit: --key-type and --type differ; give one\nTry 'sensorkit identity --help'.\n" });
  });
});
