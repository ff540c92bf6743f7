/**
 * Nonces seen, per operator key, until their request expires: a request whose nonce is there is a
 * replay. Bounded: each key holds at most `perKey` nonces; beyond, the oldest is forgotten and its
 * issue time becomes the key's floor, below which every request is refused as a possible replay
 * (a forgotten nonce could be sent again). Only requests whose signature verified reach the cache,
 * so the number of keys is bounded by the trust store.
 */
import { ArgumentError } from '../../sdk/core/errors.js';

interface Seen {
  readonly issuedAt: number;
  readonly expiresAtMs: number;
}

/**
 * @example
 * ```ts
 * const nonces = new NonceCache({ perKey: 1024 })
 * nonces.check('3f9a…', nonceHex, claims.issuedAt, expiresAtMs, clock.now()) // 'fresh', then 'replayed'
 * ```
 */
export class NonceCache {
  readonly #perKey: number;
  readonly #keys = new Map<string, { seen: Map<string, Seen>; floor: number }>();

  constructor(options: { perKey?: number } = {}) {
    this.#perKey = options.perKey ?? 1024;
    if (!(Number.isInteger(this.#perKey) && this.#perKey >= 1)) throw new ArgumentError(`Expected \`perKey\` to be an integer from 1 and up, got ${String(options.perKey)}`);
  }

  /** Whether a nonce is new for the key (then remembered until `expiresAtMs`) or a replay. */
  check(keyId: string, nonce: string, issuedAt: number, expiresAtMs: number, nowMs: number): 'fresh' | 'replayed' {
    let entry = this.#keys.get(keyId);
    if (entry === undefined) {
      entry = { seen: new Map(), floor: -1 };
      this.#keys.set(keyId, entry);
    }
    for (const [old, seen] of entry.seen) if (seen.expiresAtMs < nowMs) entry.seen.delete(old);
    if (entry.seen.has(nonce) || issuedAt <= entry.floor) return 'replayed';
    if (entry.seen.size >= this.#perKey) {
      const [oldest, seen] = entry.seen.entries().next().value as [string, Seen];
      entry.seen.delete(oldest);
      entry.floor = Math.max(entry.floor, seen.issuedAt);
      if (issuedAt <= entry.floor) return 'replayed';
    }
    entry.seen.set(nonce, { issuedAt, expiresAtMs });
    return 'fresh';
  }

  /** Nonces remembered for a key. */
  size(keyId: string): number {
    return this.#keys.get(keyId)?.seen.size ?? 0;
  }
}
