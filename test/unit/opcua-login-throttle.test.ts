/**
 * The login throttle on a virtual clock: free failures, doubling delays up to the maximum, lockout
 * per user name and per client, forgetting after the window, one log line per failure.
 */
import { describe, expect, it } from 'vitest';
import { make_warningLog } from 'node-opcua-debug';
import { ArgumentError } from '../../sdk/core/errors.js';
import { VirtualClock } from '../../sdk/core/clock.js';
import { LoginThrottle, routeNodeOpcuaLogs, type LoginThrottleOptions } from '../../sdk/transport/opcua/index.js';

function throttle(options: Omit<LoginThrottleOptions, 'clock'> = {}): { throttle: LoginThrottle; clock: VirtualClock; lines: string[] } {
  const clock = new VirtualClock({ start: 0 });
  const lines: string[] = [];
  return { throttle: new LoginThrottle({ ...options, clock }, (line) => lines.push(line)), clock, lines };
}

/** How long (virtual ms) `failed` holds its answer back. */
async function delayOf(clock: VirtualClock, answer: Promise<void>): Promise<number> {
  const start = clock.now();
  let done = false;
  void answer.then(() => (done = true));
  await clock.runUntilCondition(() => done, 60_000);
  expect(done).toBe(true);
  return clock.now() - start;
}

describe('LoginThrottle', () => {
  it('answers the free failures at once, then doubles the delay up to the maximum', async () => {
    const { throttle: t, clock } = throttle({ freeFailures: 3, delayMs: 250, maxDelayMs: 1000, lockoutAfter: 100 });
    const attempt = { user: 'operator', address: '192.0.2.7' };
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) delays.push(await delayOf(clock, t.failed(attempt, 'wrong password')));
    expect(delays).toEqual([0, 0, 0, 250, 500, 1000, 1000]);
  });

  it('locks out the user name from any client, and the client for any user name, until the window has passed', async () => {
    const { throttle: t, clock, lines } = throttle({ freeFailures: 0, delayMs: 0, maxDelayMs: 0, lockoutAfter: 3, lockoutMs: 60_000 });
    for (let i = 1; i <= 3; i++) await t.failed({ user: 'operator', address: `192.0.2.${i}` }, 'wrong password');
    expect(lines[2]).toBe('opcua: failed login: user "operator" from 192.0.2.3: wrong password, failure 3 in a row; locked out for 60 s after 3 failures');
    expect(t.gate({ user: 'operator', address: '198.51.100.1' })).toEqual({ locked: true, remainingMs: 60_000 });
    expect(t.gate({ user: 'other', address: '198.51.100.1' }).locked).toBe(false);
    for (let i = 1; i <= 3; i++) await t.failed({ user: `guess${i}`, address: '198.51.100.9', certificate: 'ab'.repeat(20) }, 'unknown user');
    expect(t.gate({ user: 'someone', address: '198.51.100.9' }).locked).toBe(true);
    expect(t.gate({ user: 'someone', address: '203.0.113.5', certificate: 'ab'.repeat(20) }).locked).toBe(true);
    await clock.advance(59_999);
    expect(t.gate({ user: 'operator' }).locked).toBe(true);
    await clock.advance(1);
    expect(t.gate({ user: 'operator' }).locked).toBe(false);
    expect(t.gate({ user: 'someone', address: '198.51.100.9' }).locked).toBe(false);
    // Counts are forgotten with the window: the next failure is the first.
    await t.failed({ user: 'operator' }, 'wrong password');
    expect(lines.at(-1)).toBe('opcua: failed login: user "operator": wrong password, failure 1 in a row');
  });

  it('counts an IPv4 client of a dual-stack socket as the same client, shown as plain IPv4', async () => {
    const { throttle: t, lines } = throttle({ lockoutAfter: 2, lockoutMs: 300_000, delayMs: 0, maxDelayMs: 0 });
    await t.failed({ user: 'a', address: '::ffff:192.0.2.7' }, 'unknown user');
    await t.failed({ user: 'b', address: '192.0.2.7' }, 'unknown user');
    expect(lines[1]).toBe('opcua: failed login: user "b" from 192.0.2.7: unknown user, failure 2 in a row; locked out for 300 s after 2 failures');
    expect(t.gate({ user: 'c', address: '::FFFF:192.0.2.7' }).locked).toBe(true);
  });

  it('clears the counts of a user name and client at a good login', async () => {
    const { throttle: t, lines } = throttle({ lockoutAfter: 3, delayMs: 0, maxDelayMs: 0 });
    const attempt = { user: 'operator', address: '192.0.2.7' };
    await t.failed(attempt, 'wrong password');
    await t.failed(attempt, 'wrong password');
    t.succeeded(attempt);
    await t.failed(attempt, 'wrong password');
    expect(lines.at(-1)).toMatch(/failure 1 in a row$/);
  });

  it('logs a refusal under lockout, and escapes and cuts a user name a client chose', async () => {
    const { throttle: t, clock, lines } = throttle({ freeFailures: 0, delayMs: 10, maxDelayMs: 20, lockoutAfter: 1, lockoutMs: 1000 });
    const attempt = { user: `x\n${'y'.repeat(200)}` };
    await delayOf(clock, t.failed(attempt, 'unknown user'));
    expect(await delayOf(clock, t.refuseLocked(attempt))).toBe(20);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(`opcua: failed login: user "x\\n${'y'.repeat(58)}… (202 characters)": refused unchecked, locked out for another 990 ms; answered after 20 ms`);
  });

  it('checks its options', () => {
    expect(() => new LoginThrottle({ lockoutAfter: 0 }, () => undefined)).toThrow(ArgumentError);
    expect(() => new LoginThrottle({ delayMs: 500, maxDelayMs: 100 }, () => undefined)).toThrow(/loginThrottle\.maxDelayMs/);
  });
});

describe('node-opcua log lines', () => {
  it('tells the endpoint-URL mismatch warning once, and cuts and escapes what a client chose', () => {
    const lines: string[] = [];
    routeNodeOpcuaLogs((line) => lines.push(line));
    const warningLog = make_warningLog('test');
    for (let i = 0; i < 5; i++) warningLog('Cannot find suitable endpoints in available endpoints. endpointUri =', `opc.tcp://10.0.0.${i}:4840`);
    warningLog(`token ${'\u0001'.repeat(3)}${'z'.repeat(1000)}`);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`opcua note: a client asked for "opc.tcp://10.0.0.0:4840", which names no host of the server's endpoints; it is served them anyway (IEC 62541-4 §5.6.2; told once)`);
    expect(lines[1]).toMatch(/^opcua warning: token \\x01\\x01\\x01z+… \(1018 characters\)$/);
    expect(lines[1]!.length).toBeLessThan(340);
  });
});
