/**
 * The OPC UA users file (scrypt hashes, owner-only) and the PKI thumbprint helpers.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageError, ValidationError } from '../../sdk/core/errors.js';
import { UsersFile, hashPassword, normaliseThumbprint, passwordProblem, trustCertificate } from '../../sdk/transport/opcua/index.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});
const temp = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-opcua-users-'));
  dirs.push(dir);
  return dir;
};

describe('OPC UA users file', () => {
  it('stores scrypt hashes only, owner-only, and verifies passwords', async () => {
    const file = join(temp(), 'sub', 'users.json');
    const users = await UsersFile.load(file);
    expect(users.size).toBe(0);
    await users.set(await hashPassword('operator', 'correct horse battery staple'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('correct horse');
    const loaded = await UsersFile.load(file);
    expect(loaded.names()).toEqual(['operator']);
    expect(await loaded.verify('operator', 'correct horse battery staple')).toBe(true);
    expect(await loaded.verify('operator', 'correct horse battery stapler')).toBe(false);
    expect(await loaded.verify('operator', '')).toBe(false);
    expect(await loaded.verify('nobody', 'correct horse battery staple')).toBe(false);
    expect(await loaded.remove('operator')).toBe(true);
    expect((await UsersFile.load(file)).size).toBe(0);
  });

  it('salts every hash: the same password twice gives two hashes', async () => {
    const a = await hashPassword('a', 'long enough secret');
    const b = await hashPassword('a', 'long enough secret');
    expect(a.scrypt.salt).not.toBe(b.scrypt.salt);
    expect(a.scrypt.hash).not.toBe(b.scrypt.hash);
  });

  it.each([
    ['', /is empty/],
    ['admin', /well-known default/],
    ['Password', /well-known default/],
    ['operator', /well-known default|user name/],
    ['short1', /shorter than 8/],
  ])('refuses the password %j with a clear error', async (password, reason) => {
    expect(passwordProblem('operator', password)).toMatch(reason);
    await expect(hashPassword('operator', password)).rejects.toThrow(ValidationError);
  });

  it('refuses a bad user name and a damaged file', async () => {
    await expect(hashPassword('no spaces allowed', 'long enough secret')).rejects.toThrow(/user: expected/);
    const file = join(temp(), 'users.json');
    writeFileSync(file, '{"version":1,"users":[{"name":"x"}]}');
    await expect(UsersFile.load(file)).rejects.toThrow(StorageError);
    writeFileSync(file, 'not json');
    await expect(UsersFile.load(file)).rejects.toThrow(/invalid JSON/);
  });
});

describe('PKI thumbprints', () => {
  it('normalises what people type and refuses what is not a thumbprint', async () => {
    expect(normaliseThumbprint('AB:CD:EF 01')).toBe('abcdef01');
    await expect(trustCertificate(temp(), 'xyz')).rejects.toThrow(/expected 8 to 40 hex digits/);
    await expect(trustCertificate(temp(), 'abcdef0123')).rejects.toThrow(/no rejected certificate abcdef0123/);
  });
});
