/**
 * Per-client request rate limits of the update server's API (IEC 62443-4-2 CR 7.1 denial of
 * service protection): a token bucket per client key (the client's address), refilled at a steady
 * rate up to a burst. The table of clients is bounded: the longest-idle client is forgotten first,
 * which only ever gives it a full bucket again.
 */
import type { Clock } from '../../sdk/core/clock.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import { steadyNow } from '../../sdk/core/wall-clock-watch.js';

/** Options of {@link ClientRateLimiter}. */
export interface RateLimitOptions {
  /** Sustained requests per minute per client. Default 120. */
  readonly perMinute?: number;
  /** Requests a client may make at once after being idle. Default 60. */
  readonly burst?: number;
  /** Clients remembered at most. Default 10,000. */
  readonly maxClients?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * @example
 * ```ts
 * const limiter = new ClientRateLimiter(clock, { perMinute: 60, burst: 10 })
 * const wait = limiter.take('10.0.0.7') // 0: go on; else milliseconds until the next request is allowed
 * ```
 */
export class ClientRateLimiter {
  readonly #clock: Clock;
  readonly #perMs: number;
  readonly #burst: number;
  readonly #maxClients: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(clock: Clock, options: RateLimitOptions = {}) {
    const perMinute = options.perMinute ?? 120;
    const burst = options.burst ?? 60;
    const maxClients = options.maxClients ?? 10_000;
    if (!(Number.isFinite(perMinute) && perMinute > 0)) throw new ArgumentError(`Expected \`perMinute\` to be a number above 0, got ${String(options.perMinute)}`);
    if (!(Number.isInteger(burst) && burst >= 1)) throw new ArgumentError(`Expected \`burst\` to be an integer from 1 and up, got ${String(options.burst)}`);
    if (!(Number.isInteger(maxClients) && maxClients >= 1)) throw new ArgumentError(`Expected \`maxClients\` to be an integer from 1 and up, got ${String(options.maxClients)}`);
    this.#clock = clock;
    this.#perMs = perMinute / 60_000;
    this.#burst = burst;
    this.#maxClients = maxClients;
  }

  /** Takes one request for `client`: 0 when allowed, else the milliseconds until one will be. */
  take(client: string): number {
    // Steady time: a wall-clock step must neither refill the buckets nor drain them.
    const now = steadyNow(this.#clock);
    let bucket = this.#buckets.get(client);
    if (bucket === undefined) {
      bucket = { tokens: this.#burst, at: now };
      if (this.#buckets.size >= this.#maxClients) this.#buckets.delete(this.#buckets.keys().next().value!);
    } else {
      this.#buckets.delete(client);
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs);
      bucket.at = now;
    }
    // Re-inserted: the map's order is least recently seen first.
    this.#buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.#perMs);
  }
}
