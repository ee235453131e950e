import type { Kysely } from 'kysely';
import type { SymbolMatch } from '../../app/market-data/providers.js';
import type { SearchCache } from '../../app/market-data/search.js';
import type { Database } from './database.js';

/** Search answers on SQLite or PostgreSQL, one row per normalised query. */
export function createSearchCache(db: Kysely<Database>): SearchCache {
  return {
    async get(query) {
      const row = await db.selectFrom('symbol_searches').select(['matches', 'source', 'fetched_at']).where('query', '=', query).executeTakeFirst();
      return row && { matches: JSON.parse(row.matches) as SymbolMatch[], source: row.source, fetchedAt: Number(row.fetched_at) };
    },

    async put(query, { matches, source, fetchedAt }) {
      const values = { query, matches: JSON.stringify(matches), source, fetched_at: fetchedAt };
      await db
        .insertInto('symbol_searches')
        .values(values)
        .onConflict((oc) => oc.column('query').doUpdateSet({ matches: values.matches, source, fetched_at: fetchedAt }))
        .execute();
    },
  };
}
