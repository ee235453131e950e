/**
 * A user's portfolio: their trades folded into positions (domain/portfolio.ts)
 * and carried through their symbols' splits and dividends, valued at the
 * latest quotes or at a past day's close, and its value over time. A symbol
 * that cannot be priced is listed without a price and with why; it never
 * fails the rest.
 *
 * Actions: the fold that finds what a request costs (one per symbol priced)
 * uses the actions stored, with no upstream call. The symbols then priced
 * have their actions refreshed when due, as adjusted history does (and at
 * its cost upstream); when that brings actions the fold did not know, the
 * trades are folded again with them, from the same ledger.
 */
import { DomainError, ValidationError } from '../domain/errors.js';
import {
  type AppliedAction,
  appliedActions,
  carryTo,
  type Close,
  closeInUnits,
  createHoldings,
  figuresOf,
  type Holding,
  type Point,
  pointOf,
  positionKey,
  type PortfolioTotals,
  type PositionFigures,
  type PositionValue,
  type SymbolActions,
  symbolOrder,
  totalsOf,
  unpricedReturn,
  valueOf,
} from '../domain/portfolio.js';
import { addDays, utcDay } from '../domain/market-calendar.js';
import { isCalendarDate } from '../domain/quote.js';
import type { Trade } from '../domain/trade.js';
import type { FreshActions } from './market-data/corporate-actions.js';
import { BATCH_MAX_SYMBOLS, type QuoteService } from './market-data/quotes.js';
import { type CacheState, type Requester, worstCacheState } from './market-data/refresh.js';
import type { TradeLedger, TradeWindow } from './trades.js';

/** How far back from a day a close is looked for (weekends, holidays, a halt): beyond it, that day has no price. */
export const CLOSE_LOOKBACK_DAYS = 31;
/** The value-over-time series: one year unless asked, at most five (to − from, in days). */
export const HISTORY_DEFAULT_DAYS = 365;
export const HISTORY_MAX_DAYS = 1827;
/**
 * The trades one request folds, at most. The ledger takes trades from anyone
 * (no key, unthrottled by default), so a user_id's ledger is as long as anyone
 * likes, and reading and folding costs time per trade (measured 2.5 to 5 s for
 * 200,000 on a busy 2-core machine): unbounded, a 1,000-a-day key could keep a
 * core busy. 10,000 trades is years of an active trader's ledger and 0.2 to
 * 0.3 s there; beyond it the request is refused (a ValidationError on
 * user_id) after reading one more, never partly answered. SQL aggregation would not bound it: positions need
 * every trade in time order, and the count of symbols needs positions.
 */
export const PORTFOLIO_MAX_TRADES = 10_000;
const TRADES_PER_READ = 1000;
const DAY_MS = 86_400_000;

export interface PortfolioRequest {
  userId: number;
  /** The trades folded at most (PORTFOLIO_MAX_TRADES). */
  maxTrades: number;
  /** YYYY-MM-DD: value at that day's close, counting trades up to its end (UTC). */
  asOf?: string;
  /** The day positions are carried to through splits and dividends: as_of, or today (UTC). */
  day: string;
}

export interface HistoryRequest {
  userId: number;
  maxTrades: number;
  from: string;
  to: string;
}

export type PricedPosition = PositionFigures &
  Nullable<PositionValue> & {
    cache: CacheState | null;
    reason: string | null;
    /** Why the symbol's splits and dividends are not known (none applied), when they could not be had. */
    actions_reason: string | null;
  };
type Nullable<T> = { [K in keyof T]: T[K] | null };

export interface Portfolio {
  user_id: number;
  as_of: string | null;
  positions: PricedPosition[];
  totals: PortfolioTotals;
  /** The splits and dividends that changed a position, by date. */
  applied_actions: AppliedAction[];
  /** The worst cache state of the symbols priced and their actions (HIT when none was). */
  cache: CacheState;
}

