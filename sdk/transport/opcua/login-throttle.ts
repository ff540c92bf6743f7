/**
 * Throttling of OPC UA user-name logins against password guessing (NIST SP 800-63B §5.2.2: limit
 * consecutive failed attempts; ETSI EN 303 645 provision 5.1-5: brute-force protection). Failures
 * are counted per user name and per client (its address and, on a secure channel, its certificate):
 * the first few are answered at once, then each answer is delayed, doubling up to a maximum, and
 * after `lockoutAfter` failures in a row the user name or client is locked out for `lockoutMs`:
 * every login of it is refused without checking the password, the right one included. Each
 * further lockout of the same user name or client doubles (exponential back-off, up to
 * `maxLockoutMs`) while the earlier one is remembered, `maxLockoutMs` after it ended: a guesser
 * who keeps going gets `lockoutAfter` tries per lockout, and the lockouts grow (IEC 62443-4-2
 * CR 1.11 unsuccessful login attempts). A success clears the counts of its user name and client;
 * failures in a row are forgotten `lockoutMs` after the last one (so with the end of a lockout).
 * Each failure is one log line (never the password).
 */
import { ArgumentError } from '../../core/errors.js';
import { SystemClock, type Clock } from '../../core/clock.js';
import { steadyNow } from '../../core/wall-clock-watch.js';
import { cut } from '../../core/check.js';

/** Options of {@link LoginThrottle}; every field has a default. */
export interface LoginThrottleOptions {
  /** Failures in a row of one user name or client answered without delay. Default 3. */
  readonly freeFailures?: number;
  /** Delay of the first delayed answer, doubled for each further failure, ms. Default 250. */
  readonly delayMs?: number;
  /** Longest delay of an answer (also of every answer while locked out), ms. Default 4000. */
  readonly maxDelayMs?: number;
  /** Failures in a row after which the user name or client is locked out. Default 10. */
  readonly lockoutAfter?: number;
  /** How long the first lockout lasts, and how long failures are remembered, ms. Default 300 000 (5 min). */
  readonly lockoutMs?: number;
  /** Longest lockout, reached by doubling `lockoutMs` at each further lockout, ms. Default 3 600 000 (1 h). */
  readonly maxLockoutMs?: number;
  /**
   * Time of the counts and delays. Default the system clock. Lockouts and failure ages are
   * measured on its steady time: a wall-time step neither ends a lockout nor lengthens it.
   */
  readonly clock?: Clock;
}

/** Who is logging in: the user name given and the client it comes from. */
export interface LoginAttempt {
  readonly user: string;
  /** The client's network address (`127.0.0.1`), when known. */
  readonly address?: string;
  /** SHA-1 thumbprint (hex) of the client's application certificate, on a secure channel. */
  readonly certificate?: string;
}

/** What the throttle decided before the password is checked. */
export type LoginGate = { readonly locked: false } | { readonly locked: true; readonly remainingMs: number };

/** One user name's or client's record; its times are on the clock's steady time. */
interface Count {
  failures: number;
  lastFailureAt: number;
  lockedUntil: number;
  /** Lockouts remembered: the next lasts `lockoutMs × 2^lockouts`, up to `maxLockoutMs`. */
  lockouts: number;
}

/** Counted keys at most; the oldest are dropped beyond (a guesser trying many user names). */
const MAX_KEYS = 10_000;

/**
 * @example
 * ```ts
 * const throttle = new LoginThrottle({ lockoutAfter: 10 }, (line) => console.error(line))
 * const attempt = { user: 'operator', address: '192.0.2.7' }
 * if (throttle.gate(attempt).locked) await throttle.refuseLocked(attempt)
 * else if (await users.verify('operator', password)) throttle.succeeded(attempt)
 * else await throttle.failed(attempt, 'wrong password')
 * ```
 */
export class LoginThrottle {
  readonly #free: number;
  readonly #delayMs: number;
  readonly #maxDelayMs: number;
  readonly #lockoutAfter: number;
  readonly #lockoutMs: number;
  readonly #maxLockoutMs: number;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #counts = new Map<string, Count>();

  constructor(options: LoginThrottleOptions, log: (line: string) => void) {
    this.#free = count(options.freeFailures ?? 3, 'freeFailures', 0);
    this.#delayMs = count(options.delayMs ?? 250, 'delayMs', 0);
    this.#maxDelayMs = count(options.maxDelayMs ?? 4000, 'maxDelayMs', this.#delayMs);
    this.#lockoutAfter = count(options.lockoutAfter ?? 10, 'lockoutAfter', 1);
    this.#lockoutMs = count(options.lockoutMs ?? 300_000, 'lockoutMs', 1);
    this.#maxLockoutMs = count(options.maxLockoutMs ?? Math.max(3_600_000, this.#lockoutMs), 'maxLockoutMs', this.#lockoutMs);
    this.#clock = options.clock ?? new SystemClock({ precisionWindowMs: 0 });
    this.#log = log;
  }

