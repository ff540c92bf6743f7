/**
 * OPC UA user-name login against a users file of scrypt hashes (node:crypto; RFC 7914). The file
 * holds no password: each user has a random salt, the scrypt parameters and the derived key;
 * logins compare in constant time. It is written owner-only (0600).
 *
 * ```json
 * { "version": 1, "users": [{ "name": "operator", "role": "operator", "scrypt": { "N": 16384, "r": 8, "p": 1, "salt": "…", "hash": "…" } }] }
 * ```
 *
 * A user's `role` (viewer, operator, engineer, security-admin) decides which method calls and
 * setting writes the server lets through; a user without one has the server's default role.
 * An unknown user name costs the same scrypt and comparison as a known one, against a stand-in
 * hash, so neither the answer nor its time tells which names exist (IEC 62443-4-2 CR 1.5).
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeJsonFileAtomic } from '../../core/json-file.js';
import { StorageError, ValidationError } from '../../core/errors.js';
import { isOperatorRole, OPERATOR_ROLES } from '../../model/roles.js';
import type { OperatorRole } from '../../model/spec.js';
import { weakPasswordProblem } from './weak-passwords.js';

/** One user's password hash. */
export interface UserRecord {
  readonly name: string;
  /** What the user may do; default: the server's default role. */
  readonly role?: OperatorRole;
  readonly scrypt: { readonly N: number; readonly r: number; readonly p: number; readonly salt: string; readonly hash: string };
}

const KEY_LENGTH = 32;
/** scrypt cost: N = 2^14, r = 8, p = 1 (RFC 7914 §2's interactive-login figures). */
const COST = { N: 16_384, r: 8, p: 1 } as const;
/** Passwords that ship as defaults somewhere and are tried first by anyone. */
const DEFAULT_PASSWORDS = new Set(['admin', 'password', 'passw0rd', 'root', 'user', 'guest', 'operator', 'opcua', 'sensorkit', '1234', '12345', '123456', '12345678', 'changeme', 'default', 'secret']);
const MIN_LENGTH = 8;
/** The salt and hash of the stand-in an unknown user's password is checked against. */
const UNKNOWN_USER_SALT = randomBytes(16);
const UNKNOWN_USER_HASH = randomBytes(KEY_LENGTH);

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCallback(password, salt, KEY_LENGTH, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key))));
}

/**
 * Why a password must not be set, or undefined when it may: empty, shorter than 8 characters, a
 * well-known default, the user's own name (ETSI EN 303 645 provision 5.1-1: no universal default
 * passwords), or a common or trivial one (see weak-passwords.ts: `password1`, `qwertyui`,
 * `aaaaaaaa`, the user name inside).
 *
 * @example
 * ```ts
 * passwordProblem('operator', 'admin')     // 'is a well-known default password'
 * passwordProblem('operator', 'password1') // 'is a common password with digits or symbols around it'
 * ```
 */
export function passwordProblem(name: string, password: string): string | undefined {
  if (password === '') return 'is empty';
  if (DEFAULT_PASSWORDS.has(password.toLowerCase())) return 'is a well-known default password';
  if (password.toLowerCase() === name.toLowerCase()) return 'is the user name';
  if (password.length < MIN_LENGTH) return `is shorter than ${MIN_LENGTH} characters`;
  return weakPasswordProblem(name, password);
}

/**
 * Hashes a password for the users file; throws `ValidationError` (path `password`) for an empty,
 * default or short one.
 *
 * @example
 * ```ts
 * const record = await hashPassword('operator', 'correct horse battery staple')
 * ```
 */
export async function hashPassword(name: string, password: string, role?: OperatorRole): Promise<UserRecord> {
  if (role !== undefined && !isOperatorRole(role)) throw new ValidationError('role', `expected one of ${OPERATOR_ROLES.join(', ')}, got ${JSON.stringify(role)}`);
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name)) throw new ValidationError('user', `expected 1–64 letters, digits or . _ @ -, got ${JSON.stringify(name)}`);
  const problem = passwordProblem(name, password);
  if (problem !== undefined) throw new ValidationError('password', `${problem}; choose another`);
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, COST);
  return { name, ...(role === undefined ? {} : { role }), scrypt: { ...COST, salt: salt.toString('base64'), hash: hash.toString('base64') } };
}

