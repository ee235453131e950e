/**
 * Answers whose length the client chooses cost by their rows (issue 18): an unpaged GET /trades, a long
 * history or indicator series costs one request per 1,000 rows it returns, the first thousand included,
 * as a batch costs one per symbol; a refusal says what the request would have cost.
 */
import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { seedTrades } from '../support/ledger.js';
import { startService } from '../support/service.js';
import { type Bar, providerEnv, startUpstream, weekdaySessions as sessions } from '../support/upstream.js';

const trade = (i: number) => ({ type: i % 2 ? 'sell' : 'buy', user_id: i % 5, symbol: 'IBM', shares: 10, price: 100, timestamp: 1_700_000_000_000 + i }) as const;

describe.each(testEngines())('cost by rows returned on %s', (engine) => {
  it('when an unpaged GET /trades returns 2,500 trades, then it costs 3, and past the allowance 429 says so; a page or a short list costs 1', async () => {
    const service = await startService(engine, { THROTTLE_TRADES: '5/day' });
    await seedTrades(service.db, 2500, trade);
    const get = (url: string) => service.app.inject({ method: 'GET', url });

    const all = await get('/trades');
    expect(all.statusCode).toBe(200);
    expect(all.json()).toHaveLength(2500);
    expect(all.headers.ratelimit).toMatch(/^"trades";r=2;t=\d+$/);

    const refused = await get('/trades');
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({ detail: `Request was throttled. Expected available in ${refused.headers['retry-after']} seconds. This request costs 3 requests.` });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

    // What the refused list's first request counted stays counted (it was read): one left, not two.
    const page = await get('/trades?limit=10');
    expect(page.statusCode).toBe(200);
    expect(page.headers.ratelimit).toMatch(/^"trades";r=0;t=\d+$/);
  });

  it('when claimed ledgers are left out of the unpaged list, then their trades are not charged either', async () => {
    const service = await startService(engine, { THROTTLE_TRADES: '5/day' });
    await seedTrades(service.db, 2500, trade);
    const key = await register(service.app);
    for (const userId of [1, 2, 3]) {
      const claimed = await service.app.inject({ method: 'POST', url: `/api/v1/ledgers/${userId}/claim/`, headers: { authorization: `Token ${key}` } });
      expect(claimed.statusCode).toBe(201);
    }
    const all = await service.app.inject({ method: 'GET', url: '/trades' });
    expect(all.json()).toHaveLength(1000); // users 0 and 4's trades only
    expect(all.headers.ratelimit).toMatch(/^"trades";r=4;t=\d+$/);
  });

  it('when a filtered unpaged list is under 1,000 trades, then it costs 1', async () => {
    const service = await startService(engine, { THROTTLE_TRADES: '5/day' });
    await seedTrades(service.db, 2500, trade);
    const mine = await service.app.inject({ method: 'GET', url: '/trades?user_id=3&type=sell' });
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toHaveLength(250);
    expect(mine.headers.ratelimit).toMatch(/^"trades";r=4;t=\d+$/);
  });

  it('when an unpaged list costs more than the whole allowance, then it is 400 on limit, never a wait', async () => {
    const service = await startService(engine, { THROTTLE_TRADES: '2/day' });
    await seedTrades(service.db, 2500, trade);
    const tooLong = await service.app.inject({ method: 'GET', url: '/trades' });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json()).toEqual({ detail: 'limit: costs 3 requests, more than the whole allowance of 2/day; ask for fewer at a time', field: 'limit' });
    expect((await service.app.inject({ method: 'GET', url: '/trades?limit=1000' })).statusCode).toBe(200);
  });

  it('when THROTTLE_TRADES is off, then the unpaged list is whole and uncounted', async () => {
    const service = await startService(engine, { THROTTLE_TRADES: 'off' });
    await seedTrades(service.db, 2500, trade);
    const all = await service.app.inject({ method: 'GET', url: '/trades' });
    expect(all.json()).toHaveLength(2500);
    expect(all.headers.ratelimit).toBeUndefined();
  });

  it('when a history or an indicator series returns 2,500 rows, then it costs 3; the default 100 bars cost 1', async () => {
    const upstream = await startUpstream();
    upstream.set('twelvedata', 'IBM', { kind: 'bars', bars: sessions('2026-11-30', 2500) });
    const now = new Date('2026-11-30T23:00:00Z'); // a Monday evening: Monday's session is final
    const service = await startService(engine, { ...providerEnv(upstream, ['twelvedata']), THROTTLE_USER: '8/day' }, undefined, { now: () => now });
    const key = await register(service.app);
    const get = (url: string) => service.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });

    expect((await get('/api/v1/symbol/IBM/history/')).headers.ratelimit).toMatch(/^"user";r=7;t=\d+$/);
    const full = await get('/api/v1/symbol/IBM/history/?from=1900-01-01');
    expect(full.json().bars).toHaveLength(2500);
    expect(full.headers.ratelimit).toMatch(/^"user";r=4;t=\d+$/);
    const series = await get('/api/v1/symbol/IBM/indicators/sma/?time_period=20&series_type=close&from=1900-01-01');
    expect(series.statusCode).toBe(200);
    expect(series.headers.ratelimit).toMatch(/^"user";r=1;t=\d+$/);

    const refused = await get('/api/v1/symbol/IBM/history/?from=1900-01-01&adjusted=true');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().detail).toMatch(/^Request was throttled\. Expected available in \d+ seconds\. This request costs 3 requests\.$/);
    expect(refused.headers.ratelimit).toMatch(/^"user";r=0;t=\d+$/);
  });
});
