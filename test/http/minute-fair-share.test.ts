/**
 * A provider's per-minute limit is shared as its day is: one client's lookups may take fewer than 0.6 of
 * the calls left in a minute (UPSTREAM_MINUTE_FAIR_SHARE), so another client asking in the same minute is
 * still served. A symbol's first adjusted history costs what the docs say: three lookups (bars, splits,
 * then dividends once the splits answered).
 */
import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { IBM_BARS, providerEnv, startUpstream } from '../support/upstream.js';

describe.each(testEngines())('the fair share of a per-minute limit on %s', (engine) => {
  it("when one client's first adjusted history spends three of six calls a minute, then another client's new symbol is still fetched in that minute", async () => {
    const upstream = await startUpstream();
    const now = new Date('2022-08-01T12:00:05Z');
    const service = await startService(engine, { ...providerEnv(upstream, ['twelvedata']), TWELVEDATA_MINUTE_LIMIT: '6' }, undefined, { now: () => now });
    for (const symbol of ['IBM', 'AAPL', 'MSFT', 'NVDA']) upstream.set('twelvedata', symbol, { kind: 'bars', bars: IBM_BARS });
    upstream.setFor('twelvedata', 'splits', 'IBM', { kind: 'splits', splits: [] });
    upstream.setFor('twelvedata', 'dividends', 'IBM', { kind: 'dividends', dividends: [] });
    const client = async (email: string, address: string) => {
      const key = await register(service.app, email);
      return (url: string) => service.app.inject({ method: 'GET', url, remoteAddress: address, headers: { 'x-api-key': key } });
    };
    const greedy = await client('greedy@example.com', '203.0.113.7');
    const other = await client('other@example.com', '198.51.100.9');

    const adjusted = await greedy('/api/v1/symbol/IBM/history/?adjusted=true');
    expect(adjusted.statusCode, adjusted.body).toBe(200);
    expect(upstream.calls.twelvedata).toEqual(['IBM']);
    expect(upstream.capabilityCalls.twelvedata).toMatchObject({ splits: ['IBM'], dividends: ['IBM'] });

    // Its lookups this minute are 3 (0 < 3.6, 1 < 3, 2 < 2.4) and 3 calls are left: 3 < 1.8 is false, so its next new symbol waits a minute…
    const refused = await greedy('/api/v1/symbol/AAPL/');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().detail).toMatch(/^Your share of this minute's upstream lookups/);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    // …and the other client, with none made of the 3 left, is served.
    expect((await other('/api/v1/symbol/MSFT/')).statusCode).toBe(200);
    expect(upstream.calls.twelvedata).toEqual(['IBM', 'MSFT']);
  });
});
