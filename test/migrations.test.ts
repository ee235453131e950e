import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../src/adapters/db/connect.js';
import { migrateToLatest } from '../src/adapters/db/migrate.js';
import { parseDatabaseUrl } from '../src/config.js';
import { createTestDatabase, testEngines } from './support/engines.js';

describe.each(testEngines().filter((e) => e === 'postgres'))('migrations on %s', (engine) => {
  it('when several instances migrate one database at once, then each succeeds and the schema is created once', async () => {
    const database = await createTestDatabase(engine);
    const instances = Array.from({ length: 4 }, () => connectDatabase(parseDatabaseUrl(database.url, 2)));
    try {
      await Promise.all(instances.map((db) => migrateToLatest(db)));
      const db = instances[0]!;
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
      expect(rows.map((r) => r.name)).toEqual(['2026-11-22T00-trades', '2026-11-22T01-market-data']);
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
