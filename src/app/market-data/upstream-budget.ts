/**
 * The upstream budget: each provider's quota counted in a store every
 * instance shares, the fair share of it one client may spend on symbols the
 * store does not hold (lookups), and the reserve background calls leave for
 * clients. Failover asks it before every vendor call. The arithmetic of
 * windows and shares is domain/upstream-quota.ts.
 */
import { lookupsLeft, mayLookUp, mayLookUpThisMinute, type QuotaWindow, secondsUntilReset, windowStart } from '../../domain/upstream-quota.js';

/** A provider's quota; 0 means the vendor sets no such limit (a paid plan, say). */
export interface ProviderQuota {
  perDay: number;
  perMinute: number;
}

/** One quota window to count a call in: it has room while calls < limit − reserve. */
export interface WindowTake {
  window: QuotaWindow;
  start: number;
  limit: number;
  /** Calls of the window this take may not use (the day's last call, kept for refreshes). */
  reserve: number;
}

/** A lookup of a symbol the store does not hold, counted against the client's fair share of each window. */
export interface LookupTake {
  client: string;
  /** Whether a client with `lookupsBefore` lookups in the window may make one more, with `callsLeftBefore` calls left in it. */
  allowed(window: QuotaWindow, lookupsBefore: number, callsLeftBefore: number): boolean;
}

/** What a take did: counted, or refused by a window's quota or by the client's fair share of it. */
export type TakeOutcome = 'taken' | { refusedBy: 'quota' | 'fair_share'; window: QuotaWindow };

/** Port: call counts every instance shares (adapters/db/upstream-budget-store.ts). */
export interface BudgetStore {
  /**
   * Counts one call in every window and, for a lookup, one lookup of each
   * of `lookups` in every window — atomically, and only if each has room:
   * otherwise nothing is counted and the answer names what refused.
   */
  take(provider: string, windows: WindowTake[], lookups: LookupTake[]): Promise<TakeOutcome>;
  /** Marks the window spent (the vendor said so): its count rises to its limit. */
  exhaust(provider: string, window: WindowTake): Promise<void>;
  calls(provider: string, window: QuotaWindow, start: number): Promise<number>;
  lookups(provider: string, client: string, dayStart: number): Promise<number>;
}

/** Why a provider was not asked. */
export interface BudgetRefusal {
  /** `quota_spent`: no call left in a window; `fair_share`: the client used its share of new-symbol lookups. */
  reason: 'quota_spent' | 'fair_share';
  /** When the refusing window resets. */
  retryAfterSeconds: number;
  /** The window whose quota or share refused. */
  window: QuotaWindow;
}

export interface UpstreamRequest {
  /** The account the call is made for. */
  client: string;
  /**
   * The address (IPv6 grouped by prefix) the request came from: the fair
   * share holds for it too, so the accounts one address registers share one.
   */
  network?: string;
  /** The store already holds the symbol: a refresh, not capped by the fair share. */
  refresh?: boolean;
  /**
   * Nobody waits for it (the after-close prefetch): counted as a refresh, and
   * refused once it would eat into the reserve kept for clients' lookups.
   */
  background?: boolean;
  /**
   * Aborted once nobody waits for the call any more (its client's time budget ran out, or the client
   * went away): a call still queued is then not made. A call already sent runs on and is stored.
   */
  signal?: AbortSignal;
}

export interface ProviderUsage {
  callsToday: number;
  /** 0: no daily limit. */
  dailyLimit: number;
  callsThisMinute: number;
  minuteLimit: number;
}

export interface UpstreamBudget {
  /** Takes one call of the provider's quota for the request; a refusal means: do not call it. */
  take(provider: string, request: UpstreamRequest): Promise<BudgetRefusal | undefined>;
  /** The vendor refused for `retryAfterSeconds`: its window is spent, even if our count did not know. */
  vendorRefused(provider: string, retryAfterSeconds: number): Promise<void>;
  /** Calls counted today and this minute; undefined for a provider without quota (the sandbox). */
  usage(provider: string): Promise<ProviderUsage | undefined>;
  /**
   * The client's lookups of new symbols today through the provider, and how many more its fair share
   * allows if nobody else calls it meanwhile (undefined: no daily limit, so no share).
   */
  fairShare(provider: string, client: string): Promise<{ lookupsToday: number; lookupsLeft: number | undefined }>;
  /**
   * Seconds until at least one of `providers` has room for a background call
   * (0: one has room now), as counted now; the take itself still decides.
   */
  backgroundWait(providers: string[]): Promise<number>;
}

export interface UpstreamBudgetOptions {
  /** The fraction of a provider's calls left today that one client may spend on new symbols. */
  fairShare: number;
  /** The same for a provider's calls left this minute; by default the daily fraction. */
  minuteFairShare?: number;
  /**
   * The fraction of each window a background call may not use: kept for
   * clients' lookups. Default 0 (none kept); the composition root sets PREFETCH_RESERVE.
   */
  backgroundReserve?: number;
  now?: () => Date;
}

/**
 * Whose fair share a lookup spends: the account's, and its address's —
 * accounts cost only a registration, so one address must not get a fresh
 * share with each. (An address is kept apart from account ids by its prefix.)
 */
