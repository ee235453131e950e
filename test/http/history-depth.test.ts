/**
 * History as deep as the free tiers give, at one upstream call per symbol:
 * a symbol's first fetch asks for the deepest series a vendor gives in one
 * call (Twelve Data: 5,000 sessions), and every later refresh asks only for
 * the sessions the store lacks. Weeks and months older than the daily bars
 * are Alpha Vantage's own, at one call per series.
 */
import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { type Bar, providerEnv, type StandInPeriodBar, startUpstream, weekdaySessions as sessions } from '../support/upstream.js';

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
  it('when the vendor says the symbol is unknown to the backfill, then it is remembered as any unknown symbol: repeated deep asks make no further call until the refresh interval passes', async () => {
    const { upstream, get, later } = await storedShallow();
    upstream.set('twelvedata', 'IBM', { kind: 'unknown' });
    const first = await get('/api/v1/symbol/IBM/history/?from=1900-01-01');
    expect(first.statusCode).toBe(200);
    expect(first.json().bars).toHaveLength(100);
    const calls = upstream.calls.twelvedata.length;
    for (let i = 0; i < 5; i++) {
      later(2 / 60); // a minute apart: no minute's fair share holds it back
      const again = await get('/api/v1/symbol/IBM/history/?from=1900-01-01');
      expect(again.statusCode).toBe(200);
      expect(again.json().bars).toHaveLength(100);
    }
    expect(upstream.calls.twelvedata).toHaveLength(calls);
    later(25); // past the refresh interval: asked again, once
    upstream.set('twelvedata', 'IBM', { kind: 'bars', bars: sessions('2026-12-01', 6000) });
    expect((await get('/api/v1/symbol/IBM/history/?from=1900-01-01')).json().bars.length).toBeGreaterThan(100);
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

/**
 * Alpha Vantage's own weeks, newest first as it gives them, around the 100 daily sessions it gives
 * through Monday 30 November 2026: they start on Tuesday 14 July, so the week of 13 July (its last
 * session Friday 17 July) is cut, and Alpha Vantage's whole bar of it is served. Its bars of later weeks
 * are not: the daily bars make those. Each adjusted close is 0.95 × the close, as after a dividend of 5%.
 */
const AV_WEEKS: StandInPeriodBar[] = [
  { date: '2026-11-30', open: '11000.00', high: '11000.50', low: '11000.00', close: '11000.25', adjustedClose: '11000.25', volume: 1000, dividend: '0.0000' },
  { date: '2026-07-24', open: '50.0000', high: '50.0000', low: '50.0000', close: '50.0000', adjustedClose: '47.5000', volume: 1, dividend: '0.0000' },
  { date: '2026-07-17', open: '98.0000', high: '102.0000', low: '97.0000', close: '100.0000', adjustedClose: '95.0000', volume: 5000, dividend: '0.0000' },
  { date: '2026-07-10', open: '96.0000', high: '99.0000', low: '94.0000', close: '98.0000', adjustedClose: '93.1000', volume: 4000, dividend: '0.5000' },
  { date: '2026-07-02', open: '90.0000', high: '97.0000', low: '90.0000', close: '96.0000', adjustedClose: '91.2000', volume: 3000, dividend: '0.0000' },
];
/** July is cut too (its first stored session is the 14th): Alpha Vantage's July, June and May are served, the daily bars make August on. */
const AV_MONTHS: StandInPeriodBar[] = [
  { date: '2026-11-30', open: '11000.00', high: '11000.50', low: '11000.00', close: '11000.25', adjustedClose: '11000.25', volume: 1000, dividend: '0.0000' },
  { date: '2026-07-31', open: '90.0000', high: '104.0000', low: '89.0000', close: '103.0000', adjustedClose: '103.0000', volume: 21000, dividend: '0.5000' },
  { date: '2026-06-30', open: '80.0000', high: '92.0000', low: '79.5000', close: '90.0000', adjustedClose: '89.5000', volume: 19000, dividend: '0.0000' },
  { date: '2026-05-29', open: '75.0000', high: '81.0000', low: '74.0000', close: '80.0000', adjustedClose: '79.5000', volume: 18000, dividend: '0.0000' },
];
const traded = ({ date, open, high, low, close, volume }: Bar) => ({ date, open, high, low, close, volume });

describe.each(testEngines())('weekly and monthly history beyond the daily bars, Alpha Vantage only, on %s', (engine) => {
  async function setup(env: Record<string, string> = {}) {
    let now = new Date('2026-11-30T23:00:00Z'); // a Monday evening: Monday's session is final
    const upstream = await startUpstream();
    upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: sessions('2026-11-30', 100) });
    upstream.setFor('alphavantage', 'weekly', 'IBM', { kind: 'periods', bars: AV_WEEKS });
    upstream.setFor('alphavantage', 'monthly', 'IBM', { kind: 'periods', bars: AV_MONTHS });
    upstream.setFor('alphavantage', 'splits', 'IBM', { kind: 'splits', splits: [] });
    upstream.setFor('alphavantage', 'dividends', 'IBM', { kind: 'dividends', dividends: [] });
    const service = await startService(engine, { ...providerEnv(upstream, ['alphavantage']), ...env }, undefined, { now: () => now });
    const key = await register(service.app);
    const get = (url: string) => service.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
    return { upstream, get, later: (hours: number) => (now = new Date(now.getTime() + hours * 3_600_000)) };
  }

  it("when weekly bars are asked, then the weeks before the 100 daily sessions are Alpha Vantage's own, the cut week too, for one call; asked again, none", async () => {
    const { upstream, get } = await setup();
    // A range the daily bars cover costs no call of its own.
    expect((await get('/api/v1/symbol/IBM/history/?interval=1week&from=2026-09-01')).json().bars[0].date).toBe('2026-09-04');
    expect(upstream.capabilityCalls.alphavantage.weekly).toEqual([]);

    const weekly = await get('/api/v1/symbol/IBM/history/?interval=1week');
    expect(weekly.statusCode).toBe(200);
    expect(weekly.headers['x-cache']).toBe('MISS');
    const { bars } = weekly.json();
    // Three of Alpha Vantage's weeks as it gave them, the week of 13 July whole; then the twenty weeks of 20 July to 30 November the daily bars make.
    expect(bars.slice(0, 3)).toStrictEqual(AV_WEEKS.slice(2).reverse().map(traded));
    expect(bars.slice(3).map((bar: Bar) => bar.date)).toEqual(
      Array.from({ length: 19 }, (_, i) => new Date(Date.UTC(2026, 6, 24 + 7 * i)).toISOString().slice(0, 10)).concat('2026-11-30'),
    );
    expect(bars[3]).toStrictEqual({ date: '2026-07-24', open: '11095.00', high: '11095.50', low: '11091.00', close: '11091.25', volume: 5465 });
    expect(upstream.capabilityCalls.alphavantage.weekly).toEqual(['IBM']);

    const again = await get('/api/v1/symbol/IBM/history/?interval=1week&to=2026-07-31');
    expect(again.headers['x-cache']).toBe('HIT');
    expect(again.json().bars.map((bar: Bar) => bar.date)).toEqual(['2026-07-02', '2026-07-10', '2026-07-17', '2026-07-24', '2026-07-31']);
    expect(upstream.capabilityCalls.alphavantage.weekly).toEqual(['IBM']);
    expect(upstream.calls.alphavantage).toEqual(['IBM']);
  });

  it("when monthly bars are asked, then May, June and the cut July are Alpha Vantage's, August to November the daily bars'; one call, then none", async () => {
    const { upstream, get } = await setup();
    const monthly = await get('/api/v1/symbol/IBM/history/?interval=1month');
    expect(monthly.headers['x-cache']).toBe('MISS');
    const { bars } = monthly.json();
    expect(bars.slice(0, 3)).toStrictEqual(AV_MONTHS.slice(1).reverse().map(traded));
    expect(bars.slice(3).map((bar: Bar) => bar.date)).toEqual(['2026-08-31', '2026-09-30', '2026-10-30', '2026-11-30']);
    expect((await get('/api/v1/symbol/IBM/history/?interval=1month')).headers['x-cache']).toBe('HIT');
    expect(upstream.capabilityCalls.alphavantage).toMatchObject({ weekly: [], monthly: ['IBM'] });
  });

  it("when adjusted weekly bars are asked, then Alpha Vantage's weeks are scaled by its adjusted close; a dividend that goes ex after its answer asks it once again, as traded not at all", async () => {
    const { upstream, get, later } = await setup();
    const weekly = await get('/api/v1/symbol/IBM/history/?interval=1week&adjusted=true&to=2026-07-17');
    // × 0.95 (adjusted close ÷ close), to 6 decimals; the close is Alpha Vantage's adjusted close as it wrote it.
    expect(weekly.json().bars).toStrictEqual([
      { date: '2026-07-02', open: '85.500000', high: '92.150000', low: '85.500000', close: '91.2000', volume: 3000 },
      { date: '2026-07-10', open: '91.200000', high: '94.050000', low: '89.300000', close: '93.1000', volume: 4000 },
      { date: '2026-07-17', open: '93.100000', high: '96.900000', low: '92.150000', close: '95.0000', volume: 5000 },
    ]);
    expect(upstream.capabilityCalls.alphavantage.weekly).toEqual(['IBM']);

    // Tuesday evening: a dividend went ex today, after the newest week Alpha Vantage gave (30 November).
    later(24);
    upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: sessions('2026-12-01', 100) });
    upstream.setFor('alphavantage', 'dividends', 'IBM', { kind: 'dividends', dividends: [{ exDate: '2026-12-01', amount: '110' }] });
    const newerWeeks = [{ ...AV_WEEKS[0]!, date: '2026-12-01' }, ...AV_WEEKS.slice(1).map((week) => ({ ...week, adjustedClose: ratio(week.close, '0.9') }))];
    upstream.setFor('alphavantage', 'weekly', 'IBM', { kind: 'periods', bars: newerWeeks });
    expect((await get('/api/v1/symbol/IBM/history/?interval=1week&to=2026-07-17')).json().bars[2]).toStrictEqual(traded(AV_WEEKS[2]!));
    expect(upstream.capabilityCalls.alphavantage.weekly).toEqual(['IBM']); // as traded, its weeks have not changed

    const adjusted = await get('/api/v1/symbol/IBM/history/?interval=1week&adjusted=true&to=2026-07-17');
    expect(adjusted.headers['x-cache']).toBe('MISS');
    expect(adjusted.json().bars[2]).toStrictEqual({ date: '2026-07-17', open: '88.200000', high: '91.800000', low: '87.300000', close: '90.0000', volume: 5000 });
    expect(upstream.capabilityCalls.alphavantage.weekly).toEqual(['IBM', 'IBM']);
    later(2);
    expect((await get('/api/v1/symbol/IBM/history/?interval=1week&adjusted=true&to=2026-07-17')).headers['x-cache']).toBe('HIT');
    expect(upstream.capabilityCalls.alphavantage.weekly).toEqual(['IBM', 'IBM']);
  });

  it('when the quota counted for Alpha Vantage is spent, then weekly bars are the daily bars\' alone, STALE, never a 500, and Alpha Vantage is not called', async () => {
    // Two calls a day, the last kept for refreshes: the daily series takes the one a lookup may.
    const { upstream, get } = await setup({ ALPHAVANTAGE_DAILY_LIMIT: '2' });
    const weekly = await get('/api/v1/symbol/IBM/history/?interval=1week');
    expect(weekly.statusCode).toBe(200);
    expect(weekly.headers['x-cache']).toBe('STALE');
    expect(weekly.headers['x-data-stale']).toBe('true');
    const { bars } = weekly.json();
    expect(bars).toHaveLength(21);
    // The cut week holds only its stored sessions, 14 to 17 July.
    expect(bars[0]).toMatchObject({ date: '2026-07-17', volume: 1099 + 1098 + 1097 + 1096 });
    expect((await get('/api/v1/symbol/IBM/history/?interval=1month')).headers['x-cache']).toBe('STALE');
    expect(upstream.capabilityCalls.alphavantage).toMatchObject({ weekly: [], monthly: [] });
  });

  it("when the client's fair share of lookups is used, then a backfill is refused as a new symbol would be: weekly bars are the daily bars' alone, STALE", async () => {
    // A share of 4% of 25 calls: one lookup (the daily series), not two.
    const { upstream, get } = await setup({ UPSTREAM_FAIR_SHARE: '0.04' });
    const weekly = await get('/api/v1/symbol/IBM/history/?interval=1week');
    expect(weekly.statusCode).toBe(200);
    expect(weekly.headers['x-cache']).toBe('STALE');
    expect(weekly.json().bars).toHaveLength(21);
    expect(upstream.capabilityCalls.alphavantage.weekly).toEqual([]);
  });
});

/** `close` × `factor`, to 4 decimals, as Alpha Vantage writes an adjusted close. */
function ratio(close: string, factor: string): string {
  return (Number(close) * Number(factor)).toFixed(4);
}
