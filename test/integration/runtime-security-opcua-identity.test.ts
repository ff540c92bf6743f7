/**
 * `opcua.identity`: the runtime's security side loads the device identity for the OPC UA server
 * under either profile, and under the production profile an identity that cannot be the OPC UA
 * application certificate (P-256, or without the application URI) keeps the device in
 * provisioning, naming why; an RSA identity naming `urn:sensorkit:<device id>` provisions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { openSecuritySide, opcuaUsesIdentity } from '../../sdk/runtime/security-side.js';
import type { OpcuaConfig, RuntimeConfig } from '../../sdk/runtime/config.js';
import { initIdentity, opcuaApplicationUri } from '../../security/identity/index.js';

const DEVICE_ID = 'env-node-EMU-7';
const NOW = Date.parse('2026-03-01T00:00:00Z');
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-opcua-identity-side-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A configuration with OPC UA taking the identity in `dir` (the field as the configuration file gives it). */
function config(dir: string, profile: 'dev' | 'production'): Omit<RuntimeConfig, 'device'> {
  return { profile, mqtt: false, opcua: { profile, identity: true } as OpcuaConfig, security: { identity: { dir }, auditLog: false, signedCommands: false } };
}

async function problemsOf(dir: string, profile: 'dev' | 'production'): Promise<readonly string[]> {
  const security = await openSecuritySide(config(dir, profile), new VirtualClock({ start: NOW + 60_000 }), { deviceId: DEVICE_ID, serialNumber: 'EMU-7' }, () => undefined);
  await security.close();
  expect(security.identity).toBeDefined();
  return security.problems;
}

describe('opcua.identity in the runtime', () => {
  it('is read from the opcua section', () => {
    expect(opcuaUsesIdentity({ opcua: { identity: true } as OpcuaConfig })).toBe(true);
    expect(opcuaUsesIdentity({ opcua: { profile: 'production' } })).toBe(false);
    expect(opcuaUsesIdentity({ opcua: false })).toBe(false);
    expect(opcuaUsesIdentity({})).toBe(false);
  });

  it('production: an RSA identity naming the application URI provisions; a P-256 one or one without the URI does not', async () => {
    const base = tempDir();
    const subject = { commonName: DEVICE_ID };
    await initIdentity({ dir: join(base, 'rsa'), keyType: 'rsa', subject, altNames: { uris: [opcuaApplicationUri(DEVICE_ID)] }, now: NOW });
    expect(await problemsOf(join(base, 'rsa'), 'production')).toEqual([]);

    await initIdentity({ dir: join(base, 'p256'), subject, altNames: { uris: [opcuaApplicationUri(DEVICE_ID)] }, now: NOW });
    expect(await problemsOf(join(base, 'p256'), 'production')).toEqual([`opcua.identity: identity ${join(base, 'p256')}: a p256 key; the OPC UA security policies need RSA (sensorkit identity init --key-type rsa)`]);

    await initIdentity({ dir: join(base, 'no-uri'), keyType: 'rsa', subject, now: NOW });
    const [problem, ...rest] = await problemsOf(join(base, 'no-uri'), 'production');
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^opcua\.identity: identity .*no-uri: its certificate's subjectAltName has no URI, not the server's application URI urn:sensorkit:env-node-EMU-7/);
  }, 60_000);

  it('dev: the identity is loaded for the OPC UA server (the server itself refuses one that does not fit)', async () => {
    const base = tempDir();
    await initIdentity({ dir: base, subject: { commonName: DEVICE_ID }, now: NOW });
    expect(await problemsOf(base, 'dev')).toEqual([]);
  });
});
