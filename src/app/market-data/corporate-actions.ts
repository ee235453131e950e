/**
 * Splits and cash dividends per symbol: their store, their refresh from
 * upstream, and the ports both need. The adjustment itself is
 * domain/corporate-actions.ts.
 */
import { NotFoundError, UpstreamUnavailableError } from '../../domain/errors.js';
import { checkSplitSeries, type Dividend, type Split, withSplits } from '../../domain/corporate-actions.js';
import { isRefreshDueSinceAttempt } from '../../domain/market-calendar.js';
import type { CacheState, RefreshCoordinator, Requester } from './refresh.js';
import { beforeAnswerDue } from './answer-due.js';
import type { UpstreamRequest } from './upstream-budget.js';

/** A symbol's actions, each list ascending by date. */
export interface CorporateActions {
  splits: Split[];
  dividends: Dividend[];
}

/** Where saved actions came from. */
export interface ActionsProvenance {
  /** A provider's name, or the import's. */
  source: string;
  /** Epoch ms. */
  fetchedAt: number;
  /** True when asked of a provider: the attempt is recorded, and lastAttempt says so. An import is not one. */
  upstreamAttempt: boolean;
}

export type ActionsOutcome = 'actions' | 'unknown';

/** Port: the service's own store of splits and dividends. */
export interface ActionStore {
  /** Ascending by date; empty lists when none are stored. */
  actions(symbol: string): Promise<CorporateActions>;
  /** The same for several symbols at once: one entry per symbol asked. */
  actionsOf(symbols: string[]): Promise<Map<string, CorporateActions>>;
  /** Upserts by (symbol, date) and (symbol, ex-date), in one transaction; an upstream attempt is recorded in it too. */
  saveActions(symbol: string, actions: CorporateActions, provenance: ActionsProvenance): Promise<void>;
  /** When the symbol's actions were last asked upstream, and with what outcome. */
  lastAttempt(symbol: string): Promise<{ at: number; outcome: ActionsOutcome } | undefined>;
  /** Records that every provider said the symbol does not exist. */
  recordUnknown(symbol: string, at: number): Promise<void>;
  /** Deletes every stored split and dividend of the symbol and its refresh record; how many actions. */
  deleteActions(symbol: string): Promise<number>;
}

/** Port: the providers' splits and dividends, in failover order (app/market-data/failover.ts). */
export interface ActionsUpstream {
  getSplits(symbol: string, request: UpstreamRequest): Promise<{ value: Split[]; source: string }>;
  getDividends(symbol: string, request: UpstreamRequest): Promise<{ value: Dividend[]; source: string }>;
}

export interface FreshActions {
  actions: CorporateActions;
  cache: CacheState;
}

/**
 * A symbol's splits and dividends, refreshed from upstream at most once per
 * session close (as bars are) and only when a client asks for them: they
 * cost two upstream calls (splits, dividends), so a symbol nobody adjusts
 * never spends them. Callers ask only for symbols the price store holds
 * (see quotes.ts); still, a symbol whose actions were never asked upstream is
 * a lookup, capped by the client's fair share as a first-time symbol's bars
 * are — else each symbol a client looks up would bring two calls more,
 * uncapped — and only later refreshes are not.
 */
export function createActionsSource(store: ActionStore, upstream: ActionsUpstream, coordinator: RefreshCoordinator, options: { refreshIntervalMs: number; now: () => Date }) {
  async function refreshActions(symbol: string, request: UpstreamRequest): Promise<void> {
    const at = options.now().getTime();
    try {
      const [splits, dividends] = await askBoth(symbol, request);
      const source = splits.source === dividends.source ? splits.source : `${splits.source}+${dividends.source}`;
      refuseUnadjustable(symbol, source, await store.actions(symbol), splits.value);
      await store.saveActions(symbol, { splits: splits.value, dividends: dividends.value }, { source, fetchedAt: at, upstreamAttempt: true });
    } catch (error) {
      if (error instanceof NotFoundError) await store.recordUnknown(symbol, at);
      throw error;
    }
  }

  /**
   * A symbol's splits and dividends from upstream. Its first fetch (two lookups of the client's fair share)
   * asks the splits first and the dividends only once they answered: a lookup refused, or a vendor that
   * lacks the endpoint, then costs one call, not two. Later refreshes ask both at once; both settle before
   * the answer: a call still under way when the other failed would otherwise go on behind it, unseen by
   * the next request, which would ask again before its refusal is known.
   */
  async function askBoth(symbol: string, request: UpstreamRequest) {
    if (!request.refresh) {
      const splits = await upstream.getSplits(symbol, request);
      return [splits, await upstream.getDividends(symbol, request)] as const;
    }
    const [askedSplits, askedDividends] = await Promise.allSettled([upstream.getSplits(symbol, request), upstream.getDividends(symbol, request)]);
    if (askedSplits.status === 'rejected') throw askedSplits.reason;
    if (askedDividends.status === 'rejected') throw askedDividends.reason;
    return [askedSplits.value, askedDividends.value] as const;
  }

  /** The stored actions of a symbol the price store holds, refreshed first when due. */
  async function freshActions(symbol: string, requester: Requester): Promise<FreshActions> {
    const readAt = coordinator.checkpoint();
    const [actions, attempt] = await Promise.all([store.actions(symbol), store.lastAttempt(symbol)]);
    if (!isRefreshDueSinceAttempt(attempt?.at, options.now(), options.refreshIntervalMs)) return { actions, cache: 'HIT' };
    try {
      const request = { ...requester, refresh: attempt !== undefined };
      const cache = await beforeAnswerDue(symbol, requester.signal, () =>
        coordinator.refresh(`actions:${symbol}`, readAt, request, {
          fetch: (asked) => refreshActions(symbol, asked),
          refreshedElsewhere: async () => !isRefreshDueSinceAttempt((await store.lastAttempt(symbol))?.at, options.now(), options.refreshIntervalMs),
        }),
      );
      return { actions: await store.actions(symbol), cache };
    } catch (error) {
      // Providers that do not know the symbol's actions know of none: what is stored (imported) stands.
      if (error instanceof NotFoundError) return { actions, cache: 'MISS' };
      if (attempt || actions.splits.length + actions.dividends.length > 0) return { actions, cache: 'STALE' };
      throw error;
    }
  }

  /** The stored actions of several symbols, as they are: no upstream call, no refresh (a portfolio's fold reads them). */
  function storedActions(symbols: string[]): Promise<Map<string, CorporateActions>> {
    return symbols.length === 0 ? Promise.resolve(new Map()) : store.actionsOf(symbols);
  }

  return { freshActions, storedActions };
}

/**
 * Each split a vendor gives is checked as it is read (adapters/providers); together with the
 * splits stored (an import's), they must still adjust a series, or none is saved.
 */
function refuseUnadjustable(symbol: string, source: string, stored: CorporateActions, given: Split[]): void {
  const refused = checkSplitSeries(withSplits(stored.splits, given));
  if (refused) throw new UpstreamUnavailableError(`The splits ${source} gives for ${symbol} were not stored: ${refused.problem}.`);
}

/**
 * The stored splits, as adjustment takes them. Every way in checks them, but a store written
 * before the bounds existed may hold splits past them: those adjust nothing, and say so.
 */
export function adjustableSplits(symbol: string, splits: Split[]): Split[] {
  const refused = checkSplitSeries(splits);
  if (refused) throw new UpstreamUnavailableError(`The stored splits of ${symbol} cannot adjust its history: ${refused.problem}. An operator can replace them (npm run cli -- delete-prices).`);
  return splits;
}

export type ActionsSource = ReturnType<typeof createActionsSource>;
