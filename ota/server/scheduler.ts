/**
 * The rollout scheduler of an update server instance: every interval it takes or renews the
 * `scheduler` lease in the database and, while it holds it, runs one {@link FleetStore.schedule}
 * pass. Any number of instances may run it; exactly one holds the lease at a time, and another
 * takes it over once the holder stops renewing (it died, or lost the database) and the lease
 * expires. Passes are idempotent, so a takeover in the middle of one does no harm. The lease's
 * expiry is kept on the database's clock (a store opened with a `SystemClock`), so instances whose
 * clocks differ agree on it; `clock` only spaces this instance's attempts.
 */
import type { Clock, Timer } from '../../sdk/core/clock.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import type { FleetStore, SchedulePass } from './fleet-store.js';

/** The lease's name in the `leases` table. */
export const SCHEDULER_LEASE = 'scheduler';

/** Options of {@link startScheduler}. */
export interface SchedulerOptions {
  readonly store: FleetStore;
  readonly clock: Clock;
  /** This instance's name as the lease holder, e.g. `host:pid`. */
  readonly holder: string;
  /** How long a taken lease lasts without renewal, ms. Default 15000. */
  readonly leaseMs?: number;
  /** Time between passes, ms. Default 1000; below `leaseMs`. */
  readonly intervalMs?: number;
  /** Called after each pass this instance ran. */
  readonly onPass?: (pass: SchedulePass) => void;
  /** Called when a pass or the lease failed (the database went away): the scheduler keeps trying. */
  readonly onError?: (error: unknown) => void;
}

/** A running scheduler. */
export interface Scheduler {
  /** Stops after the pass under way, and gives the lease up when held. */
  stop(): Promise<void>;
  /** Whether this instance held the lease at its last attempt. */
  holding(): boolean;
  /** Resolves once no pass is running (for tests driving a virtual clock). */
  idle(): Promise<void>;
}

/**
 * Starts the scheduler: a first attempt at once, then one every `intervalMs` on `clock`.
 *
 * @example
 * ```ts
 * const scheduler = startScheduler({ store, clock: new SystemClock(), holder: `${hostname()}:${process.pid}` })
 * process.on('SIGTERM', () => void scheduler.stop())
 * ```
 */
export function startScheduler(options: SchedulerOptions): Scheduler {
  const leaseMs = options.leaseMs ?? 15_000;
  const intervalMs = options.intervalMs ?? 1000;
  if (!(Number.isFinite(leaseMs) && leaseMs >= 10)) throw new ArgumentError(`Expected \`leaseMs\` to be a number from 10 and up, got ${String(leaseMs)}`);
  if (!(Number.isFinite(intervalMs) && intervalMs > 0 && intervalMs < leaseMs)) throw new ArgumentError(`Expected \`intervalMs\` to be a number above 0 and below leaseMs (${leaseMs}), got ${String(intervalMs)}`);
  if (typeof options.holder !== 'string' || options.holder === '') throw new ArgumentError('Expected `holder` to be a non-empty string');
  const { store, clock, holder } = options;
  let held = false;
  let stopped = false;
  let timer: Timer | undefined;
  let running: Promise<void> | undefined;

  const attempt = async (): Promise<void> => {
    try {
      held = await store.tryLease(SCHEDULER_LEASE, holder, leaseMs);
      if (held && !stopped) options.onPass?.(await store.schedule());
    } catch (error) {
      held = false;
      options.onError?.(error);
    }
  };
  const run = (): void => {
    running = attempt().finally(() => {
      running = undefined;
      arm();
    });
  };
  const arm = (): void => {
    if (!stopped) timer = clock.schedule(clock.now() + intervalMs, run);
  };
  run();

  return {
    holding: () => held,
    async idle() {
      while (running !== undefined) await running;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      timer?.cancel();
      while (running !== undefined) await running;
      if (held) {
        held = false;
        await store.releaseLease(SCHEDULER_LEASE, holder).catch((error: unknown) => options.onError?.(error));
      }
    },
  };
}
