/**
 * The service's HTTP API as the page calls it: same origin, the key in a header (never in a
 * URL), every error answer's `detail` and `field` kept as the service words them.
 */
import type { Static } from 'typebox';
import type { ProviderSchema, ProvidersSchema } from '../../src/adapters/http/schemas/economy.js';
import type { AccountSchema, BarSchema, HistorySchema, MatchSchema, QuoteSchema, SymbolErrorSchema } from '../../src/adapters/http/schemas/market.js';
import type { PortfolioHistorySchema, PortfolioSchema, PositionSchema } from '../../src/adapters/http/schemas/portfolio.js';
import type { TradeSchema } from '../../src/adapters/http/schemas/trade.js';


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

export interface Allowance {
  /** The account's requests left in its window, as the service counted the latest request. */
  remaining: number;
  /** The window's size ("1000" of "1000/day"), from RateLimit-Policy. */
  limit: number | null;
  resetsIn: number;
}
type AllowanceListener = (left: Allowance | null) => void;
const allowanceListeners = new Set<AllowanceListener>();
let allowance: Allowance | null = null;
/** When the reading in `allowance` arrived (performance.now()). */
let allowanceReadAt = -Infinity;

/**
 * The one count of requests left the page shows (in the header and on Usage): the RateLimit header
 * of the latest counted request. Answers to calls made together can arrive in any order: a reading
 * replaces the one held when its request was sent after that one arrived (so it was counted later), or
 * when it is lower (of two requests in flight together, the one counted last has fewer left).
 */
function takeAllowance(reading: Allowance, sentAt: number): void {
  if (allowance && sentAt < allowanceReadAt && reading.remaining >= allowance.remaining) return;
  allowance = reading;
  allowanceReadAt = performance.now();
  for (const listener of allowanceListeners) listener(allowance);
}

/** Called with the account's requests left after each counted answer, and at once with the count known. */
export function onAllowance(listener: AllowanceListener): () => void {
  allowanceListeners.add(listener);
  listener(allowance);
  return () => allowanceListeners.delete(listener);
}

/** A new key: its count is not the old key's. */
export function resetAllowance(): void {
  allowance = null;
  allowanceReadAt = -Infinity;
  for (const listener of allowanceListeners) listener(null);
}

/** One API call the page made this visit, for the Usage view: what it asked, where the answer came from, what it left. */
export interface CallRecord {
  at: string;
  method: string;
  path: string;
  status: number;
  /** X-Cache: HIT (from the service's store or memory), MISS (asked upstream), STALE. */
  cache: string | null;
  remaining: number | null;
}
const CALLS_KEPT = 50;
const calls: CallRecord[] = [];
type CallListener = (calls: readonly CallRecord[]) => void;
const callListeners = new Set<CallListener>();

/** The page's latest API calls, newest first (at most 50), and each new one as it is answered. */
export function onCalls(listener: CallListener): () => void {
  callListeners.add(listener);
  listener(calls);
  return () => callListeners.delete(listener);
}

function recordCall(record: CallRecord): void {
  calls.unshift(record);
  calls.length = Math.min(calls.length, CALLS_KEPT);
  for (const listener of callListeners) listener([...calls]);
}

type RefusedListener = (key: string) => void;
const refusedListeners = new Set<RefusedListener>();

/** Called with the key a call sent when the service answered 401 to it (revoked, or never valid). */
export function onKeyRefused(listener: RefusedListener): () => void {
  refusedListeners.add(listener);
  return () => refusedListeners.delete(listener);
}

/**
 * `RateLimit: "user";r=997;t=86355` and `RateLimit-Policy: "user";q=1000;w=86400` → the user scope's
 * remaining requests, its size and reset time (the IETF draft's structured fields, read by pattern:
 * the page needs three integers of one entry, not a structured-field parser).
 */
function readAllowance(headers: Headers): Allowance | null {
  const entry = (name: string) => headers.get(name)?.split(',').find((e) => e.trim().startsWith('"user"')) ?? '';
  const user = entry('ratelimit');
  const remaining = /;r=(\d+)/.exec(user)?.[1];
  const resetsIn = /;t=(\d+)/.exec(user)?.[1];
  const limit = /;q=(\d+)/.exec(entry('ratelimit-policy'))?.[1];
  return remaining === undefined ? null : { remaining: Number(remaining), resetsIn: Number(resetsIn ?? 0), limit: limit === undefined ? null : Number(limit) };
}

export async function call<T>(path: string, options: CallOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.key) headers['x-api-key'] = options.key;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  const sentAt = performance.now();
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
  const reading = readAllowance(response.headers);
  if (reading) takeAllowance(reading, sentAt);
  if (path.startsWith('/api/')) {
    recordCall({
      at: new Date().toISOString().slice(11, 19),
      method: options.method ?? 'GET',
      path,
      status: response.status,
      cache: response.headers.get('x-cache'),
      remaining: reading?.remaining ?? null,
    });
  }
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

// The answers' shapes: the service's own response schemas (TypeBox), so the page and the API
// cannot drift apart — a changed field fails `tsc -p web`. Type-only imports: nothing of the
// server is bundled into the page.

export type Quote = Static<typeof QuoteSchema>;
export type BatchEntry = Quote | Static<typeof SymbolErrorSchema>;
export type Bar = Static<typeof BarSchema>;
export type History = Static<typeof HistorySchema>;
export type SearchMatch = Static<typeof MatchSchema>;
export type Trade = Static<typeof TradeSchema>;
export type Me = Static<typeof AccountSchema>;
export type Providers = Static<typeof ProvidersSchema>;
export type ProviderState = Static<typeof ProviderSchema>;
export type Position = Static<typeof PositionSchema>;
export type Portfolio = Static<typeof PortfolioSchema>;
export type PortfolioHistory = Static<typeof PortfolioHistorySchema>;
