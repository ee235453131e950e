import { LRUCache } from 'lru-cache';
import { FairShareExceededError, NotFoundError, symbolNotFound, UpstreamRateLimitedError, ValidationError } from '../domain/errors.js';
import { isRefreshDue, latestFinalSession } from '../domain/market-calendar.js';
import { type DailyBar, isCalendarDate, normalizeSymbol, type Quote, quoteFromBars } from '../domain/quote.js';
import type { DailySeries } from './market-data.js';
import type { UpstreamRequest } from './upstream-budget.js';

export interface StoredBar extends DailyBar {
  source: string;
  fetched_at: number;
}

/** Port: the service's own store of daily bars. */
export interface PriceStore {
  /** Newest first. */
  recentBars(symbol: string, limit: number): Promise<StoredBar[]>;
  /** Ascending, both ends inclusive. */
  barsBetween(symbol: string, from: string, to: string): Promise<StoredBar[]>;
  lastAttempt(symbol: string): Promise<{ at: number; outcome: 'bars' | 'unknown' } | undefined>;
  /** Upserts bars by (symbol, date); an upstream `source` also records the attempt. */
  saveBars(symbol: string, bars: DailyBar[], source: string, fetchedAt: number): Promise<void>;
  recordUnknown(symbol: string, at: number): Promise<void>;
}

/**
 * Port: upstream bars, newest first, with the provider that gave them (see
 * adapters/providers/failover.ts). `request.client` is the account the call
 * is made for; `request.refresh` says the store already holds the symbol.
 */
export type FetchDailyBars = (symbol: string, request: UpstreamRequest) => Promise<DailySeries & { source: string }>;

/**
 * Port: another client now waits for a symbol's upstream fetch already under
 * way (requests for one symbol share one fetch), so the fetch may run at that
 * client's turn instead of waiting in the queue of whoever asked first.
 */
export type JoinFetch = (symbol: string, request: { client: string }) => void;

/** Who asks: the account, for fair scheduling and its fair share, and its address, which shares the latter. */
export type Requester = Pick<UpstreamRequest, 'client' | 'network'>;

export interface QuoteServiceOptions {
  refreshIntervalMs: number;
  joinFetch?: JoinFetch;
  now?: () => Date;
}

export interface ServedQuote {
  quote: Quote & { source: string };
  /** True when upstream failed and stored data older than the policy wants is served. */
  stale: boolean;
}

export const HISTORY_DEFAULT_SESSIONS = 100;
const QUOTE_CACHE_MAX_MS = 60_000;

/**
 * Quotes from the price store, refreshed from upstream only when due (see
 * domain/market-calendar.ts). Concurrent requests for one symbol share one
 * upstream call; after an upstream failure, the symbol is not retried for a
 * short back-off, so a storm of requests cannot burn a vendor's daily quota.
 */
