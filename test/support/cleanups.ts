/**
 * What a test started, stopped after it in reverse order: `track(thing)` closes `thing`,
 * `cleanups.push(fn)` runs `fn`. Call `trackedCleanups()` once at a test file's top level.
 */
import { afterEach } from 'vitest';

export function trackedCleanups(): {
  cleanups: (() => Promise<void> | void)[];
  track<T extends { close(): Promise<void> | void }>(thing: T): T;
} {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
  return {
    cleanups,
    track(thing) {
      cleanups.push(() => thing.close());
      return thing;
    },
  };
}
