/**
 * The update server's schema, as numbered migrations. `schema_version` holds the number of the
 * last one applied; {@link migrate} applies the missing ones in one transaction under a
 * transaction-scoped advisory lock, so two instances starting at once do not race, and refuses a
 * database whose schema is newer than this code.
 *
 * Tables: `devices` (operator-set group and hardware), `campaigns` (envelope, policy, state, open
 * wave, release-rate window), `assignments` (one row per campaign and targeted device), `counters`
 * (devices per campaign, wave and state, kept in the transaction of every change), `failure_counters`
 * (failed devices per campaign and failure type), `reports` (what devices said), `leases`,
 * `fleet_flags` (the kill switch), `audit` and `download_slots`. Times are milliseconds of the server's clock.
 *
 * Counters are split in shards: the scheduler and the operator write shard 0, a device's reports
 * shard 1 + a hash of its id mod 16, so concurrent reports do not queue on one counter row; a
 * count is the sum over the shards (a single shard may go negative).
 */
import type { SqlClient } from './sql.js';
import { DatabaseError } from './errors.js';

/** Arbitrary key of the advisory lock taken while migrating. */
const MIGRATION_LOCK = 7_319_001;

/** The migrations, in order; index + 1 is the version each one brings the schema to. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE devices (
    id text PRIMARY KEY,
    grp text NOT NULL,
    hardware text,
    assigned_at bigint NOT NULL,
    seen_at bigint
  );
  CREATE INDEX devices_grp ON devices (grp, hardware);

  CREATE TABLE campaigns (
    id serial PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('update', 'rollback')),
    rollback_of integer REFERENCES campaigns (id),
    envelope bytea NOT NULL,
    sequence bigint NOT NULL,
    payload_keys jsonb NOT NULL,
    policy jsonb NOT NULL,
    wave_count integer NOT NULL,
    state text NOT NULL CHECK (state IN ('running', 'paused', 'halted', 'finished')),
    reason text,
    open_wave integer NOT NULL DEFAULT 0,
    health_wave integer NOT NULL DEFAULT 0,
    targeted integer NOT NULL,
    rate_epoch bigint NOT NULL,
    rate_minute integer NOT NULL DEFAULT 0,
    rate_released integer NOT NULL DEFAULT 0,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );
  CREATE INDEX campaigns_running ON campaigns (id) WHERE state = 'running';

  CREATE TABLE assignments (
    campaign_id integer NOT NULL REFERENCES campaigns (id),
    device_id text NOT NULL,
    wave integer NOT NULL,
    ord integer NOT NULL,
    state text NOT NULL,
    active boolean NOT NULL DEFAULT false,
    attempts integer NOT NULL DEFAULT 0,
    failure text,
    reason text,
    updated_at bigint NOT NULL,
    etag_version integer NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, device_id)
  );
  CREATE INDEX assignments_active_device ON assignments (device_id) WHERE active;
  CREATE INDEX assignments_pending ON assignments (campaign_id, wave, ord) WHERE state = 'pending';
  CREATE INDEX assignments_in_progress ON assignments (campaign_id, updated_at) WHERE state IN ('offered', 'downloading', 'staged', 'trial');

  CREATE TABLE counters (
    campaign_id integer NOT NULL REFERENCES campaigns (id),
    wave integer NOT NULL,
    state text NOT NULL,
    shard integer NOT NULL,
    n integer NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (campaign_id, wave, state, shard)
  );

  CREATE TABLE failure_counters (
    campaign_id integer NOT NULL REFERENCES campaigns (id),
    failure text NOT NULL,
    shard integer NOT NULL,
    n integer NOT NULL,
    PRIMARY KEY (campaign_id, failure, shard)
  );

  CREATE TABLE reports (
    id bigserial PRIMARY KEY,
    campaign_id integer NOT NULL,
    device_id text NOT NULL,
    state text NOT NULL,
    failure text,
    reason text,
    at bigint NOT NULL
  );

  CREATE TABLE leases (
    name text PRIMARY KEY,
    holder text NOT NULL,
    expires_at bigint NOT NULL
  );

  CREATE TABLE fleet_flags (
    name text PRIMARY KEY,
    set_at bigint NOT NULL,
    actor text
  );

  CREATE TABLE audit (
    id bigserial PRIMARY KEY,
    at bigint NOT NULL,
    actor text,
    event text NOT NULL,
    campaign_id integer,
    detail jsonb NOT NULL
  );
  `,
  // 2: download slots shared by every instance: the next free start time per campaign, and the
  // slot each device was given (kept, so a device asking again gets the same one).
  `
  CREATE TABLE download_slots (
    campaign_id integer PRIMARY KEY REFERENCES campaigns (id),
    next_at bigint NOT NULL
  );
  ALTER TABLE assignments ADD COLUMN download_at bigint;
  `,
  // 3: at most one active assignment per device, enforced (a database written before keeps the
  // oldest campaign's active one); released assignments waiting for their device, found by index.
  `
  UPDATE assignments a SET active = false
    WHERE a.active AND EXISTS (SELECT 1 FROM assignments b WHERE b.device_id = a.device_id AND b.active AND b.campaign_id < a.campaign_id);
  DROP INDEX assignments_active_device;
  CREATE UNIQUE INDEX assignments_active_device ON assignments (device_id) WHERE active;
  CREATE INDEX assignments_waiting ON assignments (campaign_id) WHERE NOT active AND state IN ('offered', 'downloading', 'staged', 'trial');
  `,
  // 4: retries used per failure type ({"download": 2, "timeout": 1}); `attempts` stays the total.
  `
  ALTER TABLE assignments ADD COLUMN retried jsonb NOT NULL DEFAULT '{}'::jsonb;
  `,
];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to {@link SCHEMA_VERSION}; returns the version it found. Throws
 * `DatabaseError` when the database's schema is newer than this code.
 *
 * @example
 * ```ts
 * const db = await openDatabase(undefined)
 * await migrate(db) // 0 the first time, then SCHEMA_VERSION
 * ```
 */
export async function migrate(db: SqlClient): Promise<number> {
  try {
    return await applyMigrations(db);
  } catch (error) {
    if (error instanceof DatabaseError) throw error;
    // A role without the right to create tables, a database in recovery: one line, not a stack.
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    throw new DatabaseError(`cannot prepare the database schema: ${message}`, { cause: error });
  }
}

async function applyMigrations(db: SqlClient): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query('CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)');
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_version');
    const found = rows[0]?.version ?? 0;
    if (found > SCHEMA_VERSION) throw new DatabaseError(`database schema version ${found} is newer than this sensorkit (${SCHEMA_VERSION}): upgrade sensorkit`);
    for (let version = found + 1; version <= SCHEMA_VERSION; version++) {
      for (const statement of statements(MIGRATIONS[version - 1] ?? '')) await tx.query(statement);
    }
    if (rows.length === 0) await tx.query('INSERT INTO schema_version (version) VALUES ($1)', [SCHEMA_VERSION]);
    else if (found !== SCHEMA_VERSION) await tx.query('UPDATE schema_version SET version = $1', [SCHEMA_VERSION]);
    return found;
  });
}

/** A migration's statements (extended-protocol queries take one statement each). */
function statements(sql: string): string[] {
  return sql
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