export function createQuoteService(store: PriceStore, fetchBars: FetchDailyBars, options: QuoteServiceOptions) {
  const now = options.now ?? (() => new Date());
  const inFlight = new Map<string, { client: string; refresh: Promise<void> }>();
  // A served quote cannot change before its symbol's next refresh, so hot
  // symbols skip the store for a while. Another instance's refresh is seen
  // within the TTL, which never exceeds the refresh interval.
  const recentQuotes = new LRUCache<string, ServedQuote>({
    max: 10_000,
    ttl: Math.min(options.refreshIntervalMs, QUOTE_CACHE_MAX_MS),
    // An injected clock (tests) ages the cache too; otherwise lru-cache's monotonic default.
    perf: options.now && { now: () => now().getTime() },
  });
  const backOffUntil = new LRUCache<string, { until: number; error: Error }>({ max: 10_000 });
  // When each symbol's last refresh succeeded: a request that read the store
  // before then saw old data, but must not fetch again — the refresh it would
  // start has just happened.
  const refreshedAt = new LRUCache<string, number>({ max: 10_000 });

  async function refreshFromUpstream(symbol: string, request: UpstreamRequest): Promise<void> {
    const at = now();
    try {
      const { bars, source } = await fetchBars(symbol, request);
      // Only final sessions are kept: a bar of a day still trading would be frozen mid-day.
      const finalSession = latestFinalSession(at);
      await store.saveBars(symbol, bars.filter((bar) => bar.date <= finalSession), source, at.getTime());
      backOffUntil.delete(symbol);
      refreshedAt.set(symbol, performance.now());
    } catch (error) {
      if (error instanceof NotFoundError) {
        await store.recordUnknown(symbol, at.getTime());
        refreshedAt.set(symbol, performance.now());
      } else if (!(error instanceof FairShareExceededError)) {
        // (A fair-share refusal is one client's: others asking for the symbol are not held back.)
        const seconds = error instanceof UpstreamRateLimitedError ? error.retryAfterSeconds : 30;
        backOffUntil.set(symbol, { until: at.getTime() + Math.min(seconds * 1000, options.refreshIntervalMs), error: error as Error });
      }
      throw error;
    }
  }

  function sharedRefresh(symbol: string, checkedAt: number, request: UpstreamRequest): Promise<void> {
    if ((refreshedAt.get(symbol) ?? -Infinity) >= checkedAt) return Promise.resolve();
    const running = inFlight.get(symbol);
    if (running) {
      options.joinFetch?.(symbol, { client: request.client });
      // Another client's fair share is not this one's: refused for it, this client asks on its own.
      return running.refresh.catch((error: unknown) => {
        if (error instanceof FairShareExceededError && running.client !== request.client) return refreshFromUpstream(symbol, request);
        throw error;
      });
    }
    const refresh = refreshFromUpstream(symbol, request).finally(() => inFlight.delete(symbol));
    inFlight.set(symbol, { client: request.client, refresh });
    return refresh;
  }

  /** Makes the store as fresh as policy wants; returns whether what it holds is stale. */
  async function ensureFresh(symbol: string, requester: Requester): Promise<{ stale: boolean }> {
    const checkedAt = performance.now();
    const [[latest], attempt] = await Promise.all([store.recentBars(symbol, 1), store.lastAttempt(symbol)]);
    // An attempt that stored bars we cannot see (sandbox bars, in real mode) does not count.
    const lastAttemptAt = latest || attempt?.outcome === 'unknown' ? attempt?.at : undefined;
    const current = now();
    if (!isRefreshDue({ latestBarDate: latest?.date, lastAttemptAt }, current, options.refreshIntervalMs)) {
      if (!latest && attempt?.outcome === 'unknown') throw symbolNotFound(symbol);
      return { stale: false };
    }
    const backOff = backOffUntil.get(symbol);
    try {
      if (backOff && backOff.until > current.getTime()) throw retryLater(backOff.error, backOff.until - current.getTime());
      // A symbol the store holds is refreshed; one it does not is a lookup, capped by the client's fair share.
      await sharedRefresh(symbol, checkedAt, { ...requester, refresh: latest !== undefined });
      return { stale: false };
    } catch (error) {
      // Upstream failed: stored bars, however old, beat no answer. An unknown
      // symbol with imported history is still served from the store.
      if (latest) return { stale: !(error instanceof NotFoundError) };
      throw error;
    }
  }

  async function getQuote(rawSymbol: string, requester: Requester): Promise<ServedQuote> {
    const symbol = normalizeSymbol(rawSymbol);
    const cached = recentQuotes.get(symbol);
    if (cached) return cached;
    const { stale } = await ensureFresh(symbol, requester);
    const bars = await store.recentBars(symbol, 2);
    const quote = quoteFromBars(symbol, bars);
    if (!quote || !bars[0]) throw symbolNotFound(symbol);
    const served = { quote: { ...quote, source: bars[0].source }, stale };
    if (!stale) recentQuotes.set(symbol, served);
    return served;
  }

  async function getHistory(rawSymbol: string, range: { from?: string; to?: string }, requester: Requester) {
    const symbol = normalizeSymbol(rawSymbol);
    const { from, to } = checkRange(range);
    const { stale } = await ensureFresh(symbol, requester);
    const bars =
      from === undefined && to === undefined
        ? (await store.recentBars(symbol, HISTORY_DEFAULT_SESSIONS)).reverse()
        : await store.barsBetween(symbol, from ?? '0000-01-01', to ?? '9999-12-31');
    if (bars.length === 0 && !(await store.recentBars(symbol, 1)).length) {
      throw symbolNotFound(symbol);
    }
    return { symbol, bars, stale };
  }

  /**
   * Quotes of several symbols at once. Each symbol succeeds or fails on its
   * own; upstream calls run concurrently within each provider's limit.
   */
  async function getQuotes(rawSymbols: string[], requester: Requester): Promise<Map<string, ServedQuote | Error>> {
    const symbols = batchSymbols(rawSymbols);
    const results = await Promise.all(symbols.map((symbol) => getQuote(symbol, requester).catch((error: Error) => error)));
    return new Map(symbols.map((symbol, i) => [symbol, results[i]!]));
  }

  return { getQuote, getQuotes, getHistory };
}

export const BATCH_MAX_SYMBOLS = 100;

/** The distinct symbols of a batch, as normalised; a ValidationError when one is invalid, or none or too many are given. */
export function batchSymbols(rawSymbols: string[]): string[] {
  const symbols = [...new Set(rawSymbols.map((raw) => normalizeSymbol(raw)))];
  if (symbols.length === 0) throw new ValidationError('symbols', 'give at least one symbol');
  if (symbols.length > BATCH_MAX_SYMBOLS) {
    throw new ValidationError('symbols', `at most ${BATCH_MAX_SYMBOLS} distinct symbols per request`);
  }
  return symbols;
}

export type QuoteService = ReturnType<typeof createQuoteService>;

function retryLater(error: Error, remainingMs: number): Error {
  if (error instanceof UpstreamRateLimitedError) {
    return new UpstreamRateLimitedError(error.message, Math.max(1, Math.ceil(remainingMs / 1000)));
  }
  return error;
}

function checkRange(range: { from?: string; to?: string }): { from?: string; to?: string } {
  for (const field of ['from', 'to'] as const) {
    const value = range[field];
    if (value !== undefined && !isCalendarDate(value)) throw new ValidationError(field, 'must be a date as YYYY-MM-DD');
  }
  if (range.from && range.to && range.from > range.to) throw new ValidationError('from', 'must not be after to');
  return range;
}
