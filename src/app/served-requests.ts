/**
 * Market-data requests answered today, counted across every instance.
 * The hot path only adds to a number in memory: a database write per quote
 * would cost more than the quote. The counts go to the store as one
 * increment per flush (compose.ts flushes every few seconds and on close),
 * so a total read elsewhere lags by at most that long.
 */
import { windowStart } from '../domain/upstream-quota.js';

/** Port: requests served per UTC day, shared by every instance (adapters/db/served-requests-store.ts). */
export interface ServedRequestsStore {
  /** Adds `requests` to the day's count, atomically. */
  add(dayStart: number, requests: number): Promise<void>;
  count(dayStart: number): Promise<number>;
}

export interface ServedRequests {
  /** Counts `requests` answered now; kept in memory until the next flush. */
  count(requests?: number): void;
  /** Writes what was counted since the last flush; on failure the counts are kept for the next one. */
  flush(): Promise<void>;
  /** Today's requests (UTC day, as the vendors' quotas): every instance's flushed counts and this one's unflushed. */
  today(): Promise<number>;
}

export function createServedRequests(store: ServedRequestsStore, options: { now?: () => Date } = {}): ServedRequests {
  const now = options.now ?? (() => new Date());
  // By day, so counts made before midnight and flushed after it land on their own day.
  let pending = new Map<number, number>();

  const keep = (day: number, requests: number) => pending.set(day, (pending.get(day) ?? 0) + requests);

  return {
    count(requests = 1) {
      keep(windowStart('day', now()), requests);
    },

    async flush() {
      const taken = pending;
      pending = new Map();
      for (const [day, requests] of taken) {
        try {
          await store.add(day, requests);
          taken.delete(day);
        } catch (error) {
          for (const [unwritten, n] of taken) keep(unwritten, n);
          throw error;
        }
      }
    },

    async today() {
      const day = windowStart('day', now());
      return (await store.count(day)) + (pending.get(day) ?? 0);
    },
  };
}
