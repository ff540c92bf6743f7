/**
 * The `StepContext` a custom `run` step gets: the target, the instruments, target time, bounded
 * waits for samples, the phase's log and measurements, and `abort(reason)`.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import type { StepContext } from '../plan/spec.js';
import { PhaseAbort } from './abort.js';
import type { PhaseScope, RunScope } from './run-scope.js';

/**
 * The context of a custom step in phase `phase` of run `run`.
 *
 * @example
 * ```ts
 * await step.run(stepContext(run, phase))
 * ```
 */
export function stepContext(run: RunScope, phase: PhaseScope): StepContext {
  return {
    target: run.target,
    instruments: run.instruments,
    time: () => run.feed.time(),
    wait: async (ms: number) => {
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new ArgumentError(`Expected \`ms\` to be a finite number from 0 and up, got ${String(ms)}`);
      const allowed = phase.bound(ms);
      await run.feed.wait(allowed);
      if (allowed < ms) phase.bound(0);
    },
    samples: (channel: string, count: number, timeoutMs: number) => {
      if (!Number.isInteger(count) || count < 1) throw new ArgumentError(`Expected \`count\` to be an integer from 1 and up, got ${String(count)}`);
      if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) throw new ArgumentError(`Expected \`timeoutMs\` to be a number above 0, got ${String(timeoutMs)}`);
      return run.feed.next(channel, count, phase.bound(timeoutMs));
    },
    log: (message: string) => phase.log(String(message)),
    record: (measurement) => phase.record(measurement),
    abort: (reason: string): never => {
      throw new PhaseAbort(String(reason).split('\n')[0] ?? 'aborted');
    },
  };
}
