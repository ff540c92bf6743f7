import { describe, expect, it } from 'vitest';
import { ArgumentError, SeededRandom, SystemClock, TimeoutError, VirtualClock } from '../../sdk/core/index.js';

describe('VirtualClock', () => {
  it('fires timers in time order, then scheduling order, reading exactly each timer time', async () => {
    const clock = new VirtualClock({ start: 1000 });
    const fired: string[] = [];
    clock.schedule(1030, () => fired.push(`c@${clock.now()}`));
    clock.schedule(1010, () => fired.push(`a@${clock.now()}`));
    clock.schedule(1010, () => fired.push(`b@${clock.now()}`));
    await clock.advance(20);
    expect(fired).toEqual(['a@1010', 'b@1010']);
    expect(clock.now()).toBe(1020);
    await clock.advance(10);
    expect(fired).toEqual(['a@1010', 'b@1010', 'c@1030']);
  });

  it('runs timers scheduled by timers and lets async callbacks settle between them', async () => {
    const clock = new VirtualClock({ start: 0 });
    const log: number[] = [];
    const tick = async (): Promise<void> => {
      await Promise.resolve();
      await Promise.resolve();
      log.push(clock.now());
      if (log.length < 5) clock.schedule(clock.now() + 100, () => void tick());
    };
    clock.schedule(100, () => void tick());
    await clock.runUntil(10_000);
    expect(log).toEqual([100, 200, 300, 400, 500]);
  });

  it('cancels timers and counts pending ones', async () => {
    const clock = new VirtualClock({ start: 0 });
    let fired = false;
    const timer = clock.schedule(10, () => (fired = true));
    expect(clock.pending).toBe(1);
    timer.cancel();
    timer.cancel();
    expect(clock.pending).toBe(0);
    await clock.advance(100);
    expect(fired).toBe(false);
  });

  it('fires a timer in the past at the current time', async () => {
    const clock = new VirtualClock({ start: 500 });
    let at = -1;
    clock.schedule(100, () => (at = clock.now()));
    await clock.advance(0);
    expect(at).toBe(500);
  });

  it('runs until a condition, bounded by a limit', async () => {
    const clock = new VirtualClock({ start: 0 });
    let count = 0;
    const every = (): void => {
      count++;
      clock.schedule(clock.now() + 10, every);
    };
    clock.schedule(10, every);
    expect(await clock.runUntilCondition(() => count === 7, 1000)).toBe(true);
    expect(clock.now()).toBe(70);
    expect(await clock.runUntilCondition(() => count === 1000, 100)).toBe(false);
    expect(clock.now()).toBe(170);
  });

  it('rejects invalid times with a precise ArgumentError', async () => {
    const clock = new VirtualClock();
    expect(() => clock.schedule(Number.NaN, () => undefined)).toThrow(/Expected `atMs` to be a finite number, got NaN/);
    await expect(clock.advance(-1)).rejects.toThrow(/from 0 and up, got -1/);
    expect(() => new VirtualClock({ start: Infinity })).toThrow(ArgumentError);
    expect(() => clock.schedule(Number.NaN, () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
  });

  it('runUntilSettled fires timers until the promise resolves, returns its value and stops there', async () => {
    const clock = new VirtualClock({ start: 0 });
    const wait = (ms: number) => new Promise<void>((resolve) => clock.schedule(clock.now() + ms, resolve));
    const steps: number[] = [];
    const chain = async (): Promise<string> => {
      // Each wait is scheduled by the continuation of the one before: timers appear one at a time.
      for (const ms of [5, 10, 20]) {
        await wait(ms);
        steps.push(clock.now());
      }
      return 'done';
    };
    let later = false;
    clock.schedule(100, () => (later = true));
    await expect(clock.runUntilSettled(chain())).resolves.toBe('done');
    expect(steps).toEqual([5, 15, 35]);
    expect(clock.now()).toBe(35);
    expect(later).toBe(false);
    expect(clock.pending).toBe(1);
  });

  it('runUntilSettled rethrows the rejection reason itself', async () => {
    const clock = new VirtualClock({ start: 0 });
    const reason = new RangeError('out of range');
    const failing = new Promise((_, reject) => clock.schedule(40, () => reject(reason)));
    const outcome = await clock.runUntilSettled(failing).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(outcome).toBe(reason);
    expect(clock.now()).toBe(40);
  });

  it('runUntilSettled does not move the clock for a promise that settles on microtasks alone', async () => {
    const clock = new VirtualClock({ start: 0 });
    let fired = false;
    clock.schedule(0, () => (fired = true));
    await expect(clock.runUntilSettled(Promise.resolve().then(() => 7))).resolves.toBe(7);
    expect(clock.now()).toBe(0);
    expect(fired).toBe(false);
  });

  it('runUntilSettled counts a timer at exactly limitMs, and rejects past it', async () => {
    const clock = new VirtualClock({ start: 0 });
    const atLimit = new Promise((resolve) => clock.schedule(1000, () => resolve('at the limit')));
    await expect(clock.runUntilSettled(atLimit, 1000)).resolves.toBe('at the limit');
    expect(clock.now()).toBe(1000);

    let lateFired = false;
    const late = new Promise((resolve) => clock.schedule(2000.5, () => resolve((lateFired = true))));
    await expect(clock.runUntilSettled(late, 1000)).rejects.toThrow(
      expect.objectContaining({
        name: 'TimeoutError',
        code: 'ERR_TIMEOUT',
        message: 'the promise did not settle within 1000 ms of virtual time (1 timer still pending)',
      }),
    );
    expect(clock.now()).toBe(2000);
    expect(lateFired).toBe(false);
    await expect(clock.runUntilSettled(late, 1)).resolves.toBe(true);
    expect(clock.now()).toBe(2000.5);
  });

  it('runUntilSettled rejects a promise that can never settle after the default limit of 60 s', async () => {
    const clock = new VirtualClock({ start: 0 });
    const never = new Promise<never>(() => undefined);
    await expect(clock.runUntilSettled(never)).rejects.toThrow(/did not settle within 60000 ms of virtual time \(0 timers still pending\)/);
    await expect(clock.runUntilSettled(never, 0)).rejects.toThrow(TimeoutError);
    expect(clock.now()).toBe(60_000);
    await expect(clock.runUntilSettled(never, -1)).rejects.toThrow(/Expected `limitMs` to be a finite number from 0 and up, got -1/);
    await expect(clock.runUntilSettled(never, Number.NaN)).rejects.toThrow(ArgumentError);
  });

  it('runUntilSettled leaves no unhandled rejection behind when it gives up', async () => {
    const clock = new VirtualClock({ start: 0 });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const failsLate = new Promise((_, reject) => clock.schedule(500, () => reject(new Error('too late'))));
      await expect(clock.runUntilSettled(failsLate, 100)).rejects.toThrow(/did not settle within 100 ms/);
      await clock.advance(1000);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('SystemClock', () => {
  it('reads wall time with sub-millisecond resolution', () => {
    const clock = new SystemClock();
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(50);
    const a = clock.now();
    let b = clock.now();
    while (b === a) b = clock.now();
    expect(b - a).toBeLessThan(1);
  });

  it('fires a scheduled callback no earlier than its deadline, and cancel prevents it', async () => {
    const clock = new SystemClock();
    const deadline = clock.now() + 20;
    const firedAt = await new Promise<number>((resolve) => clock.schedule(deadline, () => resolve(clock.now())));
    expect(firedAt).toBeGreaterThanOrEqual(deadline);
    let fired = false;
    const timer = clock.schedule(clock.now() + 5, () => (fired = true));
    timer.cancel();
    await new Promise<void>((resolve) => clock.schedule(clock.now() + 15, resolve));
    expect(fired).toBe(false);
  });

  it.each([1.5, 0])('never fires before a deadline, in deadline order (precision window %s ms)', async (precisionWindowMs) => {
    const clock = new SystemClock({ precisionWindowMs });
    const random = new SeededRandom(3);
    const start = clock.now();
    const deadlines = Array.from({ length: 200 }, () => start + 1 + random.next() * 30);
    const fired: { deadline: number; at: number }[] = [];
    await new Promise<void>((resolve) => {
      for (const deadline of deadlines) {
        clock.schedule(deadline, () => {
          fired.push({ deadline, at: clock.now() });
          if (fired.length === deadlines.length) resolve();
        });
      }
    });
    expect(fired.filter(({ deadline, at }) => at < deadline)).toEqual([]);
    expect(fired.map((f) => f.deadline)).toEqual([...deadlines].sort((a, b) => a - b));
  });

  it('lets go of its wake-up when the timers it was armed for are cancelled', () => {
    const clock = new SystemClock();
    const timeouts = (): number => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const before = timeouts();
    const far = clock.schedule(clock.now() + 10_000, () => undefined);
    const farther = clock.schedule(clock.now() + 20_000, () => undefined);
    expect(timeouts()).toBe(before + 1);
    far.cancel();
    expect(timeouts()).toBe(before + 1);
    farther.cancel();
    expect(timeouts()).toBe(before);
  });

  it('waits for a deadline beyond setTimeout\'s 24.8-day limit without overflowing', async () => {
    const clock = new SystemClock();
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    let fired = false;
    const timer = clock.schedule(clock.now() + 30 * 24 * 3_600_000, () => (fired = true));
    await new Promise<void>((resolve) => clock.schedule(clock.now() + 20, resolve));
    timer.cancel();
    process.off('warning', onWarning);
    expect(fired).toBe(false);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });

  it('validates its options', () => {
    expect(() => new SystemClock({ precisionWindowMs: -1 })).toThrow(/Expected `precisionWindowMs` to be a number from 0 to 50, got -1/);
  });
});
