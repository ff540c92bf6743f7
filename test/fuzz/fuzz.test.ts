/**
 * The short fuzz run inside `npm test`: every target with a fixed seed and a few thousand inputs
 * (hundreds for the outbox, which works on disk), so a run is deterministic and takes seconds. The
 * long run is `npm run fuzz` (see README.md beside this file).
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { TARGETS } from './targets/index.js';

/** Fixed, so a failure here replays exactly; `npm run fuzz -- --seed <n>` explores others. */
const SEED = 18;

describe('fuzz (short run, fixed seed)', () => {
  for (const target of TARGETS) {
    it(`${target.name}: ${target.property}`, async () => {
      await target.setup?.();
      try {
        await fc.assert(
          fc.asyncProperty(target.arbitrary, async (input) => {
            await target.check(input);
          }),
          { seed: SEED, numRuns: target.shortRuns },
        );
      } finally {
        await target.teardown?.();
      }
    });
  }
});
