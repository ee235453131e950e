/**
 * Trades: record one (the rules are domain/trade.ts), get one by id, and
 * list them a page at a time or all at once, over the trade ledger port.
 */
import { NotFoundError } from '../domain/errors.js';
import { checkNewTrade, type NewTrade, type Trade, type TradeFilter } from '../domain/trade.js';
import { fingerprintOf, type Idempotency, type IdempotentTransaction } from './idempotency.js';
import type { LedgerAccess } from './ledger-claims.js';

/** Port: where trades are kept. Ids are assigned by the ledger, gapless from 1. */
export interface TradeLedger {
  append(trade: NewTrade): Promise<Trade>;
  findById(id: number): Promise<Trade | undefined>;
  /** Trades matching `filter` with id > afterId, ascending, at most `limit`. */
  listAfter(filter: TradeFilter, afterId: number, limit: number): Promise<Trade[]>;
  /** How many trades match `filter` with id > afterId: what an unpaged list will send, for its cost. */
  countAfter(filter: TradeFilter, afterId: number): Promise<number>;
  /**
   * One user's trades with timestamp ≤ `until` and id ≤ `throughId`, in (timestamp, id) order, after
   * `after` in that order, at most `limit`: a portfolio counts trades as they happened.
   */
  listInTimeOrder(userId: number, window: TradeWindow, after: TradeCursor | undefined, limit: number): Promise<Trade[]>;
  /**
   * The id of the latest trade recorded, 0 when none. Ids are taken from one
   * counter row, locked until its transaction commits, so they commit in
   * order: the trades with ids up to it are the whole ledger at the moment it
   * was read, and reading only those, page after page, reads that one ledger.
   */
  lastId(): Promise<number>;
}

/** Which trades a read in time order sees: up to a time, and as the ledger was when `throughId` was its last. */
export interface TradeWindow {
  until: number;
  throughId: number;
}

/** A place in (timestamp, id) order. */
export type TradeCursor = Pick<Trade, 'timestamp' | 'id'>;

/** `mayUse` is the ledger-claim rule (app/ledger-claims.ts): a claimed user_id is written by its owner only, and nothing else is. */
export async function recordTrade(ledger: TradeLedger, trade: NewTrade, mayUse: LedgerAccess): Promise<Trade> {
  checkNewTrade(trade);
  await mayUse(trade.user_id);
  return ledger.append(trade);
}

/** Where a trade is recorded once per Idempotency-Key: the ledger and the keys, in one transaction. */
export interface TradeOnce {
  idempotency: Idempotency;
  transaction: IdempotentTransaction<TradeLedger>;
}

/**
 * Records a trade once per `key`: a retry with the same trade gets the trade
 * first recorded (`replayed`), not a second one. Keys are scoped by route
 * alone, since the ledger has no clients to tell apart (README, "Idempotent writes").
 */
export async function recordTradeOnce(once: TradeOnce, key: string, trade: NewTrade, mayUse: LedgerAccess): Promise<{ trade: Trade; replayed: boolean }> {
  checkNewTrade(trade);
  // Before the key is looked at: a replay is the same body, so the same user_id, and a non-owner gets no kept answer of a claimed ledger.
  await mayUse(trade.user_id);
  const request = { route: 'POST /trades', key, fingerprint: fingerprintOf(trade) };
  const result = await once.idempotency.writeOnce(
    once.transaction,
    request,
    (ledger) => ledger.append(trade),
    (stored) => ({ status: 201, body: JSON.stringify(stored) }),
  );
  if (!result.replayed) return { trade: result.answer, replayed: false };
  return { trade: JSON.parse(result.kept.body) as Trade, replayed: true };
}

/** A trade of a claimed ledger is its owner's to read: 403 to anyone else (ids are gapless, so its existence is no secret). */
export async function getTrade(ledger: TradeLedger, id: number, mayUse: LedgerAccess): Promise<Trade> {
  const trade = await ledger.findById(id);
  if (!trade) throw new NotFoundError('Not found.');
  await mayUse(trade.user_id);
  return trade;
}

/**
 * The filter a client's list is read with: one user_id's trades are checked against the claim rule
 * (403 for a claimed ledger not the caller's); a list not narrowed to a user_id leaves out every claimed
 * ledger's trades, the caller's own too (they are read with user_id=), so the whole ledger cannot be
 * read around a claim. The operator's export (cli/trades.ts) reads without this.
 */
export async function clientTradeFilter(filter: TradeFilter, mayUse: LedgerAccess): Promise<TradeFilter> {
  if (filter.user_id === undefined) return { ...filter, unclaimedOnly: true };
  await mayUse(filter.user_id);
  return filter;
}

export interface TradePage {
  trades: Trade[];
  /** Where the next page starts, or undefined on the last page. */
  nextAfterId: number | undefined;
}

export async function getTradePage(
  ledger: TradeLedger,
  filter: TradeFilter,
  afterId: number,
  limit: number,
): Promise<TradePage> {
  // One row more than asked tells whether a next page exists without a COUNT.
  const rows = await ledger.listAfter(filter, afterId, limit + 1);
  const trades = rows.slice(0, limit);
  const nextAfterId = rows.length > limit ? trades[trades.length - 1]?.id : undefined;
  return { trades, nextAfterId };
}

/**
 * Every matching trade, in id order, one bounded batch at a time, so a ledger of
 * millions is never held in memory. Keyset batches rather than a cursor: each
 * batch is a short query on either engine, and no connection is held open
 * while a slow client reads.
 */
export async function* listAllTrades(
  ledger: TradeLedger,
  filter: TradeFilter,
  afterId = 0,
  batchSize = 1000,
): AsyncGenerator<Trade[]> {
  for (;;) {
    const batch = await ledger.listAfter(filter, afterId, batchSize);
    if (batch.length > 0) yield batch;
    const last = batch[batch.length - 1];
    if (batch.length < batchSize || !last) return;
    afterId = last.id;
  }
}