export interface PortfolioHistory {
  user_id: number;
  from: string;
  to: string;
  points: Point[];
  unpriced: { symbol: string; reason: string }[];
  /** The splits and dividends within the range that changed a priced position, by date. */
  applied_actions: AppliedAction[];
  /** Priced symbols whose splits and dividends could not be had (none applied), and why. */
  actions_unavailable: { symbol: string; reason: string }[];
  cache: CacheState;
}

const endOfDay = (date: string) => Date.parse(`${date}T00:00:00Z`) + DAY_MS - 1;
const maxDay = (a: string, b: string) => (a > b ? a : b);

/** A ledger user_id sent as text (a path segment): a non-negative safe integer, or 400 on `user_id`. */
export function userIdOf(raw: string): number {
  const id = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) throw new ValidationError('user_id', 'must be a non-negative integer');
  return id;
}

/**
 * Trade timestamps are epoch milliseconds, never negative (domain/trade.ts), so
 * no trade is older. Earlier days held nothing, and before year 0 a default
 * `from` or a close's look-back would no longer be a YYYY-MM-DD day.
 */
const EARLIEST_DAY = '1970-01-01';

function dateOf(field: string, raw: string, now: Date): string {
  if (!isCalendarDate(raw)) throw new ValidationError(field, 'must be a date as YYYY-MM-DD');
  if (raw < EARLIEST_DAY) throw new ValidationError(field, `must not be before ${EARLIEST_DAY} (no trade is older)`);
  if (raw > utcDay(now)) throw new ValidationError(field, `must not be after today (${utcDay(now)}, UTC)`);
  return raw;
}

/** The portfolio asked for, checked: a ValidationError names the field at fault. */
export function portfolioRequest(raw: { user_id: string; as_of?: string }, now: Date, maxTrades = PORTFOLIO_MAX_TRADES): PortfolioRequest {
  const userId = userIdOf(raw.user_id);
  if (raw.as_of === undefined) return { userId, maxTrades, day: utcDay(now) };
  const asOf = dateOf('as_of', raw.as_of, now);
  return { userId, maxTrades, asOf, day: asOf };
}

/** The series asked for, checked; without `to`, today; without `from`, HISTORY_DEFAULT_DAYS before `to`. */
export function historyRequest(raw: { user_id: string; from?: string; to?: string }, now: Date, maxTrades = PORTFOLIO_MAX_TRADES): HistoryRequest {
  const userId = userIdOf(raw.user_id);
  const to = raw.to === undefined ? utcDay(now) : dateOf('to', raw.to, now);
  const from = raw.from === undefined ? maxDay(addDays(to, -HISTORY_DEFAULT_DAYS), EARLIEST_DAY) : dateOf('from', raw.from, now);
  if (from > to) throw new ValidationError('from', 'must not be after to');
  const days = (Date.parse(to) - Date.parse(from)) / DAY_MS;
  if (days > HISTORY_MAX_DAYS) throw new ValidationError('from', `the range may span at most ${HISTORY_MAX_DAYS} days (5 years); it spans ${days}`);
  return { userId, maxTrades, from, to };
}

/** Who a fold reads, and how many trades it may read (more is refused, nothing answered). */
type Folded = Pick<PortfolioRequest, 'userId' | 'maxTrades'>;

/** A user's trades up to `until`, in tradeOrder, a bounded batch at a time; refused (nothing answered) once more than `maxTrades` are read. */
async function* tradePages(ledger: TradeLedger, { userId, maxTrades }: Folded, window: TradeWindow): AsyncGenerator<Trade[]> {
  let after: Trade | undefined;
  let read = 0;
  for (;;) {
    const batch = await ledger.listInTimeOrder(userId, window, after, Math.min(TRADES_PER_READ, maxTrades + 1 - read));
    read += batch.length;
    if (read > maxTrades) {
      throw new ValidationError('user_id', `this user has more than ${maxTrades} trades up to the day asked; a portfolio folds at most ${maxTrades} per request`);
    }
    yield batch;
    after = batch[batch.length - 1];
    if (batch.length < TRADES_PER_READ || !after) return;
  }
}

