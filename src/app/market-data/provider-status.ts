/**
 * The upstream economy, visible: each provider's state and calls, the
 * requests the service answered and the share the price store saved; and
 * what one account spent of its fair share.
 */
import { type CallOutcome, type CallRecord, type ProviderState, providerState, recordOutcome, savedRatio } from '../../domain/provider-state.js';
import type { ServedRequests } from '../served-requests.js';
import type { ProviderUsage, UpstreamBudget } from './upstream-budget.js';

/**
 * Where failover reports each call's outcome. The record is this
 * instance's only: instances share quota counts through the database, but
 * a failure seen by one is seen by the others on their own next call, and
 * writing each outcome would add a database write to every upstream call.
 */
export interface CallOutcomes {
  record(provider: string, outcome: CallOutcome, retryAfterSeconds?: number): void;
  of(provider: string): CallRecord;
}

export function createCallOutcomes(now: () => Date): CallOutcomes {
  const records = new Map<string, CallRecord>();
  return {
    record(provider, outcome, retryAfterSeconds) {
      records.set(provider, recordOutcome(records.get(provider) ?? {}, outcome, now(), retryAfterSeconds));
    },
    of: (provider) => records.get(provider) ?? {},
  };
}

/** A provider the service knows, configured (in failover order) or not (no key). */
export interface KnownProvider {
  name: string;
  configured: boolean;
}

export type ProviderReport =
  | { name: string; configured: false }
  | { name: string; configured: true; state: ProviderState; usage: ProviderUsage | undefined };

export interface EconomyReport {
  providers: ProviderReport[];
  requestsServedToday: number;
  /** Calls counted against the providers' quotas today (the sandbox is not counted). */
  upstreamCallsToday: number;
  savedRatio: number | null;
}

/** One provider's fair share for one account. */
export interface AccountShare {
  provider: string;
  lookupsToday: number;
  lookupsLeft: number;
}

export interface ProviderStatus {
  report(): Promise<EconomyReport>;
  /** For each provider with a daily limit: the account's lookups of new symbols today and what its fair share still allows. */
  shareOf(client: string): Promise<AccountShare[]>;
}

export interface ProviderStatusDependencies {
  providers: KnownProvider[];
  budget: UpstreamBudget;
  outcomes: CallOutcomes;
  served: ServedRequests;
  now: () => Date;
}

export function createProviderStatus({ providers, budget, outcomes, served, now }: ProviderStatusDependencies): ProviderStatus {
  const configured = providers.filter((p) => p.configured).map((p) => p.name);

  async function reportOn(provider: KnownProvider): Promise<ProviderReport> {
    if (!provider.configured) return { name: provider.name, configured: false };
    const usage = await budget.usage(provider.name);
    return { name: provider.name, configured: true, state: providerState(usage, outcomes.of(provider.name), now()), usage };
  }

  return {
    async report() {
      const [reports, requestsServedToday] = await Promise.all([Promise.all(providers.map(reportOn)), served.today()]);
      const upstreamCallsToday = reports.reduce((sum, r) => sum + (r.configured ? (r.usage?.callsToday ?? 0) : 0), 0);
      return { providers: reports, requestsServedToday, upstreamCallsToday, savedRatio: savedRatio(requestsServedToday, upstreamCallsToday) };
    },

    async shareOf(client) {
      const shares = await Promise.all(configured.map(async (provider) => ({ provider, ...(await budget.fairShare(provider, client)) })));
      return shares.flatMap(({ provider, lookupsToday, lookupsLeft }) => (lookupsLeft === undefined ? [] : [{ provider, lookupsToday, lookupsLeft }]));
    },
  };
}
