import { describe, expect, it } from 'vitest';
import { VirtualClock, type Clock, type Timer } from '../../sdk/core/clock.js';
import { BusError, StateError } from '../../sdk/core/errors.js';
import { SeededRandom } from '../../sdk/core/random.js';
import type { Reading } from '../../sdk/drivers/contract.js';
import { Sampler, type SamplingGroup, type SamplingResult } from '../../sdk/sampling/sampler.js';

const T0 = Date.UTC(2026, 0, 1);
const PROVENANCE = { part: 'test-part', source: 'A0' };

/** A real Clock whose timers fire late by `lateness(call)` ms: what an event loop does to timers. */
class LateClock implements Clock {
  readonly inner: VirtualClock;
  readonly #lateness: (call: number) => number;
  #calls = 0;

  constructor(inner: VirtualClock, lateness: (call: number) => number) {
    this.inner = inner;
    this.#lateness = lateness;
  }

  now(): number {
    return this.inner.now();
  }

  schedule(atMs: number, callback: () => void): Timer {
    return this.inner.schedule(atMs + this.#lateness(++this.#calls), callback);
  }
}

function immediateRead(clock: Clock, value = () => 1): () => Promise<Reading> {
  return () => Promise.resolve({ time: clock.now(), values: { x: value() }, provenance: PROVENANCE });
}

/** A read that takes `durationMs` of clock time, reporting the time it started. */
function slowRead(clock: Clock, durationMs: number, counter: { inFlight: number; maxInFlight: number; reads: number }): () => Promise<Reading> {
  return () => {
    const time = clock.now();
    counter.reads++;
    counter.inFlight++;
    counter.maxInFlight = Math.max(counter.maxInFlight, counter.inFlight);
    return new Promise((resolve) => {
      clock.schedule(time + durationMs, () => {
        counter.inFlight--;
        resolve({ time, values: { x: counter.reads }, provenance: PROVENANCE });
      });
    });
  };
}

function group(overrides: Partial<SamplingGroup> & Pick<SamplingGroup, 'read'>, results: SamplingResult[] = []): SamplingGroup {
  return { id: 'g', rateHz: 100, onResult: (result) => results.push(result), ...overrides };
}

describe('Sampler tick times', () => {
  it('ticks at t0 + k/rate over thousands of ticks even when every timer fires late (no cumulative drift)', async () => {
    const random = new SeededRandom(7);
    const virtual = new VirtualClock({ start: T0 });
    // Every timer fires 0–0.4 ms late, like a busy event loop: a `now + period` scheduler would
    // accumulate ~0.2 ms per tick, ~1 s over 5000 ticks.
    const clock = new LateClock(virtual, () => random.next() * 0.4);
    const fast: SamplingResult[] = [];
    const slow: SamplingResult[] = [];
    const sampler = new Sampler({ clock });
    sampler.add(group({ id: 'fast', rateHz: 1000, read: immediateRead(clock) }, fast));
    sampler.add(group({ id: 'odd', rateHz: 3, read: immediateRead(clock) }, slow));
    sampler.start();
    await virtual.runUntil(T0 + 5000);
    await sampler.stop();

    expect(fast.length).toBeGreaterThanOrEqual(5000);
    fast.forEach((result, k) => {
      // The ideal time computed independently; 1 µs tolerance is far below one tick's lateness.
      expect(Math.abs(result.scheduledTime - (T0 + k))).toBeLessThan(1e-3);
      expect(result.ok).toBe(true);
      if (result.ok) {
        const lateness = result.reading.time - result.scheduledTime;
        expect(lateness).toBeGreaterThanOrEqual(0);
        expect(lateness).toBeLessThanOrEqual(0.4);
      }
    });
    expect(fast[4999]!.scheduledTime - T0).toBeCloseTo(4999, 6);
    // 1000/3 ms is not representable: each tick time is within an ulp of the epoch time (2.4e-4 ms).
    expect(slow).toHaveLength(15);
    slow.forEach((result, k) => expect(Math.abs(result.scheduledTime - (T0 + (k * 1000) / 3))).toBeLessThan(1e-3));
    expect(sampler.stats()).toEqual({ fast: { ticks: fast.length, failures: 0, overruns: 0 }, odd: { ticks: slow.length, failures: 0, overruns: 0 } });
  });

  it('aligns groups added before start on one t0', async () => {
    const clock = new VirtualClock({ start: T0 });
    const fast: SamplingResult[] = [];
    const slow: SamplingResult[] = [];
    const sampler = new Sampler({ clock });
    sampler.add(group({ id: 'fast', rateHz: 1000, read: immediateRead(clock) }, fast));
    sampler.add(group({ id: 'slow', rateHz: 100, read: immediateRead(clock) }, slow));
    sampler.start();
    await clock.advance(50);
    await sampler.stop();
    const fastTimes = new Set(fast.map((r) => r.scheduledTime));
    expect(slow.map((r) => r.scheduledTime - T0)).toEqual([0, 10, 20, 30, 40, 50]);
    for (const result of slow) expect(fastTimes.has(result.scheduledTime)).toBe(true);
    expect(fast).toHaveLength(51);
  });

  it('skips ticks that passed while a timer fired late, counting them as overruns, without a catch-up burst', async () => {
    const virtual = new VirtualClock({ start: T0 });
    // The 5th timer (tick 4, due at +40 ms) fires 35 ms late, at +75 ms.
    const clock = new LateClock(virtual, (call) => (call === 5 ? 35 : 0));
    const results: SamplingResult[] = [];
    const sampler = new Sampler({ clock });
    sampler.add(group({ read: immediateRead(clock) }, results));
    sampler.start();
    await virtual.advance(100);
    await sampler.stop();
    expect(results.map((r) => r.scheduledTime - T0)).toEqual([0, 10, 20, 30, 40, 80, 90, 100]);
    const late = results[4]!;
    expect(late.ok && late.reading.time - T0).toBe(75);
    expect(sampler.stats().g).toEqual({ ticks: 8, failures: 0, overruns: 3 });
  });

  it('keeps one clock timer for all groups, so no group waits out another group’s tick', async () => {
    const clock = new VirtualClock({ start: T0 });
    const sampler = new Sampler({ clock });
    for (const rateHz of [1000, 100, 3]) sampler.add(group({ id: `${rateHz} Hz`, rateHz, read: immediateRead(clock) }));
    sampler.start();
    for (let step = 0; step < 50; step++) {
      expect(clock.pending).toBe(1);
      await clock.advance(0.7);
    }
    await sampler.stop();
    expect(clock.pending).toBe(0);
  });

  it('serves the ticks a timer was armed for when the clock fires early, without spinning', async () => {
    const virtual = new VirtualClock({ start: T0 });
    // A clock that calls back 0.3 ms before the deadline (a coarse timer rounding down).
    const clock = new LateClock(virtual, () => -0.3);
    let schedules = 0;
    const counting: Clock = { now: () => clock.now(), schedule: (at, callback) => (schedules++, clock.schedule(at, callback)) };
    const results: SamplingResult[] = [];
    const sampler = new Sampler({ clock: counting });
    sampler.add(group({ read: immediateRead(counting) }, results));
    sampler.start();
    await virtual.advance(95);
    await sampler.stop();
    expect(results.map((r) => r.scheduledTime - T0)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(schedules).toBe(11);
  });

  it('starts a group added while running at the current time', async () => {
    const clock = new VirtualClock({ start: T0 });
    const results: SamplingResult[] = [];
    const sampler = new Sampler({ clock });
    sampler.start();
    await clock.advance(3.5);
    sampler.add(group({ read: immediateRead(clock) }, results));
    await clock.advance(20);
    await sampler.stop();
    expect(results.map((r) => r.scheduledTime - T0)).toEqual([3.5, 13.5, 23.5]);
  });
});

describe('Sampler oversampling', () => {
  it('averages each output over the burst, with the first read’s time and provenance', async () => {
    const clock = new VirtualClock({ start: T0 });
    let n = 0;
    const read = (): Promise<Reading> => {
      const time = clock.now();
      const value = n++;
      // Each conversion takes 0.5 ms of clock time.
      return new Promise((resolve) => {
        clock.schedule(time + 0.5, () => resolve({ time, values: { x: value, y: 10 * value }, provenance: { part: 'p', source: `read-${value}` } }));
      });
    };
    const results: SamplingResult[] = [];
    const sampler = new Sampler({ clock });
    sampler.add(group({ rateHz: 10, oversampling: 4, read }, results));
    sampler.start();
    await clock.advance(150);
    await sampler.stop();
    expect(n).toBe(8);
    expect(results).toHaveLength(2);
    const [first, second] = results.map((r) => (r.ok ? r.reading : undefined));
    expect(first).toEqual({ time: T0, values: { x: 1.5, y: 15 }, provenance: { part: 'p', source: 'read-0' } });
    expect(second).toEqual({ time: T0 + 100, values: { x: 5.5, y: 55 }, provenance: { part: 'p', source: 'read-4' } });
  });

  it('fails the tick when one read of the burst fails, and does not average a partial burst', async () => {
    const clock = new VirtualClock({ start: T0 });
    let n = 0;
    const error = new BusError('ERR_I2C_NAK', 'no ACK from 0x76');
    const read = (): Promise<Reading> => (++n === 3 ? Promise.reject(error) : immediateRead(clock)());
    const results: SamplingResult[] = [];
    const sampler = new Sampler({ clock });
    sampler.add(group({ rateHz: 10, oversampling: 4, read }, results));
    sampler.start();
    await clock.advance(100);
    await sampler.stop();
    expect(results[0]).toEqual({ ok: false, scheduledTime: T0, time: T0, error });
    expect(results[1]).toMatchObject({ ok: true, scheduledTime: T0 + 100, reading: { values: { x: 1 } } });
    expect(n).toBe(3 + 4);
  });
});

describe('Sampler overruns', () => {
  it('skips a tick while the previous read is still running and counts it, never two reads in flight', async () => {
    const clock = new VirtualClock({ start: T0 });
    const counter = { inFlight: 0, maxInFlight: 0, reads: 0 };
    const results: SamplingResult[] = [];
    const sampler = new Sampler({ clock });
    // 100 Hz, but each read takes 25 ms: ticks at 0, 30, 60, 90 are served; 10, 20, 40, 50, 70, 80, 100 skipped.
    sampler.add(group({ read: slowRead(clock, 25, counter) }, results));
    sampler.start();
    await clock.advance(100);
    expect(counter.maxInFlight).toBe(1);
    expect(sampler.stats().g).toEqual({ ticks: 4, failures: 0, overruns: 7 });
    expect(results.map((r) => r.scheduledTime - T0)).toEqual([0, 30, 60]);
    // The read started at 90 ends at 115: stop() waits for it while the clock moves on.
    const stopping = sampler.stop();
    await clock.advance(20);
    await stopping;
    expect(results.map((r) => r.scheduledTime - T0)).toEqual([0, 30, 60, 90]);
  });
});

describe('Sampler failures', () => {
  it('turns rejected and throwing reads into { ok: false } results and keeps sampling', async () => {
    const clock = new VirtualClock({ start: T0 });
    const error = new BusError('ERR_BUS_TIMEOUT', 'bus timeout');
    let n = 0;
    const read = (): Promise<Reading> => {
      n++;
      if (n % 3 === 1) return Promise.reject(error);
      if (n % 3 === 2) throw new Error('synchronous throw');
      return immediateRead(clock)();
    };
    const results: SamplingResult[] = [];
    const sampler = new Sampler({ clock });
    sampler.add(group({ read }, results));
    sampler.start();
    await clock.advance(50);
    await sampler.stop();
    expect(results).toHaveLength(6);
    expect(results[0]).toEqual({ ok: false, scheduledTime: T0, time: T0, error });
    expect(results[1]).toMatchObject({ ok: false, scheduledTime: T0 + 10, time: T0 + 10, error: { message: 'synchronous throw' } });
    expect(results[2]).toMatchObject({ ok: true, scheduledTime: T0 + 20 });
    expect(results.map((r) => r.ok)).toEqual([false, false, true, false, false, true]);
    expect(sampler.stats().g).toEqual({ ticks: 6, failures: 4, overruns: 0 });
  });

  it('reports the time a slow read failed', async () => {
    const clock = new VirtualClock({ start: T0 });
    const read = (): Promise<Reading> => new Promise((_, reject) => clock.schedule(clock.now() + 4, () => reject(new Error('late NAK'))));
    const results: SamplingResult[] = [];
    const sampler = new Sampler({ clock });
    sampler.add(group({ read }, results));
    sampler.start();
    await clock.advance(5);
    await sampler.stop();
    expect(results).toEqual([{ ok: false, scheduledTime: T0, time: T0 + 4, error: new Error('late NAK') }]);
  });
});

describe('Sampler stop', () => {
  it('cancels timers and resolves only after the read in flight delivered its result', async () => {
    const clock = new VirtualClock({ start: T0 });
    const counter = { inFlight: 0, maxInFlight: 0, reads: 0 };
    const results: SamplingResult[] = [];
    const sampler = new Sampler({ clock });
    sampler.add(group({ read: slowRead(clock, 25, counter) }, results));
    sampler.start();
    await clock.advance(5);
    let stopped = false;
    const stopping = sampler.stop().then(() => {
      stopped = true;
    });
    await clock.advance(10);
    expect(stopped).toBe(false);
    expect(results).toHaveLength(0);
    await clock.advance(15);
    await stopping;
    expect(stopped).toBe(true);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: true, scheduledTime: T0 });
    await clock.advance(1000);
    expect(results).toHaveLength(1);
    expect(clock.pending).toBe(0);
    expect(counter.reads).toBe(1);
  });

  it('can be started again after stopping, and refuses to start twice', async () => {
    const clock = new VirtualClock({ start: T0 });
    const results: SamplingResult[] = [];
    const sampler = new Sampler({ clock });
    sampler.add(group({ read: immediateRead(clock) }, results));
    sampler.start();
    expect(() => sampler.start()).toThrow(StateError);
    await clock.advance(15);
    await sampler.stop();
    await clock.advance(100);
    sampler.start();
    await clock.advance(10);
    await sampler.stop();
    expect(results.map((r) => r.scheduledTime - T0)).toEqual([0, 10, 115, 125]);
    expect(sampler.stats().g!.ticks).toBe(4);
  });
});

