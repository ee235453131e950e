import type { CompiledQuery, Kysely } from 'kysely';
import type { TradeCursor, TradeLedger, TradeWindow } from '../../app/trades.js';
import { DatabaseUnavailableError } from '../../domain/errors.js';
import type { NewTrade, Trade, TradeFilter } from '../../domain/trade.js';
import type { Database } from './database.js';
import { groupCommit } from './group-commit.js';
import { takeNextIds } from './ids.js';

const TRADE_COLUMNS = ['id', 'type', 'user_id', 'symbol', 'shares', 'price', 'timestamp'] as const;

/**
 * At 64 concurrent writers a batch holds about 64; the bound keeps one
 * insert's parameters (7 per trade) far below either engine's limit and one
 * transaction short.
 */
const MAX_TRADES_PER_COMMIT = 256;

/** Writes `trades` within `trx` with consecutive ids in array order: one counter update, one insert. */
async function appendAll(trx: Kysely<Database>, trades: NewTrade[]): Promise<Trade[]> {
  const first = await takeNextIds(trx, 'trades', trades.length);
  const stored = trades.map(({ type, user_id, symbol, shares, price, timestamp }, i): Trade => ({
    id: first + i,
    type,
    user_id,
    symbol,
    shares,
    price,
    timestamp,
  }));
  await trx.insertInto('trades').values(stored).execute();
  return stored;
}

/**
 * Appends on `db`: in the caller's transaction when `db` is one (an
 * Idempotency-Key's write, which must commit with its key, so goes alone);
 * otherwise by group commit — concurrent appends share one transaction, and
 * each resolves only once that transaction has committed.
 */
function appender(db: Kysely<Database>): (trade: NewTrade) => Promise<Trade> {
  if (db.isTransaction) return async (trade) => (await appendAll(db, [trade]))[0]!;
  return groupCommit({
    commit: (trades) => db.transaction().execute((trx) => appendAll(trx, trades)),
    maxBatch: MAX_TRADES_PER_COMMIT,
    // A row the database refuses fails alone; a database that is away fails the batch at once.
    retryAlone: (error) => !(error instanceof DatabaseUnavailableError),
  });
}

/** The trade ledger on SQLite or PostgreSQL, through one code path. */
export function createTradeLedger(db: Kysely<Database>): TradeLedger {
  const append = appender(db);
  // Compiled once: building and compiling Kysely's query tree per read cost as much as running it.
  // Its one parameter is the id, replaced at each call.
  const byId: CompiledQuery<Trade> = db.selectFrom('trades').select(TRADE_COLUMNS).where('id', '=', 0).compile();
  return {
    append,

    async findById(id: number): Promise<Trade | undefined> {
      const { rows } = await db.executeQuery<Trade>({ ...byId, parameters: [id] });
      return rows[0];
    },

    async listAfter(filter: TradeFilter, afterId: number, limit: number): Promise<Trade[]> {
      let query = db.selectFrom('trades').select(TRADE_COLUMNS).where('id', '>', afterId);
      if (filter.user_id !== undefined) query = query.where('user_id', '=', filter.user_id);
      if (filter.type !== undefined) query = query.where('type', '=', filter.type);
      if (filter.symbol !== undefined) query = query.where('symbol', '=', filter.symbol);
      return query.orderBy('id').limit(limit).execute();
    },

    async listInTimeOrder(userId: number, { until, throughId }: TradeWindow, after: TradeCursor | undefined, limit: number): Promise<Trade[]> {
      let query = db
        .selectFrom('trades')
        .select(TRADE_COLUMNS)
        .where('user_id', '=', userId)
        .where('timestamp', '<=', until)
        .where('id', '<=', throughId);
      if (after) {
        query = query.where((eb) =>
          eb.or([eb('timestamp', '>', after.timestamp), eb.and([eb('timestamp', '=', after.timestamp), eb('id', '>', after.id)])]),
        );
      }
      return query.orderBy('timestamp').orderBy('id').limit(limit).execute();
    },

    async lastId(): Promise<number> {
      const row = await db.selectFrom('id_counters').select('last_id').where('name', '=', 'trades').executeTakeFirst();
      return Number(row?.last_id ?? 0);
    },
  };
}
