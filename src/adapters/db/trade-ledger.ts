import type { CompiledQuery, Kysely } from 'kysely';
import type { TradeLedger } from '../../app/trades.js';
import type { NewTrade, Trade, TradeFilter } from '../../domain/trade.js';
import type { Database } from './database.js';
import { takeNextId } from './ids.js';
import { withinTransaction } from './transaction.js';

const TRADE_COLUMNS = ['id', 'type', 'user_id', 'symbol', 'shares', 'price', 'timestamp'] as const;

/** The trade ledger on SQLite or PostgreSQL, through one code path. */
export function createTradeLedger(db: Kysely<Database>): TradeLedger {
  // Compiled once: building and compiling Kysely's query tree per read cost as much as running it.
  // Its one parameter is the id, replaced at each call.
  const byId: CompiledQuery<Trade> = db.selectFrom('trades').select(TRADE_COLUMNS).where('id', '=', 0).compile();
  return {
    async append(trade: NewTrade): Promise<Trade> {
      return withinTransaction(db, async (trx) => {
        const { type, user_id, symbol, shares, price, timestamp } = trade;
        const stored: Trade = { id: await takeNextId(trx, 'trades'), type, user_id, symbol, shares, price, timestamp };
        await trx.insertInto('trades').values(stored).execute();
        return stored;
      });
    },

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
  };
}
