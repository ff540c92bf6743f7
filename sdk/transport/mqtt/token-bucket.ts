/**
 * A token bucket on an injected clock: bounds how many command replies a device sends, so that a
 * flood of requests costs the device a counter increment per request, not a reply each.
 * Tokens accrue on the clock's steady time: a wall-time step the clock follows neither fills the
 * bucket (forward) nor stalls it (back).
 */
import type { Clock } from '../../core/clock.js';
import { steadyNow } from '../../core/wall-clock-watch.js';
import { ArgumentError } from '../../core/errors.js';

/**
 * `ratePerSecond` tokens are added continuously up to `burst`; `take()` spends one if there is one.
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket({ clock, ratePerSecond: 50, burst: 100 })
 * if (!bucket.take()) ignored++
 * ```
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #at: number;

  constructor(options: { clock: Clock; ratePerSecond: number; burst: number }) {
    const { ratePerSecond, burst } = options;
    if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) throw new ArgumentError(`Expected \`ratePerSecond\` to be a number above 0, got ${String(ratePerSecond)}`);
    if (!(Number.isInteger(burst) && burst >= 1)) throw new ArgumentError(`Expected \`burst\` to be an integer from 1 and up, got ${String(burst)}`);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.#clock = options.clock;
    this.#tokens = burst;
    this.#at = steadyNow(options.clock);
  }

  /** Spends one token; false when the bucket is empty. */
  take(): boolean {
    const now = steadyNow(this.#clock);
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.ratePerSecond);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