async function* tradesOf(ledger: TradeLedger, folded: Folded, window: TradeWindow): AsyncGenerator<Trade> {
  for await (const page of tradePages(ledger, folded, window)) yield* page;
}

/**
 * The same trades, each page's symbols' stored actions read into `actions`
 * first (one read per page of trades, for the symbols not yet in it; no
 * upstream call), so a fold finds each symbol's actions at its first trade.
 */
async function* tradesWithStoredActions(
  ledger: TradeLedger,
  quotes: QuoteService,
  folded: Folded,
  window: TradeWindow,
  actions: Map<string, SymbolActions>,
): AsyncGenerator<Trade> {
  for await (const page of tradePages(ledger, folded, window)) {
    const unread = new Set<string>();
    for (const trade of page) {
      const key = positionKey(trade.symbol);
      if (!key.invalid && !actions.has(key.symbol)) unread.add(key.symbol);
    }
    for (const [symbol, stored] of await quotes.getStoredActions([...unread])) actions.set(symbol, stored);
    yield* page;
  }
}

/** A fold's positions, the ledger it read (a second fold reads the same), and the actions it applied per valid symbol. */
export interface FoldedPortfolio {
  holdings: Holding[];
  window: TradeWindow;
  actions: Map<string, SymbolActions>;
}

/** Every position of the user as of the request (flat ones too), by symbol, carried through the stored actions to the request's day. */
export async function holdingsOf(ledger: TradeLedger, quotes: QuoteService, request: PortfolioRequest): Promise<FoldedPortfolio> {
  // The ledger as it is now: a trade recorded while the pages are read is in none of them.
  const window = { until: request.asOf ? endOfDay(request.asOf) : Number.MAX_SAFE_INTEGER, throughId: await ledger.lastId() };
  const actions = new Map<string, SymbolActions>();
  const holdings = createHoldings((symbol) => actions.get(symbol));
  for await (const trade of tradesWithStoredActions(ledger, quotes, request, window, actions)) holdings.add(trade);
  holdings.carryAllTo(request.day);
  return { holdings: holdings.list(), window, actions };
}

/** The same ledger folded again with `actions` (every valid symbol of it already in there). */
async function refold(ledger: TradeLedger, request: PortfolioRequest, window: TradeWindow, actions: Map<string, SymbolActions>): Promise<Holding[]> {
  const holdings = createHoldings((symbol) => actions.get(symbol));
  for await (const trade of tradesOf(ledger, request, window)) holdings.add(trade);
  holdings.carryAllTo(request.day);
  return holdings.list();
}

/**
 * The positions to price among `open` ones, at most BATCH_MAX_SYMBOLS of them
 * in symbol order, those with a valid symbol. Their count is what the request
 * costs (one per distinct symbol, as a batch of quotes does).
 */
export function holdingsToPrice(open: Holding[]): Holding[] {
  return open.filter((h) => !h.invalid).slice(0, BATCH_MAX_SYMBOLS);
}

/** The positions of a portfolio that need a price: not flat. */
export const openHoldings = (holdings: Holding[]) => holdings.filter((h) => !h.shares.isZero());

const BEYOND_CAP = `not priced: only the first ${BATCH_MAX_SYMBOLS} symbols (in symbol order) are priced per request`;

/** Why an open position has no price, when it is not one of those priced. */
function unpricedReason(holding: Holding): string {
  return holding.invalid ?? BEYOND_CAP;
}

type Priced = { close: Close; cache: CacheState } | { reason: string };

/** A per-symbol failure becomes its reason; anything else is our bug, and fails the request. */
function reasonOf(error: Error): { reason: string } {
  if (error instanceof DomainError) return { reason: error.message };
  throw error;
}

