/**
 * The update server's administrator tokens: each a bearer token with a name and a role, kept in a
 * file as scrypt hashes (RFC 7914), never in clear; the token itself is shown once, when created.
 * The file is written owner-only (0600) and replaced atomically.
 *
 * A token reads `skota_<id>_<secret>`: the id (8 random bytes, hex) finds the record, the secret
 * (32 random bytes, base64url) is what the hash protects. An unknown id costs one scrypt too, so
 * the time of the answer does not tell which ids exist. A verified token is remembered (by its
 * SHA-256), so only a new or wrong token costs a scrypt. The file is read again when it changes
 * (looked at before each verification), so a token revoked or created by another process (the
 * command line, while the server runs) counts at once.
 *
 * ```json
 * { "version": 1, "tokens": [{ "id": "9f…", "name": "alice", "role": "operator", "created": "…",
 *   "scrypt": { "N": 16384, "r": 8, "p": 1, "salt": "…", "hash": "…" } }] }
 * ```
 */
import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { writeJsonFileAtomic } from '../../sdk/core/json-file.js';
import { StorageError, ValidationError } from '../../sdk/core/errors.js';

/** Roles of the campaign API, least first: `viewer` reads, `operator` changes campaigns and groups, `admin` does both (and is the role a deployment's owner holds). */
export const ADMIN_ROLES = ['viewer', 'operator', 'admin'] as const;

export type AdminRole = (typeof ADMIN_ROLES)[number];

/** One token's record. */
export interface AdminTokenRecord {
  readonly id: string;
  readonly name: string;
  readonly role: AdminRole;
  /** ISO 8601 time of creation. */
  readonly created: string;
  readonly scrypt: { readonly N: number; readonly r: number; readonly p: number; readonly salt: string; readonly hash: string };
}

/** Who a verified token belongs to. */
export interface AdminIdentity {
  readonly id: string;
  readonly name: string;
  readonly role: AdminRole;
}

const COST = { N: 16_384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const TOKEN = /^skota_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
const STAND_IN_SALT = randomBytes(16);

function scrypt(secret: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCallback(secret, salt, KEY_LENGTH, { ...cost, maxmem: 64 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key))));
}

/**
 * Whether `role` may do what `needed` allows.
 *
 * @example
 * ```ts
 * roleAtLeast('operator', 'viewer') // true
 * roleAtLeast('viewer', 'operator') // false
 * ```
 */
export function roleAtLeast(role: AdminRole, needed: AdminRole): boolean {
  return ADMIN_ROLES.indexOf(role) >= ADMIN_ROLES.indexOf(needed);
}

/**
 * The administrator tokens of an update server.
 *
 * @example
 * ```ts
 * const tokens = await AdminTokens.load('/etc/sensorkit/ota-admin-tokens.json')
 * const { token } = await tokens.create('alice', 'operator') // shown once
 * await tokens.verify(token) // { id, name: 'alice', role: 'operator' }
 * ```
 */
export class AdminTokens {
  readonly path: string;
  readonly #records = new Map<string, AdminTokenRecord>();
  /** SHA-256 of tokens already verified → their record id. */
  readonly #verified = new Map<string, string>();
  /** The file's size, modification time and inode when read (`missing` when there was none). */
  #version: string;

  private constructor(path: string, records: readonly AdminTokenRecord[], version: string) {
    this.path = path;
    this.#version = version;
    for (const record of records) this.#records.set(record.id, record);
  }

  /** Loads a tokens file; a missing file is an empty set. Throws `StorageError` for a damaged one. */
  static async load(path: string): Promise<AdminTokens> {
    const { records, version } = await readTokens(path);
    return new AdminTokens(path, records, version);
  }

