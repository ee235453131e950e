import { createHash } from 'node:crypto';
import { type Kysely, type Migration, Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../src/adapters/db/connect.js';
import type { Database } from '../src/adapters/db/database.js';
import { migrateToLatest, migrations } from '../src/adapters/db/migrate.js';
import * as trades from '../src/adapters/db/migrations/2026-11-22T00-trades.js';
import * as marketData from '../src/adapters/db/migrations/2026-11-22T01-market-data.js';
import { parseDatabaseUrl } from '../src/config.js';
import { register } from './support/api.js';
import { createTestDatabase, testEngines } from './support/engines.js';
import { startService } from './support/service.js';

const ALL_MIGRATIONS = [
  '2026-11-22T00-trades',
  '2026-11-22T01-market-data',
  '2026-11-23T00-64-bit-ids',
  '2026-11-23T00-email-keys',
  '2026-11-23T01-upstream-budget',
  '2026-11-23T02-one-active-key',
  '2026-11-23T03-corporate-actions',
  '2026-11-23T04-symbol-currency',
  '2026-11-23T05-prefetch',
  '2026-11-23T06-served-requests',
  '2026-11-23T07-symbol-searches',
  '2026-11-23T08-idempotency-keys',
  '2026-12-03T00-trades-by-time',
  '2026-12-03T01-trades-by-user-covering',
  '2026-12-06T00-api-key-tags',
  '2026-12-07T00-pass-through-answers',
  '2026-12-07T01-deep-fetches',
  '2026-12-07T02-minute-fair-share',
  '2026-12-07T03-period-bars',
  '2026-12-08T00-account-allowances',
  '2026-12-09T00-ledger-claims',
];

/** The schema as a release before `latest` left it: only the migrations given. */
async function migrateOnly(db: Kysely<Database>, migrations: Record<string, Migration>): Promise<void> {
  const { error } = await new Migrator({ db, provider: { getMigrations: async () => migrations } }).migrateToLatest();
  if (error) throw error;
}

const TRADE = { type: 'buy', user_id: 23, symbol: 'ABX', shares: 30, price: 134, timestamp: 1531522701000 } as const;
const INT32_MAX = 2 ** 31 - 1;

describe.each(testEngines())('migrations on %s', (engine) => {
  async function withDatabase(test: (db: Kysely<Database>) => Promise<void>): Promise<void> {
    const database = await createTestDatabase(engine);
    const db = connectDatabase(parseDatabaseUrl(database.url, 2));
    try {
      await test(db);
    } finally {
      await db.destroy();
      await database.drop();
    }
  }

  it('when ids were 32-bit columns with rows in them, then the 64-bit migration keeps every row and ids past 2^31 fit', async () => {
    await withDatabase(async (db) => {
      await migrateOnly(db, { '2026-11-22T00-trades': trades, '2026-11-22T01-market-data': marketData });
      await db.insertInto('trades').values([{ id: 1, ...TRADE }, { id: INT32_MAX, ...TRADE, type: 'sell' }]).execute();
      await db.insertInto('accounts').values({ id: INT32_MAX, name: 'Dave', last_name: 'M', email: 'd@example.com', email_key: 'd@example.com', created_at: 1 }).execute();
      await db.insertInto('api_keys').values({ key_hash: 'a'.repeat(64), account_id: INT32_MAX, prefix: 'aaaaaaaa', created_at: 1, revoked_at: null }).execute();
      await db.updateTable('id_counters').set({ last_id: INT32_MAX }).execute();
      const before = await Promise.all([
        db.selectFrom('trades').selectAll().orderBy('id').execute(),
        db.selectFrom('accounts').selectAll().execute(),
        db.selectFrom('api_keys').selectAll().execute(),
      ]);

      await migrateToLatest(db);

      const after = await Promise.all([
        db.selectFrom('trades').selectAll().orderBy('id').execute(),
        db.selectFrom('accounts').selectAll().execute(),
        db.selectFrom('api_keys').selectAll().execute(),
      ]);
      // Every row kept; the keys, issued before keys had tags, are marked so (2026-12-06T00); the accounts keep THROTTLE_USER (2026-12-08T00).
      expect(after).toEqual([before[0], before[1].map((account) => ({ ...account, allowance: null })), before[2].map((key) => ({ ...key, tagged: 0 }))]);
      const big = Number.MAX_SAFE_INTEGER;
      await db.insertInto('trades').values([{ id: INT32_MAX + 1, ...TRADE }, { id: big, ...TRADE }]).execute();
      await db.insertInto('accounts').values({ id: big, name: 'Eve', last_name: 'N', email: 'e@example.com', email_key: 'e@example.com', created_at: 2 }).execute();
      await db.insertInto('api_keys').values({ key_hash: 'b'.repeat(64), account_id: big, prefix: 'bbbbbbbb', created_at: 2, revoked_at: null }).execute();
      const ids = await db.selectFrom('trades').select('id').where('id', '>', INT32_MAX).orderBy('id').execute();
      expect(ids).toEqual([{ id: INT32_MAX + 1 }, { id: big }]);
      const owner = await db.selectFrom('api_keys').select('account_id').where('key_hash', '=', 'b'.repeat(64)).executeTakeFirstOrThrow();
      expect(owner.account_id).toBe(big);
    });
  });

  it('when accounts were keyed by the lower-cased email, then keys are recomputed; look-alikes keep working, the oldest holds the address', async () => {
    const database = await createTestDatabase(engine);
    const db = connectDatabase(parseDatabaseUrl(database.url, 2));
    const longKeyEmail = `${'\u00df'.repeat(127)}@x.io`; // its new key, 'ss' × 127, is past 254
    const emails = [
      '\uff44ave@example.com', // fullwidth, registered first
      'dave@example.com', // already holds the key the fullwidth one now has
      'Jose\u0301@x.io',
      'jos\u00e9@x.io',
      'STRA\u1E9EE@x.io',
      'strasse@x.io',
      longKeyEmail,
      'plain@x.io',
    ];
    try {
      await migrateOnly(db, { '2026-11-22T00-trades': trades, '2026-11-22T01-market-data': marketData });
      for (const [index, email] of emails.entries()) {
        const id = index + 1;
        await db.insertInto('accounts').values({ id, name: 'N', last_name: 'L', email, email_key: email.toLowerCase(), created_at: id }).execute();
        const key = String(id).repeat(40).slice(0, 40);
        await db.insertInto('api_keys').values({ key_hash: createHash('sha256').update(key).digest('hex'), account_id: id, prefix: key.slice(0, 8), created_at: id, revoked_at: null }).execute();
      }
      await db.updateTable('id_counters').set({ last_id: emails.length }).where('name', '=', 'accounts').execute();
    } finally {
      await db.destroy();
    }

    const { app, db: migrated } = await startService(engine, {}, database); // migrates to the latest
    try {
      const keys = await migrated.selectFrom('accounts').select(['id', 'email', 'email_key']).orderBy('id').execute();
      expect(keys.map((k) => k.email_key)).toEqual(['dave@example.com', '#2', 'jos\u00e9@x.io', '#4', 'strasse@x.io', '#6', '#7', 'plain@x.io']);
      expect(keys.map((k) => k.email)).toEqual(emails);
      for (const id of [1, 2, 4, 7]) {
        const me = await app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': String(id).repeat(40).slice(0, 40) } });
        expect(me.statusCode, `account ${id}`).toBe(200);
      }
      for (const email of ['DAVE@example.com', 'jose\u0301@X.io', 'strasse@x.io', 'Plain@x.io']) {
        const again = await app.inject({ method: 'POST', url: '/api/v1/register/', payload: { name: 'N', last_name: 'L', email } });
        expect(again.statusCode, email).toBe(400);
        expect(again.json().field).toBe('email');
      }
      const fresh = await app.inject({ method: 'POST', url: '/api/v1/register/', payload: { name: 'N', last_name: 'L', email: 'new@x.io' } });
      expect(fresh.statusCode).toBe(201);
    } finally {
      await database.drop();
    }
  });

  it('when keys were issued before keys had tags, then after the migration the active ones work from an address that spent its allowance, and keys issued since carry a tag', async () => {
    const database = await createTestDatabase(engine);
    const db = connectDatabase(parseDatabaseUrl(database.url, 2));
    const legacyKey = (n: number) => String(n).repeat(40);
    try {
      await migrateOnly(db, Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '2026-12-06')));
      for (const id of [1, 2]) {
        await db.insertInto('accounts').values({ id, name: 'N', last_name: 'L', email: `${id}@x.io`, email_key: `${id}@x.io`, created_at: id }).execute();
        const key = legacyKey(id);
        const revoked = id === 2 ? 5 : null;
        await db.insertInto('api_keys').values({ key_hash: createHash('sha256').update(key).digest('hex'), account_id: id, prefix: key.slice(0, 8), created_at: id, revoked_at: revoked }).execute();
      }
      await db.updateTable('id_counters').set({ last_id: 2 }).where('name', '=', 'accounts').execute();
    } finally {
      await db.destroy();
    }

    const { app, db: migrated } = await startService(engine, { THROTTLE_ANON: '1/day' }, database); // migrates to the latest
    try {
      const me = (key: string) => app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': key }, remoteAddress: '198.51.100.4' });
      expect((await me('3'.repeat(40))).statusCode).toBe(401); // the address's one anonymous request
      expect((await me(legacyKey(2))).statusCode).toBe(429); // revoked: a wrong key, counted against the spent address
      expect((await me(legacyKey(1))).statusCode).toBe(200);
      const issued = await register(app, 'new@x.io');
      expect((await me(issued)).statusCode).toBe(200);
      const rows = await migrated.selectFrom('api_keys').select(['account_id', 'tagged']).orderBy('account_id').execute();
      expect(rows).toEqual([{ account_id: 1, tagged: 0 }, { account_id: 2, tagged: 0 }, { account_id: 3, tagged: 1 }]);
      const secrets = await migrated.selectFrom('service_secrets').select(['name', 'value']).execute();
      expect(secrets.map((row) => [row.name, /^[0-9a-f]{64}$/.test(row.value)])).toEqual([['api_key_tag', true]]);
    } finally {
      await database.drop();
    }
  });

  it('when the trade indexes of 2026-12-03 are migrated down and up again with trades stored, then every trade stays and the indexes are as each step leaves them', async () => {
    await withDatabase(async (db) => {
      async function tradeIndexes(): Promise<string[]> {
        const rows = engine === 'postgres'
          ? await sql<{ name: string }>`select indexname as name from pg_indexes where tablename = 'trades' and indexname <> 'trades_pkey'`.execute(db)
          : await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'trades' and sql is not null`.execute(db);
        return rows.rows.map((r) => r.name).sort();
      }
      await migrateToLatest(db);
      const stored = Array.from({ length: 500 }, (_, i) => ({ id: i + 1, ...TRADE, user_id: i % 7, symbol: `S${i % 13}`, timestamp: TRADE.timestamp - i }));
      await db.insertInto('trades').values(stored).execute();
      const before = await db.selectFrom('trades').selectAll().orderBy('id').execute();
      const latest = ['trades_symbol_id', 'trades_type_id', 'trades_user_id_covering', 'trades_user_id_timestamp_id'];
      expect(await tradeIndexes()).toEqual(latest);

      const migrator = new Migrator({ db, provider: { getMigrations: async () => ({ ...migrations }) } });
      const down = async () => {
        const { error } = await migrator.migrateDown();
        if (error) throw error;
      };
      // Every migration after 2026-12-03T01 undone (none touches the trade indexes), whatever comes later.
      const undone = await migrator.migrateTo('2026-12-03T01-trades-by-user-covering');
      if (undone.error) throw undone.error;
      expect(await tradeIndexes()).toEqual(latest);
      await down(); // 2026-12-03T01: back to (user_id, id)
      expect(await tradeIndexes()).toEqual(['trades_symbol_id', 'trades_type_id', 'trades_user_id_id', 'trades_user_id_timestamp_id']);
      expect(await db.selectFrom('trades').selectAll().orderBy('id').execute()).toEqual(before);
      await down(); // 2026-12-03T00
      expect(await tradeIndexes()).toEqual(['trades_symbol_id', 'trades_type_id', 'trades_user_id_id']);
      expect(await db.selectFrom('trades').selectAll().orderBy('id').execute()).toEqual(before);

      const { error } = await migrator.migrateToLatest();
      if (error) throw error;
      expect(await tradeIndexes()).toEqual(latest);
      expect(await db.selectFrom('trades').selectAll().orderBy('id').execute()).toEqual(before);
      expect(await migrateToLatest(db)).toEqual([]);
    });
  });

  it('when run on an up-to-date database, then nothing is applied and the data stays', async () => {
    const database = await createTestDatabase(engine);
    const db = connectDatabase(parseDatabaseUrl(database.url, 2));
    try {
      expect((await migrateToLatest(db)).map((r) => r.migrationName)).toEqual(ALL_MIGRATIONS);
      await db.updateTable('id_counters').set({ last_id: 7 }).where('name', '=', 'trades').execute();
      expect(await migrateToLatest(db)).toEqual([]);
      const counter = await db.selectFrom('id_counters').select('last_id').where('name', '=', 'trades').executeTakeFirstOrThrow();
      expect(counter.last_id).toBe(7);
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});

// Only PostgreSQL serves several instances; Kysely's advisory lock is what this checks.
describe.each(testEngines().filter((e) => e === 'postgres'))('concurrent migrations on %s', (engine) => {
  it('when several instances migrate one database at once, then each succeeds and the schema is created once', async () => {
    const database = await createTestDatabase(engine);
    const instances = Array.from({ length: 4 }, () => connectDatabase(parseDatabaseUrl(database.url, 2)));
    try {
      await Promise.all(instances.map((db) => migrateToLatest(db)));
      const db = instances[0]!;
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
      expect(rows.map((r) => r.name)).toEqual(ALL_MIGRATIONS);
      const counters = await db.selectFrom('id_counters').selectAll().orderBy('name').execute();
      expect(counters).toEqual([
        { name: 'accounts', last_id: 0 },
        { name: 'trades', last_id: 0 },
      ]);
    } finally {
      await Promise.all(instances.map((db) => db.destroy()));
      await database.drop();
    }
  });
});
