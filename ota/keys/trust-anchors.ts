/**
 * The trust anchors a device accepts manifests from, by key id, and the key ids it has revoked
 * (TUF/Uptane's root-of-trust idea, RFC 9124 §4.3.1). A revoked key is refused even when it is still
 * listed. The list changes only through a signed key update (see key-update.ts).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { ArgumentError, ValidationError } from '../../sdk/core/errors.js';
import { ManifestError } from '../errors.js';
import { algorithmOfKey, keyIdOf, type SignatureAlgorithm } from './keys.js';

/** One trusted public key. */
export interface TrustAnchor {
  readonly keyId: string;
  readonly algorithm: SignatureAlgorithm;
  readonly publicKey: KeyObject;
}

/** The JSON form of a trust-anchor list (SPKI PEM per key). */
export interface TrustAnchorsJson {
  readonly anchors: readonly { readonly publicKeyPem: string }[];
  readonly revoked: readonly string[];
  /** Sequence number of the key update that produced this list (0 when provisioned). */
  readonly sequence: number;
}

/**
 * An immutable set of trust anchors and revoked key ids.
 *
 * @example
 * ```ts
 * const trust = TrustAnchors.of([await readPublicKey('keys/release/public.pem')])
 * const anchor = trust.resolve(keyId) // throws ManifestError 'unknown-key' / 'revoked-key'
 * ```
 */
export class TrustAnchors {
  readonly #anchors: ReadonlyMap<string, TrustAnchor>;
  readonly #revoked: ReadonlySet<string>;
  /** Sequence number of the key update this list came from; 0 when provisioned. */
  readonly sequence: number;

  private constructor(anchors: ReadonlyMap<string, TrustAnchor>, revoked: ReadonlySet<string>, sequence: number) {
    this.#anchors = anchors;
    this.#revoked = revoked;
    this.sequence = sequence;
  }

  /** A list of the given public keys (PEM text or key objects), none revoked. */
  static of(keys: readonly (KeyObject | string)[], options: { revoked?: readonly string[]; sequence?: number } = {}): TrustAnchors {
    const anchors = new Map<string, TrustAnchor>();
    for (const key of keys) {
      const publicKey = typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
      const keyId = keyIdOf(publicKey);
      anchors.set(keyId, { keyId, algorithm: algorithmOfKey(publicKey), publicKey });
    }
    for (const id of options.revoked ?? []) {
      if (!/^[0-9a-f]{16}$/.test(id)) throw new ArgumentError(`Expected \`revoked\` to hold key ids of 16 hex digits, got ${JSON.stringify(id)}`);
    }
    return new TrustAnchors(anchors, new Set(options.revoked ?? []), options.sequence ?? 0);
  }

  /** Parses the JSON form; throws `ValidationError` (with the path of the bad field) on a malformed list. */
  static fromJson(json: unknown): TrustAnchors {
    const value = json as Partial<TrustAnchorsJson> | null;
    if (typeof value !== 'object' || value === null || !Array.isArray(value.anchors) || !Array.isArray(value.revoked)) {
      throw new ValidationError('', 'expected a trust-anchor list { anchors: [{ publicKeyPem }], revoked: [], sequence }');
    }
    const sequence = value.sequence ?? 0;
    if (!Number.isSafeInteger(sequence) || sequence < 0) throw new ValidationError('sequence', `expected an integer from 0, got ${String(sequence)}`);
    value.revoked.forEach((id, i) => {
      if (typeof id !== 'string' || !/^[0-9a-f]{16}$/.test(id)) throw new ValidationError(`revoked[${i}]`, `expected a key id of 16 hex digits, got ${JSON.stringify(id)}`);
    });
    return TrustAnchors.of(value.anchors.map((a) => String(a?.publicKeyPem)), { revoked: value.revoked.map(String), sequence });
  }

  toJson(): TrustAnchorsJson {
    return {
      anchors: [...this.#anchors.values()].map((a) => ({ publicKeyPem: a.publicKey.export({ type: 'spki', format: 'pem' }).toString() })),
      revoked: [...this.#revoked].sort(),
      sequence: this.sequence,
    };
  }

  /** Key ids of the anchors that are not revoked. */
  get keyIds(): string[] {
    return [...this.#anchors.keys()].filter((id) => !this.#revoked.has(id));
  }

  isRevoked(keyId: string): boolean {
    return this.#revoked.has(keyId);
  }

  /**
   * The anchor for `keyId`; without a key id, the only usable anchor of `algorithm`. Throws
   * `ManifestError`: `revoked-key` (unless `allowRevoked`) or `unknown-key`.
   */
  resolve(keyId: string | undefined, algorithm: SignatureAlgorithm, options: { allowRevoked?: boolean } = {}): TrustAnchor {
    if (keyId !== undefined) {
      if (this.#revoked.has(keyId) && !options.allowRevoked) throw new ManifestError('revoked-key', `key ${keyId} is revoked`);
      const anchor = this.#anchors.get(keyId);
      if (anchor === undefined) throw new ManifestError('unknown-key', `key ${keyId} is not a trust anchor`);
      return anchor;
    }
    const usable = [...this.#anchors.values()].filter((a) => a.algorithm === algorithm && !this.#revoked.has(a.keyId));
    if (usable.length !== 1) throw new ManifestError('unknown-key', `no key id in the envelope and ${usable.length} usable ${algorithm} anchors`);
    return usable[0]!;
  }

  /**
   * A new list: `add` keys added, `revoke` ids revoked, at `sequence`. Revoked keys stay listed (so
   * an image installed while its key was valid can still be re-checked at boot) but sign nothing new.
   */
  withChanges(change: { add?: readonly (KeyObject | string)[]; revoke?: readonly string[]; sequence: number }): TrustAnchors {
    const revoked = new Set([...this.#revoked, ...(change.revoke ?? [])]);
    const keys = [...this.#anchors.values()].map((a) => a.publicKey);
    const next = TrustAnchors.of([...keys, ...(change.add ?? [])], { revoked: [...revoked], sequence: change.sequence });
    if (next.keyIds.length === 0) throw new ManifestError('bad-structure', 'a key update must leave at least one usable trust anchor');
    return next;
  }
}
