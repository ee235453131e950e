import { describe, expect, it, vi } from 'vitest';
import { createFailover } from '../src/app/market-data/failover.js';
import { type MarketDataProvider, ProviderError } from '../src/app/market-data/providers.js';
import { IBM_BARS } from './support/stand-in.js';

/** A vendor that takes one call at a time and answers each only when the test says how. */
function heldProvider(name: string) {
  const started: string[] = [];
  const pending = new Map<string, { answer(): void; fail(): void }>();
  const provider: MarketDataProvider = {
    name,
    maxConcurrentRequests: 1,
    getDailyBars(symbol) {
      started.push(symbol);
      return new Promise((resolve, reject) => {
        pending.set(symbol, {
          answer: () => resolve({ bars: IBM_BARS }),
          fail: () => reject(new ProviderError(name, 'unavailable', 'down')),
        });
      });
    },
  };
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    provider,
    started,
    async answer(symbol: string) {
      pending.get(symbol)!.answer();
      await settle();
    },
    async fail(symbol: string) {
      pending.get(symbol)!.fail();
      await settle();
    },
  };
}

describe('failover between providers', () => {
  it('when a client joins a fetch that then moves on to the next provider, then it keeps its turn there', async () => {
    const first = heldProvider('first');
    const second = heldProvider('second');
    const { fetchBars, join } = createFailover([first.provider, second.provider], { warn: () => undefined });

    const fetches = ['X1', 'X2', 'X3'].map((symbol) => fetchBars(symbol, { client: 'A' }, 100));
    await vi.waitFor(() => expect(first.started).toEqual(['X1']));
    await first.fail('X1'); // X1 runs at the second provider; X2 at the first
    await first.fail('X2'); // X2 waits at the second; X3 runs at the first
    join('X3', { client: 'B' });
    await first.fail('X3');
    await second.answer('X1');

    // X3 is also B's, and B has had no turn yet: it goes before A's X2.
    expect(second.started).toEqual(['X1', 'X3']);
    await second.answer('X3');
    await second.answer('X2');
    expect((await Promise.all(fetches)).map((result) => result.source)).toEqual(['second', 'second', 'second']);
    expect(first.started).toEqual(['X1', 'X2', 'X3']);
  });

  it('when a client joins a fetch of a symbol nobody is fetching, then nothing is called', async () => {
    const first = heldProvider('first');
    const { fetchBars, join } = createFailover([first.provider], { warn: () => undefined });
    join('X1', { client: 'B' });
    expect(first.started).toEqual([]);
  });

  it("when weekly or monthly bars are asked, then a provider without them is passed over, and one whose plan lacks them is not asked for either again until 00:00 UTC", async () => {
    const week = { ...IBM_BARS[0]!, adjustedClose: IBM_BARS[0]!.close, dividend: '0.0000' };
    const asked: string[] = [];
    const dailyOnly: MarketDataProvider = { name: 'daily-only', maxConcurrentRequests: 1, getDailyBars: async () => ({ bars: IBM_BARS }) };
    const periodsOf = (name: string, answer: () => typeof week[]): MarketDataProvider => ({
      ...dailyOnly,
      name,
      async getPeriodBars(symbol, period) {
        asked.push(`${name} ${period} ${symbol}`);
        return answer();
      },
    });
    const premium = periodsOf('premium', () => {
      throw new ProviderError('premium', 'not_offered', 'This is a premium endpoint.');
    });
    let now = new Date('2026-12-01T12:00:00Z');
    const { getPeriodBars } = createFailover([dailyOnly, premium, periodsOf('free', () => [week])], { warn: () => undefined }, undefined, undefined, () => now);

    expect(await getPeriodBars('IBM', 'week', { client: 'A' })).toEqual({ value: [week], source: 'free' });
    await getPeriodBars('IBM', 'month', { client: 'A' });
    expect(asked).toEqual(['premium week IBM', 'free week IBM', 'free month IBM']);
    now = new Date('2026-12-02T00:00:01Z');
    await getPeriodBars('IBM', 'month', { client: 'A' });
    expect(asked.slice(3)).toEqual(['premium month IBM', 'free month IBM']);
  });
});
