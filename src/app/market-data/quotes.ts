/**
 * Use cases of market data over the price store: the latest quote of a
 * symbol, a batch of them, daily, weekly and monthly history (as traded, or
 * adjusted for splits and dividends), and a symbol's splits and dividends.
 */
import { LRUCache } from 'lru-cache';
import { symbolNotFound, ValidationError } from '../../domain/errors.js';
import { adjustBars } from '../../domain/corporate-actions.js';
import { adjustedPeriodBar, dividendsByPeriod, mergePeriodSeries, type Period, periodBar, periodGroups, periodOf } from '../../domain/periods.js';
import { type DailyBar, isCalendarDate, normalizeSymbol, type Quote, quoteFromBars } from '../../domain/quote.js';
import { type ActionsSource, adjustableSplits, type CorporateActions, type FreshActions } from './corporate-actions.js';
import type { FreshPeriodBars, PeriodSource, StoredPeriodBar } from './period-bars.js';
import type { PriceSource, Sessions, StoredBar } from './prices.js';
import { type CacheState, type Requester, worstCacheState } from './refresh.js';
import { upTo } from '../lru-bound.js';

export interface ServedQuote {
  quote: Quote & { source: string; currency?: string };
  cache: CacheState;
  /** The close the variation is from, when one is stored (not part of the quote's answer): the portfolio's day change. */
  previous?: { date: string; close: string };
}

export interface HistoryRange {
  /** YYYY-MM-DD, inclusive; with neither end, the newest `sessions`. */
  from?: string;
  to?: string;
  sessions?: Sessions;
  /** Also give the bars adjusted for splits and dividends (domain/corporate-actions.ts). */
  adjusted?: boolean;
  /**
   * Daily bars (the default), or weekly or monthly ones: made from the daily bars, and before the oldest
   * stored session a vendor's own (domain/periods.ts).
   */
  interval?: Interval;
}

/** What one bar spans: a session, a calendar week or a calendar month. */
export const INTERVALS = ['1day', '1week', '1month'] as const;
export type Interval = (typeof INTERVALS)[number];
const PERIOD_OF_INTERVAL: Record<Exclude<Interval, '1day'>, Period> = { '1week': 'week', '1month': 'month' };

export interface ServedHistory {
  symbol: string;
  /** Oldest first, as traded; a weekly or monthly bar has the source of its data (its last session's, or the vendor's). */
  bars: StoredBar[];
  cache: CacheState;
  currency?: string;
  /** When asked: the same bars adjusted, and the actions that adjusted them. */
  adjusted?: {
    bars: DailyBar[];
    /** Weekly and monthly bars: the cash dividends that went ex in each one's period (undefined: none known). */
    dividendsPerBar?: (string | undefined)[];
  } & CorporateActions;
}

/** Port: a symbol was served to a client (validated, and known upstream or in the store); app/market-data/demand.ts counts them. */
export interface DemandLog {
  note(symbol: string): void;
}

export const HISTORY_DEFAULT_SESSIONS = 100;
export const BATCH_MAX_SYMBOLS = 100;
const QUOTE_CACHE_MAX_MS = 60_000;
/** The ends of a range open on that side: every stored date sorts between them. */
const OPEN_START = '0000-01-01';
const OPEN_END = '9999-12-31';

export interface QuoteServiceOptions {
  refreshIntervalMs: number;
  now: () => Date;
  /**
   * Told of each symbol served to a client, for the after-close prefetch.
   * Noted here, not in the price source: a quote served from the cache below
   * is demand too, and the prefetch's own reads through the price source are not.
   */
  demand?: DemandLog;
  /** A vendor's own weekly and monthly bars, for the periods the daily bars do not reach; without it, the daily bars make every period. */
  periods?: PeriodSource;
}

