/**
 * `sensorkit ota inspect`, `verify` on the draft's examples, and `sign` / `verify` / `provision` with
 * several components, as a user runs them: child processes through bin/sensorkit.js.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CborTagged, encodeCbor, type CborValue } from '../../ota/manifest/cbor.js';
import { signDetached } from '../../ota/manifest/cose.js';
import { readPrivateKey } from '../../ota/keys/keys.js';
import { NAMESPACE_DNS, uuidBytes, uuidV5 } from '../../ota/manifest/uuid.js';
import { makeImage } from '../support/ota-fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/sensorkit.js`;
const FIXTURES = fileURLToPath(new URL('../fixtures/suit/', import.meta.url));
const DRAFT_KEY = join(FIXTURES, 'draft-test-public-key.pem');
let dir: string;

function sensorkit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
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
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-cli-suit-'));
  await writeFile(join(dir, 'app.bin'), makeImage(20_000, 1));
  await writeFile(join(dir, 'mcu.hex'), makeImage(3_000, 2));
  const keygen = await sensorkit(['keygen', '--out', join(dir, 'keys')]);
  expect(keygen.code, keygen.stderr).toBe(0);
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sensorkit ota inspect', () => {
  it('prints a draft example without a key, says "not verified", and is in the usage', async () => {
    const run = await sensorkit(['inspect', join(FIXTURES, 'example5.suit')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('signature: present (ES256), not verified\n');
    expect(run.stdout).toContain("components: [h'00'], [h'01']\n");
    expect(run.stdout).toContain('suit-install:\n  directive-set-component-index 0\n  directive-override-parameters {uri: "http://example.com/file1.bin"}\n  directive-fetch\n  condition-image-match\n  directive-set-component-index 1');
    expect(run.stdout).toContain('sensorkit can execute: yes: 2 images, 2 fetched\n');
    const usage = await sensorkit(['--help']);
    expect(usage.stdout).toMatch(/inspect +print any SUIT envelope/);
    expect((await sensorkit(['inspect', '--help'])).stdout).toMatch(/^Usage: sensorkit ota inspect FILE\.suit \[--key PUBLIC\.pem\] \[--json\]/);
  }, 60_000);

  it('verifies with --key, gives JSON with --json, and exits 1 when the key is not the signer', async () => {
    const verified = await sensorkit(['inspect', join(FIXTURES, 'example2.suit'), '--key', DRAFT_KEY, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    const report = JSON.parse(verified.stdout) as { signature: string; manifest: { severable: { name: string; state: string }[]; text: string[] } };
    expect(report.signature).toMatch(/^verified \(key [0-9a-f]{16}\)$/);
    expect(report.manifest.severable.map((m) => m.name)).toEqual(['suit-install', 'suit-text']);
    expect(report.manifest.text.some((line) => line.startsWith('en-US: manifest-description: ## Example 2'))).toBe(true);
    const wrong = await sensorkit(['inspect', join(FIXTURES, 'example2.suit'), '--key', join(dir, 'keys', 'public.pem')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/^signature: NOT verified: (unknown-key|bad-algorithm|bad-signature)/m);
  }, 60_000);
});

describe('sensorkit ota verify on the draft examples', () => {
  it.each(['0', '1', '2', '3', '4', '5'])('example%s verifies with the draft key', async (n) => {
    const run = await sensorkit(['verify', join(FIXTURES, `example${n}.suit`), '--key', DRAFT_KEY]);
    expect(run.code, run.stderr).toBe(0);
    if (n === '3') expect(run.stdout).toMatch(/^ok: signature and digest verify \(key [0-9a-f]{16}\), sequence 3; sensorkit cannot execute it: unsupported command: suit-directive-try-each/);
    else if (n === '4') expect(run.stdout).toContain('sensorkit cannot execute it: unsupported command: suit-directive-copy (in suit-install)');
    else expect(run.stdout).toMatch(new RegExp(`^ok: sequence ${n}, key [0-9a-f]{16}, h'00' 34768 bytes sha256:0011`));
  }, 60_000);

  it('refuses the old sensorkit layout, naming it', async () => {
    const key = await readPrivateKey(join(dir, 'keys', 'private.pem'));
    const vendor = uuidV5(NAMESPACE_DNS, 'sensorkit.example');
    const image = await readFile(join(dir, 'app.bin'));
    const shared = encodeCbor([20, new Map<number, CborValue>([[1, uuidBytes(vendor)], [2, uuidBytes(uuidV5(vendor, 'default'))], [3, encodeCbor([-16, createHash('sha256').update(image).digest()])], [14, image.length]]), 1, 15, 2, 15]);
    const manifest = encodeCbor(new Map<number, CborValue>([[1, 1], [2, 3], [3, encodeCbor(new Map<number, CborValue>([[2, [[Buffer.from('firmware')]]], [4, shared]]))], [17, encodeCbor([20, new Map([[21, 'app.bin']]), 21, 15, 3, 15])]]));
    const digest = encodeCbor([-16, createHash('sha256').update(manifest).digest()]);
    await writeFile(join(dir, 'old.suit'), encodeCbor(new CborTagged(107, new Map<number, CborValue>([[2, encodeCbor([digest, signDetached(digest, key)])], [3, manifest]]))));
    const run = await sensorkit(['verify', join(dir, 'old.suit'), '--key', join(dir, 'keys', 'public.pem')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('sensorkit: old-layout: old sensorkit SUIT layout (install at key 17); re-sign with this version\n');
  }, 60_000);
});

describe('sensorkit ota sign with several components', () => {
  it('signs --component NAME=FILE twice, verifies both payloads, and provisions both', async () => {
    const out = join(dir, 'release.suit');
    const signed = await sensorkit(['sign', '--key', join(dir, 'keys', 'private.pem'), '--component', `app=${join(dir, 'app.bin')}`, '--component', `mcu/firmware=${join(dir, 'mcu.hex')}`, '--sequence', '2', '--version', '2.0', '--severable', '--out', out]);
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toMatch(/: sequence 2, app 20000 bytes, mcu\/firmware 3000 bytes, vendor-id .*, install and text severable\n$/);
    const verified = await sensorkit(['verify', out, '--key', join(dir, 'keys', 'public.pem'), '--payload', join(dir, 'app.bin'), '--payload', join(dir, 'mcu.hex')]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^ok: sequence 2, version 2\.0, key [0-9a-f]{16}, app 20000 bytes sha256:[0-9a-f]{64}; mcu\/firmware 3000 bytes sha256:[0-9a-f]{64}, payloads match\n$/);
    const swapped = await sensorkit(['verify', out, '--key', join(dir, 'keys', 'public.pem'), '--payload', join(dir, 'mcu.hex'), '--payload', join(dir, 'app.bin')]);
    expect(swapped.code).toBe(1);
    const root = join(dir, 'device');
    const device = ['provision', '--root', root, '--key', join(dir, 'keys', 'public.pem'), '--envelope', out, '--payload', join(dir, 'app.bin'), '--payload', join(dir, 'mcu.hex')];
    // A device that updates `firmware` only (the default) refuses the release, naming the component …
    const refused = await sensorkit(device);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/wrong-device: component app is not one this device updates/);
    // … one that updates both installs both, each into its own file.
    const provisioned = await sensorkit([...device, '--component', 'app', '--component', 'mcu/firmware']);
    expect(provisioned.code, provisioned.stderr).toBe(0);
    expect(provisioned.stdout).toMatch(/^provisioned \d{12}-[0-9a-f]{12} \(sequence 2\)\n$/);
    expect(await readFile(join(root, 'current', 'image.bin'))).toEqual(await readFile(join(dir, 'app.bin')));
    expect(await readFile(join(root, 'current', 'component-1.bin'))).toEqual(await readFile(join(dir, 'mcu.hex')));
  }, 60_000);

  it('keeps the single-image form, and refuses mixing it with NAME=FILE', async () => {
    const single = await sensorkit(['sign', '--key', join(dir, 'keys', 'private.pem'), '--payload', join(dir, 'app.bin'), '--sequence', '1', '--out', join(dir, 'one.suit')]);
    expect(single.code, single.stderr).toBe(0);
    expect(single.stdout).toMatch(/: sequence 1, 20000 bytes, vendor-id /);
    const mixed = await sensorkit(['sign', '--key', join(dir, 'keys', 'private.pem'), '--payload', join(dir, 'app.bin'), '--component', `mcu=${join(dir, 'mcu.hex')}`, '--sequence', '1', '--out', join(dir, 'mixed.suit')]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr.split('\n')[0]).toBe('sensorkit: --payload and --component NAME=FILE do not go together: name each image with --component');
  }, 60_000);
});
