/**
 * How stored market data is refreshed from upstream: once per key however
 * many clients ask at the same moment (single flight), not again for a short
 * back-off after a failure (a storm of requests cannot burn a vendor's daily
 * quota), and on one injected clock. What is fetched, and when it is due, is
 * the caller's (app/market-data/prices.ts for bars, app/market-data/corporate-actions.ts for splits
 * and dividends, app/market-data/search.ts for search answers); the upstream budget and
 * fair share are counted by the fetch itself (app/market-data/failover.ts).
 *
 * Across instances, a lease (FetchLease) keeps a key's upstream call to one
 * instance at a time: the others wait for its result in the store instead of
 * calling too.
 *
 * Also the vocabulary every market-data answer shares: what it cost
 * (CacheState) and who asked (Requester).
 */
import { LRUCache } from 'lru-cache';
import { FairShareExceededError, NotFoundError, UpstreamRateLimitedError, UpstreamUnavailableError } from '../../domain/errors.js';
import type { UpstreamRequest } from './upstream-budget.js';
import { upTo } from '../lru-bound.js';

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
export type Requester = Pick<UpstreamRequest, 'client' | 'network' | 'signal'>;

/** Why a fetch still queued was dropped: every client waiting for it gave up. Seen by none of them. */
export class NobodyWaitsError extends Error {
  constructor() {
    super('nobody waits for this upstream call any more');
    this.name = 'NobodyWaitsError';
  }
}

/**
 * Port: another client now waits for an upstream fetch already under way
 * (requests for one key share one fetch), so the fetch may run at that
 * client's turn instead of waiting in the queue of whoever asked first.
 */
export type JoinFetch = (key: string, request: { client: string }) => void;

/** Ends a lease early (its holder is done); never rejects. */
export type ReleaseLease = () => Promise<void>;

/**
 * Port: the right to call upstream for a key, held by one instance at a time
 * for at most `ttlMs` (a crashed holder blocks no one for longer). undefined
 * when another holder has it.
 */
export interface FetchLease {
  acquire(key: string, ttlMs: number): Promise<ReleaseLease | undefined>;
}

/** A refresh as its caller defines it: the upstream fetch (which stores what it got), and how to tell someone else already did it. */
export interface Refresh {
  fetch(request: UpstreamRequest): Promise<void>;
  /** Whether the store no longer needs this refresh: another instance's settled since the caller read it. */
  refreshedElsewhere(): Promise<boolean>;
}

export interface RefreshCoordinatorOptions {
  /** The longest a failure holds a key back (a vendor's "retry in a day" is capped by it). */
  refreshIntervalMs: number;
  joinFetch?: JoinFetch;
  /** Shared by every instance (Redis) when there are several; by default this process's own. */
  lease?: FetchLease;
  /** Longer than one upstream fetch can take: how long a crashed holder can hold a key back. */
  leaseMs?: number;
  now: () => Date;
}

/** A point in the coordinator's order of events: reads before it may be older than refreshes settled after it. */
export type Checkpoint = number;

const FAILURE_BACK_OFF_SECONDS = 30;
const DEFAULT_LEASE_MS = 30_000;
/** A waiter re-reads the store after this long, doubling up to the most: quick for a fast vendor, light for a slow one. */
const FIRST_POLL_MS = 50;
const MAX_POLL_MS = 1000;