function fairShareHolders(request: UpstreamRequest): string[] {
  return request.network === undefined ? [request.client] : [request.client, `address:${request.network}`];
}

/** A vendor's per-minute refusal asks for at most a minute; anything longer is its daily quota. */
const MINUTE_RETRY_MAX_SECONDS = 60;

/**
 * Each provider's quota, counted in a store every instance shares, and the
 * fair share of it one client may spend on symbols the store does not hold.
 * Providers without a quota (the sandbox) are never counted.
 */
export function createUpstreamBudget(
  store: BudgetStore,
  quotas: Record<string, ProviderQuota>,
  options: UpstreamBudgetOptions,
): UpstreamBudget {
  const now = options.now ?? (() => new Date());
  const backgroundReserve = options.backgroundReserve ?? 0;

  function windowsOf(quota: ProviderQuota, at: Date, kind: 'lookup' | 'refresh' | 'background'): WindowTake[] {
    const windows: WindowTake[] = [];
    if (quota.perDay > 0) {
      // A lookup may not take the day's last call: it is kept for refreshes of stored symbols.
      // The background keeps the reserve, rounded up: a fraction of a call kept is a call kept.
      const reserve = kind === 'lookup' ? 1 : kind === 'background' ? Math.ceil(quota.perDay * backgroundReserve) : 0;
      windows.push({ window: 'day', start: windowStart('day', at), limit: quota.perDay, reserve });
    }
    if (quota.perMinute > 0) {
      // Rounded down here, so a small per-minute limit (1 a minute, say) is not reserved whole and the prefetch can run.
      const reserve = kind === 'background' ? Math.floor(quota.perMinute * backgroundReserve) : 0;
      windows.push({ window: 'minute', start: windowStart('minute', at), limit: quota.perMinute, reserve });
    }
    return windows;
  }

  const minuteFairShare = options.minuteFairShare ?? options.fairShare;
  const allowedLookup = (window: QuotaWindow, lookups: number, left: number) =>
    window === 'day' ? mayLookUp(lookups, left, options.fairShare) : mayLookUpThisMinute(lookups, left, minuteFairShare);

  const kindOf = (request: UpstreamRequest) => (request.background ? 'background' : request.refresh ? 'refresh' : 'lookup');

  /** Seconds until the provider has room for a background call; 0 when it has now. */
  async function backgroundWaitOf(provider: string, at: Date): Promise<number> {
    const quota = quotas[provider];
    if (!quota) return 0;
    let wait = 0;
    for (const { window, start, limit, reserve } of windowsOf(quota, at, 'background')) {
      if ((await store.calls(provider, window, start)) >= limit - reserve) wait = Math.max(wait, secondsUntilReset(window, at));
    }
    return wait;
  }

  return {
    async take(provider, request) {
      const quota = quotas[provider];
      if (!quota) return undefined;
      const at = now();
      const kind = kindOf(request);
      const lookup = kind === 'lookup';
      const windows = windowsOf(quota, at, kind);
      if (windows.length === 0) return undefined;
      // The fair share is a share of each limited window's calls: a window without a limit has nothing to share.
      const fairShare = lookup ? fairShareHolders(request) : [];
      const outcome = await store.take(provider, windows, fairShare.map((client) => ({ client, allowed: allowedLookup })));
      if (outcome === 'taken') return undefined;
      const { refusedBy, window } = outcome;
      return { reason: refusedBy === 'quota' ? 'quota_spent' : 'fair_share', retryAfterSeconds: secondsUntilReset(window, at), window };
    },

    async vendorRefused(provider, retryAfterSeconds) {
      const quota = quotas[provider];
      if (!quota) return;
      const at = now();
      const spent: QuotaWindow = retryAfterSeconds > MINUTE_RETRY_MAX_SECONDS ? 'day' : 'minute';
      const window = windowsOf(quota, at, 'refresh').find((w) => w.window === spent);
      // A limit we do not count (none configured) cannot be marked; failover and back-off still apply.
      if (window) await store.exhaust(provider, window);
    },

    async usage(provider) {
      const quota = quotas[provider];
      if (!quota) return undefined;
      const at = now();
      const [callsToday, callsThisMinute] = await Promise.all([
        store.calls(provider, 'day', windowStart('day', at)),
        store.calls(provider, 'minute', windowStart('minute', at)),
      ]);
      return { callsToday, dailyLimit: quota.perDay, callsThisMinute, minuteLimit: quota.perMinute };
    },

    async fairShare(provider, client) {
      const day = windowStart('day', now());
      const [lookupsToday, callsToday] = await Promise.all([store.lookups(provider, client, day), store.calls(provider, 'day', day)]);
      const perDay = quotas[provider]?.perDay ?? 0;
      if (perDay === 0) return { lookupsToday, lookupsLeft: undefined };
      return { lookupsToday, lookupsLeft: lookupsLeft(lookupsToday, Math.max(0, perDay - callsToday), options.fairShare) };
    },

    async backgroundWait(providers) {
      const at = now();
      const waits = await Promise.all(providers.map((provider) => backgroundWaitOf(provider, at)));
      return waits.length === 0 ? 0 : Math.min(...waits);
    },
  };
}
