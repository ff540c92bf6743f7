import { describe, expect, it } from 'vitest';
import { StateError, VirtualClock } from '../../sdk/core/index.js';
import { ClockWaits } from '../../sdk/drivers/clock-waits.js';

describe('ClockWaits', () => {
  it('resolves after the given clock time', async () => {
    const clock = new VirtualClock({ start: 0 });
    const waits = new ClockWaits(clock);
    let done = false;
    void waits.wait(10).then(() => (done = true));
    await clock.advance(9);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
  });

  it('rejects pending and later waits once cancelled, and leaves no timer behind', async () => {
    const clock = new VirtualClock({ start: 0 });
    const waits = new ClockWaits(clock);
    const pending = waits.wait(1_000);
    const reason = new StateError('closed');
    waits.cancelAll(reason);
    await expect(pending).rejects.toBe(reason);
    await expect(waits.wait(1)).rejects.toBe(reason);
    expect(clock.pending).toBe(0);
  });
});
