/**
 * Symbol search: the providers' own search, failover as for quotes, each
 * query asked upstream at most once a day (cached in the database), within
 * the upstream budget and the client's fair share.
 */
import { NotFoundError } from '../../domain/errors.js';
import { normalizeSearchQuery } from '../../domain/search.js';
import type { SymbolMatch } from './providers.js';
import type { CacheState, RefreshCoordinator, Requester } from './refresh.js';
import { beforeAnswerDue } from './answer-due.js';
import type { UpstreamRequest } from './upstream-budget.js';

export interface CachedSearch {
  matches: SymbolMatch[];
  source: string;
  fetchedAt: number;
}

/** Port: search answers every instance shares, by normalised query. */
export interface SearchCache {
  get(query: string): Promise<CachedSearch | undefined>;
  put(query: string, answer: CachedSearch): Promise<void>;
}

/** Port: the providers' search, in failover order (app/market-data/failover.ts). */
export type SearchUpstream = (query: string, request: UpstreamRequest) => Promise<{ value: SymbolMatch[]; source: string }>;

export interface ServedSearch {
  query: string;
  matches: (SymbolMatch & { provider: string })[];
  cache: CacheState;
}

const SEARCH_CACHE_MS = 86_400_000;
/** Matches kept per query: vendors answer 10 to 30; a bound keeps one cached row small whatever they send. */
export const SEARCH_MAX_MATCHES = 50;

export function createSearchService(cache: SearchCache, upstream: SearchUpstream, coordinator: RefreshCoordinator, options: { now: () => Date }) {
  async function fetchMatches(query: string, request: UpstreamRequest): Promise<void> {
    const { value, source } = await upstream(query, request);
    await cache.put(query, { matches: value.slice(0, SEARCH_MAX_MATCHES), source, fetchedAt: options.now().getTime() });
  }

  const isFresh = (cached: CachedSearch | undefined) => cached !== undefined && options.now().getTime() - cached.fetchedAt < SEARCH_CACHE_MS;

  /** Symbols matching `rawQuery`, best first, from the cache while it is less than a day old. */
  async function search(rawQuery: string, requester: Requester): Promise<ServedSearch> {
    const query = normalizeSearchQuery(rawQuery);
    const readAt = coordinator.checkpoint();
    const cached = await cache.get(query);
    if (cached && isFresh(cached)) return served(query, cached, 'HIT');
    try {
      // Every new query is an upstream call a client chooses: a lookup, capped by its fair share.
      const cost = await beforeAnswerDue(query, requester.signal, () =>
        coordinator.refresh(`search:${query}`, readAt, { ...requester, refresh: false }, {
          fetch: (asked) => fetchMatches(query, asked),
          refreshedElsewhere: async () => isFresh(await cache.get(query)),
        }),
      );
      const fresh = await cache.get(query);
      return served(query, fresh ?? { matches: [], source: '', fetchedAt: 0 }, cost);
    } catch (error) {
      if (!cached || error instanceof NotFoundError) throw error;
      return served(query, cached, 'STALE');
    }
  }

  return { search };
}

export type SearchService = ReturnType<typeof createSearchService>;

function served(query: string, { matches, source }: CachedSearch, cache: CacheState): ServedSearch {
  return { query, matches: matches.map((match) => ({ ...match, provider: source })), cache };
}
