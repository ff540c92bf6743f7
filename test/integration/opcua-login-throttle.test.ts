/**
 * Password guessing over real TCP with node-opcua's client, on one secure channel: the first
 * failures are answered at once, then each answer waits (doubling), and after `lockoutAfter`
 * failures the user name and client are locked out, the right password included, until the
 * lockout window has passed. Each failure is one log line naming the user and the client, never
 * the password. The throttle runs on a virtual clock, so delays and the window are exact.
 */
import { join } from 'node:path';
import { MessageSecurityMode, SecurityPolicy, UserTokenType, type OPCUAClient } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { listCertificates, trustCertificate } from '../../sdk/transport/opcua/index.js';
import { waitFor } from '../support/net.js';
import { RIG_USER, makeClient, rigUsers, startRig, tempDir, type OpcuaRig } from '../support/opcua-rig.js';

const clock = new VirtualClock({ start: Date.UTC(2026, 0, 1) });
const lines: string[] = [];
let dir: ReturnType<typeof tempDir>;
let rig: OpcuaRig;
let client: OPCUAClient;
const secure = { securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy.Basic256Sha256 };
const WRONG = ['wrong-guess-1', 'wrong-guess-2', 'wrong-guess-3', 'wrong-guess-4', 'wrong-guess-5'];

beforeAll(async () => {
  dir = tempDir('sensorkit-opcua-throttle-');
  const pkiDir = join(dir.path, 'server-pki');
  rig = await startRig({
    profile: 'production',
    pkiDir,
    users: await rigUsers(dir.path),
    loginThrottle: { freeFailures: 2, delayMs: 1000, maxDelayMs: 4000, lockoutAfter: 4, lockoutMs: 60_000, clock },
    log: (line) => lines.push(line),
  });
  // The client's certificate is refused once, then trusted.
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

/** One login on the shared connection; settles with 'ok' or the error's text. */
function login(userName: string, password: string): { settled: () => boolean; result: Promise<string> } {
  let done = false;
  const result = client.createSession({ type: UserTokenType.UserName, userName, password }).then(
    async (session) => {
      await session.close();
      return 'ok';
    },
    (error: Error) => error.message,
  );
  void result.finally(() => (done = true));
  return { settled: () => done, result };
}

/** Waits for log line `n` (1-based) and returns it. */
const line = (n: number): Promise<string> => waitFor(() => lines[n - 1], 15_000, `log line ${n}`);

/** A login whose answer is held back: still unanswered after a moment, answered once the clock passes `delayMs`. */
async function delayed(userName: string, password: string, n: number, delayMs: number): Promise<string> {
  const attempt = login(userName, password);
  await line(n);
  // Not answered while the throttle's clock stands still (an undelayed answer takes milliseconds).
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(attempt.settled()).toBe(false);
  await clock.advance(delayMs - 1);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(attempt.settled()).toBe(false);
  await clock.advance(1);
  return attempt.result;
}

describe('OPC UA login throttling', () => {
  it('answers the first failures at once, delays the next ones doubling, then locks out; one log line each, never the password', async () => {
    const client = /^opcua: failed login: user "operator" from 127\.0\.0\.1, client certificate [0-9a-f]{16}: /;
    expect(await login(RIG_USER.name, WRONG[0]!).result).toMatch(/BadUserAccessDenied/);
    expect(await line(1)).toMatch(new RegExp(`${client.source}wrong password, failure 1 in a row$`));
    expect(await login(RIG_USER.name, WRONG[1]!).result).toMatch(/BadUserAccessDenied/);
    expect(await line(2)).toMatch(new RegExp(`${client.source}wrong password, failure 2 in a row$`));

    expect(await delayed(RIG_USER.name, WRONG[2]!, 3, 1000)).toMatch(/BadUserAccessDenied/);
    expect(lines[2]).toMatch(new RegExp(`${client.source}wrong password, failure 3 in a row; answered after 1 s$`));
    expect(await delayed(RIG_USER.name, WRONG[3]!, 4, 2000)).toMatch(/BadUserAccessDenied/);
    expect(lines[3]).toMatch(new RegExp(`${client.source}wrong password, failure 4 in a row; locked out for 60 s after 4 failures; answered after 2 s$`));

    // Locked out: the right password is refused unchecked, after the longest delay.
    expect(await delayed(RIG_USER.name, RIG_USER.password, 5, 4000)).toMatch(/BadUserAccessDenied/);
    expect(lines[4]).toMatch(new RegExp(`${client.source}refused unchecked, locked out for another 58 s; answered after 4 s$`));
    // Another user name from the same client is locked out too (the client is).
    expect(await delayed('intruder', WRONG[4]!, 6, 4000)).toMatch(/BadUserAccessDenied/);
    expect(lines[5]).toMatch(/^opcua: failed login: user "intruder" from .*: refused unchecked, locked out for another 54 s; answered after 4 s$/);

    expect(lines).toHaveLength(6);
    for (const text of lines) for (const password of [...WRONG, RIG_USER.password]) expect(text).not.toContain(password);
  }, 60_000);

  it('lets the right password in once the lockout window has passed, and starts counting afresh', async () => {
    await clock.advance(60_000);
    expect(await login(RIG_USER.name, RIG_USER.password).result).toBe('ok');
    expect(lines).toHaveLength(6); // a good login is not logged
    expect(await login('intruder', 'another guess').result).toMatch(/BadUserAccessDenied/);
    expect(await line(7)).toMatch(/^opcua: failed login: user "intruder" from .*: unknown user, failure 1 in a row$/);
  }, 60_000);
});
