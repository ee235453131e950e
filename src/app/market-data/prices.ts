/**
 * Daily bars as fresh as policy wants: read from the service's own price
 * store, refreshed from upstream only when due (domain/market-calendar.ts),
 * through the refresh coordinator (app/market-data/refresh.ts).
 */
import { NotFoundError, symbolNotFound } from '../../domain/errors.js';
import { isRefreshDue, latestFinalSession, sessionsSince } from '../../domain/market-calendar.js';
import type { DailyBar } from '../../domain/quote.js';
import type { DailySeries } from './providers.js';
import type { CacheState, RefreshCoordinator, Requester } from './refresh.js';
import { beforeAnswerDue } from './answer-due.js';
import type { UpstreamRequest } from './upstream-budget.js';

export interface StoredBar extends DailyBar {
  source: string;
  fetched_at: number;
}

/** Where bars came from: a provider's answer (an upstream attempt), or an import of files (not one). */
export interface BarsOrigin {
  source: string;
  fetchedAt: number;
  upstreamAttempt: boolean;
  currency?: string;
  /** The vendor was asked for all it gives in one call (DEEPEST_SESSIONS). */
  deep?: boolean;
}

/** The last upstream attempt for a symbol, and the currency its vendor quoted. */
export interface LastAttempt {
  at: number;
  outcome: 'bars' | 'unknown';
  currency?: string;
  /** When the vendor was last asked for all it gives in one call; absent for symbols stored before that was asked. */
  deepFetchedAt?: number;
}

/**
 * Port: the service's own store of daily bars. It alone decides which bars
 * may be served: synthetic sandbox bars never pass as real data.
 */
export interface PriceStore {
  /** Newest first; every stored bar when `limit` is undefined. */
  recentBars(symbol: string, limit?: number): Promise<StoredBar[]>;
  /** The date of the oldest stored bar; undefined when none is. */
  oldestBarDate(symbol: string): Promise<string | undefined>;
  /** Ascending, both ends inclusive. */
  barsBetween(symbol: string, from: string, to: string): Promise<StoredBar[]>;
  refreshState(symbol: string): Promise<LastAttempt | undefined>;
  /** Upserts bars by (symbol, date); an upstream attempt is recorded with them, in one transaction. */
  saveBars(symbol: string, bars: DailyBar[], origin: BarsOrigin): Promise<void>;
  recordUnknown(symbol: string, at: number): Promise<void>;
  /**
   * Deletes every stored bar of the symbol, daily and a vendor's weekly and monthly, and their refresh
   * records (the CLI's delete-prices); how many daily bars.
   */
  deleteBars(symbol: string): Promise<number>;
}

/**
 * Port: upstream bars, newest first, with the provider that gave them (see
 * app/market-data/failover.ts). `request.client` is the account the call
 * is made for; `request.refresh` says the store already holds the symbol.
 */
export type FetchDailyBars = (symbol: string, request: UpstreamRequest, sessions: number) => Promise<DailySeries & { source: string }>;

/**
 * The most sessions a first fetch asks for: Twelve Data's largest answer (5,000 data points a
 * request, about 20 years of sessions, for the one credit any request costs). Asked once per
 * symbol, when the store holds none of it; every later refresh asks only what the store lacks.
 */
export const DEEPEST_SESSIONS = 5000;

/** How many of a symbol's newest sessions to read: a count, or all that are stored. */
export type Sessions = number | 'all';

export interface FreshBars {
  /** Newest first. */
  bars: StoredBar[];
  cache: CacheState;
  currency?: string;
}

