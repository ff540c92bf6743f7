/**
 * A PostgreSQL transaction that loses a race to another instance (deadlock, serialization failure,
 * the unique index of one active campaign per device) is run once more from the start; any other
 * error, or a second loss, reaches the caller. The losing instance is real: a second connection
 * that holds the row and commits first.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { SqlClient } from '../../ota/server/db/sql.js';
import { fleetBackends } from '../support/fleet-db.js';

const postgres = fleetBackends().find((backend) => backend.name === 'postgres');
const clients: SqlClient[] = [];
afterAll(async () => {
  for (const client of clients) await client.close();
});

describe.runIf(postgres !== undefined)('SqlClient.transaction on PostgreSQL', () => {
  it("runs a transaction that hit the unique index once more, and then sees the winner's row", async () => {
    const a = await postgres!.open('retry');
    const b = await postgres!.open('retry');
    clients.push(a, b);
    await a.query('CREATE TABLE active (device TEXT PRIMARY KEY, campaign INT NOT NULL)');
    let attempts = 0;
    const result = await a.transaction(async (tx) => {
      attempts++;
      const { rows } = await tx.query<{ campaign: number }>('SELECT campaign FROM active WHERE device = $1', ['SN1']);
      if (rows.length > 0) return `already active in campaign ${rows[0]!.campaign}`;
      // The other instance claims the device and commits between our read and our insert.
      if (attempts === 1) await b.query('INSERT INTO active VALUES ($1, $2)', ['SN1', 7]);
      await tx.query('INSERT INTO active VALUES ($1, $2)', ['SN1', 8]);
      return 'claimed';
    });
    expect(attempts).toBe(2);
    expect(result).toBe('already active in campaign 7');
  });

  it('gives up after the second loss, and never retries another error', async () => {
    const a = await postgres!.open('retry-2');
    clients.push(a);
    let attempts = 0;
    await expect(
      a.transaction(async () => {
        attempts++;
        throw Object.assign(new Error('could not serialize access'), { code: '40001' });
      }),
    ).rejects.toThrow('could not serialize access');
    expect(attempts).toBe(2);
    attempts = 0;
    await expect(
      a.transaction(async (tx) => {
        attempts++;
        await tx.query('SELECT * FROM no_such_table');
      }),
    ).rejects.toThrow(/no_such_table/);
    expect(attempts).toBe(1);
  });
});
