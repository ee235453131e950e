import { Migrator } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/adapters/db/connect.js';
import { migrateToLatest } from '../../src/adapters/db/migrate.js';
import * as trades from '../../src/adapters/db/migrations/2026-11-22T00-trades.js';
import * as marketData from '../../src/adapters/db/migrations/2026-11-22T01-market-data.js';
import { hashApiKey } from '../../src/app/api-keys.js';
import { parseDatabaseUrl } from '../../src/config.js';
import { createTestDatabase, testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';

const me = async (app: Awaited<ReturnType<typeof startService>>['app'], key: string) =>
  (await app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': key } })).statusCode;

describe.each(testEngines())('the one-active-key migration on %s', (engine) => {
  it('when accounts hold several active keys from before, then only the newest still works', async () => {
    const database = await createTestDatabase(engine);
    try {
      const db = connectDatabase(parseDatabaseUrl(database.url, 2));
      try {
        // The schema as it was before the migration, with what racing rotations left behind.
        const before = new Migrator({ db, provider: { getMigrations: async () => ({ '2026-11-22T00-trades': trades, '2026-11-22T01-market-data': marketData }) } });
        expect((await before.migrateToLatest()).error).toBeUndefined();
        for (const id of [1, 2]) {
          await db.insertInto('accounts').values({ id, name: 'D', last_name: 'M', email: `${id}@example.com`, email_key: `${id}@example.com`, created_at: 1 }).execute();
        }
        const keys = {
          older: { account_id: 1, created_at: 100, revoked_at: null },
          newest: { account_id: 1, created_at: 200, revoked_at: null },
          revoked: { account_id: 1, created_at: 300, revoked_at: 301 },
          tiedA: { account_id: 2, created_at: 100, revoked_at: null },
          tiedB: { account_id: 2, created_at: 100, revoked_at: null },
        };
        const key = (name: string) => name.padEnd(40, '0');
        for (const [name, row] of Object.entries(keys)) {
          await db.insertInto('api_keys').values({ key_hash: hashApiKey(key(name)), prefix: key(name).slice(0, 8), ...row }).execute();
        }
        await migrateToLatest(db);
        const tiedWinner = hashApiKey(key('tiedA')) > hashApiKey(key('tiedB')) ? 'tiedA' : 'tiedB';

        const { app } = await startService(engine, {}, database);
        const statuses = Object.fromEntries(await Promise.all(Object.keys(keys).map(async (name) => [name, await me(app, key(name))])));
        expect(statuses).toEqual({
          older: 401,
          newest: 200,
          revoked: 401,
          tiedA: tiedWinner === 'tiedA' ? 200 : 401,
          tiedB: tiedWinner === 'tiedB' ? 200 : 401,
        });
      } finally {
        await db.destroy();
      }
    } finally {
      await database.drop();
    }
  });
});