export function createPriceSource(store: PriceStore, fetchBars: FetchDailyBars, coordinator: RefreshCoordinator, options: { refreshIntervalMs: number; now: () => Date }) {
  /**
   * The symbol's newest `sessions` bars, refreshed from upstream first when
   * due. When upstream fails, stored bars however old beat no answer (STALE);
   * a symbol neither upstream nor the store knows is a NotFoundError. Asked
   * for more than is stored (`sessions`, or a range that starts before the
   * oldest stored bar), a symbol whose vendor was never asked for all it gives
   * is backfilled first, once: the one call a first fetch makes.
   */
  async function freshBars(symbol: string, requester: Requester & Pick<UpstreamRequest, 'background'>, sessions: Sessions, reach: Reach = {}): Promise<FreshBars> {
    const readAt = coordinator.checkpoint();
    const stored = await readStored(symbol, sessions);
    const deep = await wantsBackfill(symbol, stored, sessions, reach);
    if (!isDue(stored) && !deep) return servedAsStored(symbol, stored);
    try {
      // A symbol the store holds is refreshed; one it does not, or a backfill, is a lookup, capped by the client's fair share.
      const request = { ...requester, refresh: stored.bars.length > 0 && !deep };
      // Waited for within the request's budget (answer-due.ts): past it, what is stored is served as STALE.
      const cache = await beforeAnswerDue(symbol, requester.signal, () =>
        coordinator.refresh(symbol, readAt, request, {
          fetch: (asked) => refreshBars(symbol, asked, deep ? undefined : stored.bars[0]?.date),
          refreshedElsewhere: async () => {
            const now = await readStored(symbol, 1);
            return !isDue(now) && !(deep && now.attempt?.deepFetchedAt === undefined);
          },
        }),
      );
      const refreshed = await readStored(symbol, sessions);
      if (refreshed.bars.length === 0) throw symbolNotFound(symbol);
      return { bars: refreshed.bars, cache, currency: refreshed.attempt?.currency };
    } catch (error) {
      if (stored.bars.length === 0) throw error;
      // An unknown symbol with imported history is served from the store, as current as it gets.
      return { bars: stored.bars, cache: error instanceof NotFoundError ? 'MISS' : 'STALE', currency: stored.attempt?.currency };
    }
  }

  /** The symbol's newest bars and its last upstream attempt, read together. */
  async function readStored(symbol: string, sessions: Sessions): Promise<StoredSymbol> {
    const [bars, attempt] = await Promise.all([store.recentBars(symbol, sessions === 'all' ? undefined : sessions), store.refreshState(symbol)]);
    return { bars, attempt };
  }

  /** Asked beyond what is stored, of a symbol whose vendor was never asked for all it gives. */
  async function wantsBackfill(symbol: string, { bars, attempt }: StoredSymbol, sessions: Sessions, { from }: Reach): Promise<boolean> {
    // Never stored: the first fetch is the deepest anyway. Asked once: what the vendor gave is all it gives.
    if (bars.length === 0 || attempt?.deepFetchedAt !== undefined) return false;
    // Said unknown by every vendor: remembered as any unknown symbol is, not asked again until a refresh is due.
    if (attempt?.outcome === 'unknown' && !isDue({ bars, attempt })) return false;
    if (sessions === 'all' || sessions > bars.length) return true;
    if (from === undefined) return false;
    const oldest = await store.oldestBarDate(symbol);
    return oldest !== undefined && from < oldest;
  }

  function isDue({ bars, attempt }: StoredSymbol): boolean {
    // An attempt that stored bars we cannot see (sandbox bars, in real mode) does not count.
    const lastAttemptAt = bars.length > 0 || attempt?.outcome === 'unknown' ? attempt?.at : undefined;
    return isRefreshDue({ latestBarDate: bars[0]?.date, lastAttemptAt }, options.now(), options.refreshIntervalMs);
  }

  /**
   * Asks upstream for what the store lacks after `newestStored`; without it (nothing stored, or a backfill),
   * for everything the vendor gives in one call.
   */
  async function refreshBars(symbol: string, request: UpstreamRequest, newestStored: string | undefined): Promise<void> {
    const at = options.now();
    // Only final sessions are kept: a bar of a day still trading would be frozen mid-day.
    const finalSession = latestFinalSession(at);
    const sessions = newestStored === undefined ? DEEPEST_SESSIONS : sessionsSince(newestStored, finalSession, DEEPEST_SESSIONS);
    try {
      const { bars, source, currency } = await fetchBars(symbol, request, sessions);
      const final = bars.filter((bar) => bar.date <= finalSession);
      const deep = sessions === DEEPEST_SESSIONS;
      await store.saveBars(symbol, final, { source, fetchedAt: at.getTime(), upstreamAttempt: true, currency, deep });
    } catch (error) {
      if (error instanceof NotFoundError) await store.recordUnknown(symbol, at.getTime());
      throw error;
    }
  }

  return {
    freshBars,
    /** Ascending, both ends inclusive, as stored (call freshBars first to refresh). */
    barsBetween: (symbol: string, from: string, to: string) => store.barsBetween(symbol, from, to),
    oldestBarDate: (symbol: string) => store.oldestBarDate(symbol),
  };
}

/** How far back a ranged read reaches: a `from` before the oldest stored bar may call for a backfill. */
export interface Reach {
  from?: string;
}

/** What the store holds of a symbol: bars newest first, and its last upstream attempt. */
interface StoredSymbol {
  bars: StoredBar[];
  attempt: LastAttempt | undefined;
}

/** Not due for a refresh: the bars as stored, or the NotFoundError of a symbol upstream said it does not know. */
function servedAsStored(symbol: string, { bars, attempt }: StoredSymbol): FreshBars {
  if (bars.length === 0 && attempt?.outcome === 'unknown') throw symbolNotFound(symbol);
  return { bars, cache: 'HIT', currency: attempt?.currency };
}

export type PriceSource = ReturnType<typeof createPriceSource>;