/**
 * The users of an OPC UA server, loaded from a users file.
 *
 * @example
 * ```ts
 * const users = await UsersFile.load('.sensorkit/opcua-users.json')
 * await users.verify('operator', 'correct horse battery staple') // true
 * ```
 */
export class UsersFile {
  readonly path: string;
  readonly #users: Map<string, UserRecord>;

  private constructor(path: string, users: readonly UserRecord[]) {
    this.path = path;
    this.#users = new Map(users.map((user) => [user.name, user]));
  }

  /** Loads a users file; a missing file is an empty list. Throws `StorageError` for a damaged one. */
  static async load(path: string): Promise<UsersFile> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new UsersFile(path, []);
      throw new StorageError(path, `cannot read: ${(error as Error).message}`, { cause: error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new StorageError(path, 'not a users file (invalid JSON)', { cause: error });
    }
    const users = (parsed as { users?: unknown }).users;
    if ((parsed as { version?: unknown }).version !== 1 || !Array.isArray(users) || !users.every(isUserRecord)) {
      throw new StorageError(path, 'not a users file (expected {"version":1,"users":[{name, scrypt}]})');
    }
    return new UsersFile(path, users);
  }

  /** User names, sorted. */
  names(): string[] {
    return [...this.#users.keys()].sort();
  }

  get size(): number {
    return this.#users.size;
  }

  /** Adds or replaces a user and writes the file (0600, replaced atomically). */
  async set(record: UserRecord): Promise<void> {
    this.#users.set(record.name, record);
    await this.#save();
  }

  /** Removes a user; returns whether there was one. */
  async remove(name: string): Promise<boolean> {
    const had = this.#users.delete(name);
    if (had) await this.#save();
    return had;
  }

  /** The role of a user, when the file gives one. */
  roleOf(name: string): OperatorRole | undefined {
    return this.#users.get(name)?.role;
  }

  /** Sets (or with undefined, clears) a user's role and writes the file; `ValidationError` for an unknown user or role. */
  async setRole(name: string, role: OperatorRole | undefined): Promise<void> {
    const user = this.#users.get(name);
    if (user === undefined) throw new ValidationError('user', `no user ${JSON.stringify(name)}`);
    if (role !== undefined && !isOperatorRole(role)) throw new ValidationError('role', `expected one of ${OPERATOR_ROLES.join(', ')}, got ${JSON.stringify(role)}`);
    const { role: _old, ...rest } = user;
    this.#users.set(name, role === undefined ? rest : { ...rest, role });
    await this.#save();
  }

  /** Whether there is a user of this name. */
  has(name: string): boolean {
    return this.#users.has(name);
  }

  /**
   * Whether `password` is the user's; false for an unknown user or an empty password. An unknown
   * user costs one scrypt too, so that the time of the answer does not tell which names exist.
   */
  async verify(name: string, password: string): Promise<boolean> {
    const user = this.#users.get(name);
    if (password === '') return false;
    if (user === undefined) {
      const stand = await scrypt(password, UNKNOWN_USER_SALT, COST);
      timingSafeEqual(stand, UNKNOWN_USER_HASH);
      return false;
    }
    const { N, r, p, salt, hash } = user.scrypt;
    const expected = Buffer.from(hash, 'base64');
    const actual = await scrypt(password, Buffer.from(salt, 'base64'), { N, r, p });
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  async #save(): Promise<void> {
    await writeJsonFileAtomic(this.path, { version: 1, users: [...this.#users.values()] }, 0o600);
  }
}

function isUserRecord(value: unknown): value is UserRecord {
  const record = value as UserRecord;
  const s = record?.scrypt;
  return typeof record?.name === 'string' && (record.role === undefined || isOperatorRole(record.role)) && typeof s === 'object' && s !== null && [s.N, s.r, s.p].every(Number.isInteger) && typeof s.salt === 'string' && typeof s.hash === 'string';
}