describe('Sampler validation', () => {
  const clock = new VirtualClock({ start: T0 });
  const read = immediateRead(clock);

  it('rejects a missing clock', () => {
    expect(() => new Sampler({ clock: undefined as unknown as Clock })).toThrow(
      expect.objectContaining({ name: 'ArgumentError', code: 'ERR_ARGUMENT', message: 'Expected `clock` to be a Clock with now() and schedule(), got undefined' }),
    );
  });

  it.each([
    [{ rateHz: 0 }, 'Expected `rateHz` to be a number above 0 and at most 10000, got 0'],
    [{ rateHz: 20_000 }, 'Expected `rateHz` to be a number above 0 and at most 10000, got 20000'],
    [{ rateHz: Number.NaN }, 'Expected `rateHz` to be a number above 0 and at most 10000, got NaN'],
    [{ rateHz: '10' }, 'Expected `rateHz` to be a number above 0 and at most 10000, got "10"'],
    [{ oversampling: 0 }, 'Expected `oversampling` to be an integer from 1 to 1024, got 0'],
    [{ oversampling: 2.5 }, 'Expected `oversampling` to be an integer from 1 to 1024, got 2.5'],
    [{ id: '' }, 'Expected `id` to be a non-empty string, got ""'],
    [{ read: undefined }, 'Expected `read` to be a function, got undefined'],
    [{ onResult: 'log' }, 'Expected `onResult` to be a function, got "log"'],
  ])('rejects %o with a precise ArgumentError', (overrides, message) => {
    const sampler = new Sampler({ clock });
    expect(() => sampler.add({ ...group({ read }), ...(overrides as Partial<SamplingGroup>) })).toThrow(expect.objectContaining({ name: 'ArgumentError', code: 'ERR_ARGUMENT', message }));
  });

  it('rejects a duplicate id', () => {
    const sampler = new Sampler({ clock });
    sampler.add(group({ id: 'adc', read }));
    expect(() => sampler.add(group({ id: 'adc', read }))).toThrow(
      expect.objectContaining({ name: 'ArgumentError', code: 'ERR_ARGUMENT', message: 'Expected `id` to be unique, got "adc" twice' }),
    );
  });
});
