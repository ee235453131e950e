/**
 * The pass-through: an Alpha Vantage function the store does not serve (domain/alpha-vantage-functions.ts)
 * is asked of Alpha Vantage with the service's own key, never the client's, and what it answers is kept in
 * the database every instance shares, for the function's lifetime. So a distinct call (its one normalised
 * form) costs at most one upstream call per lifetime, however many clients ask it on however many instances:
 * single flight (refresh.ts) lets one caller in this process fetch while the others wait for it, and the
 * FetchLease keeps the fetch to one instance while the others wait for what it keeps. Each fetch is a lookup
 * of the client that caused it, so it is within the upstream budget and that client's fair share (failover.ts).
 *
 * An answer past its lifetime is still served, STALE, when asking again fails (as quotes and search are),
 * until it is a week past it; the cache's bytes are bounded, the oldest fetched answers going first.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { type AlphaVantageQuery, canonicalQuery, keptUntil, type PassThroughAnswer } from '../../domain/alpha-vantage-functions.js';
import { UpstreamUnavailableError } from '../../domain/errors.js';
import type { CacheState, RefreshCoordinator, Requester } from './refresh.js';
import { beforeAnswerDue } from './answer-due.js';
import type { UpstreamRequest } from './upstream-budget.js';

/** An answer as kept: when it was fetched, from which provider, and until when it is served without asking again. */
export interface KeptAnswer {
  answer: PassThroughAnswer;
  source: string;
  /** Epoch ms. */
  fetchedAt: number;
  /** Epoch ms. */
  expiresAt: number;
}

/** Port: answers every instance shares, by the call's key (adapters/db/pass-through-cache.ts). */
export interface PassThroughCache {
  get(key: string): Promise<KeptAnswer | undefined>;
  /** Keeps (or replaces) the answer to `query`, whose key is `key`. */
  put(key: string, query: AlphaVantageQuery, kept: KeptAnswer): Promise<void>;
  /** Deletes answers that expired before `expiredBefore`, then the oldest fetched until the rest hold at most `maxBytes` of body. */
  prune(expiredBefore: number, maxBytes: number): Promise<void>;
}

/** Port: the providers that pass calls through, in failover order (app/market-data/failover.ts). */
export type PassThroughUpstream = (key: string, query: AlphaVantageQuery, request: UpstreamRequest) => Promise<{ value: PassThroughAnswer; source: string }>;

export interface PassedThrough {
  answer: PassThroughAnswer;
  cache: CacheState;
}

export interface PassThroughOptions {
  now: () => Date;
  /** The most body bytes the cache holds, every answer together. */
  cacheMaxBytes: number;
  /** A prune that failed: the answer is served anyway, and the next fetch prunes again. */
  onPruneError?: (error: unknown) => void;
  /** How each call was served (metrics): from the cache, fetched, stale, or not at all. */
  onAnswered?: (result: CacheState | 'FAILED') => void;
}

/** How long an answer past its lifetime is kept to be served STALE when upstream fails. */
const STALE_KEPT_MS = 7 * 86_400_000;

/** The call's key: SHA-256 of its one form, short enough for any index and lease whatever the call's length. */
export function passThroughKey(query: AlphaVantageQuery): string {
  return createHash('sha256').update(canonicalQuery(query)).digest('hex');
}

/**
 * `upstream` is undefined when no configured provider passes calls through (no Alpha Vantage key: the
 * sandbox, or Twelve Data only): every call is then refused, saying so, unless an answer is already kept.
 */
export function createPassThroughService(
  cache: PassThroughCache,
  upstream: PassThroughUpstream | undefined,
  coordinator: RefreshCoordinator,
  options: PassThroughOptions,
) {
  const isFresh = (kept: KeptAnswer | undefined) => kept !== undefined && options.now().getTime() < kept.expiresAt;
  // A kept answer cannot change before it expires (no instance asks again before then), so the answers read
  // most are served from this process's memory until then, without a database read: a cached answer then
  // costs about what a stored quote does. Bounded in bytes; an expired one is read (and refreshed) as before.
  const recent = new LRUCache<string, KeptAnswer>({ maxSize: RECENT_MAX_BYTES, sizeCalculation: (kept) => Math.max(1, bodyBytes(kept)) });
  const remember = (key: string, kept: KeptAnswer) => {
    if (isFresh(kept) && bodyBytes(kept) <= RECENT_MAX_ENTRY_BYTES) recent.set(key, kept);
  };

  async function fetchAndKeep(key: string, query: AlphaVantageQuery, request: UpstreamRequest, fetch: PassThroughUpstream): Promise<KeptAnswer> {
    const { value, source } = await fetch(key, query, request);
    const at = options.now();
    const kept = { answer: value, source, fetchedAt: at.getTime(), expiresAt: keptUntil(query, value.kind, at) };
    await cache.put(key, query, kept);
    await cache.prune(at.getTime() - STALE_KEPT_MS, options.cacheMaxBytes).catch((error: unknown) => options.onPruneError?.(error));
    return kept;
  }

  async function fetchShared(key: string, query: AlphaVantageQuery, requester: Requester, readAt: number): Promise<PassedThrough> {
    if (!upstream) {
      throw new UpstreamUnavailableError("This function is passed through to Alpha Vantage with the service's own Alpha Vantage key, and this service has none configured.");
    }
    let fetched: KeptAnswer | undefined;
    // Each new call is an upstream call a client chooses: a lookup, capped by its fair share.
    const cost = await coordinator.refresh(`pass-through:${key}`, readAt, { ...requester, refresh: false }, {
      fetch: async (asked) => void (fetched = await fetchAndKeep(key, query, asked, upstream)),
      refreshedElsewhere: async () => isFresh(await cache.get(key)),
    });
    // Fetched here, or by the fetch this call waited for (in this process or another): kept either way,
    // unless pruned in between (the bound reached by many larger answers at once).
    const kept = fetched ?? (await cache.get(key));
    if (!kept) throw new UpstreamUnavailableError('Market data providers are unavailable; try again later.');
    remember(key, kept);
    return { answer: kept.answer, cache: cost };
  }

  /** The answer to `query`: kept and fresh (HIT), fetched for it (MISS), or kept but past its lifetime when fetching failed (STALE). */
  async function answer(query: AlphaVantageQuery, requester: Requester): Promise<PassedThrough> {
    const key = passThroughKey(query);
    const inMemory = recent.get(key);
    if (inMemory && isFresh(inMemory)) {
      options.onAnswered?.('HIT');
      return { answer: inMemory.answer, cache: 'HIT' };
    }
    const readAt = coordinator.checkpoint();
    const cached = await cache.get(key);
    let served: PassedThrough;
    if (cached && isFresh(cached)) {
      remember(key, cached);
      served = { answer: cached.answer, cache: 'HIT' };
    } else {
      try {
        served = await beforeAnswerDue(query.function, requester.signal, () => fetchShared(key, query, requester, readAt));
      } catch (error) {
        if (!cached) {
          options.onAnswered?.('FAILED');
          throw error;
        }
        served = { answer: cached.answer, cache: 'STALE' };
      }
    }
    options.onAnswered?.(served.cache);
    return served;
  }

  return { answer };
}

export type PassThroughService = ReturnType<typeof createPassThroughService>;

/** What the answers kept in memory may take, in characters of their bodies, and the most one may. */
const RECENT_MAX_BYTES = 32 * 1024 * 1024;
const RECENT_MAX_ENTRY_BYTES = 1024 * 1024;
const bodyBytes = ({ answer }: KeptAnswer) => (answer.kind === 'too_large' ? 0 : answer.body.length);
