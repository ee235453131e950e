/**
 * History as deep as the free tiers give, at one upstream call per symbol:
 * a symbol's first fetch asks for the deepest series a vendor gives in one
 * call (Twelve Data: 5,000 sessions), and every later refresh asks only for
 * the sessions the store lacks.
 */
import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { type Bar, providerEnv, startUpstream } from '../support/upstream.js';

/** `count` weekday sessions ending on `last`, newest first, as the vendors give them. */
function sessions(last: string, count: number): Bar[] {
  const bars: Bar[] = [];
  for (const day = new Date(`${last}T00:00:00Z`); bars.length < count; day.setUTCDate(day.getUTCDate() - 1)) {
    if (day.getUTCDay() === 0 || day.getUTCDay() === 6) continue;
    const cents = String(1000 + (bars.length % 500)).padStart(4, '0');
    bars.push({ date: day.toISOString().slice(0, 10), open: `1${cents}.00`, high: `1${cents}.50`, low: `1${cents}.00`, close: `1${cents}.25`, volume: 1000 + bars.length });
  }
  return bars;
}

describe.each(testEngines())('history depth on %s', (engine) => {
  async function setup(order: ('alphavantage' | 'twelvedata')[]) {
    let now = new Date('2026-11-30T23:00:00Z'); // a Monday evening: Monday's session is final
    const upstream = await startUpstream();
    const service = await startService(engine, { ...providerEnv(upstream, order) }, undefined, { now: () => now });
    const key = await register(service.app);
    const get = (url: string) => service.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
    return { upstream, get, later: (hours: number) => (now = new Date(now.getTime() + hours * 3_600_000)) };
  }

  it("when Twelve Data is asked for a symbol first, then one call with outputsize=5000 stores all 5,000 sessions it gives; the next session's refresh asks 2", async () => {
    const { upstream, get, later } = await setup(['twelvedata', 'alphavantage']);
    upstream.set('twelvedata', 'IBM', { kind: 'bars', bars: sessions('2026-11-30', 6000) }); // more than one call may give
    expect((await get('/api/v1/symbol/IBM/')).statusCode).toBe(200);
    expect(upstream.outputSizes.twelvedata).toEqual(['5000']);
    const all = await get('/api/v1/symbol/IBM/history/?from=1900-01-01');
    expect(all.json().bars).toHaveLength(5000);
    expect(all.json().bars[0].date).toBe(sessions('2026-11-30', 5000).at(-1)!.date);

    later(24); // Tuesday evening: one session more is final; the refresh overlaps Monday's
    upstream.set('twelvedata', 'IBM', { kind: 'bars', bars: sessions('2026-12-01', 6000) });
    expect((await get('/api/v1/symbol/IBM/')).json().last_refreshed).toBe('2026-12-01');
    expect(upstream.outputSizes.twelvedata).toEqual(['5000', '2']);
    expect(upstream.calls.twelvedata).toEqual(['IBM', 'IBM']);
    expect((await get('/api/v1/symbol/IBM/history/?from=1900-01-01')).json().bars).toHaveLength(5001);
  });

  it('when only Alpha Vantage is configured, then a first fetch is its free compact series (100 sessions), never the premium full one', async () => {
    const { upstream, get } = await setup(['alphavantage']);
    upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: sessions('2026-11-30', 300) });
    expect((await get('/api/v1/symbol/IBM/')).statusCode).toBe(200);
    expect(upstream.outputSizes.alphavantage).toEqual(['compact']);
    expect((await get('/api/v1/symbol/IBM/history/?from=1900-01-01')).json().bars).toHaveLength(100);
  });
});

