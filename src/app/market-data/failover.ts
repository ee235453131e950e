/**
 * Failover between market-data providers. Asks each provider in order until one answers. A provider that is rate
 * limited, down, or does not know the symbol passes the question on; one
 * whose quota is spent, or whose fair share this client has used, is passed
 * over without being called. When all fail: every one said "unknown" → 404;
 * any refused by the client's fair share → 429; any rate limited or out of
 * quota → 503 with the soonest retry; otherwise → 502. Each provider's
 * concurrency is capped at what its vendor tolerates, and shared between
 * clients in turn (see app/market-data/fair-queue.ts): one client's batch cannot hold up
 * another's quote. `join` adds a client to a fetch under way, which then runs
 * at the earliest turn of anyone waiting for it; the call still counts
 * against the budget of the client that started it. Every capability
 * (bars, search, splits, dividends, weekly and monthly bars, pass-through) goes the same way; a provider without
 * one is passed over, and so, until the next 00:00 UTC, is one that said it
 * does not offer a capability on its key's plan (Twelve Data's /splits and
 * /dividends on the Basic plan): each such answer costs a call of its quota.
 */
import type { AlphaVantageQuery, PassThroughAnswer } from '../../domain/alpha-vantage-functions.js';
import { createFairQueue } from './fair-queue.js';
import { periodFetchKey } from './period-bars.js';
import { type Dividend, type MarketDataProvider, ProviderError, type ProviderFailure, type Split, type SymbolMatch } from './providers.js';
import type { FetchDailyBars } from './prices.js';
import type { JoinFetch } from './refresh.js';
import type { CallOutcomes } from './provider-status.js';
import type { UpstreamBudget, UpstreamRequest } from './upstream-budget.js';
import { FairShareExceededError, symbolNotFound, UpstreamRateLimitedError, UpstreamUnavailableError } from '../../domain/errors.js';
import type { Period, PeriodBar } from '../../domain/periods.js';
import { secondsUntilReset } from '../../domain/upstream-quota.js';

export interface FailoverLogger {
  warn(details: object, message: string): void;
}

export interface Failover {
  fetchBars: FetchDailyBars;
  /** Symbols matching `query`, from the first provider with search that answers. */
  searchSymbols(query: string, request: UpstreamRequest): Promise<Answered<SymbolMatch[]>>;
  getSplits(symbol: string, request: UpstreamRequest): Promise<Answered<Split[]>>;
  getDividends(symbol: string, request: UpstreamRequest): Promise<Answered<Dividend[]>>;
  /** An Alpha Vantage call passed through (pass-through.ts), fetched under `key`, the key its callers join. */
  passThrough(key: string, query: AlphaVantageQuery, request: UpstreamRequest): Promise<Answered<PassThroughAnswer>>;
  /** A vendor's own weekly or monthly bars, newest first, from the first provider that has them and answers. */
  getPeriodBars(symbol: string, period: Period, request: UpstreamRequest): Promise<Answered<PeriodBar[]>>;
  join: JoinFetch;
}

/** A provider's answer and its name. */
export interface Answered<T> {
  value: T;
  source: string;
}

/** One capability of a provider, if it has it: a call to make, or undefined (failover passes over the provider). */
type Capability<T> = (provider: MarketDataProvider) => (() => Promise<T>) | undefined;

/** What is asked: bars (a vendor may refuse one symbol on its plan, not the endpoint), or a capability. */
type Asked = 'bars' | 'search' | 'splits' | 'dividends' | 'periods' | 'pass-through';

