import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { IBM_BARS, providerEnv, startUpstream } from '../support/upstream.js';

/**
 * A client's fair share caps what it makes the service spend on symbols the store does not hold: with
 * Alpha Vantage's 25 a day, 5 lookups. But actions were never counted against it ("only stored symbols
 * are asked"), and a symbol the client just looked up *is* stored: each of its 5 lookups could be
 * followed by /actions/ (or adjusted history), 2 more calls each, uncapped — 15 of the day's 25 from one
 * client, and two addresses spent the day. A symbol's first actions fetch is a lookup like its first bars.
 */
describe.each(testEngines())('actions and the fair share on %s', (engine) => {
  it("when a client asks the actions of the symbols it just looked up, then its fair share caps those calls too", async () => {
    const now = new Date('2026-11-23T15:00:00Z');
    const upstream = await startUpstream();
    upstream.clock = () => now;
    const service = await startService(engine, providerEnv(upstream, ['alphavantage']), undefined, { now: () => now });
    const key = await register(service.app);
    const get = (url: string) => service.app.inject({ method: 'GET', url, remoteAddress: '127.0.1.1', headers: { 'x-api-key': key } });
    const symbols = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF'];
    for (const symbol of symbols) {
      upstream.set('alphavantage', symbol, { kind: 'bars', bars: IBM_BARS });
      upstream.setFor('alphavantage', 'splits', symbol, { kind: 'splits', splits: [] });
      upstream.setFor('alphavantage', 'dividends', symbol, { kind: 'dividends', dividends: [] });
    }
    const statuses: number[] = [];
    for (const symbol of symbols) statuses.push((await get(`/api/v1/symbol/${symbol}/actions/`)).statusCode);
    const avCalls = upstream.calls.alphavantage.length + upstream.capabilityCalls.alphavantage.splits.length + upstream.capabilityCalls.alphavantage.dividends.length;
    // Its share of the day's 25 (0 < 5, 1 < 4.8, … 4 < 4.2): five lookups, whatever they are of.
    expect(avCalls, `statuses ${statuses.join(',')}`).toBeLessThanOrEqual(5);
    expect(statuses).toContain(429);
    expect(statuses.every((status) => status === 200 || status === 429)).toBe(true);
  });
});