describe.each(testEngines())('backfill of history stored before depth was asked, on %s', (engine) => {
  async function storedShallow() {
    let now = new Date('2026-11-30T23:00:00Z');
    const upstream = await startUpstream();
    const service = await startService(engine, providerEnv(upstream, ['twelvedata']), undefined, { now: () => now });
    const key = await register(service.app);
    const get = (url: string) => service.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
    upstream.set('twelvedata', 'IBM', { kind: 'bars', bars: sessions('2026-11-30', 100) });
    expect((await get('/api/v1/symbol/IBM/')).statusCode).toBe(200);
    // As a symbol stored by the adapter before the first fetch asked for depth (outputsize=100) is left by
    // the migration that records deep fetches: its bars, and no deep fetch.
    await service.db.updateTable('symbol_refreshes').set({ deep_fetched_at: null }).execute();
    upstream.set('twelvedata', 'IBM', { kind: 'bars', bars: sessions('2026-11-30', 6000) });
    return { upstream, get, later: (hours: number) => (now = new Date(now.getTime() + hours * 3_600_000)) };
  }

  it('when a range older than the stored bars is asked, then one call with outputsize=5000 backfills it, once; the default 100 sessions never do', async () => {
    const { upstream, get } = await storedShallow();
    expect((await get('/api/v1/symbol/IBM/history/')).json().bars).toHaveLength(100);
    expect(upstream.outputSizes.twelvedata).toEqual(['5000']);

    const all = await get('/api/v1/symbol/IBM/history/?from=1900-01-01');
    expect(all.headers['x-cache']).toBe('MISS');
    expect(all.json().bars).toHaveLength(5000);
    expect(upstream.outputSizes.twelvedata).toEqual(['5000', '5000']);

    expect((await get('/api/v1/symbol/IBM/history/?from=1900-01-01')).headers['x-cache']).toBe('HIT');
    expect((await get('/query?function=TIME_SERIES_DAILY&symbol=IBM&outputsize=full')).headers['x-cache']).toBe('HIT');
    expect(upstream.outputSizes.twelvedata).toHaveLength(2);
  });

  it("when the gateway's full series is asked, then it backfills as a range does", async () => {
    const { upstream, get } = await storedShallow();
    const full = await get('/query?function=TIME_SERIES_DAILY&symbol=IBM&outputsize=full');
    expect(Object.keys(full.json()['Time Series (Daily)'])).toHaveLength(5000);
    expect(upstream.outputSizes.twelvedata).toEqual(['5000', '5000']);
  });

  it('when the backfill fails upstream, then the stored bars are served as STALE, and the next ask tries again only after the back-off', async () => {
    const { upstream, get, later } = await storedShallow();
    upstream.set('twelvedata', 'IBM', { kind: 'http_500' });
    const stale = await get('/api/v1/symbol/IBM/history/?from=1900-01-01');
    expect(stale.statusCode).toBe(200);
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.json().bars).toHaveLength(100);
    const calls = upstream.calls.twelvedata!.length;
    expect((await get('/api/v1/symbol/IBM/history/?from=1900-01-01')).headers['x-cache']).toBe('STALE');
    expect(upstream.calls.twelvedata).toHaveLength(calls); // backed off: no second call

    later(1); // past the back-off (and no new session is final on a Monday night)
    upstream.set('twelvedata', 'IBM', { kind: 'bars', bars: sessions('2026-11-30', 6000) });
    expect((await get('/api/v1/symbol/IBM/history/?from=1900-01-01')).json().bars).toHaveLength(5000);
  });
});

describe.each(testEngines())('weekly and monthly history on %s', (engine) => {
  it('when interval=1week or 1month is asked, then one bar per week or month from the stored daily bars, adjusted too; a wrong interval is 400', async () => {
    const upstream = await startUpstream();
    const service = await startService(engine, providerEnv(upstream), undefined, { now: () => new Date('2022-07-08T12:00:00Z') });
    const key = await register(service.app);
    const get = (url: string, accept = 'application/json') => service.app.inject({ method: 'GET', url, headers: { 'x-api-key': key, accept } });
    // 29 June to 6 July 2022 (4 July a holiday), a dividend of 0.5 ex on 5 July: the gateway test's figures by hand.
    upstream.set('alphavantage', 'WK', {
      kind: 'bars',
      bars: [
        { date: '2022-07-06', open: '13.7500', high: '15.0000', low: '13.0000', close: '14.0000', volume: 500 },
        { date: '2022-07-05', open: '11.5000', high: '14.0000', low: '11.0000', close: '13.7500', volume: 400 },
        { date: '2022-07-01', open: '12.0000', high: '12.5000', low: '11.0000', close: '11.5000', volume: 300 },
        { date: '2022-06-30', open: '11.0000', high: '13.0000', low: '10.0000', close: '12.0000', volume: 200 },
        { date: '2022-06-29', open: '10.0000', high: '12.0000', low: '9.0000', close: '11.0000', volume: 100 },
      ],
    });
    upstream.setFor('alphavantage', 'splits', 'WK', { kind: 'splits', splits: [] });
    upstream.setFor('alphavantage', 'dividends', 'WK', { kind: 'dividends', dividends: [{ exDate: '2022-07-05', amount: '0.5' }] });

    const weekly = await get('/api/v1/symbol/WK/history/?interval=1week');
    expect(weekly.statusCode).toBe(200);
    expect(weekly.json()).toStrictEqual({
      symbol: 'WK', source: 'alphavantage', adjusted: false, interval: '1week',
      bars: [
        { date: '2022-07-01', open: '10.0000', high: '13.0000', low: '9.0000', close: '11.5000', volume: 600 },
        { date: '2022-07-06', open: '11.5000', high: '15.0000', low: '11.0000', close: '14.0000', volume: 900 },
      ],
    });
    const monthly = await get('/api/v1/symbol/WK/history/?interval=1month&adjusted=true');
    // June's bars are before the ex-date: each price × (1 − 0.5 / 11.5), to 6 decimals.
    expect(monthly.json().bars).toStrictEqual([
      { date: '2022-06-30', open: '9.565217', high: '12.434783', low: '8.608696', close: '11.478261', volume: 300 },
      { date: '2022-07-06', open: '11.478261', high: '15.0000', low: '10.521739', close: '14.0000', volume: 1200 },
    ]);
    const csv = await get('/api/v1/symbol/WK/history/?interval=1month&from=2022-07-01', 'text/csv');
    expect(csv.body).toBe('date,open,high,low,close,volume\n2022-07-06,12.0000,15.0000,11.0000,14.0000,1200\n');
    const wrong = await get('/api/v1/symbol/WK/history/?interval=1year');
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().field).toBe('interval');
    expect(upstream.calls.alphavantage).toEqual(['WK']);
  });
});
