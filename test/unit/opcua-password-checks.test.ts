/**
 * The cap on password checks at once: no more than `concurrent` run, `queued` more wait their
 * turn in order, the rest are refused at once as `busy`; a place freed goes to the next waiter,
 * never to a newcomer; a refusal waits the typical time of a check.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../sdk/core/errors.js';
import { PasswordChecks } from '../../sdk/transport/opcua/password-checks.js';

/** A check that ends when the test says so. */
function heldCheck(): { check: () => Promise<boolean>; started: () => boolean; finish: (ok: boolean) => void } {
  let started = false;
  let finish!: (ok: boolean) => void;
  const done = new Promise<boolean>((resolve) => (finish = resolve));
  return {
    check: () => {
      started = true;
      return done;
    },
    started: () => started,
    finish: (ok) => finish(ok),
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('PasswordChecks', () => {
  it('runs one check at a time by default, queues 8, refuses the rest at once as busy', async () => {
    const checks = new PasswordChecks();
    const held = Array.from({ length: 100 }, () => heldCheck());
    const outcomes = held.map((h) => checks.run(h.check));
    await turn();
    expect(held.filter((h) => h.started())).toHaveLength(1);
    expect(checks.stats()).toMatchObject({ running: 1, waiting: 8, refused: 91 });
    const refused = await Promise.all(outcomes.slice(9));
    expect(refused.every((o) => o === 'busy')).toBe(true);

    // Each check that ends hands its place to the next waiter, in order.
    for (let i = 0; i < 9; i++) {
      expect(held[i]!.started()).toBe(true);
      expect(held[i + 1]!.started()).toBe(false);
      held[i]!.finish(i === 4);
      await turn();
    }
    expect(await Promise.all(outcomes.slice(0, 9))).toEqual([false, false, false, false, true, false, false, false, false]);
    expect(checks.stats()).toMatchObject({ running: 0, waiting: 0, maxRunning: 1, checked: 9, refused: 91 });
  });

  it('a freed place goes to the waiter, not to a check that arrives in the same turn', async () => {
    const checks = new PasswordChecks({ concurrent: 2, queued: 1 });
    const [a, b, c, d] = [heldCheck(), heldCheck(), heldCheck(), heldCheck()];
    const runs = [checks.run(a.check), checks.run(b.check), checks.run(c.check)];
    await turn();
    expect([a.started(), b.started(), c.started()]).toEqual([true, true, false]);
    a.finish(false);
    await runs[0];
    // c holds a's place; d, arriving now, finds two running and the queue empty: it waits.
    const late = checks.run(d.check);
    await turn();
    expect([c.started(), d.started()]).toEqual([true, false]);
    expect(checks.stats()).toMatchObject({ running: 2, waiting: 1, maxRunning: 2 });
    b.finish(false);
    c.finish(false);
    await turn();
    expect(d.started()).toBe(true);
    d.finish(true);
    expect(await late).toBe(true);
    expect(checks.stats()).toMatchObject({ running: 0, maxRunning: 2, checked: 4, refused: 0 });
  });

  it('a failing check frees its place and rejects its caller', async () => {
    const checks = new PasswordChecks({ concurrent: 1, queued: 1 });
    const first = checks.run(() => Promise.reject(new ArgumentError('scrypt failed')));
    const second = checks.run(() => Promise.resolve(true));
    await expect(first).rejects.toThrow('scrypt failed');
    expect(await second).toBe(true);
    expect(checks.stats()).toMatchObject({ running: 0, waiting: 0, checked: 2 });
  });

  it('a refusal waits about the typical time of a check', async () => {
    const checks = new PasswordChecks({ concurrent: 1, queued: 0 });
    for (let i = 0; i < 16; i++) await checks.run(() => new Promise((resolve) => setTimeout(() => resolve(false), 30)));
    const typical = checks.stats().typicalMs;
    expect(typical).toBeGreaterThan(25);
    expect(typical).toBeLessThan(60 + 30);
    const started = performance.now();
    await checks.waitLikeACheck();
    expect(performance.now() - started).toBeGreaterThanOrEqual(typical - 2);
  });

  it('refuses a cap below one running check', () => {
    expect(() => new PasswordChecks({ concurrent: 0 })).toThrow(ArgumentError);
    expect(() => new PasswordChecks({ queued: -1 })).toThrow('Expected `passwordChecks.queued` to be an integer from 0 and up, got -1');
  });
});
