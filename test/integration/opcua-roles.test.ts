/**
 * Roles over OPC UA, through node-opcua's client on the production profile: a viewer calling a
 * command and an operator writing a setting are refused with BadUserAccessDenied and recorded;
 * the roles that suffice are let through and recorded. An unknown user and a wrong password get
 * the same status code (their times are printed, not asserted). 100 wrong logins in a row lock the
 * user and the client out (the right password refused unchecked) while the device keeps sampling.
 */
import { join } from 'node:path';
import { AttributeIds, BrowseDirection, DataType, MessageSecurityMode, SecurityPolicy, StatusCodes, UserTokenType, Variant, type ClientSession, type OPCUAClient } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { UsersFile, hashPassword, listCertificates, trustCertificate } from '../../sdk/transport/opcua/index.js';
import type { AuditEvent } from '../../security/audit/event.js';
import { waitFor } from '../support/net.js';
import { RIG_NAMESPACE, RIG_USER, makeClient, rigNode, startRig, tempDir, type OpcuaRig } from '../support/opcua-rig.js';

const throttleClock = new VirtualClock({ start: Date.UTC(2026, 0, 1) });
const audit: AuditEvent[] = [];
const secure = { securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy.Basic256Sha256 };
const PASSWORDS = { vic: 'viewer pass phrase 1', olga: 'operator pass phrase 2', erin: 'engineer pass phrase 3' };
let dir: ReturnType<typeof tempDir>;
let rig: OpcuaRig;
let client: OPCUAClient;

beforeAll(async () => {
  dir = tempDir('sensorkit-opcua-roles-');
  const pkiDir = join(dir.path, 'server-pki');
  const users = await UsersFile.load(join(dir.path, 'users.json'));
  await users.set(await hashPassword('vic', PASSWORDS.vic, 'viewer'));
  await users.set(await hashPassword('olga', PASSWORDS.olga, 'operator'));
  await users.set(await hashPassword('erin', PASSWORDS.erin));
  await users.setRole('erin', 'engineer');
  await users.set(await hashPassword(RIG_USER.name, RIG_USER.password, 'operator'));
  rig = await startRig({
    profile: 'production',
    pkiDir,
    users,
    audit: { record: (event) => void audit.push(event) },
    // Delays off (a virtual clock that stands still would hold every answer): the lockout is what is checked.
    loginThrottle: { freeFailures: 100, delayMs: 0, maxDelayMs: 0, lockoutAfter: 10, lockoutMs: 60_000, clock: throttleClock },
    log: () => undefined,
  });
  const clientPki = join(dir.path, 'client-pki');
  const first = makeClient({ ...secure, clientPki });
  await first.connect(rig.server.endpointUrl).catch(() => undefined);
  await first.disconnect();
  const rejected = await waitFor(async () => (await listCertificates(pkiDir)).find((c) => c.state === 'rejected'), 15_000, 'the client certificate in rejected/');
  await trustCertificate(pkiDir, rejected.thumbprint);
  await rig.server.reloadCertificates();
  client = makeClient({ ...secure, clientPki });
  await client.connect(rig.server.endpointUrl);
}, 120_000);

afterAll(async () => {
  await client?.disconnect();
  await rig?.close();
  dir?.remove();
});

async function as<T>(userName: string, password: string, work: (session: ClientSession, ns: number, di: number) => Promise<T>): Promise<T> {
  const session = await client.createSession({ type: UserTokenType.UserName, userName, password });
  try {
    const namespaces = await session.readNamespaceArray();
    return await work(session, namespaces.indexOf(RIG_NAMESPACE), namespaces.indexOf('http://opcfoundation.org/UA/DI/'));
  } finally {
    await session.close();
  }
}

async function callScale(session: ClientSession, ns: number, di: number) {
  const browsed = await session.browse({ nodeId: rigNode(ns), browseDirection: BrowseDirection.Forward, includeSubtypes: true, resultMask: 63 });
  const objectId = browsed.references!.find((r) => r.browseName.name === 'MethodSet' && r.browseName.namespaceIndex === di)!.nodeId.toString();
  return session.call({ objectId, methodId: rigNode(ns, 'scale()'), inputArguments: [new Variant({ dataType: DataType.Double, value: 1.5 }), new Variant({ dataType: DataType.Null })] });
}

const writeSetpoint = (session: ClientSession, ns: number, value: number) =>
  session.write({ nodeId: rigNode(ns, 'setpoint'), attributeId: AttributeIds.Value, value: { value: new Variant({ dataType: DataType.Double, value }) } });

