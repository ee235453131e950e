import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../src/adapters/db/connect.js';
import { migrateToLatest } from '../src/adapters/db/migrate.js';
import { parseDatabaseUrl } from '../src/config.js';
import { createTestDatabase, testEngines } from './support/engines.js';

describe.each(testEngines())('migrations on %s', (engine) => {
  it('when run on an up-to-date database, then nothing is applied and the data stays', async () => {
    const database = await createTestDatabase(engine);
    const db = connectDatabase(parseDatabaseUrl(database.url, 2));
    try {
      expect((await migrateToLatest(db)).map((r) => r.migrationName)).toEqual(['2026-11-22T00-trades', '2026-11-22T01-market-data', '2026-11-23T01-upstream-budget']);
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
      expect(rows.map((r) => r.name)).toEqual(['2026-11-22T00-trades', '2026-11-22T01-market-data', '2026-11-23T01-upstream-budget']);
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
