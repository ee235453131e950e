/**
 * A vendor's own weekly and monthly bars (Alpha Vantage's, 20+ years in one
 * free call) for the periods older than the stored daily bars: their store,
 * and when they are asked upstream. How they join the periods made from daily
 * bars is domain/periods.ts; quotes.ts asks for them only when an answer
 * reaches back to the oldest stored session.
 *
 * A fetch is an upstream call as any other: it takes a call of the vendor's
 * quota and counts as a lookup against the client's fair share (failover.ts),
 * however often the symbol is asked otherwise, so a backfill is never a way
 * around either. It never fails the answer: without it, the answer is the
 * periods the daily bars make (STALE when a fetch was due and failed).
 */
import { FairShareExceededError, NotFoundError, StillFetchingError, UpstreamRateLimitedError, UpstreamUnavailableError } from '../../domain/errors.js';
import { latestFinalSession, utcDay } from '../../domain/market-calendar.js';
import { isPeriodSeriesDue, type Period, type PeriodBar, type PeriodSeriesFetch } from '../../domain/periods.js';
import type { CacheState, RefreshCoordinator, Requester } from './refresh.js';
import { beforeAnswerDue } from './answer-due.js';
import type { UpstreamRequest } from './upstream-budget.js';

export interface StoredPeriodBar extends PeriodBar {
  /** The provider that gave it. */
  source: string;
  fetched_at: number;
}

/** One ask of a symbol's period series: when, of whom (none when no provider knew it), and the newest bar its answer had. */
export interface PeriodFetchRecord extends PeriodSeriesFetch {
  outcome: 'bars' | 'unknown';
  source?: string;
}

/** Port: the vendors' period bars every instance shares (adapters/db/period-bar-store.ts). */
export interface PeriodBarStore {
  /** Ascending, both ends inclusive. */
  periodBarsBetween(symbol: string, period: Period, from: string, to: string): Promise<StoredPeriodBar[]>;
  lastFetch(symbol: string, period: Period): Promise<PeriodFetchRecord | undefined>;
  /**
   * Records the fetch and, when it gave bars, puts them in place of the symbol's stored bars of the
   * period (a vendor's series is whole: its adjusted closes all change with an action), in one transaction.
   */
  saveFetch(symbol: string, period: Period, fetch: PeriodFetchRecord, bars: PeriodBar[]): Promise<void>;
}

/** Port: the providers' period bars, newest first, in failover order (app/market-data/failover.ts). */
export type PeriodsUpstream = (symbol: string, period: Period, request: UpstreamRequest) => Promise<{ value: PeriodBar[]; source: string }>;

/** One key per symbol and period, for the refresh coordinator and the failover's fair queue alike. */
export const periodFetchKey = (symbol: string, period: Period) => `${period === 'week' ? 'weekly' : 'monthly'}:${symbol}`;

export interface PeriodAsk {
  /** YYYY-MM-DD, inclusive. */
  from: string;
  to: string;
  /** The dates of the symbol's stored splits and dividends, when adjusted prices are asked: a newer one makes the vendor's adjusted closes stale. */
  actionDates?: readonly string[];
}

export interface FreshPeriodBars {
  /** Ascending. */
  bars: StoredPeriodBar[];
  cache: CacheState;
}

/**
 * `upstream` is undefined when no configured provider has period bars (Twelve Data alone, the
 * sandbox): then the stored ones (from an earlier configuration) are served, and none is asked.
 */
export function createPeriodSource(
  store: PeriodBarStore,
  upstream: PeriodsUpstream | undefined,
  coordinator: RefreshCoordinator,
  options: { refreshIntervalMs: number; now: () => Date },
) {
  async function fetchSeries(symbol: string, period: Period, request: UpstreamRequest): Promise<void> {
    const at = options.now();
    try {
      const { value, source } = await upstream!(symbol, period, request);
      // The vendor's newest period is still under way: kept only through the latest final session, as daily bars are.
      const finalSession = latestFinalSession(at);
      const final = value.filter((bar) => bar.date <= finalSession);
      const through = final.reduce((newest, bar) => (bar.date > newest ? bar.date : newest), '');
      await store.saveFetch(symbol, period, { at: at.getTime(), through: through || utcDay(at), outcome: 'bars', source }, final);
    } catch (error) {
      // No provider knows the series: asked again only as an answer with bars would be.
      if (error instanceof NotFoundError) await store.saveFetch(symbol, period, { at: at.getTime(), through: utcDay(at), outcome: 'unknown' }, []);
      throw error;
    }
  }

  const isDue = (last: PeriodFetchRecord | undefined, ask: PeriodAsk) => isPeriodSeriesDue(last, ask.actionDates, options.now(), options.refreshIntervalMs);

  /** What a due fetch cost the answer: MISS when asked (even of a vendor that knows no such series), STALE when it could not be. */
  async function refresh(symbol: string, period: Period, requester: Requester, ask: PeriodAsk): Promise<CacheState> {
    const readAt = coordinator.checkpoint();
    if (!upstream || !isDue(await store.lastFetch(symbol, period), ask)) return 'HIT';
    try {
      // A lookup, never a refresh: the fair share caps backfills as it caps new symbols.
      return await beforeAnswerDue(symbol, requester.signal, () =>
        coordinator.refresh(periodFetchKey(symbol, period), readAt, { ...requester, refresh: false }, {
          fetch: (asked) => fetchSeries(symbol, period, asked),
          refreshedElsewhere: async () => !isDue(await store.lastFetch(symbol, period), ask),
        }),
      );
    } catch (error) {
      if (error instanceof NotFoundError) return 'MISS';
      if (
        error instanceof UpstreamRateLimitedError ||
        error instanceof UpstreamUnavailableError ||
        error instanceof FairShareExceededError ||
        error instanceof StillFetchingError
      ) {
        return 'STALE';
      }
      throw error;
    }
  }

  /** The symbol's stored period bars of the range, asked upstream first when due. */
  async function freshPeriodBars(symbol: string, period: Period, requester: Requester, ask: PeriodAsk): Promise<FreshPeriodBars> {
    const cache = await refresh(symbol, period, requester, ask);
    return { bars: await store.periodBarsBetween(symbol, period, ask.from, ask.to), cache };
  }

  return { freshPeriodBars };
}

export type PeriodSource = ReturnType<typeof createPeriodSource>;
