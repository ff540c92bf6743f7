/**
 * A cap on password checks running at once. A scrypt check (users.ts) runs on libuv's thread pool
 * (4 threads by default), the same pool that serves file I/O (the outbox, the audit log) and
 * crypto: a burst of logins, uncapped, fills the pool and every file operation waits behind the
 * whole burst. At most `concurrent` checks run at once (default 1: about 20 checks a second, far
 * more than people log in), at most `queued` more wait for their turn (default 8), and a login
 * beyond that is refused without a check (IEC 62443-4-2 CR 7.1 denial-of-service protection).
 *
 * A refused login gets the reply of a wrong password, after the time a check takes (the mean of
 * recent checks), so that neither the reply nor its time tells a busy server from a wrong password;
 * the server then counts it as a failed login like any other (login-throttle.ts).
 */
import { ArgumentError } from '../../core/errors.js';

/** Options of {@link PasswordChecks}; every field has a default. */
export interface PasswordCheckOptions {
  /** Checks running at once. Default 1. */
  readonly concurrent?: number;
  /** Checks waiting for their turn; more are refused unchecked. Default 8. */
  readonly queued?: number;
}

/** Counts of {@link PasswordChecks}, for tests and status. */
export interface PasswordCheckStats {
  /** Checks running now. */
  readonly running: number;
  /** Checks waiting now. */
  readonly waiting: number;
  /** The most that ever ran at once. */
  readonly maxRunning: number;
  /** Checks run to the end. */
  readonly checked: number;
  /** Logins refused unchecked because the queue was full. */
  readonly refused: number;
  /** The mean time of recent checks, ms (what a refusal waits before its reply). */
  readonly typicalMs: number;
}

/** What the time of a check is taken to be before any has run, ms (scrypt N 2^14, r 8 on a small CPU). */
const FIRST_TYPICAL_MS = 60;

/**
 * @example
 * ```ts
 * const checks = new PasswordChecks({ concurrent: 1, queued: 8 })
 * const outcome = await checks.run(() => users.verify(name, password))
 * if (outcome === 'busy') await checks.waitLikeACheck() // then answer as for a wrong password
 * ```
 */
export class PasswordChecks {
  readonly #concurrent: number;
  readonly #queued: number;
  readonly #waiting: (() => void)[] = [];
  #running = 0;
  #maxRunning = 0;
  #checked = 0;
  #refused = 0;
  #typicalMs = FIRST_TYPICAL_MS;

  constructor(options: PasswordCheckOptions = {}) {
    this.#concurrent = whole(options.concurrent ?? 1, 'concurrent', 1);
    this.#queued = whole(options.queued ?? 8, 'queued', 0);
  }

  /**
   * Runs `check` when a place is free (at once, or after the checks before it); resolves with its
   * result, or with `'busy'` at once when `queued` checks are already waiting.
   */
  async run<T>(check: () => Promise<T>): Promise<T | 'busy'> {
    if (this.#running >= this.#concurrent) {
      if (this.#waiting.length >= this.#queued) {
        this.#refused++;
        return 'busy';
      }
      // The check that ends hands its place over (see below): `running` already counts this one.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else this.#running++;
    this.#maxRunning = Math.max(this.#maxRunning, this.#running);
    const started = performance.now();
    try {
      return await check();
    } finally {
      // A mean over about the last 8 checks: follows the CPU's load without one outlier deciding.
      this.#typicalMs += (performance.now() - started - this.#typicalMs) / 8;
      this.#checked++;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }

  /** Resolves after the time a check typically takes: what a refused login waits before its reply. */
  waitLikeACheck(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.#typicalMs));
  }

  stats(): PasswordCheckStats {
    return { running: this.#running, waiting: this.#waiting.length, maxRunning: this.#maxRunning, checked: this.#checked, refused: this.#refused, typicalMs: this.#typicalMs };
  }
}

function whole(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new ArgumentError(`Expected \`passwordChecks.${name}\` to be an integer from ${min} and up, got ${String(value)}`);
  return value;
}
