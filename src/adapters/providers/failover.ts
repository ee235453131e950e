import { createFairQueue } from '../../app/fair-queue.js';
import { type MarketDataProvider, ProviderError } from '../../app/market-data.js';
import type { FetchDailyBars } from '../../app/prices.js';
import type { JoinFetch } from '../../app/refresh.js';
import type { UpstreamBudget, UpstreamRequest } from '../../app/upstream-budget.js';
import { FairShareExceededError, symbolNotFound, UpstreamRateLimitedError, UpstreamUnavailableError } from '../../domain/errors.js';

export interface FailoverLogger {
  warn(details: object, message: string): void;
}

/**
 * Asks each provider in order until one answers. A provider that is rate
 * limited, down, or does not know the symbol passes the question on; one
 * whose quota is spent, or whose fair share this client has used, is passed
 * over without being called. When all fail: every one said "unknown" → 404;
 * any refused by the client's fair share → 429; any rate limited or out of
 * quota → 503 with the soonest retry; otherwise → 502. Each provider's
 * concurrency is capped at what its vendor tolerates, and shared between
 * clients in turn (see app/fair-queue.ts): one client's batch cannot hold up
 * another's quote. `join` adds a client to a fetch under way, which then runs
 * at the earliest turn of anyone waiting for it; the call still counts
 * against the budget of the client that started it.
 */
export function createFailover(
  providers: MarketDataProvider[],
  log: FailoverLogger,
  budget?: UpstreamBudget,
): FetchDailyBars & { join: JoinFetch } {
  const queued = providers.map((provider) => ({ provider, queue: createFairQueue(provider.maxConcurrentRequests) }));
  // Who waits for each symbol's fetch: a fetch passed on to the next provider keeps everyone's turn.
  const waiters = new Map<string, Set<string>>();

  const fetchBars: FetchDailyBars = (symbol, request) => {
    const clients = new Set([request.client]);
    waiters.set(symbol, clients);
    return fetchInTurn(symbol, request, clients).finally(() => {
      if (waiters.get(symbol) === clients) waiters.delete(symbol);
    });
  };

  const join: JoinFetch = (symbol, { client }) => {
    const clients = waiters.get(symbol);
    if (!clients || clients.has(client)) return;
    clients.add(client);
    for (const { queue } of queued) queue.join(symbol, client);
  };

  /** Why the provider may not be called for this request, if it may not. */
  async function budgetRefusal(provider: string, request: UpstreamRequest): Promise<ProviderError | undefined> {
    try {
      const refusal = await budget?.take(provider, request);
      return refusal && new ProviderError(provider, refusal.reason, `not asked: ${refusal.reason}`, refusal.retryAfterSeconds);
    } catch (error) {
      // A call we cannot count might pass the vendor's quota: not made.
      log.warn({ provider, err: error }, 'market-data provider quota could not be counted');
      return new ProviderError(provider, 'unavailable', 'its quota could not be counted');
    }
  }

  async function fetchInTurn(symbol: string, request: UpstreamRequest, clients: ReadonlySet<string>) {
    const failures: ProviderError[] = [];
    for (const { provider, queue } of queued) {
      const refusal = await budgetRefusal(provider.name, request);
      if (refusal) {
        failures.push(refusal);
        continue;
      }
      try {
        const series = await queue.run(clients, () => provider.getDailyBars(symbol), symbol);
        return { ...series, source: provider.name };
      } catch (error) {
        const failure = error instanceof ProviderError ? error : new ProviderError(provider.name, 'unavailable', String(error));
        if (failure.failure !== 'unknown_symbol') log.warn({ symbol, err: failure }, 'market-data provider failed');
        // The vendor counts calls we did not see (another service on the key, a restart): trust it.
        if (failure.failure === 'rate_limited') {
          await budget?.vendorRefused(provider.name, failure.retryAfterSeconds ?? 60).catch((err: unknown) => {
            log.warn({ provider: provider.name, err }, 'market-data provider quota could not be marked spent');
          });
        }
        failures.push(failure);
      }
    }
    throw summarize(symbol, failures);
  }

  return Object.assign(fetchBars, { join });
}

const soonest = (failures: ProviderError[]) => Math.min(...failures.map((f) => f.retryAfterSeconds ?? 60));

function summarize(symbol: string, failures: ProviderError[]): Error {
  if (failures.every((f) => f.failure === 'unknown_symbol')) {
    return symbolNotFound(symbol);
  }
  // The client's own cap is why it was not served, whatever the other providers did.
  const unfair = failures.filter((f) => f.failure === 'fair_share');
  if (unfair.length > 0) return new FairShareExceededError(soonest(unfair));
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
