import { describe, expect, it, vi } from 'vitest';
import { createPassThroughService, type KeptAnswer, type PassThroughCache, type PassThroughUpstream } from '../../../src/app/market-data/pass-through.js';
import { createRefreshCoordinator } from '../../../src/app/market-data/refresh.js';
import { type PassThroughAnswer, passThroughQuery } from '../../../src/domain/alpha-vantage-functions.js';
import { UpstreamUnavailableError } from '../../../src/domain/errors.js';

const OVERVIEW = passThroughQuery('OVERVIEW', [['symbol', 'IBM']]);
const ANSWER: PassThroughAnswer = { kind: 'data', format: 'json', body: '{"Symbol": "IBM"}' };
const CLIENT = { client: '1', network: '203.0.113.9' };

function memoryCache(): PassThroughCache & { kept: Map<string, KeptAnswer> } {
  const kept = new Map<string, KeptAnswer>();
  return {
    kept,
    get: async (key) => kept.get(key),
    put: async (key, _query, answer) => void kept.set(key, answer),
    prune: async () => undefined,
  };
}

function service(cache: PassThroughCache, upstream: PassThroughUpstream | undefined, now: () => Date, extra: { onPruneError?: (error: unknown) => void } = {}) {
  const coordinator = createRefreshCoordinator({ refreshIntervalMs: 3_600_000, now });
  return createPassThroughService(cache, upstream, coordinator, { now, cacheMaxBytes: 1_000_000, ...extra });
}

describe('the pass-through', () => {
  it('when many clients ask one call at once, then upstream is asked once and each gets its answer', async () => {
    let answer!: () => void;
    const upstream = vi.fn<PassThroughUpstream>(() => new Promise((resolve) => (answer = () => resolve({ value: ANSWER, source: 'alphavantage' }))));
    const now = () => new Date('2026-12-07T15:00:00Z');
    const passThrough = service(memoryCache(), upstream, now);
    const asking = Array.from({ length: 5 }, (_, i) => passThrough.answer(OVERVIEW, { client: String(i) }));
    await vi.waitFor(() => expect(upstream).toHaveBeenCalledTimes(1));
    answer();
    expect(await Promise.all(asking)).toEqual(Array.from({ length: 5 }, () => ({ answer: ANSWER, cache: 'MISS' })));
    expect(await passThrough.answer(OVERVIEW, CLIENT)).toEqual({ answer: ANSWER, cache: 'HIT' });
    expect(upstream).toHaveBeenCalledTimes(1);
    // A lookup of the client that caused it: capped by its fair share.
    expect(upstream.mock.calls[0]![2]).toEqual({ client: '0', refresh: false, signal: expect.any(AbortSignal) });
  });

  it('when no provider passes calls through, then a call is refused saying so, unless an answer is kept: fresh it is a HIT, past its time STALE', async () => {
    let now = new Date('2026-12-07T15:00:00Z');
    const cache = memoryCache();
    const passThrough = service(cache, undefined, () => now);
    await expect(passThrough.answer(OVERVIEW, CLIENT)).rejects.toThrow(UpstreamUnavailableError);
    await expect(passThrough.answer(OVERVIEW, CLIENT)).rejects.toThrow(/none configured/);

    // Kept while a key was configured (by another instance, say).
    const withKey = service(cache, async () => ({ value: ANSWER, source: 'alphavantage' }), () => now);
    expect((await withKey.answer(OVERVIEW, CLIENT)).cache).toBe('MISS');
    expect(await passThrough.answer(OVERVIEW, CLIENT)).toEqual({ answer: ANSWER, cache: 'HIT' });
    now = new Date('2026-12-08T15:00:00Z');
    expect(await passThrough.answer(OVERVIEW, CLIENT)).toEqual({ answer: ANSWER, cache: 'STALE' });
  });

  it('when pruning fails, then the answer is served anyway and the failure reported', async () => {
    const cache = { ...memoryCache(), prune: async () => Promise.reject(new Error('disk full')) };
    const onPruneError = vi.fn();
    const passThrough = service(cache, async () => ({ value: ANSWER, source: 'alphavantage' }), () => new Date('2026-12-07T15:00:00Z'), { onPruneError });
    expect(await passThrough.answer(OVERVIEW, CLIENT)).toEqual({ answer: ANSWER, cache: 'MISS' });
    expect(onPruneError).toHaveBeenCalledWith(new Error('disk full'));
  });
});
