import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { Exclusive } from '../../sdk/drivers/exclusive.js';

/** A task that logs its start and end around a wait of `ms` on the virtual clock. */
function timed(clock: VirtualClock, log: string[], name: string, ms: number, fail = false): () => Promise<string> {
  return async () => {
    log.push(`${name}+${clock.now()}`);
    await new Promise<void>((resolve) => clock.schedule(clock.now() + ms, resolve));
    log.push(`${name}-${clock.now()}`);
    if (fail) throw new Error(`${name} failed`);
    return name;
  };
}

describe('Exclusive', () => {
  it('runs tasks in call order, each after the one before has finished', async () => {
    const clock = new VirtualClock({ start: 0 });
    const exclusive = new Exclusive();
    const log: string[] = [];
    // The first task waits longest: without serialising, the others would finish before it.
    const results = Promise.all([
      exclusive.run(timed(clock, log, 'a', 30)),
      exclusive.run(timed(clock, log, 'b', 10)),
      exclusive.run(timed(clock, log, 'c', 20)),
    ]);
    await expect(clock.runUntilSettled(results)).resolves.toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a+0', 'a-30', 'b+30', 'b-40', 'c+40', 'c-60']);
  });

  it('never starts a task while another runs', async () => {
    const clock = new VirtualClock({ start: 0 });
    const exclusive = new Exclusive();
    let running = 0;
    let mostAtOnce = 0;
    const task = async (ms: number): Promise<void> => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise<void>((resolve) => clock.schedule(clock.now() + ms, resolve));
      await Promise.resolve();
      running--;
    };
    const all = Array.from({ length: 20 }, (_, i) => exclusive.run(() => task(i % 3)));
    // A task queued from inside a running task waits its turn too, instead of running inside it.
    let nested: Promise<void> | undefined;
    all.push(exclusive.run(async () => void (nested = exclusive.run(() => task(5)))));
    await clock.runUntilSettled(Promise.all(all));
    expect(nested).toBeDefined();
    await clock.runUntilSettled(nested!);
    expect(mostAtOnce).toBe(1);
    expect(running).toBe(0);
  });

  it('passes a failure to its caller only, and runs the next task', async () => {
    const clock = new VirtualClock({ start: 0 });
    const exclusive = new Exclusive();
    const log: string[] = [];
    const failing = exclusive.run(timed(clock, log, 'a', 10, true));
    const next = exclusive.run(timed(clock, log, 'b', 10));
    const throwing = exclusive.run(() => {
      throw new TypeError('thrown before returning a promise');
    });
    const last = exclusive.run(timed(clock, log, 'c', 10));
    await expect(clock.runUntilSettled(failing)).rejects.toThrow('a failed');
    await expect(clock.runUntilSettled(next)).resolves.toBe('b');
    await expect(throwing).rejects.toThrow(TypeError);
    await expect(clock.runUntilSettled(last)).resolves.toBe('c');
    expect(log).toEqual(['a+0', 'a-10', 'b+10', 'b-20', 'c+20', 'c-30']);
  });

  it('starts a task on a later microtask, not during run()', async () => {
    const exclusive = new Exclusive();
    let started = false;
    const done = exclusive.run(async () => {
      started = true;
    });
    expect(started).toBe(false);
    await done;
    expect(started).toBe(true);
  });
});
