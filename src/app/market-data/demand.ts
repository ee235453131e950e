/**
 * The watchlist the after-close prefetch works from: which symbols clients
 * asked for, how often, by UTC day. Counted in memory and written in batches
 * (see createDemandTally) because the quote path is hot: most quotes are
 * served from a cache without touching the database, and a write per request
 * would add a round trip to each and contend for SQLite's one writer. A crash
 * loses a few seconds of counts, which only nudges an ordering.
 */

import { utcDay } from '../../domain/market-calendar.js';

/** Requests of a symbol in one UTC day (YYYY-MM-DD), the last at `lastAskedAt` (epoch ms). */
export interface DemandCount {
  symbol: string;
  day: string;
  requests: number;
  lastAskedAt: number;
}

/** A symbol of the watchlist and its requests in the window. */
export interface DemandedSymbol {
  symbol: string;
  requests: number;
}

/** Port: demand every instance shares (adapters/db/demand-store.ts). */
export interface DemandStore {
  /** Adds the counts to what is stored, in one statement. */
  add(counts: DemandCount[]): Promise<void>;
  /** Symbols asked for on `sinceDay` or later, most requested first (then most recently asked), a page at a time. */
  mostRequested(sinceDay: string, limit: number, offset: number): Promise<DemandedSymbol[]>;
  /** Drops the days before `day`: nothing reads them any more. */
  forgetBefore(day: string): Promise<void>;
}

/** Past this many distinct (symbol, day) counts, a flush starts early: memory stays bounded between flushes. */
const MAX_PENDING = 10_000;

/** The quote use cases' DemandLog (app/market-data/quotes.ts): counts in memory; `flush` writes them in one statement (the composition root calls it every few seconds and on close). */
export function createDemandTally(store: DemandStore, options: { now: () => Date; onFlushError: (error: unknown) => void }) {
  let pending = new Map<string, DemandCount>();
  let flushing: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    if (pending.size === 0) return flushing;
    const counts = [...pending.values()];
    pending = new Map();
    // One flush at a time, in order; a failed one is reported and its counts dropped (demand is a hint, not a ledger).
    flushing = flushing.then(() => store.add(counts)).catch(options.onFlushError);
    return flushing;
  }

  return {
    note(symbol: string): void {
      const at = options.now();
      const day = utcDay(at);
      const key = `${day} ${symbol}`;
      const count = pending.get(key);
      if (count) {
        count.requests += 1;
        count.lastAskedAt = Math.max(count.lastAskedAt, at.getTime());
      } else {
        pending.set(key, { symbol, day, requests: 1, lastAskedAt: at.getTime() });
        if (pending.size >= MAX_PENDING) void flush();
      }
    },
    flush,
  };
}

export type DemandTally = ReturnType<typeof createDemandTally>;
