/**
 * The operators a device trusts (IEC 62443-4-2 CR 1.2 identification of software processes and
 * devices, CR 2.1 authorisation by role): each public key with a name and a role, and the keys
 * revoked. A revoked key stays in the file, marked, so that the same key trusted again is a
 * deliberate act and the history shows it. Written atomically (a temporary file renamed over it).
 *
 * ```json
 * { "version": 1, "operators": [{ "keyId": "3f9a0c…", "name": "alice", "role": "engineer",
 *   "publicKey": "-----BEGIN PUBLIC KEY-----…", "added": "2026-01-01T00:00:00.000Z",
 *   "revoked": "2026-02-01T00:00:00.000Z" }] }
 * ```
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeJsonFileAtomic } from '../../sdk/core/json-file.js';
import { ArgumentError, StorageError, ValidationError } from '../../sdk/core/errors.js';
import { coseAlgorithmOfKey, coseKeyId } from '../cose/sign1.js';
import { OPERATOR_NAME } from './operator-keys.js';
import { isOperatorRole, OPERATOR_ROLES, type OperatorRole } from './roles.js';

/** One trusted (or revoked) operator key. */
export interface TrustedOperator {
  readonly keyId: string;
  readonly name: string;
  readonly role: OperatorRole;
  /** SPKI PEM. */
  readonly publicKey: string;
  /** ISO 8601 time it was trusted. */
  readonly added: string;
  /** ISO 8601 time it was revoked; absent while trusted. */
  readonly revoked?: string;
}

/** An operator as the authorizer looks it up: with its key object. */
export interface OperatorKey {
  readonly keyId: string;
  readonly name: string;
  readonly role: OperatorRole;
  readonly revoked: boolean;
  readonly key: KeyObject;
}

/** What the authorizer needs of a trust store: a key by its id. */
export interface OperatorDirectory {
  lookup(keyId: string): OperatorKey | undefined;
}

/**
 * @example
 * ```ts
 * const store = await OperatorTrustStore.load('/etc/sensorkit/operators.json')
 * await store.trust(await readFile('alice.pub', 'utf8'), { role: 'engineer', name: 'alice' })
 * await store.revoke('3f9a0c1d2e3f4a5b')
 * ```
 */
export class OperatorTrustStore implements OperatorDirectory {
  readonly path: string | undefined;
  readonly #operators = new Map<string, TrustedOperator>();
  readonly #keys = new Map<string, KeyObject>();

  /** A store held in memory (tests, or a caller that persists it itself); `load` for a file. */
  constructor(operators: readonly TrustedOperator[] = [], path?: string) {
    this.path = path;
    for (const operator of operators) this.#put(operator);
  }

  /** Loads a trust store file; a missing file is an empty store. Throws `StorageError` for a damaged one. */
  static async load(path: string): Promise<OperatorTrustStore> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new OperatorTrustStore([], path);
      throw new StorageError(path, `cannot read: ${(error as Error).message}`, { cause: error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new StorageError(path, 'not an operator trust store (invalid JSON)', { cause: error });
    }
    const operators = (parsed as { operators?: unknown }).operators;
    if ((parsed as { version?: unknown }).version !== 1 || !Array.isArray(operators)) {
      throw new StorageError(path, 'not an operator trust store (expected {"version":1,"operators":[…]})');
    }
    operators.forEach((operator, i) => {
      const problem = operatorProblem(operator);
      if (problem !== undefined) throw new StorageError(path, `operators[${i}]: ${problem}`);
    });
    return new OperatorTrustStore(operators as TrustedOperator[], path);
  }

  /**
   * Re-reads the file (a revocation or a new key from `sensorkit operator` in force without a
   * restart). A damaged file leaves the store as it was and rejects with `StorageError`; a
   * missing one empties it.
   *
   * @example
   * ```ts
   * process.on('SIGHUP', () => void store.reload().catch((error) => log(error.message)))
   * ```
   */
  async reload(): Promise<void> {
    if (this.path === undefined) return;
    const fresh = await OperatorTrustStore.load(this.path);
    this.#operators.clear();
    this.#keys.clear();
    for (const operator of fresh.list()) this.#put(operator);
  }

