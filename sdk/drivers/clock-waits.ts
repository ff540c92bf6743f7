/**
 * A driver's waits on the clock (conversion times, start-up delays) that `close()` can cut short.
 * Without it, a read waiting for a conversion would keep `close()` — and so a device's `stop()` —
 * waiting until the clock reaches a time that, on a virtual clock, may never come.
 */
import type { Clock, Timer } from '../core/clock.js';

/**
 * Waits on an injected clock; `cancelAll(reason)` rejects every pending wait and every later one.
 *
 * @example
 * ```ts
 * const waits = new ClockWaits(io.clock)
 * await waits.wait(9.3)                                 // BME280 forced conversion
 * waits.cancelAll(new StateError('driver is closed'))   // in close()
 * ```
 */
export class ClockWaits {
  readonly #clock: Clock;
  readonly #pending = new Set<{ timer: Timer; reject: (reason: Error) => void }>();
  #cancelled: Error | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Resolves after `ms` of clock time; rejects with the cancel reason if cancelled first. */
  wait(ms: number): Promise<void> {
    if (this.#cancelled) return Promise.reject(this.#cancelled);
    return new Promise((resolve, reject) => {
      const entry = {
        timer: this.#clock.schedule(this.#clock.now() + ms, () => {
          this.#pending.delete(entry);
          resolve();
        }),
        reject,
      };
      this.#pending.add(entry);
    });
  }

  /** Rejects every pending wait with `reason`, cancels their timers, and rejects all later waits. */
  cancelAll(reason: Error): void {
    this.#cancelled = reason;
    for (const entry of this.#pending) {
      entry.timer.cancel();
      entry.reject(reason);
    }
    this.#pending.clear();
  }
}
