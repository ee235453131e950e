/**
 * Rolling-window throttling with bounded memory.
 *
 * Django REST Framework keeps every request's timestamp for the window (a list
 * of N entries per client). Here the window is cut into buckets of at most a
 * minute (window / 60 for shorter windows, so at most 1,440 buckets for a day)
 * and each bucket keeps a count. A bucket stays counted until its *end* is a
 * whole window old, so no request is forgotten early: at most N requests pass
 * in any window, and a refused client waits until the oldest counted bucket
 * leaves — late by less than one bucket (a minute for daily rates).
 * Memory per client: one counter per non-empty bucket, at most min(N, 1,440).
 */
export interface Rate {
  limit: number;
  windowMs: number;
  /** As configured, e.g. "100/day". */
  text: string;
}

const PERIODS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

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
  /** Until the oldest counted request leaves the window (a unit of quota comes back). */
  resetMs: number;
  /** For a refused request: until enough counted requests leave for one more to pass. */
  retryAfterMs: number;
}

/**
 * Counts one request at `now` against `buckets` (bucket start → count) if the
 * rate allows it. Mutates `buckets`: drops expired ones, increments the current.
 * The Redis store runs the same algorithm in Lua (adapters/ratelimit/redis.ts).
 */
export function hitWindow(buckets: Map<number, number>, rate: Rate, now: number): ThrottleDecision {
  const size = bucketSizeMs(rate.windowMs);
  const leavesAt = (start: number) => start + size + rate.windowMs - now;
  let count = 0;
  let oldest = Infinity;
  for (const [start, n] of buckets) {
    if (start + size <= now - rate.windowMs) {
      buckets.delete(start);
    } else {
      count += n;
      oldest = Math.min(oldest, start);
    }
  }
  const allowed = count < rate.limit;
  if (allowed) {
    const current = now - (now % size);
    buckets.set(current, (buckets.get(current) ?? 0) + 1);
    count += 1;
    oldest = Math.min(oldest, current);
  }
  return {
    allowed,
    limit: rate.limit,
    remaining: Math.max(0, rate.limit - count),
    resetMs: leavesAt(oldest),
    retryAfterMs: allowed ? 0 : leavesAt(startFreeing(buckets, count - rate.limit + 1)),
  };
}

/** The start of the bucket whose leaving, oldest first, frees `needed` requests. Sorts, so only refusals pay for it. */
function startFreeing(buckets: Map<number, number>, needed: number): number {
  const starts = [...buckets.keys()].sort((a, b) => a - b);
  let freed = 0;
  for (const start of starts) {
    freed += buckets.get(start)!;
    if (freed >= needed) return start;
  }
  return starts[starts.length - 1]!;
}

/** DRF's words for a refusal, with the wait rounded up. */
export function throttledDetail(waitSeconds: number): string {
  return `Request was throttled. Expected available in ${waitSeconds} second${waitSeconds === 1 ? '' : 's'}.`;
}

export function secondsUp(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
