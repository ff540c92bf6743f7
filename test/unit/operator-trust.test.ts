/**
 * Operator keys and the trust store: key files (0600 private key, never overwritten), roles and
 * their order, revocation that sticks, a file that round-trips and refuses tampering, and the
 * model's role of each command and setting.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageError, ValidationError } from '../../sdk/core/errors.js';
import { defineDevice, requiredRole, roleAllows, OPERATOR_ROLES, type DeviceSpec } from '../../sdk/model/index.js';
import { coseKeyId, OperatorTrustStore, readOperatorPrivateKey, readOperatorPublicKey, writeOperatorKey } from '../../security/operators/index.js';

const dirs: string[] = [];
const temp = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-operators-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('operator keys', () => {
  it.each(['ed25519', 'p256'] as const)('writes a %s key pair: the private key owner-only, the key id that of the public key', async (algorithm) => {
    const dir = temp();
    const files = await writeOperatorKey(dir, 'alice', algorithm);
    expect(files.privateKeyFile).toBe(join(dir, 'alice.key'));
    expect(statSync(files.privateKeyFile).mode & 0o777).toBe(0o600);
    const publicKey = await readOperatorPublicKey(files.publicKeyFile);
    expect(coseKeyId(publicKey)).toBe(files.keyId);
    expect(coseKeyId(await readOperatorPrivateKey(files.privateKeyFile))).toBe(files.keyId);
    expect(files.keyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('never overwrites a key, and refuses a bad name', async () => {
    const dir = temp();
    await writeOperatorKey(dir, 'alice');
    const before = readFileSync(join(dir, 'alice.key'), 'utf8');
    await expect(writeOperatorKey(dir, 'alice')).rejects.toThrow(StorageError);
    expect(readFileSync(join(dir, 'alice.key'), 'utf8')).toBe(before);
    await expect(writeOperatorKey(dir, '../evil')).rejects.toThrow(ValidationError);
  });

  it('refuses a file that is not a key', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'x.pub'), 'hello');
    await expect(readOperatorPublicKey(join(dir, 'x.pub'))).rejects.toThrow(ValidationError);
    await expect(readOperatorPublicKey(join(dir, 'missing.pub'))).rejects.toThrow(StorageError);
  });
});

describe('operator trust store', () => {
  async function twoKeys() {
    const dir = temp();
    const alice = await writeOperatorKey(dir, 'alice');
    const bob = await writeOperatorKey(dir, 'bob', 'p256');
    return { dir, alice, bob, pem: (file: string) => readFileSync(file, 'utf8') };
  }

  it('trusts keys with roles, saves them, and loads them back', async () => {
    const { dir, alice, bob, pem } = await twoKeys();
    const file = join(dir, 'operators.json');
    const store = await OperatorTrustStore.load(file);
    expect(store.list()).toEqual([]);
    await store.trust(pem(alice.publicKeyFile), { role: 'engineer', name: 'alice' });
    await store.trust(pem(bob.publicKeyFile), { role: 'viewer', name: 'bob' });
    const loaded = await OperatorTrustStore.load(file);
    expect(loaded.list().map((o) => [o.name, o.role, o.keyId])).toEqual([['alice', 'engineer', alice.keyId], ['bob', 'viewer', bob.keyId]]);
    expect(loaded.lookup(alice.keyId)).toMatchObject({ name: 'alice', role: 'engineer', revoked: false });
    expect(loaded.lookup('0000000000000000')).toBeUndefined();
    expect(loaded.size).toBe(2);
  });

  it('changes the role of a key trusted again, keeping when it was added', async () => {
    const { alice, pem } = await twoKeys();
    const store = new OperatorTrustStore();
    const first = await store.trust(pem(alice.publicKeyFile), { role: 'operator', name: 'alice', now: new Date(Date.UTC(2026, 0, 1)) });
    const second = await store.trust(pem(alice.publicKeyFile), { role: 'security-admin', name: 'alice', now: new Date(Date.UTC(2026, 1, 1)) });
    expect(second).toMatchObject({ role: 'security-admin', added: first.added });
    expect(store.list()).toHaveLength(1);
  });

  it('revokes a key by a prefix of its id; a revoked key stays listed and cannot be trusted again', async () => {
    const { dir, alice, bob, pem } = await twoKeys();
    const file = join(dir, 'operators.json');
    const store = await OperatorTrustStore.load(file);
    await store.trust(pem(alice.publicKeyFile), { role: 'engineer', name: 'alice' });
    await store.trust(pem(bob.publicKeyFile), { role: 'viewer', name: 'bob' });
    const revoked = await store.revoke(alice.keyId.slice(0, 8));
    expect(revoked.revoked).toMatch(/^\d{4}-\d\d-\d\dT/);
    const loaded = await OperatorTrustStore.load(file);
    expect(loaded.lookup(alice.keyId)?.revoked).toBe(true);
    expect(loaded.size).toBe(1);
    await expect(loaded.trust(pem(alice.publicKeyFile), { role: 'engineer', name: 'alice' })).rejects.toThrow(/revoked/);
    await expect(loaded.revoke('ffffffffffff')).rejects.toThrow(/no operator key/);
    await expect(loaded.revoke('xyz')).rejects.toThrow(ValidationError);
  });

  it('refuses an unknown role, an RSA key and text that is not a key', async () => {
    const { alice, pem } = await twoKeys();
    const store = new OperatorTrustStore();
    await expect(store.trust(pem(alice.publicKeyFile), { role: 'admin' as never, name: 'alice' })).rejects.toThrow(/role/);
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await expect(store.trust(rsa, { role: 'viewer', name: 'rsa' })).rejects.toThrow(/Ed25519 or ECDSA P-256/);
    await expect(store.trust('not a key', { role: 'viewer', name: 'x' })).rejects.toThrow(ValidationError);
  });

  it('reloads its file: a revocation made by another process is in force, a damaged file changes nothing', async () => {
    const { dir, alice, pem } = await twoKeys();
    const file = join(dir, 'operators.json');
    const running = await OperatorTrustStore.load(file);
    const cli = await OperatorTrustStore.load(file);
    await cli.trust(pem(alice.publicKeyFile), { role: 'operator', name: 'alice' });
    expect(running.lookup(alice.keyId)).toBeUndefined();
    await running.reload();
    expect(running.lookup(alice.keyId)?.revoked).toBe(false);
    await cli.revoke(alice.keyId);
    await running.reload();
    expect(running.lookup(alice.keyId)?.revoked).toBe(true);
    writeFileSync(file, '{"version":1,"operators":[{}]}');
    await expect(running.reload()).rejects.toThrow(StorageError);
    expect(running.lookup(alice.keyId)?.revoked).toBe(true);
  });

  it('refuses a file whose key id was edited to another key, or whose role is unknown', async () => {
    const { dir, alice, bob, pem } = await twoKeys();
    const file = join(dir, 'operators.json');
    const store = await OperatorTrustStore.load(file);
    await store.trust(pem(alice.publicKeyFile), { role: 'viewer', name: 'alice' });
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(alice.keyId, bob.keyId));
    await expect(OperatorTrustStore.load(file)).rejects.toThrow(/key id/);
    writeFileSync(file, text.replace('"viewer"', '"root"'));
    await expect(OperatorTrustStore.load(file)).rejects.toThrow(/role/);
    writeFileSync(file, '{');
    await expect(OperatorTrustStore.load(file)).rejects.toThrow(StorageError);
  });
});

describe('roles in the model', () => {
  const spec = (extra: Partial<DeviceSpec>): DeviceSpec => ({
    id: 'env-node',
    board: 'arduino-uno',
    identity: { manufacturer: 'm', model: 'm', productCode: 'p', hardwareRevision: '1', softwareRevision: '1', serialNumber: '1' },
    channels: [{ id: 'v0', quantity: 'voltage', unit: 'V', range: { min: 0, max: 5 }, resolution: 0.01, accuracy: { mpe: 0.2 }, sampleRate: 1, driver: { part: 'analog-voltage', output: 'voltage', pin: 'A0' } }],
    ...extra,
  });

  it('orders the roles viewer < operator < engineer < security-admin', () => {
    expect(OPERATOR_ROLES).toEqual(['viewer', 'operator', 'engineer', 'security-admin']);
    expect(roleAllows('security-admin', 'engineer')).toBe(true);
    expect(roleAllows('engineer', 'engineer')).toBe(true);
    expect(roleAllows('operator', 'engineer')).toBe(false);
    expect(roleAllows('viewer', 'operator')).toBe(false);
  });

  it('defaults to operator for commands and engineer for settings; a declared role wins; undeclared names need security-admin', () => {
    const model = defineDevice(
      spec({
        commands: [{ id: 'ping' }, { id: 'calibrate', role: 'engineer' }],
        properties: [{ id: 'interval', type: 'integer', default: 1 }, { id: 'label', type: 'string', default: '', role: 'operator' }],
      }),
    );
    expect(requiredRole(model, { kind: 'command', id: 'ping' })).toBe('operator');
    expect(requiredRole(model, { kind: 'command', id: 'calibrate' })).toBe('engineer');
    expect(requiredRole(model, { kind: 'setting', id: 'interval' })).toBe('engineer');
    expect(requiredRole(model, { kind: 'setting', id: 'label' })).toBe('operator');
    expect(requiredRole(model, { kind: 'command', id: 'nope' })).toBe('security-admin');
  });

  it('refuses an unknown role with the path of the field', () => {
    expect(() => defineDevice(spec({ commands: [{ id: 'ping', role: 'root' as never }] }))).toThrow(/commands\[0\]\.role/);
    expect(() => defineDevice(spec({ properties: [{ id: 'x', type: 'integer', default: 1, role: 'admin' as never }] }))).toThrow(/properties\[0\]\.role/);
  });
});