export function createRefreshCoordinator(options: RefreshCoordinatorOptions) {
  const inFlight = new Map<string, { client: string; done: Promise<void>; waiters: Waiters }>();
  const backOffUntil = new LRUCache<string, { until: number; error: Error }>(upTo(10_000));
  // A counter, not a clock: "this key's refresh settled after that request read the store".
  let events = 0;
  const settledAt = new LRUCache<string, Checkpoint>(upTo(10_000));
  const lease = options.lease ?? createLocalFetchLease();
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;

  /**
   * Calls upstream while holding the key's lease, unless someone refreshed it
   * meanwhile (checked again once held: the last holder may have released it
   * just now). Without the lease, polls the store for the holder's result; a
   * holder that failed or died leaves the lease free, and this instance takes over.
   */
  async function leased(key: string, request: UpstreamRequest, refresh: Refresh): Promise<void> {
    // Real time, not the injected clock: the lease expires in real time.
    const giveUpAt = Date.now() + 2 * leaseMs;
    for (let pause = FIRST_POLL_MS; ; pause = Math.min(2 * pause, MAX_POLL_MS)) {
      request.signal?.throwIfAborted();
      const release = await lease.acquire(key, leaseMs);
      if (release) {
        try {
          if (!(await refresh.refreshedElsewhere())) await refresh.fetch(request);
          return;
        } finally {
          await release();
        }
      }
      if (await refresh.refreshedElsewhere()) return;
      // The holder neither finished nor let go within two leases: to the client, as any provider failure.
      if (Date.now() >= giveUpAt) throw new UpstreamUnavailableError('Market data providers are unavailable; try again later.');
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  async function fetchOnce(key: string, request: UpstreamRequest, refresh: Refresh) {
    const at = options.now().getTime();
    try {
      await leased(key, request, refresh);
      backOffUntil.delete(key);
      settledAt.set(key, ++events);
    } catch (error) {
      if (error instanceof NotFoundError) {
        settledAt.set(key, ++events);
      } else if (!(error instanceof FairShareExceededError || error instanceof NobodyWaitsError)) {
        // (A fair-share refusal is one client's: others asking for the key are not held back; a dropped fetch failed no one.)
        const seconds = error instanceof UpstreamRateLimitedError ? error.retryAfterSeconds : FAILURE_BACK_OFF_SECONDS;
        backOffUntil.set(key, { until: at + Math.min(seconds * 1000, options.refreshIntervalMs), error: error as Error });
      }
      throw error;
    }
  }

  function shared(key: string, request: UpstreamRequest, refresh: Refresh): Promise<void> {
    const running = inFlight.get(key);
    if (running) {
      running.waiters.add(request.signal);
      options.joinFetch?.(key, { client: request.client });
      // Another client's fair share is not this one's: refused for it, this client asks on its own.
      return running.done.catch((error: unknown) => {
        if (error instanceof FairShareExceededError && running.client !== request.client) return fetchOnce(key, request, refresh);
        // Dropped as this client joined, everyone else having given up: this client's own fetch.
        if (error instanceof NobodyWaitsError) return shared(key, request, refresh);
        throw error;
      });
    }
    // A client that has already given up starts nothing.
    if (request.signal?.aborted) return Promise.reject(new NobodyWaitsError());
    const waiters = createWaiters();
    waiters.add(request.signal);
    const done = fetchOnce(key, { ...request, signal: waiters.signal }, refresh).finally(() => {
      inFlight.delete(key);
      waiters.forget();
    });
    inFlight.set(key, { client: request.client, done, waiters });
    return done;
  }

  return {
    /** Taken before reading the store, to tell whether a refresh settled since. */
    checkpoint: (): Checkpoint => ++events,

    /**
     * Refreshes `key`, shared with everyone refreshing it now, here or on
     * another instance: the answer then cost a fetch (MISS). Fetches nothing
     * when a refresh of `key` settled here after `readAt`, as what the caller
     * read is already replaced in the store (HIT). Throws the last failure
     * again while its back-off lasts.
     */
    async refresh(key: string, readAt: Checkpoint, request: UpstreamRequest, refresh: Refresh): Promise<'MISS' | 'HIT'> {
      if ((settledAt.get(key) ?? -1) > readAt) return 'HIT';
      const backOff = backOffUntil.get(key);
      const remainingMs = backOff ? backOff.until - options.now().getTime() : 0;
      if (backOff && remainingMs > 0) throw retryLater(backOff.error, remainingMs);
      await shared(key, request, refresh);
      return 'MISS';
    },
  };
}

export type RefreshCoordinator = ReturnType<typeof createRefreshCoordinator>;

/** The clients waiting for one fetch: its signal aborts (NobodyWaitsError) once every one of them has given up. */
interface Waiters {
  signal: AbortSignal;
  /** One more waits, until `signal` aborts; without one (the prefetch), for as long as the fetch takes. */
  add(signal: AbortSignal | undefined): void;
  /** The fetch settled: stops listening to its waiters. */
  forget(): void;
}

function createWaiters(): Waiters {
  const controller = new AbortController();
  const listening: (() => void)[] = [];
  let waiting = 0;
  let someoneAlwaysWaits = false;
  return {
    signal: controller.signal,
    add(signal) {
      if (!signal) {
        someoneAlwaysWaits = true;
        return;
      }
      if (signal.aborted) return;
      waiting += 1;
      const gaveUp = () => {
        waiting -= 1;
        if (waiting === 0 && !someoneAlwaysWaits) controller.abort(new NobodyWaitsError());
      };
      signal.addEventListener('abort', gaveUp, { once: true });
      listening.push(() => signal.removeEventListener('abort', gaveUp));
    },
    forget() {
      for (const stop of listening.splice(0)) stop();
    },
  };
}

function retryLater(error: Error, remainingMs: number): Error {
  if (error instanceof UpstreamRateLimitedError) {
    return new UpstreamRateLimitedError(error.message, Math.max(1, Math.ceil(remainingMs / 1000)));
  }
  return error;
}

/**
 * The lease when this process is the only instance: a key is held until
 * released or `ttlMs` passes. (Single flight already keeps a process to one
 * fetch per key; this keeps the coordinator's path the same either way.)
 */
export function createLocalFetchLease(): FetchLease {
  const held = new Map<string, { token: object; until: number }>();
  return {
    async acquire(key, ttlMs) {
      const current = held.get(key);
      if (current && current.until > Date.now()) return undefined;
      const token = {};
      held.set(key, { token, until: Date.now() + ttlMs });
      return async () => {
        if (held.get(key)?.token === token) held.delete(key);
      };
    },
  };
}
