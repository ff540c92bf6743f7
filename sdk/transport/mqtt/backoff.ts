/**
 * Reconnect delays: exponential back-off with jitter, so that a fleet of devices that lost the
 * same broker does not come back in lock-step (a thundering herd on the broker's restart).
 */
import { ArgumentError } from '../../core/errors.js';
import type { SeededRandom } from '../../core/random.js';

/** Options of {@link ReconnectBackoff}; every field has a default. */
export interface BackoffOptions {
  /** Delay before the first retry, ms. Default 500. */
  readonly minMs?: number;
  /** Upper bound of any delay, ms. Default 30 000. */
  readonly maxMs?: number;
  /**
   * Fraction of the delay that is randomised, 0…1: the delay is drawn uniformly from
   * `[d·(1 − jitter), d]`. Default 0.5.
   */
  readonly jitter?: number;
}

/**
 * The delay before reconnect attempt `n` is `min(maxMs, minMs · 2ⁿ)`, less a random part of up to
 * `jitter` of it. `reset()` after a successful connection starts again from `minMs`.
 *
 * @example
 * ```ts
 * const backoff = new ReconnectBackoff({ minMs: 500, maxMs: 30_000, jitter: 0.5 }, new SeededRandom(1))
 * backoff.next() // 250…500
 * backoff.next() // 500…1000
 * backoff.reset()
 * ```
 */
export class ReconnectBackoff {
  readonly minMs: number;
  readonly maxMs: number;
  readonly jitter: number;
  readonly #random: SeededRandom;
  #attempt = 0;

  constructor(options: BackoffOptions, random: SeededRandom) {
    this.minMs = options.minMs ?? 500;
    this.maxMs = options.maxMs ?? 30_000;
    this.jitter = options.jitter ?? 0.5;
    if (!(Number.isFinite(this.minMs) && this.minMs > 0)) throw new ArgumentError(`Expected \`reconnect.minMs\` to be a number above 0, got ${String(this.minMs)}`);
    if (!(Number.isFinite(this.maxMs) && this.maxMs >= this.minMs)) {
      throw new ArgumentError(`Expected \`reconnect.maxMs\` to be a number from minMs (${this.minMs}) and up, got ${String(this.maxMs)}`);
    }
    if (!(this.jitter >= 0 && this.jitter <= 1)) throw new ArgumentError(`Expected \`reconnect.jitter\` to be a number from 0 to 1, got ${String(this.jitter)}`);
    this.#random = random;
  }

  /** Attempts since the last `reset()`. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt, ms; counts the attempt. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return ceiling * (1 - this.jitter * this.#random.next());
  }

  /** Starts again from `minMs` (after a connection succeeded). */
  reset(): void {
    this.#attempt = 0;
  }
}