/** Latest closes, through the batch of quotes (so one upstream look-up per symbol at most). */
async function latestCloses(quotes: QuoteService, symbols: string[], requester: Requester): Promise<Map<string, Priced>> {
  if (symbols.length === 0) return new Map();
  const served = await quotes.getQuotes(symbols, requester);
  return new Map(
    [...served].map(([symbol, result]): [string, Priced] => {
      if (result instanceof Error) return [symbol, reasonOf(result)];
      const { close_value, last_refreshed } = result.quote;
      const close: Close = { date: last_refreshed, close: close_value, ...(result.previous && { previousClose: result.previous.close, previousDate: result.previous.date }) };
      return [symbol, { close, cache: result.cache }];
    }),
  );
}

/** Each symbol's stored bars from CLOSE_LOOKBACK_DAYS before `from` through `to`, oldest first, refreshed first when due. */
async function storedBars(quotes: QuoteService, symbols: string[], from: string, to: string, requester: Requester) {
  const results = await Promise.all(
    symbols.map((symbol) => quotes.getHistory(symbol, { from: addDays(from, -CLOSE_LOOKBACK_DAYS), to }, requester).catch((error: Error) => error)),
  );
  return new Map(symbols.map((symbol, i) => [symbol, results[i]!]));
}

/** The close of `asOf` (or the last before it, within CLOSE_LOOKBACK_DAYS), from stored history. */
async function closesOn(quotes: QuoteService, symbols: string[], asOf: string, requester: Requester): Promise<Map<string, Priced>> {
  const histories = await storedBars(quotes, symbols, asOf, asOf, requester);
  return new Map(
    [...histories].map(([symbol, history]): [string, Priced] => {
      if (history instanceof Error) return [symbol, reasonOf(history)];
      const { bars } = history;
      const latest = bars[bars.length - 1];
      const previous = bars[bars.length - 2];
      if (!latest) return [symbol, { reason: `no stored close in the ${CLOSE_LOOKBACK_DAYS} days up to ${asOf}` }];
      const close: Close = { date: latest.date, close: latest.close, ...(previous && { previousClose: previous.close, previousDate: previous.date }) };
      return [symbol, { close, cache: history.cache }];
    }),
  );
}

type PricedActions = FreshActions | { reason: string };

/**
 * The actions of symbols just priced, refreshed when due as adjusted history
 * has them (bars first, so an unknown symbol never costs an actions call).
 * One that could not be had (never fetched, and upstream refusing now) is its reason.
 */
async function actionsOfPriced(quotes: QuoteService, symbols: string[], requester: Requester): Promise<Map<string, PricedActions>> {
  const results = await Promise.all(symbols.map((symbol) => quotes.getPricedSymbolActions(symbol, requester).catch((error: Error) => error)));
  return new Map(symbols.map((symbol, i): [string, PricedActions] => {
    const result = results[i]!;
    return [symbol, result instanceof Error ? reasonOf(result) : result];
  }));
}

function sameActions(a: SymbolActions | undefined, b: SymbolActions | undefined): boolean {
  const splits = (x?: SymbolActions) => (x?.splits ?? []).map((s) => `${s.date}:${s.factor}`).join(',');
  const dividends = (x?: SymbolActions) => (x?.dividends ?? []).map((d) => `${d.exDate}:${d.amount}`).join(',');
  return splits(a) === splits(b) && dividends(a) === dividends(b);
}

/** `known` with the actions refreshed in `fresh`; undefined when they are the same (no second fold needed). */
function withFresh(known: Map<string, SymbolActions>, fresh: Map<string, PricedActions>): Map<string, SymbolActions> | undefined {
  const changed = [...fresh].filter((entry): entry is [string, FreshActions] => 'actions' in entry[1] && !sameActions(entry[1].actions, known.get(entry[0])));
  if (changed.length === 0) return undefined;
  return new Map([...known, ...changed.map(([symbol, { actions }]): [string, SymbolActions] => [symbol, actions])]);
}

