import type { FastifyInstance } from 'fastify';
import { UNIVERSE } from '../../src/adapters/providers/sandbox/universe.js';
import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { createTestDatabase, testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { IBM_BARS, providerEnv, startUpstream, type Upstream, type Vendor } from '../support/upstream.js';

/** 15:00 UTC on a Monday: nine hours before the vendors' daily quotas reset. */
const START = new Date('2026-11-23T15:00:00Z');
const HOUR = 3_600_000;

type Answer = { detail?: string; status?: number; source?: string };

function clientOf(app: FastifyInstance, key: string, remoteAddress: string) {
  return (url: string) => app.inject({ method: 'GET', url, remoteAddress, headers: { authorization: `Token ${key}` } });
}

describe.each(testEngines())('upstream quota and fair share on %s', (engine) => {
  async function setup(options: { env?: Record<string, string>; order?: Vendor[] } = {}) {
    let now = START;
    const upstream: Upstream = await startUpstream();
    upstream.clock = () => now;
    const service = await startService(engine, { ...providerEnv(upstream, options.order), ...options.env }, undefined, { now: () => now });
    let accounts = 0;
    /** A new account; each from its own address unless one is given. */
    const client = async (remoteAddress?: string) => {
      const n = ++accounts;
      return clientOf(service.app, await register(service.app, `client${n}@example.com`), remoteAddress ?? `127.0.1.${n}`);
    };
    const advance = (ms: number) => void (now = new Date(now.getTime() + ms));
    return { upstream, service, client, advance };
  }

  it("when one client's batch of 30 made-up symbols meets a 25-a-day quota, then it gets a fifth of it and another client still reaches upstream", async () => {
    const { upstream, client } = await setup({ order: ['alphavantage'] });
    upstream.setQuota('alphavantage', { perDay: 25 });
    upstream.set('alphavantage', 'AAPL', { kind: 'bars', bars: IBM_BARS });
    const [a, b] = [await client(), await client()];

    const symbols = Array.from({ length: 30 }, (_, i) => `FAKE${i}`);
    const batch = await a(`/api/v1/symbols/?symbols=${symbols.join(',')}`);
    expect(batch.statusCode).toBe(200);
    const answers = Object.values(batch.json<Record<string, Answer>>());
    // 0 < 5, 1 < 4.8, 2 < 4.6, 3 < 4.4, 4 < 4.2 lookups: five, then 5 < 4 is past the share.
    expect(answers.filter((x) => x.status === 404)).toHaveLength(5);
    const refused = answers.filter((x) => x.status === 429);
    expect(refused).toHaveLength(25);
    expect(refused[0]!.detail).toMatch(/share of today's upstream lookups/);
    expect(upstream.calls.alphavantage).toHaveLength(5);
    // Asked again: the five are remembered unknown, the rest are still past the share; nothing is called.
    const again = await a(`/api/v1/symbols/?symbols=${symbols.join(',')}`);
    expect(again.json()).toStrictEqual(batch.json());
    expect(upstream.calls.alphavantage).toHaveLength(5);

    const quote = await b('/api/v1/symbol/aapl/');
    expect(quote.statusCode).toBe(200);
    expect(quote.json()).toMatchObject({ symbol: 'AAPL', source: 'alphavantage' });
    expect(upstream.calls.alphavantage).toHaveLength(6);

    // Past its share, a single new symbol is refused too, until the quota's day ends at 00:00 UTC.
    const single = await a('/api/v1/symbol/NEWONE/');
    expect(single.statusCode).toBe(429);
    expect(single.headers['retry-after']).toBe(String(9 * 3600));
    expect(single.json().detail).toMatch(/stored symbols are still served/);
    expect(upstream.calls.alphavantage).toHaveLength(6);
  });

  it('when one address registers account after account to spend the quota, then its accounts share one fair share and another address still reaches upstream', async () => {
    const { upstream, client } = await setup({ order: ['alphavantage'] });
    upstream.setQuota('alphavantage', { perDay: 25 });
    for (const symbol of ['AAPL', 'MSFT']) upstream.set('alphavantage', symbol, { kind: 'bars', bars: IBM_BARS });
    for (let i = 0; i < 10; i++) {
      const sybil = await client('127.0.2.50');
      const symbols = Array.from({ length: 30 }, (_, j) => `Q${i}N${j}`);
      expect((await sybil(`/api/v1/symbols/?symbols=${symbols.join(',')}`)).statusCode).toBe(200);
    }
    // The address's share, as one account's: 5 of 25 (0 < 5, … 4 < 4.2), not 5 + 4 + 3 + … per account.
    expect(upstream.calls.alphavantage).toHaveLength(5);
    const victim = await client('127.0.3.1');
    expect((await victim('/api/v1/symbol/aapl/')).statusCode).toBe(200);
    expect((await victim('/api/v1/symbol/msft/')).statusCode).toBe(200);
  });

  it('when a batch of made-up symbols is asked again, then it costs no upstream call, no quota and no new row', async () => {
    // No per-minute limit: its fair share would hold the batch's last lookups at Twelve Data for a minute.
    const { upstream, service, client, advance } = await setup({ env: { TWELVEDATA_MINUTE_LIMIT: '0' } });
    const a = await client();
    const url = '/api/v1/symbols/?symbols=NOPE1,NOPE2,NOPE3,NOPE4,NOPE5';
    const rows = async () => ({
      refreshes: await service.db.selectFrom('symbol_refreshes').selectAll().orderBy('symbol').execute(),
      bars: await service.db.selectFrom('daily_bars').selectAll().execute(),
      calls: await service.db.selectFrom('upstream_calls').selectAll().orderBy('provider').execute(),
      lookups: await service.db.selectFrom('upstream_lookups').selectAll().orderBy('provider').execute(),
    });

    const first = await a(url);
    expect(Object.values(first.json<Record<string, Answer>>()).every((x) => x.status === 404)).toBe(true);
    const callsAfterFirst = structuredClone(upstream.calls);
    expect(callsAfterFirst.alphavantage).toHaveLength(5);
    const before = await rows();
    expect(before.refreshes.map((r) => [r.symbol, r.outcome])).toEqual(['NOPE1', 'NOPE2', 'NOPE3', 'NOPE4', 'NOPE5'].map((s) => [s, 'unknown']));
    expect(before.bars).toEqual([]);

    for (const wait of [0, HOUR / 2]) {
      advance(wait);
      const again = await a(url);
      expect(Object.values(again.json<Record<string, Answer>>()).every((x) => x.status === 404)).toBe(true);
      expect(upstream.calls).toEqual(callsAfterFirst);
      expect(await rows()).toEqual(before);
    }
  });

  it('when a provider has no call left, then it is skipped without being called; its last call of the day is kept for refreshes; it returns at 00:00 UTC', async () => {
    const { upstream, client, advance } = await setup({ env: { ALPHAVANTAGE_DAILY_LIMIT: '2' } });
    for (const vendor of ['alphavantage', 'twelvedata'] as const) {
      for (const symbol of ['IBM', 'AAPL']) upstream.set(vendor, symbol, { kind: 'bars', bars: IBM_BARS });
    }
    const a = await client();

    expect((await a('/api/v1/symbol/IBM/')).json().source).toBe('alphavantage');
    // A new symbol may not take Alpha Vantage's last call of the day: Twelve Data is asked.
    expect((await a('/api/v1/symbol/AAPL/')).json().source).toBe('twelvedata');
    expect(upstream.calls).toEqual({ alphavantage: ['IBM'], twelvedata: ['AAPL'] });

    advance(2 * HOUR); // IBM is due for a refresh, which may take the last call
    expect((await a('/api/v1/symbol/IBM/')).statusCode).toBe(200);
    expect(upstream.calls.alphavantage).toEqual(['IBM', 'IBM']);

    advance(2 * HOUR); // Alpha Vantage is spent: not called at all
    expect((await a('/api/v1/symbol/IBM/')).statusCode).toBe(200);
    expect(upstream.calls).toEqual({ alphavantage: ['IBM', 'IBM'], twelvedata: ['AAPL', 'IBM'] });

    advance(5 * HOUR + 60_000); // 00:01 UTC: a new day's quota
    expect((await a('/api/v1/symbol/IBM/')).statusCode).toBe(200);
    expect(upstream.calls.alphavantage).toEqual(['IBM', 'IBM', 'IBM']);
  });

  it('when no provider has a call left, then 503 says the quota is spent, with Retry-After until the soonest reset, and nothing is called', async () => {
    const { upstream, client, advance } = await setup({ env: { TWELVEDATA_DAILY_LIMIT: '1000' }, order: ['twelvedata'] });
    advance(30_000); // 15:00:30
    const symbols = Array.from({ length: 9 }, (_, i) => `S${i}`);
    for (const symbol of symbols) upstream.set('twelvedata', symbol, { kind: 'bars', bars: IBM_BARS });
    // Eight clients, one new symbol each: each within its fair share of the minute, together its whole quota.
    for (const symbol of symbols.slice(0, 8)) expect((await (await client())(`/api/v1/symbol/${symbol}/`)).statusCode).toBe(200);

    const a = await client();
    const refused = await a('/api/v1/symbol/S8/');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('30'); // Twelve Data's 8 a minute, back at 15:01
    expect(refused.json().detail).toMatch(/quota is spent/);
    expect(upstream.calls.twelvedata).toHaveLength(8);

    advance(30_000);
    expect((await a('/api/v1/symbol/S8/')).statusCode).toBe(200);
    expect(upstream.calls.twelvedata).toHaveLength(9);
  });

  it("when the vendor's quota runs out before our count does, then the provider is marked spent: a stored quote is served stale, a new one is a clear 503", async () => {
    const { upstream, client, advance } = await setup({ order: ['alphavantage'] });
    upstream.setQuota('alphavantage', { perDay: 3 }); // calls we did not see spent the rest
    upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
    const [a, b] = [await client(), await client()];
    expect((await a('/api/v1/symbol/IBM/')).statusCode).toBe(200);
    expect((await a('/api/v1/symbol/FAKE1/')).statusCode).toBe(404);
    expect((await a('/api/v1/symbol/FAKE2/')).statusCode).toBe(404);
    expect((await a('/api/v1/symbol/FAKE3/')).statusCode).toBe(503); // the vendor's own "25 requests per day"
    const seenByVendor = upstream.calls.alphavantage.length;
    expect(seenByVendor).toBe(4);

    advance(2 * HOUR);
    const stored = await b('/api/v1/symbol/IBM/');
    expect(stored.statusCode).toBe(200);
    expect(stored.headers['x-data-stale']).toBe('true');
    const unstored = await b('/api/v1/symbol/MSFT/');
    expect(unstored.statusCode).toBe(503);
    expect(unstored.json().detail).toMatch(/quota is spent/);
    expect(unstored.headers['retry-after']).toBe(String(7 * 3600)); // 17:00 → 00:00 UTC
    expect(upstream.calls.alphavantage).toHaveLength(seenByVendor);
  });

  it("when Twelve Data answers its per-minute 429, then the minute is marked spent and not called again until it ends", async () => {
    const { upstream, client, advance } = await setup({ order: ['twelvedata'] });
    upstream.setQuota('twelvedata', { perMinute: 2 }); // the vendor counts calls we did not see
    for (const symbol of ['S1', 'S2', 'S3', 'S4']) upstream.set('twelvedata', symbol, { kind: 'bars', bars: IBM_BARS });
    const a = await client();
    expect((await a('/api/v1/symbol/S1/')).statusCode).toBe(200);
    expect((await a('/api/v1/symbol/S2/')).statusCode).toBe(200);
    expect((await a('/api/v1/symbol/S3/')).statusCode).toBe(503);
    const skipped = await a('/api/v1/symbol/S4/');
    expect(skipped.statusCode).toBe(503);
    expect(skipped.headers['retry-after']).toBe('60');
    expect(upstream.calls.twelvedata).toEqual(['S1', 'S2', 'S3']);

    advance(60_000);
    expect((await a('/api/v1/symbol/S4/')).statusCode).toBe(200);
  });
});

describe.each(testEngines())('an uncountable quota on %s', (engine) => {
  it('when the quota cannot be counted, then the provider is not called and the answer is 502, not 500', async () => {
    const upstream = await startUpstream();
    upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
    const service = await startService(engine, providerEnv(upstream, ['alphavantage']));
    const a = clientOf(service.app, await register(service.app), '127.0.0.1');
    await service.db.schema.dropTable('upstream_calls').execute();
    const response = await a('/api/v1/symbol/IBM/');
    expect(response.statusCode).toBe(502);
    expect(upstream.calls.alphavantage).toEqual([]);
  });
});

describe.each(testEngines())('the sandbox on %s', (engine) => {
  it("when no provider is configured, then there is no quota: a batch of the sandbox's whole universe (35 new symbols) is served whole", async () => {
    const { app } = await startService(engine);
    const a = clientOf(app, await register(app), '127.0.0.1');
    const symbols = UNIVERSE.map((ticker) => ticker.symbol);
    expect(symbols).toHaveLength(35);
    const batch = await a(`/api/v1/symbols/?symbols=${symbols.join(',')}`);
    expect(Object.values(batch.json<Record<string, Answer>>()).every((x) => x.source === 'sandbox')).toBe(true);
  });
});

// Only PostgreSQL serves several instances.
describe.each(testEngines().filter((e) => e === 'postgres'))('upstream quota across instances on %s', (engine) => {
  it('when twenty clients ask two instances on one database at once, then the quota is never exceeded', async () => {
    const upstream = await startUpstream();
    const env = { ...providerEnv(upstream, ['alphavantage']), ALPHAVANTAGE_DAILY_LIMIT: '10', UPSTREAM_FAIR_SHARE: '1' };
    const database = await createTestDatabase(engine);
    try {
      const instances = [await startService(engine, env, database), await startService(engine, env, database)];
      const symbols = Array.from({ length: 20 }, (_, i) => `S${i}`);
      for (const symbol of symbols) upstream.set('alphavantage', symbol, { kind: 'bars', bars: IBM_BARS });
      const clients = [];
      for (let i = 0; i < 20; i++) {
        const app = instances[i % 2]!.app;
        clients.push(clientOf(app, await register(app, `c${i}@example.com`), `127.0.1.${i}`));
      }
      const answers = await Promise.all(clients.map((ask, i) => ask(`/api/v1/symbol/${symbols[i]}/`)));
      // Ten calls a day, the last kept for refreshes: nine lookups, whichever instance took them.
      expect(answers.filter((r) => r.statusCode === 200)).toHaveLength(9);
      expect(answers.filter((r) => r.statusCode === 503)).toHaveLength(11);
      expect(upstream.calls.alphavantage).toHaveLength(9);
      for (const instance of instances) await instance.close();
    } finally {
      await database.drop();
    }
  });
});