  /** Every operator, trusted and revoked, by name then key id. */
  list(): TrustedOperator[] {
    return [...this.#operators.values()].sort((a, b) => a.name.localeCompare(b.name) || a.keyId.localeCompare(b.keyId));
  }

  /** Trusted (not revoked) operators. */
  get size(): number {
    return this.list().filter((operator) => operator.revoked === undefined).length;
  }

  lookup(keyId: string): OperatorKey | undefined {
    const operator = this.#operators.get(keyId);
    const key = this.#keys.get(keyId);
    if (operator === undefined || key === undefined) return undefined;
    return { keyId, name: operator.name, role: operator.role, revoked: operator.revoked !== undefined, key };
  }

  /**
   * Trusts a public key (SPKI PEM) with a role, replacing the role of a key already there; a revoked
   * key is refused (`ValidationError`): revocation is final for that key, generate a new one.
   * Saves the file when the store has one.
   */
  async trust(publicKeyPem: string, options: { role: OperatorRole; name: string; now?: Date }): Promise<TrustedOperator> {
    if (!isOperatorRole(options.role)) throw new ValidationError('role', `expected one of ${OPERATOR_ROLES.join(', ')}, got ${JSON.stringify(options.role)}`);
    if (!OPERATOR_NAME.test(options.name)) throw new ValidationError('name', `expected 1–64 letters, digits or . _ @ -, got ${JSON.stringify(options.name)}`);
    let key: KeyObject;
    try {
      key = createPublicKey(publicKeyPem);
    } catch (error) {
      throw new ValidationError('publicKey', 'not a PEM public key', { cause: error });
    }
    if (key.type !== 'public' || coseAlgorithmOfKey(key) === undefined) throw new ValidationError('publicKey', 'expected an Ed25519 or ECDSA P-256 public key');
    const keyId = coseKeyId(key);
    const existing = this.#operators.get(keyId);
    if (existing?.revoked !== undefined) throw new ValidationError('publicKey', `key ${keyId} (${existing.name}) was revoked on ${existing.revoked}; generate a new key`);
    const operator: TrustedOperator = {
      keyId,
      name: options.name,
      role: options.role,
      publicKey: key.export({ type: 'spki', format: 'pem' }).toString(),
      added: existing?.added ?? (options.now ?? new Date()).toISOString(),
    };
    this.#put(operator);
    await this.#save();
    return operator;
  }

  /** Revokes a key by its id (or a unique prefix of at least 8 hex digits); `ValidationError` when none or several match. */
  async revoke(keyIdOrPrefix: string, options: { now?: Date } = {}): Promise<TrustedOperator> {
    const operator = this.#find(keyIdOrPrefix);
    if (operator.revoked !== undefined) return operator;
    const revoked = { ...operator, revoked: (options.now ?? new Date()).toISOString() };
    this.#put(revoked);
    await this.#save();
    return revoked;
  }

  #find(keyIdOrPrefix: string): TrustedOperator {
    const wanted = keyIdOrPrefix.toLowerCase();
    if (!/^[0-9a-f]{8,16}$/.test(wanted)) throw new ValidationError('keyId', `expected 8 to 16 hex digits of a key id, got ${JSON.stringify(keyIdOrPrefix)}`);
    const matches = [...this.#operators.values()].filter((operator) => operator.keyId.startsWith(wanted));
    if (matches.length !== 1) throw new ValidationError('keyId', matches.length === 0 ? `no operator key ${wanted} in the trust store` : `${wanted} matches ${matches.length} keys; give more digits`);
    return matches[0]!;
  }

  #put(operator: TrustedOperator): void {
    const problem = operatorProblem(operator);
    if (problem !== undefined) throw new ArgumentError(`Expected a trusted operator, got one that ${problem}`);
    this.#operators.set(operator.keyId, operator);
    this.#keys.set(operator.keyId, createPublicKey(operator.publicKey));
  }

  async #save(): Promise<void> {
    if (this.path === undefined) return;
    await writeJsonFileAtomic(this.path, { version: 1, operators: this.list() }, 0o644);
  }
}

/** Why a stored entry is not a trusted operator, or undefined; the key id must be the key's own. */
function operatorProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'is not an object';
  const operator = value as Record<string, unknown>;
  if (typeof operator.name !== 'string' || !OPERATOR_NAME.test(operator.name)) return 'has no valid name';
  if (!isOperatorRole(operator.role)) return `has role ${JSON.stringify(operator.role)}, not one of ${OPERATOR_ROLES.join(', ')}`;
  if (typeof operator.added !== 'string' || (operator.revoked !== undefined && typeof operator.revoked !== 'string')) return 'has bad times';
  if (typeof operator.publicKey !== 'string') return 'has no public key';
  let key: KeyObject;
  try {
    key = createPublicKey(operator.publicKey);
  } catch {
    return 'has a public key that does not parse';
  }
  if (coseAlgorithmOfKey(key) === undefined) return 'has a key that is neither Ed25519 nor P-256';
  if (operator.keyId !== coseKeyId(key)) return `has key id ${JSON.stringify(operator.keyId)}, but its key's id is ${coseKeyId(key)}`;
  return undefined;
}
