import { type CompiledQuery, type Kysely, sql } from 'kysely';
import { LRUCache } from 'lru-cache';
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

/** Which filters a list query has (user_id, type, symbol, unclaimedOnly): each combination is one SQL text, compiled once. */
type FilterShape = `${boolean} ${boolean} ${boolean} ${boolean}`;

/** Trades kept at hand by id: a ledger row never changes once written, so a kept copy is never stale. */
const TRADES_KEPT = 10_000;

/** List queries kept compiled with their page size written in (see listQuery). */
const LITERAL_LIMITS = 64;

/** The trade ledger on SQLite or PostgreSQL, through one code path. */
export function createTradeLedger(db: Kysely<Database>): TradeLedger {
  const append = appender(db);
  // Compiled once: building and compiling Kysely's query tree per read cost as much as running it.
  // Its one parameter is the id, replaced at each call.
  const byId: CompiledQuery<Trade> = db.selectFrom('trades').select(TRADE_COLUMNS).where('id', '=', 0).compile();
  // The ledger is append-only (no route or use case updates or deletes a trade), so a trade read once is the
  // trade for good: reads by id are answered from memory after the first. Unknown ids are not kept (the
  // trade may be written next).
  const kept = new LRUCache<number, Trade>({ maxSize: TRADES_KEPT, sizeCalculation: () => 1 });
  // The list's queries, compiled once per combination of filters (16 at most) and page size, as the by-id query
  // is: parameters in the order the query names them (after_id, the filters present). The page size is written
  // into the SQL text, not bound: on SQLite a bound LIMIT made every run of the statement cost more (a user's
  // 10 trades from 1M, alone: 21 µs bound, 11 µs written in; a row by primary key 4.4 against 2.0 — the extra
  // grows with the query, as re-planning would). Page sizes are few (the unpaged list's batch, a client's `limit` + 1); past
  // LITERAL_LIMITS of them the query binds its limit as before, so no client can fill the statement cache.
  const lists = new Map<string, CompiledQuery<Trade>>();
  function listQuery(filter: TradeFilter, limit: number): { compiled: CompiledQuery<Trade>; bindsLimit: boolean } {
    const unclaimedOnly = filter.unclaimedOnly === true;
    const shape: FilterShape = `${filter.user_id !== undefined} ${filter.type !== undefined} ${filter.symbol !== undefined} ${unclaimedOnly}`;
    const literal = `${shape} ${limit}`;
    const known = lists.get(literal) ?? lists.get(shape);
    if (known) return { compiled: known, bindsLimit: !lists.has(literal) };
    const bindsLimit = lists.size >= LITERAL_LIMITS || !Number.isSafeInteger(limit) || limit < 0;
    let query = db.selectFrom('trades').select(TRADE_COLUMNS).where('id', '>', 0);
    if (filter.user_id !== undefined) query = query.where('user_id', '=', 0);
    // The claimed ledgers left out (app/trades.ts clientTradeFilter). It binds no parameter, so the order below
    // holds; the claims are a small table, read once per query (PostgreSQL hashes it, SQLite probes its primary key).
    if (unclaimedOnly) query = query.where('user_id', 'not in', db.selectFrom('ledger_claims').select('user_id'));
    if (filter.type !== undefined) query = query.where('type', '=', 'buy');
    if (filter.symbol !== undefined) query = query.where('symbol', '=', '');
    const compiled = query
      .orderBy('id')
      .limit(bindsLimit ? 1 : sql.lit(limit))
      .compile();
    lists.set(bindsLimit ? shape : literal, compiled);
    return { compiled, bindsLimit };
  }
  return {
    append,

    async findById(id: number): Promise<Trade | undefined> {
      const known = kept.get(id);
      if (known) return known;
      const { rows } = await db.executeQuery<Trade>({ ...byId, parameters: [id] });
      const trade = rows[0];
      // Frozen: one object answers every later read, so no caller may change it.
      if (trade) kept.set(id, Object.freeze(trade));
      return trade;
    },

    async listAfter(filter: TradeFilter, afterId: number, limit: number): Promise<Trade[]> {
      const { compiled, bindsLimit } = listQuery(filter, limit);
      const parameters: unknown[] = [afterId];
      if (filter.user_id !== undefined) parameters.push(filter.user_id);
      if (filter.type !== undefined) parameters.push(filter.type);
      if (filter.symbol !== undefined) parameters.push(filter.symbol);
      if (bindsLimit) parameters.push(limit);
      const { rows } = await db.executeQuery<Trade>({ ...compiled, parameters });
      return rows;
    },

    async countAfter(filter: TradeFilter, afterId: number): Promise<number> {
      let query = db.selectFrom('trades').select((eb) => eb.fn.countAll<number | string | bigint>().as('count')).where('id', '>', afterId);
      if (filter.user_id !== undefined) query = query.where('user_id', '=', filter.user_id);
      // As the list it charges for: the claimed ledgers it leaves out are not counted either.
      if (filter.unclaimedOnly === true) query = query.where('user_id', 'not in', db.selectFrom('ledger_claims').select('user_id'));
      if (filter.type !== undefined) query = query.where('type', '=', filter.type);
      if (filter.symbol !== undefined) query = query.where('symbol', '=', filter.symbol);
      const { count } = await query.executeTakeFirstOrThrow();
      return Number(count); // PostgreSQL's count(*) is a bigint, which its driver gives as a string
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
