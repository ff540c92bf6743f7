/**
 * How a phase ends early. `ctx.abort(reason)`, a device gone silent, a settle that never settles:
 * each throws a {@link PhaseAbort} that the phase runner catches and records as the phase's
 * `aborted` outcome with its reason. {@link RunAbort} (the run's `AbortSignal`) also ends the run.
 */
import { StateError } from '../../sdk/core/errors.js';

/**
 * Ends the current phase as aborted with `reason` (one line). Caught by the phase runner.
 *
 * @example
 * ```ts
 * throw new PhaseAbort('temperature did not settle within ±0.05 Cel in 2 min')
 * ```
 */
export class PhaseAbort extends StateError {
  readonly reason: string;

  constructor(reason: string) {
    super(reason);
    this.reason = reason;
  }
}

/**
 * The run was aborted from outside: the current phase is recorded as aborted and the phases after
 * it as skipped.
 *
 * @example
 * ```ts
 * if (signal.aborted) throw new RunAbort('run aborted: operator stop')
 * ```
 */
export class RunAbort extends PhaseAbort {}