const UNPRICED = { price: null, price_date: null, market_value: null, unrealised_pl: null, unrealised_pl_percent: null, day_change: null, day_change_percent: null };
const OPENED_BY_ACTIONS = 'not priced: splits fetched while it was valued opened this position after its cost was counted; ask again';

/**
 * The positions valued: at the latest quotes, or at `asOf`'s close. The
 * symbols priced are those `folded` counted (holdingsToPrice); their actions
 * are then refreshed when due, and the trades folded again if that changed any.
 */
export async function valuePortfolio(
  ledger: TradeLedger,
  quotes: QuoteService,
  folded: FoldedPortfolio,
  request: PortfolioRequest,
  requester: Requester,
): Promise<Portfolio> {
  const counted = new Set(openHoldings(folded.holdings).map((h) => h.symbol));
  const symbols = holdingsToPrice(openHoldings(folded.holdings)).map((h) => h.symbol);
  const prices = request.asOf ? await closesOn(quotes, symbols, request.asOf, requester) : await latestCloses(quotes, symbols, requester);
  const fresh = await actionsOfPriced(quotes, symbols.filter((symbol) => 'close' in prices.get(symbol)!), requester);
  const refreshed = withFresh(folded.actions, fresh);
  const holdings = refreshed ? await refold(ledger, request, folded.window, refreshed) : folded.holdings;
  const closes = new Map<Holding, Close>();
  const caches: CacheState[] = [];
  const positions = holdings.map((holding): PricedPosition => {
    const figures = figuresOf(holding);
    const actions = fresh.get(holding.symbol);
    const actions_reason = actions && 'reason' in actions ? actions.reason : null;
    const unpriced = { ...figures, ...UNPRICED, total_return: unpricedReturn(holding), cache: null, actions_reason };
    if (holding.shares.isZero()) return { ...unpriced, reason: 'flat: no shares held' };
    const priced = prices.get(holding.symbol) ?? { reason: counted.has(holding.symbol) || holding.invalid ? unpricedReason(holding) : OPENED_BY_ACTIONS };
    if ('reason' in priced) return { ...unpriced, reason: priced.reason };
    const close = closeInUnits(holding, priced.close, request.day);
    const cache = worstCacheState([priced.cache, ...(actions && 'cache' in actions ? [actions.cache] : [])]);
    closes.set(holding, close);
    caches.push(cache);
    return { ...figures, ...valueOf(holding, close), cache, reason: null, actions_reason };
  });
  return {
    user_id: request.userId,
    as_of: request.asOf ?? null,
    positions,
    totals: totalsOf(holdings, closes),
    applied_actions: appliedActions(holdings),
    cache: worstCacheState(caches),
  };
}

/**
 * The symbols the series needs (pass one over the trades): open when the
 * range starts, or traded within it. Priced ones are holdingsToPrice of these.
 */
export async function holdingsInRange(ledger: TradeLedger, quotes: QuoteService, request: HistoryRequest): Promise<RangeHoldings> {
  const actions = new Map<string, SymbolActions>();
  const holdings = createHoldings((symbol) => actions.get(symbol));
  // Both passes read the ledger as it is now, so a trade recorded between them is in neither.
  const window = { until: endOfDay(request.to), throughId: await ledger.lastId() };
  const start = Date.parse(`${request.from}T00:00:00Z`);
  const inRange = new Set<Holding>();
  let started = false;
  const markOpen = () => {
    // A split never makes a position flat or open, so whether it is open needs no carrying to the day.
    for (const holding of holdings.list()) if (!holding.shares.isZero()) inRange.add(holding);
    started = true;
  };
  for await (const trade of tradesWithStoredActions(ledger, quotes, request, window, actions)) {
    if (!started && trade.timestamp >= start) markOpen();
    const holding = holdings.add(trade);
    if (started) inRange.add(holding);
  }
  if (!started) markOpen();
  return { relevant: holdings.list().filter((h) => inRange.has(h)), window, actions };
}

