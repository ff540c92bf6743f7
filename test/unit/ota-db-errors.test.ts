import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseError, redactUrl } from '../../ota/server/db/errors.js';
import { openDatabase } from '../../ota/server/db/sql.js';
import { freePort } from '../support/net.js';

describe('redactUrl', () => {
  const cases: [string, string, string][] = [
    ['user and password', 'postgres://ota:hunter2@db.plant:5432/ota', 'postgres://…@db.plant:5432/ota'],
    ['?password= parameter', 'postgres://ota@127.0.0.1:5432/ota?password=hunter2', 'postgres://…@127.0.0.1:5432/ota'],
    ['?password= without a user', 'postgresql://db.plant/ota?sslmode=require&password=hunter2', 'postgresql://db.plant/ota'],
    ['an encoded @ in the password', 'postgres://ota:hun%40ter2@db:5432/ota', 'postgres://…@db:5432/ota'],
    ['an unencoded @ in the password', 'postgres://ota:hun@ter2@db:5432/ota', 'postgres://…@db:5432/ota'],
    ['an unencoded / in the password', 'postgres://ota:hun/ter2@127.0.0.1:5432/ota', 'postgres://(unparsable URL)'],
    ['digits then / in the password', 'postgres://ota:123/hunter2@db/ota', 'postgres://(unparsable URL)'],
    ['a password starting with /', 'postgres://ota:/hunter2@db/ota', 'postgres://(unparsable URL)'],
    ['/ and @ in the password', 'postgres://ota:hun/t@er2@db/ota', 'postgres://(unparsable URL)'],
    ['? in the password', 'postgres://ota:12?hunter2@db/ota', 'postgres://(unparsable URL)'],
    ['# in the password', 'postgres://ota:12#hunter2@db/ota', 'postgres://(unparsable URL)'],
    ['a fragment', 'postgres://db/ota#hunter2', 'postgres://db/ota'],
    ['a socket directory', 'postgresql:///ota?host=/run/postgresql', 'postgresql:///ota'],
    ['no credentials', 'postgres://db.plant/ota', 'postgres://db.plant/ota'],
    ['another scheme', 'mysql://ota:hunter2@db/ota', 'mysql://…@db/ota'],
    ['garbage', 'postgres://ota:hunter2@[::1/ota', 'postgres://(unparsable URL)'],
  ];
  it.each(cases)('%s', (_, url, shown) => {
    expect(redactUrl(url)).toBe(shown);
    expect(redactUrl(url)).not.toMatch(/hunter2|ter2/);
  });
});

describe('openDatabase errors never show the password', () => {
  const saved = process.env.PGPASSWORD;
  afterEach(() => {
    if (saved === undefined) delete process.env.PGPASSWORD;
    else process.env.PGPASSWORD = saved;
  });

  async function refusal(url: string): Promise<DatabaseError> {
    const error = await openDatabase(url, { connectTimeoutMs: 2000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatabaseError);
    const e = error as DatabaseError;
    expect(e.message).not.toContain('\n');
    // Neither the line nor anything a logger prints of the error (its cause included).
    for (const text of [e.message, String(e), inspect(e, { depth: 10 }), JSON.stringify(e)]) expect(text).not.toMatch(/hunter2|ter2/);
    return e;
  }

  it('in the URL, as a parameter, with / or @, and in PGPASSWORD', async () => {
    const port = await freePort(); // closed again: nothing listens there
    expect((await refusal(`postgres://ota:hunter2@127.0.0.1:${port}/ota`)).message).toBe(`cannot reach postgres://…@127.0.0.1:${port}/ota: ECONNREFUSED`);
    expect((await refusal(`postgres://ota@127.0.0.1:${port}/ota?password=hunter2`)).message).toBe(`cannot reach postgres://…@127.0.0.1:${port}/ota: ECONNREFUSED`);
    expect((await refusal(`postgres://ota:hun@ter2@127.0.0.1:${port}/ota`)).message).toBe(`cannot reach postgres://…@127.0.0.1:${port}/ota: ECONNREFUSED`);
    expect((await refusal(`postgres://ota:hun/ter2@127.0.0.1:${port}/ota`)).message).toMatch(/^cannot reach postgres:\/\/\(unparsable URL\): /);
    expect((await refusal(`postgres://ota:${port}/hunter2@127.0.0.1:${port}/ota`)).message).toMatch(/^cannot reach postgres:\/\/\(unparsable URL\): /);
    process.env.PGPASSWORD = 'hunter2';
    expect((await refusal(`postgres://ota@127.0.0.1:${port}/ota`)).message).toBe(`cannot reach postgres://…@127.0.0.1:${port}/ota: ECONNREFUSED`);
  });

  it('for an unsupported scheme', async () => {
    const error = await openDatabase('mysql://ota:hunter2@db/ota').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toBe('unsupported database URL mysql://…@db/ota: expected postgres://…, postgresql://… or a directory');
  });
});