  /** The records (no secrets), by name. */
  list(): { id: string; name: string; role: AdminRole; created: string }[] {
    return [...this.#records.values()].map(({ id, name, role, created }) => ({ id, name, role, created })).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  get size(): number {
    return this.#records.size;
  }

  /**
   * Creates a token for `name` with `role`, saves the file and returns the token: it is not kept
   * anywhere, so it is shown once. Throws `ValidationError` for a bad name or role.
   */
  async create(name: string, role: AdminRole, now: Date = new Date()): Promise<{ token: string; record: AdminIdentity }> {
    if (!NAME.test(name)) throw new ValidationError('name', `expected 1–64 letters, digits or . _ @ -, got ${JSON.stringify(name)}`);
    if (!(ADMIN_ROLES as readonly string[]).includes(role)) throw new ValidationError('role', `expected one of ${ADMIN_ROLES.join(', ')}, got ${JSON.stringify(role)}`);
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const salt = randomBytes(16);
    const hash = await scrypt(secret, salt, COST);
    this.#records.set(id, { id, name, role, created: now.toISOString(), scrypt: { ...COST, salt: salt.toString('base64'), hash: hash.toString('base64') } });
    await this.#save();
    return { token: `skota_${id}_${secret}`, record: { id, name, role } };
  }

  /** Removes every token of `name` (or the token with this id); returns how many went. */
  async revoke(nameOrId: string): Promise<number> {
    const gone = [...this.#records.values()].filter((r) => r.name === nameOrId || r.id === nameOrId);
    for (const record of gone) this.#records.delete(record.id);
    for (const [digest, id] of this.#verified) if (!this.#records.has(id)) this.#verified.delete(digest);
    if (gone.length > 0) await this.#save();
    return gone.length;
  }

  /** Who holds `token`, or undefined for a malformed, unknown or wrong one (constant-time compare). */
  async verify(token: string): Promise<AdminIdentity | undefined> {
    await this.#refresh();
    const digest = createHash('sha256').update(token).digest('base64');
    const known = this.#verified.get(digest);
    const cached = known === undefined ? undefined : this.#records.get(known);
    if (cached !== undefined) return { id: cached.id, name: cached.name, role: cached.role };
    const match = TOKEN.exec(token);
    const record = match === null ? undefined : this.#records.get(match[1]!);
    if (match === null || record === undefined) {
      await scrypt(match?.[2] ?? token.slice(0, 64), STAND_IN_SALT, COST);
      return undefined;
    }
    const { N, r, p, salt, hash } = record.scrypt;
    const expected = Buffer.from(hash, 'base64');
    const actual = await scrypt(match[2]!, Buffer.from(salt, 'base64'), { N, r, p });
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
    this.#verified.set(digest, record.id);
    return { id: record.id, name: record.name, role: record.role };
  }

  /** Reads the file again when it changed; a damaged or half-written file keeps what was read before. */
  async #refresh(): Promise<void> {
    if ((await fileVersion(this.path)) === this.#version) return;
    try {
      const { records, version } = await readTokens(this.path);
      this.#records.clear();
      for (const record of records) this.#records.set(record.id, record);
      this.#verified.clear();
      this.#version = version;
    } catch {
      // The next verification tries again.
    }
  }

  async #save(): Promise<void> {
    await writeJsonFileAtomic(this.path, { version: 1, tokens: [...this.#records.values()] }, 0o600);
    this.#version = await fileVersion(this.path);
  }
}

async function fileVersion(path: string): Promise<string> {
  try {
    const info = await stat(path);
    return `${info.size}:${info.mtimeMs}:${info.ino}`;
  } catch {
    return 'missing';
  }
}

async function readTokens(path: string): Promise<{ records: AdminTokenRecord[]; version: string }> {
  const version = await fileVersion(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], version: 'missing' };
    throw new StorageError(path, `cannot read: ${(error as Error).message}`, { cause: error });
  }
  let parsed: { version?: unknown; tokens?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (error) {
    throw new StorageError(path, 'not an admin tokens file (invalid JSON)', { cause: error });
  }
  if (parsed.version !== 1 || !Array.isArray(parsed.tokens) || !parsed.tokens.every(isRecord)) {
    throw new StorageError(path, 'not an admin tokens file (expected {"version":1,"tokens":[{id, name, role, scrypt}]})');
  }
  return { records: parsed.tokens, version };
}

function isRecord(value: unknown): value is AdminTokenRecord {
  const record = value as AdminTokenRecord;
  const s = record?.scrypt;
  return (
    typeof record?.id === 'string' && typeof record.name === 'string' && (ADMIN_ROLES as readonly string[]).includes(record.role) &&
    typeof s === 'object' && s !== null && [s.N, s.r, s.p].every(Number.isInteger) && typeof s.salt === 'string' && typeof s.hash === 'string'
  );
}