/** The positions a series needs, the ledger they were read from (pass two reads the same), and the stored actions of its symbols. */
export interface RangeHoldings {
  relevant: Holding[];
  window: TradeWindow;
  actions: Map<string, SymbolActions>;
}

/**
 * The value over time (pass two over the trades): at each stored session in
 * the range, the positions held at that day's end, carried through the
 * actions up to that day, valued at that day's close (or the last before it,
 * within CLOSE_LOOKBACK_DAYS, in the position's units). The priced symbols'
 * actions are refreshed when due first, as the portfolio's are.
 */
export async function portfolioHistory(
  ledger: TradeLedger,
  quotes: QuoteService,
  request: HistoryRequest,
  { relevant, window, actions: stored }: RangeHoldings,
  requester: Requester,
): Promise<PortfolioHistory> {
  const toPrice = holdingsToPrice(relevant);
  const histories = await storedBars(quotes, toPrice.map((h) => h.symbol), request.from, request.to, requester);
  const toPriceSet = new Set(toPrice);
  const unpriced = relevant.filter((h) => !toPriceSet.has(h)).map((h) => ({ symbol: h.symbol, reason: unpricedReason(h) }));
  const series = new Map<string, { bars: { date: string; close: string }[]; next: number }>();
  const caches: CacheState[] = [];
  for (const [symbol, history] of histories) {
    if (history instanceof Error) unpriced.push({ symbol, ...reasonOf(history) });
    else if (history.bars.length === 0) unpriced.push({ symbol, reason: `no stored close from ${addDays(request.from, -CLOSE_LOOKBACK_DAYS)} to ${request.to}` });
    else {
      series.set(symbol, { bars: history.bars, next: 0 });
      caches.push(history.cache);
    }
  }
  const sessions = [...new Set([...series.values()].flatMap(({ bars }) => bars.map((b) => b.date)).filter((d) => d >= request.from))].sort();
  const fresh = await actionsOfPriced(quotes, [...series.keys()], requester);
  const actionsUnavailable: PortfolioHistory['actions_unavailable'] = [];
  for (const [symbol, actions] of fresh) {
    if ('reason' in actions) actionsUnavailable.push({ symbol, reason: actions.reason });
    else caches.push(actions.cache);
  }
  const actions = withFresh(stored, fresh) ?? stored;

  const holdings = createHoldings((symbol) => actions.get(symbol));
  const held = new Map<string, Holding>();
  const points: PortfolioHistory['points'] = [];
  let session = 0;
  const pointsThrough = (timestamp: number) => {
    for (; session < sessions.length && endOfDay(sessions[session]!) < timestamp; session++) points.push(pointOn(sessions[session]!));
  };
  const pointOn = (date: string) => {
    const valued: { holding: Holding; close: Close }[] = [];
    for (const [symbol, s] of series) {
      while (s.next < s.bars.length && s.bars[s.next]!.date <= date) s.next++;
      const bar = s.bars[s.next - 1];
      const holding = held.get(symbol);
      if (!holding) continue;
      carryTo(holding, date);
      if (bar && date <= addDays(bar.date, CLOSE_LOOKBACK_DAYS)) valued.push({ holding, close: closeInUnits(holding, { date: bar.date, close: bar.close }, date) });
    }
    return pointOf(date, valued);
  };
  for await (const trade of tradesOf(ledger, request, window)) {
    pointsThrough(trade.timestamp);
    const holding = holdings.add(trade);
    held.set(holding.symbol, holding);
  }
  pointsThrough(Number.MAX_SAFE_INTEGER);
  const priced = [...series.keys()].flatMap((symbol) => held.get(symbol) ?? []);
  for (const holding of priced) carryTo(holding, request.to);
  unpriced.sort(symbolOrder);
  actionsUnavailable.sort(symbolOrder);
  return {
    user_id: request.userId,
    from: request.from,
    to: request.to,
    points,
    unpriced,
    applied_actions: appliedActions(priced, request.from, request.to),
    actions_unavailable: actionsUnavailable,
    cache: worstCacheState(caches),
  };
}
