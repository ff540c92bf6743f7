/**
 * The `production` profile over real TCP: only SignAndEncrypt endpoints (Basic256Sha256,
 * Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss), no None endpoint and no anonymous login; a
 * client certificate the server does not trust is refused until it is trusted; user names are
 * checked against the scrypt users file; the application certificate's key is owner-only.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { MessageSecurityMode, SecurityPolicy, UserTokenType, type EndpointDescription } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../sdk/core/errors.js';
import { OpcuaServer, listCertificates, pkiPaths, trustCertificate } from '../../sdk/transport/opcua/index.js';
import { waitFor } from '../support/net.js';
import { RIG_DEVICE_ID, RIG_USER, connect, makeClient, rigNamespace, rigUsers, startRig, tempDir, type OpcuaRig } from '../support/opcua-rig.js';

let dir: ReturnType<typeof tempDir>;
let rig: OpcuaRig;
let endpoints: EndpointDescription[];
const pkiDir = (): string => join(dir.path, 'server-pki');
const clientPki = (): string => join(dir.path, 'client-pki');
const secure = { securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy.Basic256Sha256 };
const operator = { type: UserTokenType.UserName as const, userName: RIG_USER.name, password: RIG_USER.password };

beforeAll(async () => {
  dir = tempDir('sensorkit-opcua-security-');
  rig = await startRig({ profile: 'production', pkiDir: pkiDir(), users: await rigUsers(dir.path) });
  const client = makeClient({ clientPki: clientPki() });
  await client.connect(rig.server.endpointUrl);
  endpoints = await client.getEndpoints();
  await client.disconnect();
}, 120_000);

afterAll(async () => {
  await rig?.close();
  dir?.remove();
});

describe('OPC UA security: production profile', () => {
  it('lists only SignAndEncrypt endpoints with the three secure policies, no None endpoint, no anonymous token', () => {
    const policies = endpoints.map((e) => e.securityPolicyUri!.split('#')[1]).sort();
    expect(policies).toEqual(['Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss', 'Basic256Sha256']);
    expect(endpoints.every((e) => e.securityMode === MessageSecurityMode.SignAndEncrypt)).toBe(true);
    const tokens = new Set(endpoints.flatMap((e) => (e.userIdentityTokens ?? []).map((t) => t.tokenType)));
    expect(tokens).toEqual(new Set([UserTokenType.UserName]));
    expect(rig.server.warnings()).toEqual([]);
  });

  it('refuses a SecurityPolicy None session', async () => {
    await expect(connect(rig.server.endpointUrl, { clientPki: clientPki() })).rejects.toThrow();
  });

  it('refuses an untrusted client certificate, and accepts it once trusted by thumbprint', async () => {
    await expect(connect(rig.server.endpointUrl, { ...secure, user: operator, clientPki: clientPki() })).rejects.toThrow();
    // The server files the refused certificate in rejected/ in the background: wait for it.
    const rejected = await waitFor(async () => {
      const found = (await listCertificates(pkiDir())).filter((c) => c.state === 'rejected');
      return found.length > 0 ? found : undefined;
    }, 15_000, 'the client certificate in rejected/');
    expect(rejected).toHaveLength(1);
    await trustCertificate(pkiDir(), rejected[0]!.thumbprint.slice(0, 12));
    expect((await listCertificates(pkiDir())).map((c) => c.state)).toEqual(['trusted']);
    // The server's certificate store notices the move (a folder watcher): retry for a bounded time.
    const connection = await waitFor(() => connect(rig.server.endpointUrl, { ...secure, user: operator, clientPki: clientPki() }).catch(() => undefined), 15_000, 'a session once trusted');
    expect(await rigNamespace(connection.session)).toBeGreaterThan(0);
    await connection.close();
  });

  it('checks user names against the users file, on every secure policy', async () => {
    for (const securityPolicy of [SecurityPolicy.Aes128_Sha256_RsaOaep, SecurityPolicy.Aes256_Sha256_RsaPss]) {
      const connection = await connect(rig.server.endpointUrl, { securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy, user: operator, clientPki: clientPki() });
      await connection.close();
    }
    await expect(connect(rig.server.endpointUrl, { ...secure, user: { ...operator, password: 'wrong password!' }, clientPki: clientPki() })).rejects.toThrow();
    await expect(connect(rig.server.endpointUrl, { ...secure, user: { ...operator, userName: 'intruder' }, clientPki: clientPki() })).rejects.toThrow();
    await expect(connect(rig.server.endpointUrl, { ...secure, clientPki: clientPki() })).rejects.toThrow(); // anonymous
  });

  it('keeps the application certificate in the PKI folder with an owner-only key', () => {
    const paths = pkiPaths(pkiDir(), RIG_DEVICE_ID);
    expect(statSync(paths.certificateFile).isFile()).toBe(true);
    expect(statSync(paths.privateKeyFile).mode & 0o777).toBe(0o600);
  });

  it('will not start a production server nobody can log in to', () => {
    expect(() => new OpcuaServer(rig.device, { profile: 'production', pkiDir: pkiDir() })).toThrow(ValidationError);
    expect(() => new OpcuaServer(rig.device, { profile: 'production', pkiDir: pkiDir() })).toThrow(/production profile admits no anonymous client/);
  });
});
