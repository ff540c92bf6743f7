/**
 * The OPC UA side's audit records through the runtime: a client whose certificate the server does
 * not trust is refused, and the refusal is an audit record naming its thumbprint and subject;
 * a login with a wrong password and one with the right password are records too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageSecurityMode, SecurityPolicy, UserTokenType } from 'node-opcua';
import { afterEach, describe, expect, it } from 'vitest';
import { StateError } from '../../sdk/core/errors.js';
import { startRuntime } from '../../sdk/runtime/index.js';
import { verifyAuditLog } from '../../security/audit-log.js';
import { hashPassword, UsersFile } from '../../sdk/transport/opcua/users.js';
import { connect } from '../support/opcua-rig.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('OPC UA certificate rejections in the audit log', () => {
  it('records a refused client certificate with its thumbprint and subject, and each login', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-runtime-security-opcua-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const auditFile = join(dir, 'audit.log');
    const users = await UsersFile.load(join(dir, 'users.json'));
    await users.set(await hashPassword('alice', 'correct horse battery staple'));
    const runtime = await startRuntime(
      { device: `${ROOT}examples/env-node`, serialNumber: 'SEC-2', mqtt: false, opcua: { port: 0, pki: join(dir, 'pki'), users: join(dir, 'users.json') }, security: { auditLog: { file: auditFile } } },
      { warn: () => undefined, log: () => undefined },
    );
    cleanups.push(() => runtime.stop());
    const opcua = runtime.status().opcua;
    if (opcua.state !== 'serving') throw new StateError(`OPC UA is ${opcua.state}`);
    await expect(connect(opcua.endpointUrl, { securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy.Basic256Sha256, clientPki: join(dir, 'client') })).rejects.toThrow();
    let rejected;
    for (let i = 0; i < 200 && rejected === undefined; i++) {
      rejected = (await verifyAuditLog(auditFile)).entries.find((e) => e.event === 'opcua.certificate-rejected');
      if (rejected === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(rejected).toMatchObject({ category: 'certificate', result: 'denied', source: 'opcua', actor: expect.stringMatching(/^[0-9a-f]{40}$/), data: { subject: expect.stringMatching(/sensorkit-test-client|O=|CN=/) } });

    await expect(connect(opcua.endpointUrl, { user: { type: UserTokenType.UserName, userName: 'alice', password: 'a wrong guess' } })).rejects.toThrow(/BadUserAccessDenied/);
    const session = await connect(opcua.endpointUrl, { user: { type: UserTokenType.UserName, userName: 'alice', password: 'correct horse battery staple' } });
    await session.close();
    let logins: { result?: string; actor?: string; category?: string }[] = [];
    for (let i = 0; i < 200 && logins.length < 2; i++) {
      logins = (await verifyAuditLog(auditFile)).entries.filter((e) => e.event === 'opcua.session');
      if (logins.length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(logins.map((e) => [e.category, e.actor, e.result])).toEqual([
      ['login', 'alice', 'failure'],
      ['login', 'alice', 'success'],
    ]);
  }, 60_000);
});
