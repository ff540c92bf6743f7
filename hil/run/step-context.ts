/**
 * The `StepContext` a custom `run` step gets: the target, the instruments, target time, bounded
 * waits for samples, the phase's log and measurements, and `abort(reason)`.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import type { StepContext } from '../plan/spec.js';
import type { InputSignal, Target } from '../targets/target.js';
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
    target: trackedTarget(run),
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

const tracked = new WeakMap<RunScope, Target>();

/**
 * The run's target as custom steps see it: the same object (an emulated target's board and device
 * included), except that what a step sets with `stimulate` or `drive` is remembered like a
 * stimulus step's, so a later measurement can take that input as its reference.
 */
function trackedTarget(run: RunScope): Target {
  let proxy = tracked.get(run);
  if (proxy === undefined) {
    const target = run.target;
    proxy = new Proxy(target, {
      get(object, key) {
        if (key === 'stimulate') {
          return async (input: string, value: number, unit: string) => {
            await object.stimulate(input, value, unit);
            run.inputValues.set(input, { value, unit });
          };
        }
        if (key === 'drive') {
          return async (input: string, signal: InputSignal, unit: string) => {
            await object.drive(input, signal, unit);
            run.inputValues.set(input, { signal, unit, source: 'a custom step' });
          };
        }
        const member: unknown = Reflect.get(object, key, object);
        return typeof member === 'function' ? (member as (...args: unknown[]) => unknown).bind(object) : member;
      },
    });
    tracked.set(run, proxy);
  }
  return proxy;
}
