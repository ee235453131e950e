import { describe, expect, it } from 'vitest';
import { createPrefetchLease } from '../../src/adapters/db/prefetch-lease.js';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService, type TestService } from '../support/service.js';
import { type Bar, providerEnv, startUpstream, type Upstream } from '../support/upstream.js';

/** Bars of the given sessions, newest first, as a vendor sends them. */
function barsOf(dates: string[]): Bar[] {
  return dates.map((date, i) => ({ date, open: `${100 + i}.0000`, high: `${101 + i}.0000`, low: `${99 + i}.0000`, close: `${100 + i}.5000`, volume: 1000 + i }));
}

// Wednesday 3 August 2022 back to Friday 29 July: a vendor's series as seen after Wednesday's close.
const SERIES = barsOf(['2022-08-03', '2022-08-02', '2022-08-01', '2022-07-29']);
const TUESDAY_MORNING = new Date('2022-08-02T15:00:00Z'); // 11:00 New York: Monday is the latest final session
const WEDNESDAY_EVENING = new Date('2022-08-03T21:30:00Z'); // 17:30 New York: Wednesday's bar is final

describe.each(testEngines())('the after-close prefetch on %s', (engine) => {
  const get = (service: TestService, key: string, url: string) =>
    service.app.inject({ method: 'GET', url, headers: { authorization: `Token ${key}` } });

  /**
   * Yesterday's clients, on an instance with room for their lookups: each
   * symbol asked as often as `asks` says, through the quote, history and
   * batch in turn. Closing the instance saves its demand.
   */
  async function askedOn(day: Date, asks: Record<string, number>, more: { invalid?: string; unknown?: string } = {}) {
    const upstream = await startUpstream();
    for (const symbol of Object.keys(asks)) upstream.set('alphavantage', symbol, { kind: 'bars', bars: SERIES });
    const yesterday = await startService(engine, { ...providerEnv(upstream, ['alphavantage']), UPSTREAM_FAIR_SHARE: '1' }, undefined, { now: () => day });
    const key = await register(yesterday.app);
    const paths = [(s: string) => `/api/v1/symbol/${s}/`, (s: string) => `/api/v1/symbol/${s}/history/`, (s: string) => `/api/v1/symbols/?symbols=${s}`];
    for (const [symbol, count] of Object.entries(asks)) {
      for (let i = 0; i < count; i++) expect((await get(yesterday, key, paths[i % 3]!(symbol))).statusCode).toBe(200);
    }
    for (let i = 0; i < 10; i++) {
      if (more.invalid) expect((await get(yesterday, key, `/api/v1/symbol/${more.invalid}/`)).statusCode).toBe(400);
      if (more.unknown) expect((await get(yesterday, key, `/api/v1/symbol/${more.unknown}/`)).statusCode).toBe(404);
    }
    await yesterday.close();
    return { upstream, key, database: yesterday.database, callsBefore: upstream.calls.alphavantage.length };
  }

  /** An instance of today on yesterday's database, its clock set by `clock`. */
  const instance = (upstream: Upstream, database: TestService['database'], clock: () => Date, env: Record<string, string> = {}) =>
    startService(engine, { ...providerEnv(upstream, ['alphavantage']), ...env }, database, { now: clock });

  it("when symbols were asked yesterday, then after today's close they are refreshed most requested first, up to the reserve; the next client gets a HIT and a new symbol still gets looked up", async () => {
    const asks = { AAA: 7, BBB: 6, CCC: 5, DDD: 4, EEE: 3, FFF: 2, GGG: 1 };
    const { upstream, key, database, callsBefore } = await askedOn(TUESDAY_MORNING, asks, { invalid: '-BAD', unknown: 'NOPE' });
    // 8 calls today, 20% (2) kept for clients: the prefetch may make 6.
    const today = await instance(upstream, database, () => WEDNESDAY_EVENING, { ALPHAVANTAGE_DAILY_LIMIT: '8' });

    const outcome = await today.prefetch();

    expect(outcome).toMatchObject({ kind: 'paused', reason: 'budget', session: '2022-08-03', refreshed: ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF'] });
    // Unknown and invalid symbols were never on the watchlist, however often asked.
    expect(upstream.calls.alphavantage.slice(callsBefore)).toEqual(['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF']);
    const first = await get(today, key, '/api/v1/symbol/AAA/');
    expect(first.headers['x-cache']).toBe('HIT');
    expect(first.json()).toMatchObject({ last_refreshed: '2022-08-03' });
    expect((await get(today, key, '/api/v1/symbols/?symbols=BBB,FFF')).headers['x-cache']).toBe('HIT');
    expect(upstream.calls.alphavantage).toHaveLength(callsBefore + 6);
    // The reserve holds: a client's lookup of a symbol nobody asked for is still made.
    upstream.set('alphavantage', 'NEW', { kind: 'bars', bars: SERIES });
    const lookup = await get(today, key, '/api/v1/symbol/NEW/');
    expect(lookup.statusCode).toBe(200);
    expect(lookup.headers['x-cache']).toBe('MISS');
  });

  it('when a session was done, then neither a second run, the weekend nor a holiday asks upstream again; the next session does', async () => {
    // Thursday 1 September 2022; Monday 5 September is Labor Day.
    const { upstream, database } = await askedOn(new Date('2022-09-01T15:00:00Z'), { AAA: 2, BBB: 1 });
    for (const symbol of ['AAA', 'BBB']) upstream.set('alphavantage', symbol, { kind: 'bars', bars: barsOf(['2022-09-06', '2022-09-02', '2022-09-01', '2022-08-31']) });
    let now = new Date('2022-09-02T21:30:00Z'); // Friday, after the close
    const service = await instance(upstream, database, () => now);
    expect(await service.prefetch()).toEqual({ kind: 'completed', session: '2022-09-02', refreshed: ['AAA', 'BBB'] });
    const calls = upstream.calls.alphavantage.length;

    expect(await service.prefetch()).toEqual({ kind: 'not_due', session: '2022-09-02' });
    for (const at of ['2022-09-03T21:30:00Z', '2022-09-04T12:00:00Z', '2022-09-05T21:30:00Z', '2022-09-06T15:00:00Z']) {
      now = new Date(at); // Saturday, Sunday, Labor Day, Tuesday before the close
      expect(await service.prefetch(), at).toEqual({ kind: 'not_due', session: '2022-09-02' });
    }
    expect(upstream.calls.alphavantage).toHaveLength(calls);

    now = new Date('2022-09-06T21:30:00Z');
    expect(await service.prefetch()).toEqual({ kind: 'completed', session: '2022-09-06', refreshed: ['AAA', 'BBB'] });
  });

  it('when two instances run it at once, then one runs it and the other finds it busy, then done', async () => {
    const { upstream, database, callsBefore } = await askedOn(TUESDAY_MORNING, { AAA: 2, BBB: 1 });
    const clock = () => WEDNESDAY_EVENING;
    const [one, two] = [await instance(upstream, database, clock), await instance(upstream, database, clock)];
    upstream.set('alphavantage', 'AAA', { kind: 'held', then: { kind: 'bars', bars: SERIES } });

    const running = one.prefetch();
    await upstream.callsReached('alphavantage', callsBefore + 1); // the first instance holds the lease, mid-run
    expect(await two.prefetch()).toEqual({ kind: 'busy', session: '2022-08-03' });
    upstream.release('alphavantage', 'AAA');
    expect(await running).toEqual({ kind: 'completed', session: '2022-08-03', refreshed: ['AAA', 'BBB'] });
    expect(await two.prefetch()).toEqual({ kind: 'not_due', session: '2022-08-03' });
    expect(upstream.calls.alphavantage.slice(callsBefore)).toEqual(['AAA', 'BBB']);
  });

  it("when the lease's holder died, then another instance takes it over once it expires", async () => {
    const { upstream, database, callsBefore } = await askedOn(TUESDAY_MORNING, { AAA: 1 });
    let now = WEDNESDAY_EVENING;
    const service = await instance(upstream, database, () => now);
    // An instance that took the lease and died: it never renews or releases it.
    const taken = await createPrefetchLease(service.db).take('dead-instance', now.getTime(), now.getTime() + 120_000);
    expect(taken).toEqual({ lastSession: undefined });

    expect(await service.prefetch()).toEqual({ kind: 'busy', session: '2022-08-03' });
    now = new Date(now.getTime() + 119_000);
    expect(await service.prefetch()).toMatchObject({ kind: 'busy' });
    now = new Date(now.getTime() + 1_000); // the lease has expired
    expect(await service.prefetch()).toEqual({ kind: 'completed', session: '2022-08-03', refreshed: ['AAA'] });
    expect(upstream.calls.alphavantage.slice(callsBefore)).toEqual(['AAA']);
  });
});
