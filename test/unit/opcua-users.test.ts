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

  it.each([
    ['password1', 'is a common password with digits or symbols around it'],
    ['qwertyui', 'is a keyboard walk'],
    ['aaaaaaaa', 'repeats one character'],
    ['P@ssw0rd2024!', 'is a common password with digits or symbols around it'],
    ['Summer2025', 'is a common password with digits or symbols around it'],
    ['123letmein', 'is a common password with digits or symbols around it'],
    ['passwordpassword', 'is a common password'],
    ['1qaz2wsx', 'is a keyboard walk'],
    ['poiuytrewq', 'is a keyboard walk'],
    ['azertyuiop', 'is a keyboard walk'],
    ['abcdefghij', 'is a run of letters or digits'],
    ['98765432', 'is a run of letters or digits'],
    ['abcabcabc', 'repeats a short pattern'],
    ['12121212', 'repeats a short pattern'],
    ['operator2024', 'contains the user name'],
    ['xxOPERATORxx', 'contains the user name'],
    ['aabbccdd', 'uses fewer than 5 different characters'],
  ])('refuses the common or trivial password %j: %s', async (password, reason) => {
    expect(passwordProblem('operator', password)).toBe(reason);
    await expect(hashPassword('operator', password)).rejects.toThrow(`password: ${reason}; choose another`);
  });

  it.each(['correct horse battery staple', 'long enough secret', 'Tr0ub4dor&3', 'xk8#mQ2!vL', 'plant 7 boiler feed'])('accepts the password %j', (password) => {
    expect(passwordProblem('operator', password)).toBeUndefined();
  });

  it('answers an unknown user after the same scrypt work as a known one', async () => {
    const users = await UsersFile.load(join(temp(), 'users.json'));
    await users.set(await hashPassword('operator', 'correct horse battery staple'));
    expect(users.has('operator')).toBe(true);
    expect(users.has('nobody')).toBe(false);
    expect(await users.verify('nobody', 'correct horse battery staple')).toBe(false);
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