  /** Whether the attempt's user name or client is locked out now (its password is then not checked). */
  gate(attempt: LoginAttempt): LoginGate {
    const now = steadyNow(this.#clock);
    let until = 0;
    for (const key of keysOf(attempt)) until = Math.max(until, this.#current(key, now)?.lockedUntil ?? 0);
    return until > now ? { locked: true, remainingMs: until - now } : { locked: false };
  }

  /** Clears the counts of the user name and the client after a good login. */
  succeeded(attempt: LoginAttempt): void {
    for (const key of keysOf(attempt)) this.#counts.delete(key);
  }

  /**
   * Counts a failed login (`reason`: `wrong password`, `unknown user`), logs it in one line, and
   * resolves when its answer may go out (after the delay its count has earned).
   */
  failed(attempt: LoginAttempt, reason: string): Promise<void> {
    const now = steadyNow(this.#clock);
    let failures = 0;
    let lockedFor = 0;
    let lockouts = 0;
    for (const key of keysOf(attempt)) {
      const entry = this.#current(key, now) ?? this.#add(key);
      entry.failures += 1;
      entry.lastFailureAt = now;
      if (entry.failures >= this.#lockoutAfter && entry.lockedUntil <= now) {
        const duration = Math.min(this.#maxLockoutMs, this.#lockoutMs * 2 ** Math.min(entry.lockouts, 30));
        entry.lockouts += 1;
        entry.lockedUntil = now + duration;
        if (duration > lockedFor) {
          lockedFor = duration;
          lockouts = entry.lockouts;
        }
      }
      failures = Math.max(failures, entry.failures);
    }
    const delayMs = failures <= this.#free ? 0 : Math.min(this.#maxDelayMs, this.#delayMs * 2 ** Math.min(failures - this.#free - 1, 30));
    const lockout = lockedFor === 0 ? '' : lockouts === 1 ? `; locked out for ${seconds(lockedFor)} after ${this.#lockoutAfter} failures` : `; locked out again for ${seconds(lockedFor)} (lockout ${lockouts})`;
    this.#log(`${describeAttempt(attempt)}: ${reason}, failure ${failures} in a row${lockout}${delayMs > 0 ? `; answered after ${seconds(delayMs)}` : ''}`);
    return this.#sleep(delayMs);
  }

  /** Logs a login refused by a lockout, and resolves after the longest delay. */
  refuseLocked(attempt: LoginAttempt): Promise<void> {
    const gate = this.gate(attempt);
    const remaining = gate.locked ? gate.remainingMs : 0;
    this.#log(`${describeAttempt(attempt)}: refused unchecked, locked out for another ${seconds(remaining)}; answered after ${seconds(this.#maxDelayMs)}`);
    return this.#sleep(this.#maxDelayMs);
  }

  #current(key: string, now: number): Count | undefined {
    const entry = this.#counts.get(key);
    if (entry === undefined) return undefined;
    if (entry.lockedUntil > now) return entry;
    if (now - entry.lastFailureAt >= this.#lockoutMs) entry.failures = 0;
    // Nothing left to remember: no failures in a row, and no lockout recent enough to double.
    if (entry.failures === 0 && (entry.lockouts === 0 || now - entry.lockedUntil >= this.#maxLockoutMs)) {
      this.#counts.delete(key);
      return undefined;
    }
    return entry;
  }

  #add(key: string): Count {
    if (this.#counts.size >= MAX_KEYS) this.#counts.delete(this.#counts.keys().next().value!);
    const entry = { failures: 0, lastFailureAt: 0, lockedUntil: 0, lockouts: 0 };
    this.#counts.set(key, entry);
    return entry;
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.#clock.schedule(this.#clock.now() + ms, resolve));
  }
}

function keysOf(attempt: LoginAttempt): string[] {
  return [
    `user ${attempt.user}`,
    ...(attempt.address === undefined ? [] : [`address ${plainAddress(attempt.address)}`]),
    ...(attempt.certificate === undefined ? [] : [`certificate ${attempt.certificate}`]),
  ];
}

/** `opcua: failed login: user "operator" from 192.0.2.7, client certificate 3f2a9c01…` (user name escaped and cut). */
function describeAttempt(attempt: LoginAttempt): string {
  const from = attempt.address === undefined ? '' : ` from ${cut(plainAddress(attempt.address))}`;
  const certificate = attempt.certificate === undefined ? '' : `, client certificate ${attempt.certificate.slice(0, 16)}`;
  return `opcua: failed login: user ${JSON.stringify(cut(attempt.user))}${from}${certificate}`;
}

/** An IPv4 client of a dual-stack socket as plain IPv4: `::ffff:192.0.2.7` → `192.0.2.7` (RFC 4291 §2.5.5.2). */
function plainAddress(address: string): string {
  return address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

function seconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return ms < 10_000 ? `${Number((ms / 1000).toFixed(1))} s` : `${Math.round(ms / 1000)} s`;
}

function count(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new ArgumentError(`Expected \`loginThrottle.${name}\` to be an integer from ${min} and up, got ${String(value)}`);
  return value;
}