/** `outcomes` hears how each call ended, for /api/v1/providers/ (budget refusals are not calls). */
export function createFailover(
  providers: MarketDataProvider[],
  log: FailoverLogger,
  budget?: UpstreamBudget,
  outcomes?: CallOutcomes,
  now: () => Date = () => new Date(),
): Failover {
  const queued = providers.map((provider) => ({ provider, queue: createFairQueue(provider.maxConcurrentRequests) }));
  // "provider capability" → until when (epoch ms) it is not asked: the vendor said its plan lacks it.
  const notOffered = new Map<string, number>();
  const offers = (provider: string, asked: Asked) => (notOffered.get(`${provider} ${asked}`) ?? 0) <= now().getTime();
  // Who waits for each fetch (by key): a fetch passed on to the next provider keeps everyone's turn.
  const waiters = new Map<string, Set<string>>();

  function ask<T>(asked: Asked, key: string, subject: string, request: UpstreamRequest, capability: Capability<T>): Promise<Answered<T>> {
    const clients = new Set([request.client]);
    waiters.set(key, clients);
    return askInTurn(asked, key, subject, request, clients, capability).finally(() => {
      if (waiters.get(key) === clients) waiters.delete(key);
    });
  }

  const join: JoinFetch = (key, { client }) => {
    const clients = waiters.get(key);
    if (!clients || clients.has(client)) return;
    clients.add(client);
    for (const { queue } of queued) queue.join(key, client);
  };

  /** Why the provider may not be called for this request, if it may not. */
  async function budgetRefusal(provider: string, request: UpstreamRequest): Promise<ProviderError | undefined> {
    try {
      const refusal = await budget?.take(provider, request);
      return refusal && new ProviderError(provider, refusal.reason, `not asked: ${refusal.reason} (${refusal.window})`, refusal.retryAfterSeconds, refusal.window);
    } catch (error) {
      // A call we cannot count might pass the vendor's quota: not made.
      log.warn({ provider, err: error }, 'market-data provider quota could not be counted');
      return new ProviderError(provider, 'unavailable', 'its quota could not be counted');
    }
  }

  async function askInTurn<T>(asked: Asked, key: string, subject: string, request: UpstreamRequest, clients: ReadonlySet<string>, capability: Capability<T>) {
    const failures: ProviderError[] = [];
    for (const { provider, queue } of queued) {
      const call = capability(provider);
      if (!call || !offers(provider.name, asked)) continue; // the vendor does not offer it: no call, no failure
      // Nobody waits any more (refresh.ts): no call, and no next provider either.
      request.signal?.throwIfAborted();
      const refusal = await budgetRefusal(provider.name, request);
      if (refusal) {
        failures.push(refusal);
        continue;
      }
      try {
        const value = await queue.run(clients, call, key, request.signal);
        outcomes?.record(provider.name, 'answered');
        return { value, source: provider.name };
      } catch (error) {
        if (request.signal?.aborted && error === request.signal.reason) throw error; // dropped from the queue, never called
        const failure = error instanceof ProviderError ? error : new ProviderError(provider.name, 'unavailable', String(error));
        if (isCallOutcome(failure.failure)) outcomes?.record(provider.name, failure.failure === 'not_offered' ? 'unavailable' : failure.failure, failure.retryAfterSeconds);
        if (failure.failure === 'not_offered' && asked !== 'bars') {
          notOffered.set(`${provider.name} ${asked}`, now().getTime() + secondsUntilReset('day', now()) * 1000);
        }
        if (failure.failure !== 'unknown_symbol') log.warn({ subject, err: failure }, 'market-data provider failed');
        // The vendor counts calls we did not see (another service on the key, a restart): trust it.
        if (failure.failure === 'rate_limited') {
          await budget?.vendorRefused(provider.name, failure.retryAfterSeconds ?? 60).catch((err: unknown) => {
            log.warn({ provider: provider.name, err }, 'market-data provider quota could not be marked spent');
          });
        }
        failures.push(failure);
      }
    }
    throw summarize(subject, failures);
  }

  return {
    fetchBars: async (symbol, request, sessions) => {
      const { value, source } = await ask('bars', symbol, symbol, request, (p) => () => p.getDailyBars(symbol, sessions));
      return { ...value, source };
    },
    searchSymbols: (query, request) => ask('search', `search:${query}`, query, request, (p) => p.searchSymbols && (() => p.searchSymbols!(query))),
    getSplits: (symbol, request) => ask('splits', `splits:${symbol}`, symbol, request, (p) => p.getSplits && (() => p.getSplits!(symbol))),
    getDividends: (symbol, request) => ask('dividends', `dividends:${symbol}`, symbol, request, (p) => p.getDividends && (() => p.getDividends!(symbol))),
    passThrough: (key, query, request) => ask('pass-through', key, query.function, request, (p) => p.passThrough && (() => p.passThrough!(query))),
    // Keyed as the refresh coordinator keys it (period-bars.ts): a client waiting for the fetch joins its turn.
    getPeriodBars: (symbol, period, request) =>
      ask('periods', periodFetchKey(symbol, period), symbol, request, (p) => p.getPeriodBars && (() => p.getPeriodBars!(symbol, period))),
    join,
  };
}

/** A failure the vendor answered or caused; the budget's refusals were never calls. */
const isCallOutcome = (failure: ProviderFailure): failure is Exclude<ProviderFailure, 'quota_spent' | 'fair_share'> =>
  failure !== 'quota_spent' && failure !== 'fair_share';

const soonest = (failures: ProviderError[]) => Math.min(...failures.map((f) => f.retryAfterSeconds ?? 60));

function summarize(subject: string, failures: ProviderError[]): Error {
  if (failures.length === 0) return new UpstreamUnavailableError('No market data provider offers this; try again later.');
  if (failures.every((f) => f.failure === 'unknown_symbol')) {
    return symbolNotFound(subject);
  }
  // The client's own cap is why it was not served, whatever the other providers did.
  const unfair = failures.filter((f) => f.failure === 'fair_share');
  // Said as the day's share when any provider's day share refused: that one does not come back within a minute.
  if (unfair.length > 0) return new FairShareExceededError(soonest(unfair), unfair.some((f) => f.window === 'day') ? 'day' : 'minute');
  const spent = failures.filter((f) => f.failure === 'quota_spent');
  const rateLimited = failures.filter((f) => f.failure === 'rate_limited');
  if (spent.length > 0 || rateLimited.length > 0) {
    const message =
      rateLimited.length === 0
        ? "Market data providers' quota is spent until it resets; stored quotes are still served. Try again later."
        : 'Market data providers are rate limited; try again later.';
    return new UpstreamRateLimitedError(message, soonest([...spent, ...rateLimited]));
  }
  return new UpstreamUnavailableError('Market data providers are unavailable; try again later.');
}
