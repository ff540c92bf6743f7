import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { describeStep, watchWallClock } from '../../sdk/core/wall-clock-watch.js';

describe('watchWallClock', () => {
  /** A wall clock that follows `clock` plus a lead that a test steps. */
  function wallFor(clock: VirtualClock): { wallNow: () => number; step: (ms: number) => void } {
    let lead = 0;
    return { wallNow: () => clock.now() + lead, step: (ms) => (lead += ms) };
  }

  it('reports each step of the wall clock beyond the threshold once, with its size and sign', async () => {
    const clock = new VirtualClock();
    const wall = wallFor(clock);
    const steps: number[] = [];
    const stop = watchWallClock({ clock, wallNow: wall.wallNow, intervalMs: 2000, thresholdMs: 1000 }, (step) => steps.push(step));
    await clock.advance(10_000);
    expect(steps).toEqual([]);
    wall.step(2 * 3600_000); // NTP sets the time of a board that booted without an RTC
    await clock.advance(1999);
    expect(steps).toEqual([]); // not checked yet
    await clock.advance(1);
    expect(steps).toEqual([7_200_000]);
    await clock.advance(20_000);
    expect(steps).toEqual([7_200_000]); // once
    wall.step(-90_000);
    await clock.advance(2000);
    expect(steps).toEqual([7_200_000, -90_000]);
    stop();
    wall.step(60_000);
    await clock.advance(10_000);
    expect(steps).toHaveLength(2); // stopped
  });

  it('does not take a slow divergence below the threshold for a step', async () => {
    const clock = new VirtualClock();
    const wall = wallFor(clock);
    const steps: number[] = [];
    watchWallClock({ clock, wallNow: wall.wallNow, intervalMs: 1000, thresholdMs: 500 }, (step) => steps.push(step));
    for (let second = 0; second < 100; second++) {
      wall.step(4); // 4 ms per second
      await clock.advance(1000);
    }
    // 400 ms in all: below the threshold, nothing reported.
    expect(steps).toEqual([]);
  });

  it('counts from `initialLeadMs` when given: a step made before the watch started is reported too', async () => {
    const clock = new VirtualClock();
    const wall = wallFor(clock);
    wall.step(-3 * 86_400_000); // before the watch starts
    const steps: number[] = [];
    watchWallClock({ clock, wallNow: wall.wallNow, initialLeadMs: 0 }, (step) => steps.push(step));
    await clock.advance(2000);
    expect(steps).toEqual([-3 * 86_400_000]);
  });

  it('gives the whole lead of the wall clock with each step, and stops when told to from `onStep`', async () => {
    const clock = new VirtualClock();
    const wall = wallFor(clock);
    const calls: Array<[number, number]> = [];
    const stop = watchWallClock({ clock, wallNow: wall.wallNow, initialLeadMs: 0 }, (step, lead) => {
      calls.push([step, lead]);
      if (calls.length === 2) stop();
    });
    wall.step(7_200_000);
    await clock.advance(2000);
    wall.step(-90_000);
    await clock.advance(2000);
    wall.step(60_000);
    await clock.advance(10_000);
    expect(calls).toEqual([
      [7_200_000, 7_200_000],
      [-90_000, 7_110_000],
    ]);
    expect(clock.pending).toBe(0); // nothing left scheduled: a SystemClock would not be kept alive
  });

  it('keeps watching after an `onStep` that throws', async () => {
    const clock = new VirtualClock();
    const wall = wallFor(clock);
    const steps: number[] = [];
    watchWallClock({ clock, wallNow: wall.wallNow }, (step) => {
      steps.push(step);
      if (steps.length === 1) throw new Error('a listener failed');
    });
    wall.step(5000);
    await expect(clock.advance(2000)).rejects.toThrow('a listener failed');
    wall.step(5000);
    await clock.advance(2000);
    expect(steps).toEqual([5000, 5000]);
  });

  it('refuses a bad interval or threshold', () => {
    const clock = new VirtualClock();
    expect(() => watchWallClock({ clock, intervalMs: 0 }, () => undefined)).toThrow(
      expect.objectContaining({ name: 'ArgumentError', code: 'ERR_ARGUMENT', message: 'Expected `intervalMs` to be a positive number, got 0' }),
    );
    expect(() => watchWallClock({ clock, thresholdMs: Number.NaN }, () => undefined)).toThrow(
      expect.objectContaining({ name: 'ArgumentError', code: 'ERR_ARGUMENT', message: 'Expected `thresholdMs` to be a positive number, got NaN' }),
    );
  });
});

describe('describeStep', () => {
  it('says a step in seconds, minutes, hours or days, signed', () => {
    expect(describeStep(4200)).toBe('+4.2 s');
    expect(describeStep(-200_000)).toBe('−3 min 20 s');
    expect(describeStep(7_500_000)).toBe('+2 h 5 min');
    expect(describeStep(-(3 * 86_400_000 + 5 * 3_600_000))).toBe('−3 d 5 h');
    // Rounded to the last unit shown.
    expect(describeStep(7_199_997)).toBe('+2 h 0 min');
    expect(describeStep(59_990)).toBe('+1 min 0 s');
    expect(describeStep(3_599_700)).toBe('+1 h 0 min');
  });
});