async function loginResult(userName: string, password: string): Promise<string> {
  try {
    const session = await client.createSession({ type: UserTokenType.UserName, userName, password });
    await session.close();
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('OPC UA roles', () => {
  it("refuses a viewer's command call with BadUserAccessDenied and records it; an operator's runs", async () => {
    audit.length = 0;
    const refused = await as('vic', PASSWORDS.vic, (session, ns, di) => callScale(session, ns, di));
    expect(refused.statusCode).toEqual(StatusCodes.BadUserAccessDenied);
    const ran = await as('olga', PASSWORDS.olga, (session, ns, di) => callScale(session, ns, di));
    expect(ran.statusCode).toEqual(StatusCodes.Good);
    expect(ran.outputArguments![0]!.value).toBe(3);
    const calls = audit.filter((event) => event.category === 'command');
    expect(calls).toEqual([
      expect.objectContaining({ event: 'opcua.call', result: 'denied', actor: 'vic', source: 'opcua', detail: { command: 'scale', role: 'viewer', needed: 'operator' } }),
      expect.objectContaining({ event: 'opcua.call', result: 'success', actor: 'olga', detail: { command: 'scale', role: 'operator' } }),
    ]);
    expect(audit.filter((event) => event.category === 'login').map((event) => [event.actor, event.result])).toEqual([['vic', 'success'], ['olga', 'success']]);
  }, 60_000);

  it("refuses an operator's setting write (settings need an engineer) and lets an engineer's through", async () => {
    audit.length = 0;
    const before = rig.device.readProperty('setpoint');
    expect(await as('olga', PASSWORDS.olga, (session, ns) => writeSetpoint(session, ns, 3.5))).toEqual(StatusCodes.BadUserAccessDenied);
    expect(rig.device.readProperty('setpoint')).toBe(before);
    expect(await as('erin', PASSWORDS.erin, (session, ns) => writeSetpoint(session, ns, 3.5))).toEqual(StatusCodes.Good);
    expect(rig.device.readProperty('setpoint')).toBe(3.5);
    expect(await as('erin', PASSWORDS.erin, (session, ns) => writeSetpoint(session, ns, 9))).toEqual(StatusCodes.BadOutOfRange);
    expect(audit.filter((event) => event.category === 'setting').map((event) => [event.event, event.actor, event.result, event.detail?.setting])).toEqual([
      ['opcua.write', 'olga', 'denied', 'setpoint'],
      ['opcua.write', 'erin', 'success', 'setpoint'],
      ['opcua.write', 'erin', 'failure', 'setpoint'],
    ]);
  }, 60_000);

  it('answers an unknown user and a wrong password with the same status code (times printed)', async () => {
    const time = async (userName: string, password: string) => {
      const start = performance.now();
      const result = await loginResult(userName, password);
      return { result, ms: performance.now() - start };
    };
    const unknown: number[] = [];
    const wrong: number[] = [];
    // Alternating which goes first, so that an order effect does not pass for a difference;
    // 8 failures in all, below the lockout (10) of this client.
    for (let i = 0; i < 4; i++) {
      const a = i % 2 === 0 ? await time(`nobody-${i}`, 'some password 1') : undefined;
      const b = await time('erin', `wrong password ${i}`);
      const unknownTime = a ?? (await time(`nobody-${i}`, 'some password 1'));
      expect(unknownTime.result).toMatch(/BadUserAccessDenied/);
      expect(b.result).toMatch(/BadUserAccessDenied/);
      expect(unknownTime.result.replace(/nobody-\d/g, '')).toBe(b.result.replace(/erin/g, ''));
      unknown.push(unknownTime.ms);
      wrong.push(b.ms);
    }
    const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
    console.log(`login answer times over OPC UA, median of 4: unknown user ${median(unknown).toFixed(1)} ms, wrong password ${median(wrong).toFixed(1)} ms`);
    expect(await loginResult('erin', PASSWORDS.erin)).toBe('ok'); // clears the count of erin and the client
  }, 60_000);

  it('locks the user and the client out after 100 wrong logins in a row; sampling goes on', async () => {
    audit.length = 0;
    const samples: number[] = [];
    const off = rig.device.on('sample', (sample) => {
      if (sample.channel === 'voltage') samples.push(sample.time);
    });
    const start = Date.now();
    const results: string[] = [];
    for (let i = 0; i < 100; i++) results.push(await loginResult(RIG_USER.name, `wrong guess ${i}`));
    const elapsed = Date.now() - start;
    expect(results.every((result) => /BadUserAccessDenied/.test(result))).toBe(true);
    // Locked out: the right password is refused unchecked.
    expect(await loginResult(RIG_USER.name, RIG_USER.password)).toMatch(/BadUserAccessDenied/);
    off();
    const logins = audit.filter((event) => event.category === 'login');
    expect(logins.filter((event) => event.result === 'failure')).toHaveLength(10);
    expect(logins.filter((event) => event.result === 'denied')).toHaveLength(91);
    expect(logins.at(-1)).toMatchObject({ actor: RIG_USER.name, result: 'denied', detail: { reason: 'locked out' } });
    let gap = 0;
    for (let i = 1; i < samples.length; i++) gap = Math.max(gap, samples[i]! - samples[i - 1]!);
    console.log(`100 wrong logins in ${elapsed} ms: ${samples.length} samples at 10 Hz meanwhile, largest sampling gap ${gap.toFixed(1)} ms`);
    // 10 Hz on the system clock: no more than a tenth of the ticks missing (a loaded 2-core host).
    expect(samples.length).toBeGreaterThanOrEqual(Math.floor((elapsed / 100) * 0.9) - 1);

    // The lockout passes with its window; the right password is let in and clears the counts.
    await throttleClock.advance(60_000);
    expect(await loginResult(RIG_USER.name, RIG_USER.password)).toBe('ok');
  }, 120_000);
});
