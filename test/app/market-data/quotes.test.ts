import { describe, expect, it, vi } from 'vitest';
import { createPriceSource, type FetchDailyBars, type PriceStore, type StoredBar } from '../../../src/app/market-data/prices.js';
import { createQuoteService } from '../../../src/app/market-data/quotes.js';
import { createRefreshCoordinator, type JoinFetch } from '../../../src/app/market-data/refresh.js';
import { FairShareExceededError } from '../../../src/domain/errors.js';
import type { DailyBar } from '../../../src/domain/quote.js';
import { IBM_BARS } from '../../support/stand-in.js';

/** A price store in memory whose reads can be held, to replay interleavings a real database produces under load. */
function heldStore() {
  let stored: StoredBar[] = [];
  const held: (() => void)[] = [];
  let holdNextRead = false;
  const store: PriceStore = {
    async recentBars(_symbol, limit) {
      const snapshot = stored.slice(0, limit); // what the database saw when the query ran
      if (holdNextRead) {
        holdNextRead = false;
        await new Promise<void>((resolve) => held.push(resolve));
      }
      return snapshot;
    },
    oldestBarDate: async () => stored[stored.length - 1]?.date,
    barsBetween: async () => stored,
    refreshState: async () => undefined,
    async saveBars(_symbol, bars: DailyBar[], { source, fetchedAt }) {
      stored = bars.map((bar) => ({ ...bar, source, fetched_at: fetchedAt }));
    },
    recordUnknown: async () => undefined,
    deleteBars: async () => 0,
  };
  return {
    store,
    holdNextRead: () => (holdNextRead = true),
    heldReads: () => held.length,
    release: () => held.splice(0).forEach((go) => go()),
  };
}

/** The quote use cases as the composition root wires them, on a clock that does not move. */
function createQuotes(store: PriceStore, fetchBars: FetchDailyBars, options: { refreshIntervalMs: number; joinFetch?: JoinFetch }) {
  const now = () => new Date('2026-11-20T22:00:00Z');
  const coordinator = createRefreshCoordinator({ ...options, now });
  const noActions = { freshActions: async () => ({ actions: { splits: [], dividends: [] }, cache: 'HIT' as const }), storedActions: async () => new Map() };
  return createQuoteService(createPriceSource(store, fetchBars, coordinator, { ...options, now }), noActions, { ...options, now });
}

describe('the quote service', () => {
  it('when a request read the store before another request refreshed it, then it does not fetch again', async () => {
    const { store, holdNextRead, heldReads, release } = heldStore();
    let upstreamCalls = 0;
    const quotes = createQuotes(
      store,
      async () => {
        upstreamCalls++;
        return { bars: IBM_BARS, source: 'alphavantage' };
      },
      { refreshIntervalMs: 3_600_000 },
    );

    holdNextRead();
    const slow = quotes.getQuote('IBM', { client: 'client-1' }); // reads "no bars", then waits, as a slow query would
    await vi.waitFor(() => expect(heldReads()).toBe(1));
    const fast = await quotes.getQuote('IBM', { client: 'client-2' }); // reads, refreshes upstream, answers
    release();
    const late = await slow;

    expect(upstreamCalls).toBe(1);
    expect(late.quote).toEqual(fast.quote);
    expect(late.quote.variation_between_last_two_days).toBe(1.57);
  });

  it('when another client asks for a symbol whose refresh is under way, then the fetch is told it waits too, and not repeated', async () => {
    const { store } = heldStore();
    const fetched: string[] = [];
    const joined: string[] = [];
    let answer = () => undefined as void;
    const quotes = createQuotes(
      store,
      (symbol, { client }) => {
        fetched.push(`${symbol} for ${client}`);
        return new Promise((resolve) => (answer = () => resolve({ bars: IBM_BARS, source: 'alphavantage' })));
      },
      { refreshIntervalMs: 3_600_000, joinFetch: (symbol, { client }) => void joined.push(`${symbol} for ${client}`) },
    );

    const first = quotes.getQuote('IBM', { client: 'client-a' });
    await vi.waitFor(() => expect(fetched).toEqual(['IBM for client-a']));
    const second = quotes.getQuote('ibm', { client: 'client-b' });
    await vi.waitFor(() => expect(joined).toEqual(['IBM for client-b']));
    answer();

    expect((await second).quote).toEqual((await first).quote);
    expect(fetched).toEqual(['IBM for client-a']);
    expect(joined).toEqual(['IBM for client-b']);
  });

  it("when a client past its fair share and another ask for one new symbol at once, then only the first is refused", async () => {
    const { store } = heldStore();
    let letFirstFail = () => {};
    const asked: string[] = [];
    const joined: string[] = [];
    const quotes = createQuotes(
      store,
      async (_symbol, request) => {
        asked.push(request.client);
        if (request.client === 'past-share') {
          await new Promise<void>((resolve) => (letFirstFail = resolve));
          throw new FairShareExceededError(3600);
        }
        return { bars: IBM_BARS, source: 'alphavantage' };
      },
      { refreshIntervalMs: 3_600_000, joinFetch: (_symbol, { client }) => void joined.push(client) },
    );

    const first = quotes.getQuote('IBM', { client: 'past-share' }).catch((error: unknown) => error);
    await vi.waitFor(() => expect(asked).toEqual(['past-share']));
    const second = quotes.getQuote('IBM', { client: 'other' });
    await vi.waitFor(() => expect(joined).toEqual(['other'])); // it joins the refresh in flight
    letFirstFail();

    expect(await first).toBeInstanceOf(FairShareExceededError);
    expect((await second).quote.variation_between_last_two_days).toBe(1.57);
    expect(asked).toEqual(['past-share', 'other']);
  });
});
