import type { Kysely } from 'kysely';
import type { Database } from '../../src/adapters/db/database.js';
import type { NewTrade } from '../../src/domain/trade.js';

/**
 * Writes `count` trades straight into the ledger's table, a few thousand rows
 * per insert, with the ids the ledger would have given them: a ledger of a
 * hundred thousand trades in seconds, where POST /trades would take minutes.
 */
export async function seedTrades(db: Kysely<Database>, count: number, make: (i: number) => NewTrade): Promise<void> {
  const counter = await db.selectFrom('id_counters').select('last_id').where('name', '=', 'trades').executeTakeFirstOrThrow();
  let next = Number(counter.last_id) + 1;
  const ROWS_PER_INSERT = 4000; // 7 parameters each: under SQLite's 32766
  for (let start = 0; start < count; start += ROWS_PER_INSERT) {
    const rows = Array.from({ length: Math.min(ROWS_PER_INSERT, count - start) }, (_, i) => ({ id: next++, ...make(start + i) }));
    await db.insertInto('trades').values(rows).execute();
  }
  await db.updateTable('id_counters').set({ last_id: next - 1 }).where('name', '=', 'trades').execute();
}
