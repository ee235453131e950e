/**
 * How stored market data is refreshed from upstream: once per key however
 * many clients ask at the same moment (single flight), not again for a short
 * back-off after a failure (a storm of requests cannot burn a vendor's daily
 * quota), and on one injected clock. What is fetched, and when it is due, is
 * the caller's (app/prices.ts for bars, app/corporate-actions.ts for splits
 * and dividends, app/search.ts for search answers); the upstream budget and
 * fair share are counted by the fetch itself (adapters/providers/failover.ts).
 *
 * Also the vocabulary every market-data answer shares: what it cost
 * (CacheState) and who asked (Requester).
 */
import { LRUCache } from 'lru-cache';
import { FairShareExceededError, NotFoundError, UpstreamRateLimitedError } from '../domain/errors.js';
import type { UpstreamRequest } from './upstream-budget.js';

/** What a market-data answer cost: served as stored (HIT), fetched for it (MISS), or older than policy wants because upstream failed (STALE). */
export type CacheState = 'HIT' | 'MISS' | 'STALE';

/** The worst of several answers' cache states, for one header over them all: STALE over MISS over HIT. */
export function worstCacheState(states: Iterable<CacheState>): CacheState {
  let worst: CacheState = 'HIT';
  for (const state of states) {
    if (state === 'STALE') return state;
    if (state === 'MISS') worst = state;
  }
  return worst;
}

/** Who asks: the account, for fair scheduling and its fair share, and its address, which shares the latter. */
export type Requester = Pick<UpstreamRequest, 'client' | 'network'>;

/**
 * Port: another client now waits for an upstream fetch already under way
 * (requests for one key share one fetch), so the fetch may run at that
 * client's turn instead of waiting in the queue of whoever asked first.
 */
export type JoinFetch = (key: string, request: { client: string }) => void;

export interface RefreshCoordinatorOptions {
  /** The longest a failure holds a key back (a vendor's "retry in a day" is capped by it). */
  refreshIntervalMs: number;
  joinFetch?: JoinFetch;
  now: () => Date;
}

/** A point in the coordinator's order of events: reads before it may be older than refreshes settled after it. */
export type Checkpoint = number;

const FAILURE_BACK_OFF_SECONDS = 30;

export function createRefreshCoordinator(options: RefreshCoordinatorOptions) {
  const inFlight = new Map<string, { client: string; done: Promise<void> }>();
  const backOffUntil = new LRUCache<string, { until: number; error: Error }>({ max: 10_000 });
  // A counter, not a clock: "this key's refresh settled after that request read the store".
  let events = 0;
  const settledAt = new LRUCache<string, Checkpoint>({ max: 10_000 });

  async function fetchOnce(key: string, request: UpstreamRequest, fetch: (request: UpstreamRequest) => Promise<void>) {
    const at = options.now().getTime();
    try {
      await fetch(request);
      backOffUntil.delete(key);
      settledAt.set(key, ++events);
    } catch (error) {
      if (error instanceof NotFoundError) {
        settledAt.set(key, ++events);
      } else if (!(error instanceof FairShareExceededError)) {
        // (A fair-share refusal is one client's: others asking for the key are not held back.)
        const seconds = error instanceof UpstreamRateLimitedError ? error.retryAfterSeconds : FAILURE_BACK_OFF_SECONDS;
        backOffUntil.set(key, { until: at + Math.min(seconds * 1000, options.refreshIntervalMs), error: error as Error });
      }
      throw error;
    }
  }

  function shared(key: string, request: UpstreamRequest, fetch: (request: UpstreamRequest) => Promise<void>): Promise<void> {
    const running = inFlight.get(key);
    if (running) {
      options.joinFetch?.(key, { client: request.client });
      // Another client's fair share is not this one's: refused for it, this client asks on its own.
      return running.done.catch((error: unknown) => {
        if (error instanceof FairShareExceededError && running.client !== request.client) return fetchOnce(key, request, fetch);
        throw error;
      });
    }
    const done = fetchOnce(key, request, fetch).finally(() => inFlight.delete(key));
    inFlight.set(key, { client: request.client, done });
    return done;
  }

  return {
    /** Taken before reading the store, to tell whether a refresh settled since. */
    checkpoint: (): Checkpoint => ++events,

    /**
     * Fetches `key` with `fetch`, shared with everyone fetching it now: the
     * answer then cost a fetch (MISS). Fetches nothing when a refresh of `key`
     * settled after `readAt`, as what the caller read is already replaced in
     * the store (HIT). Throws the last failure again while its back-off lasts.
     */
    async refresh(key: string, readAt: Checkpoint, request: UpstreamRequest, fetch: (request: UpstreamRequest) => Promise<void>): Promise<'MISS' | 'HIT'> {
      if ((settledAt.get(key) ?? -1) > readAt) return 'HIT';
      const backOff = backOffUntil.get(key);
      const remainingMs = backOff ? backOff.until - options.now().getTime() : 0;
      if (backOff && remainingMs > 0) throw retryLater(backOff.error, remainingMs);
      await shared(key, request, fetch);
      return 'MISS';
    },
  };
}

export type RefreshCoordinator = ReturnType<typeof createRefreshCoordinator>;

function retryLater(error: Error, remainingMs: number): Error {
  if (error instanceof UpstreamRateLimitedError) {
    return new UpstreamRateLimitedError(error.message, Math.max(1, Math.ceil(remainingMs / 1000)));
  }
  return error;
}
