/**
 * Health probes of a trial boot: every probe must resolve true before the timeout on the injected
 * clock; a probe that throws, resolves false or does not answer in time fails the trial. The
 * deadline is a timer of the clock, never a stored wall time: a wall-time step the clock follows
 * moves it with the clock, so the trial lasts `timeoutMs` however the wall clock steps.
 */
import type { Clock } from '../../sdk/core/clock.js';

/** A health probe: resolves true when the new image works. */
export type HealthProbe = () => Promise<boolean> | boolean;

/**
 * Runs the probes in parallel; resolves true only if all pass within `timeoutMs`.
 *
 * @example
 * ```ts
 * const healthy = await runHealthProbes([() => sensorsRespond(), () => brokerReachable()], 30_000, clock)
 * ```
 */
export async function runHealthProbes(probes: readonly HealthProbe[], timeoutMs: number, clock: Clock): Promise<boolean> {
  if (probes.length === 0) return true;
  let timer: { cancel(): void } | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = clock.schedule(clock.now() + timeoutMs, () => resolve(false))));
  const all = Promise.all(probes.map(async (probe) => (await probe()) === true)).then(
    (results) => results.every(Boolean),
    () => false,
  );
  try {
    return await Promise.race([all, timeout]);
  } finally {
    timer?.cancel();
  }
}
