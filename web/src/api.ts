/**
 * The service's HTTP API as the page calls it: same origin, the key in a header (never in a
 * URL), every error answer's `detail` and `field` kept as the service words them.
 */

/** An answer that was not 2xx: the service's own words, and what the page needs to show them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly field: string | undefined,
    /** Retry-After, in seconds, when the service said it. */
    readonly retryAfter: number | undefined,
  ) {
    super(detail);
  }
}

/** The request never got an answer (offline, connection cut): the one case where resending is the fix. */
export class NetworkError extends Error {}

export interface Answer<T> {
  status: number;
  body: T;
  headers: Headers;
  /** X-Cache: STALE or X-Data-Stale: true — upstream failed and older stored data is served. */
  stale: boolean;
  cache: string | null;
}

export interface CallOptions {
  key?: string | null;
  method?: 'GET' | 'POST';
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

type AllowanceListener = (left: { remaining: number; resetsIn: number } | null) => void;
const allowanceListeners = new Set<AllowanceListener>();

/** Called with the account's requests left after each counted answer (its RateLimit header). */
export function onAllowance(listener: AllowanceListener): () => void {
  allowanceListeners.add(listener);
  return () => allowanceListeners.delete(listener);
}

type RefusedListener = (key: string) => void;
const refusedListeners = new Set<RefusedListener>();

/** Called with the key a call sent when the service answered 401 to it (revoked, or never valid). */
export function onKeyRefused(listener: RefusedListener): () => void {
  refusedListeners.add(listener);
  return () => refusedListeners.delete(listener);
}

/** `"user";r=997;t=86355` → the user scope's remaining requests and reset time. */
function readAllowance(headers: Headers): { remaining: number; resetsIn: number } | null {
  const value = headers.get('ratelimit');
  if (!value) return null;
  const user = value.split(',').find((entry) => entry.trim().startsWith('"user"'));
  const remaining = /;r=(\d+)/.exec(user ?? '')?.[1];
  const resetsIn = /;t=(\d+)/.exec(user ?? '')?.[1];
  return remaining === undefined ? null : { remaining: Number(remaining), resetsIn: Number(resetsIn ?? 0) };
}

export async function call<T>(path: string, options: CallOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.key) headers['x-api-key'] = options.key;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new NetworkError('The service could not be reached (network error). Check the connection and try again.');
  }
  const allowance = readAllowance(response.headers);
  if (allowance) for (const listener of allowanceListeners) listener(allowance);
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = text;
  }
  if (response.status === 401 && options.key) for (const listener of refusedListeners) listener(options.key);
  if (!response.ok) {
    const error = body as { detail?: unknown; field?: unknown } | null;
    const detail = typeof error?.detail === 'string' ? error.detail : `The service answered ${response.status}.`;
    const retryAfter = response.headers.get('retry-after');
    throw new ApiError(response.status, detail, typeof error?.field === 'string' ? error.field : undefined, retryAfter ? Number(retryAfter) : undefined);
  }
  const cache = response.headers.get('x-cache');
  return {
    status: response.status,
    body: body as T,
    headers: response.headers,
    cache,
    stale: cache === 'STALE' || response.headers.get('x-data-stale') === 'true',
  };
}

export const isAbort = (error: unknown) => (error as Error | undefined)?.name === 'AbortError';

// The answers' shapes, as README documents them.

export interface Quote {
  symbol: string;
  last_refreshed: string;
  close_value: string;
  open_value: string;
  high_value: string;
  low_value: string;
  variation_between_last_two_days: number;
  source: string;
  currency?: string;
}

export type BatchEntry = Quote | { detail: string; status: number };

export interface Bar {
  date: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: number;
}

export interface History {
  symbol: string;
  source?: string;
  adjusted: boolean;
  bars: Bar[];
  currency?: string;
}

export interface SearchMatch {
  symbol: string;
  name: string;
  type?: string;
  region?: string;
  exchange?: string;
  currency?: string;
  provider?: string;
}

export interface Trade {
  id: number;
  type: 'buy' | 'sell';
  user_id: number;
  symbol: string;
  shares: number;
  price: number;
  timestamp: number;
}

export interface Me {
  name: string;
  last_name: string;
  email: string;
  created_at: string;
  key_prefix: string;
  usage?: { rate: string; used: number; remaining: number; resets_in_seconds: number };
  upstream_lookups?: Record<string, { lookups_today: number; fair_share_left: number }>;
}

export interface ProviderState {
  name: string;
  configured: boolean;
  state?: string;
  until?: string;
  since?: string;
  last_error?: string;
  calls_today?: number | null;
  daily_limit?: number | null;
  calls_this_minute?: number | null;
  minute_limit?: number | null;
}

export interface Providers {
  providers: ProviderState[];
  requests_served_today: number;
  upstream_calls_today: number;
  saved_ratio: number | null;
}

export interface Position {
  symbol: string;
  shares: string | number;
  side: 'long' | 'short' | 'flat';
  average_cost: string | null;
  cost_basis: string;
  realised_pl: string;
  price: string | null;
  price_date: string | null;
  cache: string | null;
  reason: string | null;
  market_value: string | null;
  unrealised_pl: string | null;
  unrealised_pl_percent: string | null;
  day_change: string | null;
  day_change_percent: string | null;
}

export interface Portfolio {
  user_id: number;
  as_of: string | null;
  positions: Position[];
  totals: {
    cost_basis: string;
    market_value: string;
    realised_pl: string;
    unrealised_pl: string;
    unrealised_pl_percent: string;
    day_change: string;
    positions: number;
    unpriced: number;
  };
}

export interface PortfolioHistory {
  user_id: number;
  from: string;
  to: string;
  points: { date: string; market_value: string; cost_basis: string; unrealised_pl: string }[];
  unpriced: { symbol: string; reason: string }[];
}
