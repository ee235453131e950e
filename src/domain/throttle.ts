/**
 * Rolling-window throttling with bounded memory.
 *
 * Django REST Framework keeps every request's timestamp for the window (a list
 * of N entries per client). Here the window is cut into buckets of at most a
 * minute (window / 60 for shorter windows, so at most 1,440 buckets for a day);
 * each bucket keeps a count and the time of its latest request. A bucket stays
 * counted until that latest request is a whole window old, so no request is
 * forgotten early: at most N requests pass in any window. A refused client
 * waits until enough buckets have left — never longer than the window (the
 * latest request is never in the future), and late by less than one bucket
 * against an exact log (a minute for daily rates).
 * Memory per client: one bucket per minute with requests, at most min(N, 1,440).
 */
export interface Rate {
  limit: number;
  windowMs: number;
  /** As configured, e.g. "100/day". */
  text: string;
}

const PERIODS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** What parseRate accepts, in words, for the messages that refuse a rate (THROTTLE_*, the CLI's allowances). */
export const RATE_SYNTAX = 'a rate as N/second, N/minute, N/hour or N/day with N ≥ 1';

/** DRF's syntax: N/second|minute|hour|day (DRF reads only the first letter of the period, so "s", "min", "days" also work). */
export function parseRate(text: string): Rate | undefined {
  const match = /^\s*(\d{1,12})\s*\/\s*(second|seconds|sec|s|minute|minutes|min|m|hour|hours|h|day|days|d)\s*$/i.exec(text);
  if (!match) return undefined;
  const limit = Number(match[1]);
  const windowMs = PERIODS[match[2]!.charAt(0).toLowerCase()]!;
  return limit > 0 ? { limit, windowMs, text: text.trim() } : undefined;
}

export function bucketSizeMs(windowMs: number): number {
  return Math.max(1, Math.min(60_000, Math.floor(windowMs / 60)));
}

export interface ThrottleDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Until the oldest counted request leaves the window (a unit of quota comes back); 0 when none is counted. */
  resetMs: number;
  /** For a refused request: until enough counted requests leave for it to pass. */
  retryAfterMs: number;
}

/** A bucket of the window: how many requests it holds, and when the latest came. */
export interface Bucket {
  count: number;
  last: number;
}

/**
 * Counts a request of `cost` units at `now` against `buckets` (bucket start →
 * bucket) if the rate allows all of it; otherwise counts nothing (a batch is
 * refused whole). Mutates `buckets`: drops expired ones, adds to the current.
 * The Redis store runs the same algorithm in Lua (adapters/ratelimit/redis.ts).
 */
export function hitWindow(buckets: Map<number, Bucket>, rate: Rate, now: number, cost = 1): ThrottleDecision {
  const leavesIn = (bucket: Bucket) => bucket.last + rate.windowMs - now;
  let count = 0;
  let oldest: Bucket | undefined;
  for (const [start, bucket] of buckets) {
    if (leavesIn(bucket) <= 0) {
      buckets.delete(start);
    } else {
      count += bucket.count;
      if (!oldest || bucket.last < oldest.last) oldest = bucket;
    }
  }
  const allowed = count + cost <= rate.limit;
  if (allowed) {
    const size = bucketSizeMs(rate.windowMs);
    const current = now - (now % size);
    const bucket = buckets.get(current) ?? { count: 0, last: now };
    bucket.count += cost;
    bucket.last = Math.max(bucket.last, now);
    buckets.set(current, bucket);
    count += cost;
    if (!oldest || bucket.last < oldest.last) oldest = bucket;
  }
  return {
    allowed,
    limit: rate.limit,
    remaining: Math.max(0, rate.limit - count),
    resetMs: oldest ? leavesIn(oldest) : 0,
    retryAfterMs: allowed ? 0 : waitFor(buckets, count + cost - rate.limit, leavesIn, rate.windowMs),
  };
}

/**
 * Gives back `cost` units counted moments ago (a request that turned out not to spend its allowance,
 * e.g. a refused registration), taking them from the newest buckets first, where they were counted.
 * A bucket's latest request time is kept: the units that stay leave no earlier than they would have.
 * Mutates `buckets`; the Redis store runs the same steps in Lua (adapters/ratelimit/redis.ts).
 */
export function refundWindow(buckets: Map<number, Bucket>, cost = 1): void {
  let owed = cost;
  for (const start of [...buckets.keys()].sort((a, b) => b - a)) {
    if (owed === 0) break;
    const bucket = buckets.get(start)!;
    const taken = Math.min(owed, bucket.count);
    bucket.count -= taken;
    owed -= taken;
    if (bucket.count === 0) buckets.delete(start);
  }
}

/**
 * How long until the buckets leaving oldest first free `needed` units. A cost
 * above the whole limit never fits; it is told the window (the HTTP layer
 * refuses such a request as invalid before counting it). Sorts, so only
 * refusals pay for it.
 */
function waitFor(buckets: Map<number, Bucket>, needed: number, leavesIn: (bucket: Bucket) => number, windowMs: number): number {
  const byAge = [...buckets.values()].sort((a, b) => a.last - b.last);
  let freed = 0;
  for (const bucket of byAge) {
    freed += bucket.count;
    if (freed >= needed) return leavesIn(bucket);
  }
  return windowMs;
}

/** DRF's words for a refusal, with the wait rounded up. */
/** DRF's wording; a request costing more than one unit also says what it would have cost. */
export function throttledDetail(waitSeconds: number, cost = 1): string {
  const wait = `Request was throttled. Expected available in ${waitSeconds} second${waitSeconds === 1 ? '' : 's'}.`;
  return cost > 1 ? `${wait} This request costs ${cost} requests.` : wait;
}

export function secondsUp(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
