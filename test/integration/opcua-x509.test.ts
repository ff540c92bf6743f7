/**
 * Optional X.509 user-identity tokens (production profile, `x509Users: true`): endpoints offer
 * them; a user certificate the server does not trust is refused, lands in `<pki>/users/rejected`,
 * and is accepted once trusted (`trustCertificate(pki, thumbprint, 'users')`, what
 * `sensorkit opcua trust --x509-users` does).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageSecurityMode, OPCUACertificateManager, SecurityPolicy, UserTokenType } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCertificates, trustCertificate } from '../../sdk/transport/opcua/index.js';
import { waitFor } from '../support/net.js';
import { connect, makeClient, rigNamespace, startRig, tempDir, type OpcuaRig } from '../support/opcua-rig.js';

let dir: ReturnType<typeof tempDir>;
let rig: OpcuaRig;
const pkiDir = (): string => join(dir.path, 'server-pki');
const clientPki = (): string => join(dir.path, 'client-pki');
const secure = { securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy.Basic256Sha256 };
let user: { type: UserTokenType.Certificate; certificateData: Buffer; privateKey: string };

beforeAll(async () => {
  dir = tempDir('sensorkit-opcua-x509-');
  rig = await startRig({ profile: 'production', pkiDir: pkiDir(), x509Users: true });
  // The user's certificate and key, made by node-opcua's certificate manager in a folder of its own.
  const userPki = join(dir.path, 'alice');
  const manager = new OPCUACertificateManager({ rootFolder: userPki });
  await manager.initialize();
  const certificateFile = join(userPki, 'own', 'certs', 'alice.pem');
  await manager.createSelfSignedCertificate({ applicationUri: 'urn:sensorkit-test:alice', subject: '/CN=alice', startDate: new Date(), validity: 30, dns: [], outputFile: certificateFile });
  user = {
    type: UserTokenType.Certificate,
    certificateData: Buffer.from(new X509Certificate(readFileSync(certificateFile)).raw),
    privateKey: readFileSync(join(userPki, 'own', 'private', 'private_key.pem'), 'utf8'),
  };
  // Trust the client application first (what the security test checks on its own).
  await connect(rig.server.endpointUrl, { ...secure, user, clientPki: clientPki() }).then((c) => c.close(), () => undefined);
  // The server files a refused certificate in rejected/ in the background: wait for it.
  const client = await waitFor(async () => (await listCertificates(pkiDir())).find((c) => c.state === 'rejected'), 15_000, 'the client certificate in rejected/');
  await trustCertificate(pkiDir(), client.thumbprint);
  await rig.server.reloadCertificates(); // in force now, not when the folder watcher notices
}, 120_000);

afterAll(async () => {
  await rig?.close();
  dir?.remove();
});

describe('OPC UA X.509 user tokens', () => {
  it('are offered when enabled', async () => {
    const client = makeClient({ clientPki: clientPki() });
    await client.connect(rig.server.endpointUrl);
    const endpoints = await client.getEndpoints();
    await client.disconnect();
    const tokens = new Set(endpoints.flatMap((e) => (e.userIdentityTokens ?? []).map((t) => t.tokenType)));
    expect(tokens).toEqual(new Set([UserTokenType.UserName, UserTokenType.Certificate]));
  });

  it('refuse an untrusted user certificate, and accept it once trusted', async () => {
    // The client application is trusted: only the user is not.
    const refusedUser = await waitFor(async () => {
      try {
        await (await connect(rig.server.endpointUrl, { ...secure, user, clientPki: clientPki() })).close();
        return 'accepted';
      } catch (error) {
        return (await listCertificates(pkiDir(), 'users')).some((c) => c.state === 'rejected') ? (error as Error) : undefined;
      }
    }, 20_000, 'the user certificate refused and kept in users/rejected');
    expect(refusedUser).toBeInstanceOf(Error);
    const rejected = (await listCertificates(pkiDir(), 'users')).filter((c) => c.state === 'rejected');
    expect(rejected.map((c) => c.subject)).toEqual([expect.stringContaining('CN=alice')]);
    await trustCertificate(pkiDir(), rejected[0]!.thumbprint, 'users');
    await rig.server.reloadCertificates();
    const connection = await waitFor(() => connect(rig.server.endpointUrl, { ...secure, user, clientPki: clientPki() }).catch(() => undefined), 20_000, 'a session as alice');
    expect(await rigNamespace(connection.session)).toBeGreaterThan(0);
    await connection.close();
  });
});