export function createQuoteService(prices: PriceSource, actions: ActionsSource, options: QuoteServiceOptions) {
  // A served quote cannot change before its symbol's next refresh, so hot
  // symbols skip the store for a while. Another instance's refresh is seen
  // within the TTL, which never exceeds the refresh interval.
  const recentQuotes = new LRUCache<string, ServedQuote>({
    ...upTo(10_000),
    ttl: Math.min(options.refreshIntervalMs, QUOTE_CACHE_MAX_MS),
    perf: { now: () => options.now().getTime() },
  });

  // Only once served: an invalid or unknown symbol has thrown by then and is no one's watchlist.
  const noteDemand = (symbol: string) => options.demand?.note(symbol);

  async function getQuote(rawSymbol: string, requester: Requester): Promise<ServedQuote> {
    const symbol = normalizeSymbol(rawSymbol);
    const served = await recentOrFreshQuote(symbol, requester);
    noteDemand(symbol);
    return served;
  }

  async function recentOrFreshQuote(symbol: string, requester: Requester): Promise<ServedQuote> {
    const recent = recentQuotes.get(symbol);
    if (recent) return { ...recent, cache: 'HIT' };
    const { bars, cache, currency } = await prices.freshBars(symbol, requester, 2);
    const quote = quoteFromBars(symbol, bars);
    if (!quote || !bars[0]) throw symbolNotFound(symbol);
    const served: ServedQuote = { quote: { ...quote, source: bars[0].source, ...(currency && { currency }) }, cache, ...(bars[1] && { previous: { date: bars[1].date, close: bars[1].close } }) };
    if (cache !== 'STALE') recentQuotes.set(symbol, served);
    return served;
  }

  /** Quotes of several symbols at once; each succeeds or fails on its own. */
  async function getQuotes(rawSymbols: string[], requester: Requester): Promise<Map<string, ServedQuote | Error>> {
    const symbols = batchSymbols(rawSymbols);
    const results = await Promise.all(symbols.map((symbol) => getQuote(symbol, requester).catch((error: Error) => error)));
    return new Map(symbols.map((symbol, i) => [symbol, results[i]!]));
  }

  async function getHistory(rawSymbol: string, range: HistoryRange, requester: Requester): Promise<ServedHistory> {
    const symbol = normalizeSymbol(rawSymbol);
    const { from, to, interval = '1day' } = checkRange(range);
    const ranged = from !== undefined || to !== undefined;
    // Without a range, the newest periods: every session is read, and as many periods kept as sessions would be.
    const sessions = interval === '1day' || ranged ? range.sessions : 'all';
    const history = await rawHistory(symbol, { ...range, sessions }, requester);
    noteDemand(symbol);
    const served = range.adjusted ? await withAdjusted(history, { from, to }, requester) : history;
    if (interval === '1day') return served;
    const keep = ranged || range.sessions === 'all' ? Infinity : (range.sessions ?? HISTORY_DEFAULT_SESSIONS);
    return inPeriods(served, PERIOD_OF_INTERVAL[interval], { from, to, keep }, requester);
  }

  /**
   * The history in weekly or monthly bars, the newest `keep` of them: the daily bars make the periods
   * after the one of the oldest stored session, a vendor's own bars that period and the ones before it
   * (domain/periods.ts mergePeriodSeries).
   */
  async function inPeriods(history: ServedHistory, period: Period, reach: PeriodReach, requester: Requester): Promise<ServedHistory> {
    const daily = dailyPeriods(history, period);
    // Without a lower end, the history holds every stored session up to the range's end: its first is the oldest.
    const oldestSession = reach.from === undefined && history.bars[0] ? history.bars[0].date : await prices.oldestBarDate(history.symbol);
    const vendor = await vendorPeriods(history, period, { ...reach, oldestSession, daily }, requester);
    const merged = mergePeriodSeries(vendor.bars, daily, oldestSession, period);
    const rows = newest(
      merged.map((row) => (row.from === 'daily' ? row.bar : vendorPeriod(row.bar, history.adjusted))),
      reach.keep,
    );
    const served = { ...history, bars: rows.map((row) => row.traded), cache: worstCacheState([history.cache, vendor.cache]) };
    if (!history.adjusted) return served;
    return { ...served, adjusted: { ...history.adjusted, bars: rows.map((row) => row.adjusted!), dividendsPerBar: rows.map((row) => row.dividend) } };
  }

  /**
   * The vendor's period bars of the range, asked upstream first when due; none when the answer does not
   * reach back to the oldest stored session's period (the newest `keep` periods are all after it, or the
   * range starts later), so an answer the daily bars make alone costs no call.
   */
  async function vendorPeriods(
    history: ServedHistory,
    period: Period,
    { from, to, keep, oldestSession, daily }: PeriodReach & { oldestSession: string | undefined; daily: PeriodRow[] },
    requester: Requester,
  ): Promise<FreshPeriodBars> {
    if (!options.periods) return { bars: [], cache: 'HIT' };
    if (oldestSession !== undefined) {
      const boundary = periodOf(oldestSession, period);
      const later = daily.filter((row) => periodOf(row.date, period) > boundary).length;
      if ((from !== undefined && periodOf(from, period) > boundary) || later >= keep) return { bars: [], cache: 'HIT' };
    }
    // For adjusted prices, a split or dividend newer than the vendor's answer makes its adjusted closes stale.
    const actionDates = history.adjusted && [...history.adjusted.splits.map((s) => s.date), ...history.adjusted.dividends.map((d) => d.exDate)];
    return options.periods.freshPeriodBars(history.symbol, period, requester, { from: from ?? OPEN_START, to: to ?? OPEN_END, actionDates });
  }

  /** The history with its bars adjusted for the symbol's splits and dividends beside them. */
  async function withAdjusted(history: ServedHistory, { from, to }: HistoryRange, requester: Requester): Promise<ServedHistory> {
    const { symbol } = history;
    const { actions: stored, cache } = await actions.freshActions(symbol, requester);
    // A dividend's factor needs the close before its ex-date, and every action after a bar scales it:
    // adjust from the first bar through the newest stored, then keep the range.
    // (An empty range adjusts nothing: every bar after it would be read for none.)
    const first = history.bars[0];
    const through = to === undefined || !first ? history.bars : await prices.barsBetween(symbol, first.date, OPEN_END);
    const adjusted = adjustBars(through, adjustableSplits(symbol, stored.splits), stored.dividends, history.bars.length);
    return { ...history, cache: worstCacheState([history.cache, cache]), adjusted: { bars: adjusted, ...stored } };
  }

  /** The bars of the range as stored, oldest first, refreshed first when due. */
  async function rawHistory(symbol: string, { from, to, sessions }: HistoryRange, requester: Requester): Promise<ServedHistory> {
    if (from === undefined && to === undefined) {
      const fresh = await prices.freshBars(symbol, requester, sessions ?? HISTORY_DEFAULT_SESSIONS);
      return { symbol, ...fresh, bars: fresh.bars.reverse() };
    }
    const fresh = await prices.freshBars(symbol, requester, 1, { from: from ?? OPEN_START });
    return { symbol, ...fresh, bars: await prices.barsBetween(symbol, from ?? OPEN_START, to ?? OPEN_END) };
  }

  /** A symbol's splits and dividends, ascending; the symbol must be one the providers or the store know. */
  async function getActions(rawSymbol: string, requester: Requester): Promise<{ symbol: string; cache: CacheState } & CorporateActions> {
    const symbol = normalizeSymbol(rawSymbol);
    // Bars first: an unknown symbol is a 404 (once, cached), never two upstream calls for its actions.
    const bars = await prices.freshBars(symbol, requester, 1);
    const { actions: stored, cache } = await actions.freshActions(symbol, requester);
    return { symbol, ...stored, cache: worstCacheState([bars.cache, cache]) };
  }

  /**
   * The splits and dividends of a symbol this request has just priced (a portfolio's): refreshed when
   * due, exactly as adjusted history has them, so they cost upstream what adjusted history's do.
   */
  function getPricedSymbolActions(symbol: string, requester: Requester): Promise<FreshActions> {
    return actions.freshActions(symbol, requester);
  }

  /** The stored splits and dividends of several symbols: no upstream call, whatever is stored. */
  function getStoredActions(symbols: string[]): Promise<Map<string, CorporateActions>> {
    return actions.storedActions(symbols);
  }

  return { getQuote, getQuotes, getHistory, getActions, getPricedSymbolActions, getStoredActions };
}

