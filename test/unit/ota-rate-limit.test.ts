import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { ClientRateLimiter } from '../../ota/server/rate-limit.js';

describe('ClientRateLimiter', () => {
  it('refills at the sustained rate: a client that used its burst waits one token (500 ms at 120 a minute)', async () => {
    const clock = new VirtualClock({ start: Date.UTC(2026, 2, 1) });
    const limiter = new ClientRateLimiter(clock, { perMinute: 120, burst: 5 });
    for (let i = 0; i < 5; i++) expect(limiter.take('10.0.0.7')).toBe(0);
    expect(limiter.take('10.0.0.7')).toBe(500);
    expect(limiter.take('10.0.0.8')).toBe(0);
    await clock.advance(500);
    expect(limiter.take('10.0.0.7')).toBe(0);
  });

  it.each([-7_200_000, 7_200_000])('a wall-clock step of %d ms neither refuses the client for hours nor gives it a fresh burst', (stepMs) => {
    const clock = new VirtualClock({ start: Date.UTC(2026, 2, 1) });
    const limiter = new ClientRateLimiter(clock, { perMinute: 120, burst: 5 });
    for (let i = 0; i < 5; i++) expect(limiter.take('a')).toBe(0);
    clock.stepWall(stepMs);
    expect(limiter.take('a')).toBe(500);
  });
});
