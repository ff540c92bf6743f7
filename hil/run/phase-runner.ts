/**
 * Running one iteration of a phase: setup, steps, teardown. An abort in setup or the steps skips the
 * rest of them; teardown runs whatever happened (it restores inputs and clears faults), and the
 * phase's outcome is the worst of its measurements unless it was aborted.
 */
import type { PhasePlan } from '../plan/define-test-plan.js';
import type { Outcome, PhaseRecord } from '../record/record.js';
import { PhaseAbort, RunAbort } from './abort.js';
import { PhaseScope, type RunScope } from './run-scope.js';
import { runStep } from './steps.js';

/** Outcomes from worst to best: the worst one present decides a phase or a run. */
const SEVERITY: readonly Outcome[] = ['aborted', 'fail', 'conditional-fail', 'conditional-pass', 'pass', 'recorded', 'skipped'];

/**
 * The worst of `outcomes` (`recorded` counts as a pass, `skipped` is ignored); `skipped` when there
 * is nothing else, `pass` when there is nothing at all.
 *
 * @example
 * ```ts
 * worstOutcome(['pass', 'recorded', 'fail']) // 'fail'
 * worstOutcome(['skipped', 'skipped'])       // 'skipped'
 * ```
 */
export function worstOutcome(outcomes: readonly Outcome[]): Outcome {
  if (outcomes.length > 0 && outcomes.every((outcome) => outcome === 'skipped')) return 'skipped';
  const worst = SEVERITY.find((outcome) => outcomes.includes(outcome)) ?? 'pass';
  return worst === 'recorded' ? 'pass' : worst;
}

/**
 * A skipped phase's record.
 *
 * @example
 * ```ts
 * skippedPhase(phase, 1, feed.time(), 'no chamber on this station') // { outcome: 'skipped', reason: 'no chamber …', … }
 * ```
 */
export function skippedPhase(phase: PhasePlan, iteration: number, time: number, reason: string): PhaseRecord {
  return { id: phase.id, name: phase.name, iteration, outcome: 'skipped', reason, start: time, duration: 0, measurements: [], log: [] };
}

/**
 * Runs iteration `iteration` of `phase`; never throws for what happens inside the phase. The
 * returned flag says the run itself was aborted (its signal), so the runner skips what is left.
 *
 * @example
 * ```ts
 * const { record, runAborted } = await runPhase(plan.phases[0], 1, run)
 * record.outcome // 'pass' | 'fail' | 'aborted' …
 * ```
 */
export async function runPhase(phase: PhasePlan, iteration: number, run: RunScope): Promise<{ record: PhaseRecord; runAborted: boolean }> {
  const start = run.feed.time();
  const scope = new PhaseScope(run, phase.id, phase.timeoutMs);
  let reason: string | undefined;
  let runAborted = false;
  const noteAbort = (error: unknown, prefix = ''): void => {
    const why = error instanceof PhaseAbort ? error.reason : error instanceof Error ? error.message.split('\n')[0]! : String(error);
    if (error instanceof RunAbort) runAborted = true;
    if (reason === undefined) reason = `${prefix}${why}`;
    else scope.log(`${prefix}${why}`);
  };
  try {
    for (const step of phase.setup ?? []) await runStep(step, run, scope);
    for (const step of phase.steps) await runStep(step, run, scope);
  } catch (error) {
    noteAbort(error);
  }
  for (const step of phase.teardown ?? []) {
    try {
      await runStep(step, run, scope);
    } catch (error) {
      noteAbort(error, 'teardown: ');
    }
  }
  const outcome: Outcome = reason === undefined ? worstOutcome(scope.measurements.map((m) => m.outcome)) : 'aborted';
  if (reason !== undefined) scope.log(`aborted: ${reason}`);
  return {
    record: {
      id: phase.id,
      name: phase.name,
      iteration,
      outcome,
      ...(reason === undefined ? {} : { reason }),
      start,
      duration: run.feed.time() - start,
      measurements: scope.measurements,
      log: scope.entries,
    },
    runAborted,
  };
}