export type QuoteService = ReturnType<typeof createQuoteService>;

/** How far a weekly or monthly answer reaches: its range, and how many of the newest periods it keeps. */
interface PeriodReach {
  from?: string;
  to?: string;
  keep: number;
}

/** One weekly or monthly bar as traded, and, when asked, adjusted and with the dividends that went ex in its period. */
interface PeriodRow {
  date: string;
  traded: StoredBar;
  adjusted?: DailyBar;
  dividend?: string;
}

const newest = <T>(items: T[], keep: number) => (items.length > keep ? items.slice(items.length - keep) : items);

/** The periods the history's daily bars make; each one's source is its last session's. */
function dailyPeriods(history: ServedHistory, period: Period): PeriodRow[] {
  const adjustedGroups = history.adjusted && periodGroups(history.adjusted.bars, period);
  const dividends = history.adjusted && dividendsByPeriod(history.adjusted.dividends, period);
  return periodGroups(history.bars, period).map((group, i) => {
    const { source, fetched_at } = group[group.length - 1]!;
    const traded = { ...periodBar(group), source, fetched_at };
    if (!adjustedGroups) return { date: traded.date, traded };
    return { date: traded.date, traded, adjusted: periodBar(adjustedGroups[i]!), dividend: dividends!.get(periodOf(traded.date, period)) };
  });
}

/** A vendor's period bar; adjusted (when asked) by the vendor's own adjusted close, its volume by the stored splits. */
function vendorPeriod(bar: StoredPeriodBar, adjusted: CorporateActions | undefined): PeriodRow {
  const { date, open, high, low, close, volume, source, fetched_at } = bar;
  const traded = { date, open, high, low, close, volume, source, fetched_at };
  return adjusted ? { date, traded, adjusted: adjustedPeriodBar(bar, adjusted.splits), dividend: bar.dividend } : { date, traded };
}

/** The distinct symbols of a batch, as normalised; a ValidationError when one is invalid, or none or too many are given. */
export function batchSymbols(rawSymbols: string[]): string[] {
  const symbols = [...new Set(rawSymbols.map((raw) => normalizeSymbol(raw)))];
  if (symbols.length === 0) throw new ValidationError('symbols', 'give at least one symbol');
  if (symbols.length > BATCH_MAX_SYMBOLS) {
    throw new ValidationError('symbols', `at most ${BATCH_MAX_SYMBOLS} distinct symbols per request`);
  }
  return symbols;
}

function checkRange(range: HistoryRange): HistoryRange {
  for (const field of ['from', 'to'] as const) {
    const value = range[field];
    if (value !== undefined && !isCalendarDate(value)) throw new ValidationError(field, 'must be a date as YYYY-MM-DD');
  }
  if (range.from && range.to && range.from > range.to) throw new ValidationError('from', 'must not be after to');
  return range;
}
