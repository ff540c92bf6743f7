/**
 * The timed Sampler tells its consumer how many ticks it skipped before each result, so a window
 * of readings knows it is short.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import type { Reading } from '../../sdk/drivers/contract.js';
import { Sampler, type SamplingResult } from '../../sdk/sampling/sampler.js';

const T0 = Date.UTC(2026, 0, 1);

describe('Sampler missedBefore', () => {
  it('hands the ticks skipped while a read was running on with the next served tick', async () => {
    const clock = new VirtualClock({ start: T0 });
    const results: SamplingResult[] = [];
    const sampler = new Sampler({ clock });
    let reads = 0;
    // 100 Hz; the second read takes 25 ms, so the ticks at 20 and 30 ms are skipped.
    sampler.add({
      id: 'g',
      rateHz: 100,
      read: () =>
        new Promise<Reading>((resolve) => {
          const time = clock.now();
          const duration = ++reads === 2 ? 25 : 0;
          clock.schedule(time + duration, () => resolve({ time, values: { x: reads }, provenance: { part: 'p', source: 'A0' } }));
        }),
      onResult: (result) => results.push(result),
    });
    sampler.start();
    await clock.advance(60);
    await sampler.stop();
    expect(results.map((r) => [r.scheduledTime - T0, r.ok ? (r.missedBefore ?? 0) : -1])).toEqual([
      [0, 0],
      [10, 0],
      [40, 2],
      [50, 0],
      [60, 0],
    ]);
    expect(sampler.stats().g!.overruns).toBe(2);
  });
});
