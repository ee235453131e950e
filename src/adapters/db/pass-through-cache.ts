import type { Kysely } from 'kysely';
import { canonicalQuery } from '../../domain/alpha-vantage-functions.js';
import type { KeptAnswer, PassThroughCache } from '../../app/market-data/pass-through.js';
import type { Database, PassThroughAnswersTable } from './database.js';

/** Rows deleted per statement when pruning: well within both engines' limits on bound parameters. */
const DELETE_CHUNK = 500;

/** Passed-through answers on SQLite or PostgreSQL, one row per distinct call. */
export function createPassThroughCache(db: Kysely<Database>): PassThroughCache {
  return {
    async get(key) {
      const row = await db
        .selectFrom('pass_through_answers')
        .select(['kind', 'format', 'body', 'source', 'fetched_at', 'expires_at'])
        .where('key', '=', key)
        .executeTakeFirst();
      if (!row) return undefined;
      const answer: KeptAnswer['answer'] =
        row.kind === 'too_large' ? { kind: 'too_large' } : { kind: row.kind, format: row.format === 'csv' ? 'csv' : 'json', body: row.body };
      // bigint columns come back from PostgreSQL as strings.
      return { answer, source: row.source, fetchedAt: Number(row.fetched_at), expiresAt: Number(row.expires_at) };
    },

    async put(key, query, { answer, source, fetchedAt, expiresAt }) {
      const body = answer.kind === 'too_large' ? '' : answer.body;
      const text = canonicalQuery(query);
      const values: PassThroughAnswersTable = {
        key,
        function: query.function,
        query: text,
        kind: answer.kind,
        format: answer.kind === 'too_large' ? '' : answer.format,
        body,
        // The call's text is kept with its answer (up to some 31 KB of forwarded values): both count against the bound.
        size: Buffer.byteLength(body) + Buffer.byteLength(text),
        source,
        fetched_at: fetchedAt,
        expires_at: expiresAt,
      };
      const { key: _key, function: _function, query: _query, ...changed } = values;
      await db
        .insertInto('pass_through_answers')
        .values(values)
        .onConflict((oc) => oc.column('key').doUpdateSet(changed))
        .execute();
    },

    async prune(expiredBefore, maxBytes) {
      await db.deleteFrom('pass_through_answers').where('expires_at', '<', expiredBefore).execute();
      // The sum alone on most prunes: the rows are read only once the bound is passed.
      const { total } = await db
        .selectFrom('pass_through_answers')
        .select((eb) => eb.fn.coalesce(eb.fn.sum<number | string>('size'), eb.lit(0)).as('total'))
        .executeTakeFirstOrThrow();
      if (Number(total) <= maxBytes) return;
      const rows = await db.selectFrom('pass_through_answers').select(['key', 'size']).orderBy('fetched_at', 'desc').orderBy('key').execute();
      let kept = 0;
      const evicted: string[] = [];
      for (const row of rows) {
        kept += Number(row.size);
        if (kept > maxBytes) evicted.push(row.key);
      }
      for (let i = 0; i < evicted.length; i += DELETE_CHUNK) {
        await db.deleteFrom('pass_through_answers').where('key', 'in', evicted.slice(i, i + DELETE_CHUNK)).execute();
      }
    },
  };
}
