/**
 * Login lockout and back-off on a virtual clock: 100 wrong logins in a minute lock the user name
 * and the client out after the 10th (the other 90 refused unchecked); each further lockout while
 * the earlier one is remembered lasts twice as long, up to the maximum; a good login clears it all.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { LoginThrottle, type LoginThrottleOptions } from '../../sdk/transport/opcua/login-throttle.js';

function throttle(options: LoginThrottleOptions = {}) {
  const clock = new VirtualClock({ start: Date.UTC(2026, 0, 1) });
  const lines: string[] = [];
  return { clock, lines, throttle: new LoginThrottle({ clock, ...options }, (line) => lines.push(line)) };
}

/** One login as the OPC UA server runs it: gate, then the password check's outcome. */
async function wrongLogin(t: LoginThrottle, attempt: { user: string; address: string }): Promise<'checked' | 'refused unchecked'> {
  // Answer delays are off in these tests (their doubling is tested beside), so each resolves at once.
  if (t.gate(attempt).locked) {
    await t.refuseLocked(attempt);
    return 'refused unchecked';
  }
  await t.failed(attempt, 'wrong password');
  return 'checked';
}

describe('login lockout and back-off', () => {
  it('locks out after the 10th of 100 wrong logins in a minute; the other 90 are refused unchecked', async () => {
    const { throttle: t, clock, lines } = throttle({ delayMs: 0, maxDelayMs: 0 });
    const attempt = { user: 'operator', address: '192.0.2.7' };
    const outcomes: string[] = [];
    const start = clock.now();
    for (let i = 0; i < 100; i++) {
      outcomes.push(await wrongLogin(t, attempt));
      await clock.runUntil(start + (i + 1) * 600); // 100 in 60 s
    }
    expect(clock.now() - start).toBe(60_000);
    expect(outcomes.filter((o) => o === 'checked')).toHaveLength(10);
    expect(outcomes.slice(10).every((o) => o === 'refused unchecked')).toBe(true);
    expect(lines[9]).toBe('opcua: failed login: user "operator" from 192.0.2.7: wrong password, failure 10 in a row; locked out for 300 s after 10 failures');
    // Locked at the 10th, 5.4 s in, for 300 s; a minute in, 245.4 s remain.
    expect(t.gate({ user: 'operator' })).toEqual({ locked: true, remainingMs: 300_000 - (60_000 - 5_400) });
  });

  it('doubles each further lockout while the last one is remembered, up to the maximum', async () => {
    const { throttle: t, clock, lines } = throttle({ freeFailures: 0, delayMs: 0, maxDelayMs: 0, lockoutAfter: 3, lockoutMs: 60_000, maxLockoutMs: 200_000 });
    const attempt = { user: 'operator', address: '192.0.2.7' };
    const lockout = async (): Promise<number> => {
      for (let i = 0; i < 3; i++) await t.failed(attempt, 'wrong password');
      const gate = t.gate(attempt);
      return gate.locked ? gate.remainingMs : 0;
    };
    expect(await lockout()).toBe(60_000);
    await clock.advance(60_000);
    expect(t.gate(attempt).locked).toBe(false);
    // The failures in a row were forgotten with the lockout: the next one is the first again.
    await t.failed(attempt, 'wrong password');
    expect(lines.at(-1)).toBe('opcua: failed login: user "operator" from 192.0.2.7: wrong password, failure 1 in a row');
    for (let i = 0; i < 2; i++) await t.failed(attempt, 'wrong password');
    expect(lines.at(-1)).toMatch(/failure 3 in a row; locked out again for 120 s \(lockout 2\)$/);
    await clock.advance(120_000);
    expect(await lockout()).toBe(200_000); // 240 s capped at the maximum
    await clock.advance(200_000);
    // A good login clears it: the next lockout is the first again.
    t.succeeded(attempt);
    expect(await lockout()).toBe(60_000);
  });

  it('forgets a lockout the maximum lockout time after it ended', async () => {
    const { throttle: t, clock } = throttle({ freeFailures: 0, delayMs: 0, maxDelayMs: 0, lockoutAfter: 2, lockoutMs: 1000, maxLockoutMs: 10_000 });
    const attempt = { user: 'u', address: '192.0.2.8' };
    await t.failed(attempt, 'wrong password');
    await t.failed(attempt, 'wrong password');
    await clock.advance(1000 + 10_000);
    await t.failed(attempt, 'wrong password');
    await t.failed(attempt, 'wrong password');
    expect(t.gate(attempt)).toEqual({ locked: true, remainingMs: 1000 });
  });
});
