import { describe, expect, it } from 'vitest';
import { registerOver } from './support/api.js';
import { ProviderError, type ProviderFailure, type SymbolMatch } from '../src/app/market-data/providers.js';
import { createAlphaVantageProvider } from '../src/adapters/providers/alpha-vantage.js';
import { createSandboxProvider } from '../src/adapters/providers/sandbox.js';
import { isTradingDay } from '../src/domain/market-calendar.js';
import { createTwelveDataProvider } from '../src/adapters/providers/twelve-data.js';
import { join } from 'node:path';
import { inject } from 'vitest';
import { freePort, PROCESS_TEST_TIMEOUT_MS, runEntry, waitForServer } from './support/process.js';
import { type Behavior, type Capability, IBM_BARS, providerEnv, type StandInMatch, startUpstream, type Vendor } from './support/upstream.js';

const adapters = {
  alphavantage: createAlphaVantageProvider,
  twelvedata: createTwelveDataProvider,
};

async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe.each(['alphavantage', 'twelvedata'] as Vendor[])('the %s adapter', (vendor) => {
  // The production default: a loaded CI machine must not turn a slow first request into a failure.
  async function provider(timeoutMs = 5000) {
    const upstream = await startUpstream();
    const adapter = adapters[vendor]({ apiKey: 'secret-key', baseUrl: upstream.url, timeoutMs });
    return { upstream, adapter };
  }

  it('when the vendor has the symbol, then bars come back newest first with prices exactly as given', async () => {
    const { upstream, adapter } = await provider();
    upstream.set(vendor, 'IBM', { kind: 'bars', bars: [...IBM_BARS].reverse() });
    const { bars } = await adapter.getDailyBars('IBM', 100);
    expect(bars).toEqual(IBM_BARS);
    expect(upstream.keys[vendor]).toEqual(['secret-key']);
  });

  it.each<[Behavior['kind'], ProviderFailure]>([
    ['unknown', 'unknown_symbol'],
    ['rate_limited', 'rate_limited'],
    ['daily_limit', 'rate_limited'],
    ['burst', 'rate_limited'],
    ['premium', 'not_offered'],
    ['bad_key', 'unavailable'],
    ['http_500', 'unavailable'],
    ['html', 'unavailable'],
    ['malformed_json', 'unavailable'],
    ['no_series', 'unavailable'],
  ])('when the vendor answers %s, then the failure is %s', async (kind, failure) => {
    const { upstream, adapter } = await provider();
    upstream.set(vendor, 'IBM', { kind } as Behavior);
    const error = await failureOf(adapter.getDailyBars('IBM', 100));
    expect(error.failure).toBe(failure);
    if (failure === 'rate_limited') expect(error.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('when the vendor does not answer within the timeout, then it is unavailable', async () => {
    const { upstream, adapter } = await provider(300);
    upstream.set(vendor, 'IBM', { kind: 'slow', ms: 5000 });
    const error = await failureOf(adapter.getDailyBars('IBM', 100));
    expect(error.failure).toBe('unavailable');
    expect(error.message).toMatch(/no answer within 300 ms/);
  });

  it('when the vendor is unreachable, then it is unavailable', async () => {
    const adapter = adapters[vendor]({ apiKey: 'k', baseUrl: 'http://127.0.0.1:9', timeoutMs: 5000 });
    expect((await failureOf(adapter.getDailyBars('IBM', 100))).failure).toBe('unavailable');
  });

  it.each(['/av-proxy', '/av-proxy/'])('when the base URL has a path (%s), then the vendor is called under it', async (path) => {
    const upstream = await startUpstream({ prefix: '/av-proxy' });
    upstream.set(vendor, 'IBM', { kind: 'bars', bars: IBM_BARS });
    const adapter = adapters[vendor]({ apiKey: 'secret-key', baseUrl: `${upstream.url}${path}`, timeoutMs: 5000 });
    expect((await adapter.getDailyBars('IBM', 100)).bars).toEqual(IBM_BARS);
    expect(upstream.calls[vendor]).toEqual(['IBM']);
  });

  it('when the vendor quotes the key in its error, then the error carries no key', async () => {
    const { upstream, adapter } = await provider();
    upstream.set(vendor, 'IBM', { kind: 'quotes_key' });
    const error = await failureOf(adapter.getDailyBars('IBM', 100));
    expect(error.failure).toBe('unavailable');
    expect(error.message).toContain('[REDACTED]');
    expect(`${error.message} ${error.stack}`).not.toContain('secret-key');
  });

  it('when a bar is malformed, then the answer is refused as unavailable', async () => {
    const { upstream, adapter } = await provider();
    upstream.set(vendor, 'IBM', { kind: 'bars', bars: [{ ...IBM_BARS[0]!, close: 'n/a' }] });
    expect((await failureOf(adapter.getDailyBars('IBM', 100))).failure).toBe('unavailable');
  });
});

/** The capabilities of both vendors' adapters (weekly and monthly series are Alpha Vantage's alone). */
type SharedCapability = Exclude<Capability, 'weekly' | 'monthly'>;

const APPLE: StandInMatch = {
  symbol: 'AAPL',
  name: 'Apple Inc',
  type: 'Equity',
  region: 'United States',
  exchange: 'NASDAQ',
  micCode: 'XNGS',
  timezone: 'UTC-04',
  marketOpen: '09:30',
  marketClose: '16:00',
  currency: 'USD',
  matchScore: '0.8889',
};
const APPLE_HOSPITALITY: StandInMatch = { ...APPLE, symbol: 'APLE', name: 'Apple Hospitality REIT Inc', exchange: 'NYSE', micCode: 'XNYS', matchScore: '0.8000' };

/** What each vendor's answer says of a match, and nothing it does not say. */
const expectedMatch: Record<Vendor, (m: StandInMatch) => SymbolMatch> = {
  alphavantage: (m) => ({
    symbol: m.symbol,
    name: m.name,
    type: m.type!,
    region: m.region,
    marketOpen: m.marketOpen,
    marketClose: m.marketClose,
    timezone: m.timezone,
    currency: m.currency!,
    matchScore: m.matchScore,
  }),
  twelvedata: (m) => ({ symbol: m.symbol, name: m.name, type: m.type!, exchange: m.exchange, region: m.region, timezone: m.timezone, currency: m.currency! }),
};

describe.each(['alphavantage', 'twelvedata'] as Vendor[])('the %s adapter\'s search, splits and dividends', (vendor) => {
  async function provider() {
    const upstream = await startUpstream();
    const adapter = adapters[vendor]({ apiKey: 'secret-key', baseUrl: upstream.url, timeoutMs: 5000 });
    return { upstream, adapter };
  }

  /** Each capability both vendors have, called with `subject`. */
  const ask = {
    search: (adapter: ReturnType<(typeof adapters)[Vendor]>, subject: string) => adapter.searchSymbols!(subject),
    splits: (adapter: ReturnType<(typeof adapters)[Vendor]>, subject: string) => adapter.getSplits!(subject),
    dividends: (adapter: ReturnType<(typeof adapters)[Vendor]>, subject: string) => adapter.getDividends!(subject),
  } satisfies Record<SharedCapability, unknown>;

  it('when the vendor finds matches, then each is mapped field for field, in the vendor\'s order', async () => {
    const { upstream, adapter } = await provider();
    upstream.setFor(vendor, 'search', 'apple', { kind: 'matches', matches: [APPLE, APPLE_HOSPITALITY] });
    expect(await adapter.searchSymbols!('apple')).toEqual([APPLE, APPLE_HOSPITALITY].map(expectedMatch[vendor]));
    expect(upstream.capabilityCalls[vendor].search).toEqual(['apple']);
    expect(upstream.calls[vendor]).toEqual([]);
  });

  it('when nothing matches, then the search is empty, not an error', async () => {
    const { adapter } = await provider();
    expect(await adapter.searchSymbols!('zzzz')).toEqual([]);
  });

  it('when a stock split 4-for-1, 3-for-2 and reverse 1-for-10, then the factors are new shares per old: "4", "1.5", "0.1"', async () => {
    const { upstream, adapter } = await provider();
    upstream.setFor(vendor, 'splits', 'AAPL', {
      kind: 'splits',
      splits: [
        { date: '2020-08-31', newShares: 4, oldShares: 1 },
        { date: '2005-02-28', newShares: 3, oldShares: 2 },
        { date: '2024-06-10', newShares: 1, oldShares: 10 },
      ],
    });
    const splits = await adapter.getSplits!('AAPL');
    expect([...splits].sort((a, b) => (a.date < b.date ? -1 : 1))).toEqual([
      { date: '2005-02-28', factor: '1.5' },
      { date: '2020-08-31', factor: '4' },
      { date: '2024-06-10', factor: '0.1' },
    ]);
    expect(upstream.capabilityCalls[vendor].splits).toEqual(['AAPL']);
  });

  it('when the symbol pays dividends, then each comes back with its ex-date and its amount exactly as given', async () => {
    const { upstream, adapter } = await provider();
    upstream.setFor(vendor, 'dividends', 'IBM', {
      kind: 'dividends',
      dividends: [
        { exDate: '2024-02-08', amount: '1.66', declarationDate: '2024-01-30', recordDate: '2024-02-09', paymentDate: '2024-03-09' },
        { exDate: '1999-02-08', amount: '0.22' },
      ],
    });
    const dividends = await adapter.getDividends!('IBM');
    expect([...dividends].sort((a, b) => (a.exDate < b.exDate ? 1 : -1))).toEqual([
      { exDate: '2024-02-08', amount: '1.66' },
      { exDate: '1999-02-08', amount: '0.22' },
    ]);
  });

  it('when the symbol never split nor paid, then both lists are empty', async () => {
    const { upstream, adapter } = await provider();
    upstream.setFor(vendor, 'splits', 'GROW', { kind: 'splits', splits: [] });
    upstream.setFor(vendor, 'dividends', 'GROW', { kind: 'dividends', dividends: [] });
    expect(await adapter.getSplits!('GROW')).toEqual([]);
    expect(await adapter.getDividends!('GROW')).toEqual([]);
  });

  it.each<[SharedCapability, Behavior['kind'], ProviderFailure]>([
    ['splits', 'unknown', 'unknown_symbol'],
    ['dividends', 'unknown', 'unknown_symbol'],
    ['search', 'rate_limited', 'rate_limited'],
    ['splits', 'rate_limited', 'rate_limited'],
    ['dividends', 'daily_limit', 'rate_limited'],
    ['splits', 'premium', 'not_offered'],
    ['dividends', 'bad_key', 'unavailable'],
    ['search', 'http_500', 'unavailable'],
    ['search', 'no_series', 'unavailable'],
    ['splits', 'no_series', 'unavailable'],
    ['dividends', 'malformed_json', 'unavailable'],
  ])('when asked for %s and the vendor answers %s, then the failure is %s', async (capability, kind, failure) => {
    const { upstream, adapter } = await provider();
    upstream.setFor(vendor, capability, 'IBM', { kind } as Behavior);
    const error = await failureOf(ask[capability](adapter, 'IBM'));
    expect(error.failure).toBe(failure);
    if (failure === 'rate_limited') expect(error.retryAfterSeconds).toBeGreaterThan(0);
  });

  it.each<SharedCapability>(['search', 'splits', 'dividends'])('when the vendor quotes the key in its error to %s, then the error carries no key', async (capability) => {
    const { upstream, adapter } = await provider();
    upstream.setFor(vendor, capability, 'IBM', { kind: 'quotes_key' });
    const error = await failureOf(ask[capability](adapter, 'IBM'));
    expect(error.message).toContain('[REDACTED]');
    expect(`${error.message} ${error.stack}`).not.toContain('secret-key');
    expect(upstream.keys[vendor]).toEqual(['secret-key']);
  });

  it('when a split or dividend date is not a calendar date, then the answer is refused as unavailable', async () => {
    const { upstream, adapter } = await provider();
    upstream.setFor(vendor, 'splits', 'IBM', { kind: 'splits', splits: [{ date: '2020-02-30', newShares: 2, oldShares: 1 }] });
    upstream.setFor(vendor, 'dividends', 'IBM', { kind: 'dividends', dividends: [{ exDate: '2024-13-01', amount: '1.66' }] });
    expect((await failureOf(adapter.getSplits!('IBM'))).failure).toBe('unavailable');
    expect((await failureOf(adapter.getDividends!('IBM'))).failure).toBe('unavailable');
  });
});

describe("Alpha Vantage's weekly and monthly series", () => {
  async function provider() {
    const upstream = await startUpstream();
    return { upstream, adapter: createAlphaVantageProvider({ apiKey: 'secret-key', baseUrl: upstream.url, timeoutMs: 5000 }) };
  }
  // Two of IBM's weeks of 2025 as Alpha Vantage's documentation shows them, the older one given first.
  const WEEKS = [
    { date: '2025-10-31', open: '307.8000', high: '319.3500', low: '301.6300', close: '307.4100', adjustedClose: '307.4100', volume: 32440643, dividend: '0.0000' },
    { date: '2025-11-06', open: '308.0000', high: '315.4400', low: '296.0000', close: '312.4200', adjustedClose: '312.4200', volume: 20956438, dividend: '1.6800' },
  ];

  it('when asked for weeks or months, then its _ADJUSTED series is called once and every bar comes back newest first, prices, adjusted close and dividend exactly as given', async () => {
    const { upstream, adapter } = await provider();
    upstream.setFor('alphavantage', 'weekly', 'IBM', { kind: 'periods', bars: WEEKS });
    upstream.setFor('alphavantage', 'monthly', 'IBM', { kind: 'periods', bars: [{ ...WEEKS[0]!, dividend: '1.6800' }] });
    expect(await adapter.getPeriodBars!('IBM', 'week')).toEqual([WEEKS[1], WEEKS[0]]);
    expect(await adapter.getPeriodBars!('IBM', 'month')).toEqual([{ ...WEEKS[0], dividend: '1.6800' }]);
    expect(upstream.capabilityCalls.alphavantage).toMatchObject({ weekly: ['IBM'], monthly: ['IBM'] });
    expect(upstream.calls.alphavantage).toEqual([]);
  });

  it.each<[Behavior['kind'], ProviderFailure]>([
    ['unknown', 'unknown_symbol'],
    ['daily_limit', 'rate_limited'],
    ['premium', 'not_offered'],
    ['no_series', 'unavailable'],
    ['malformed_json', 'unavailable'],
  ])('when the vendor answers %s, then the failure is %s', async (kind, failure) => {
    const { upstream, adapter } = await provider();
    upstream.setFor('alphavantage', 'monthly', 'IBM', { kind } as Behavior);
    expect((await failureOf(adapter.getPeriodBars!('IBM', 'month'))).failure).toBe(failure);
  });

  it('when one bar is malformed (a low above the open, an adjusted close of "None"), then the whole answer is refused as unavailable', async () => {
    const { upstream, adapter } = await provider();
    upstream.setFor('alphavantage', 'weekly', 'IBM', { kind: 'periods', bars: [WEEKS[0]!, { ...WEEKS[1]!, low: '313.0000' }] });
    expect((await failureOf(adapter.getPeriodBars!('IBM', 'week'))).message).toMatch(/malformed bar: low 313.0000 is above open/);
    upstream.setFor('alphavantage', 'weekly', 'IBM', { kind: 'periods', bars: [{ ...WEEKS[1]!, adjustedClose: 'None' }] });
    expect((await failureOf(adapter.getPeriodBars!('IBM', 'week'))).failure).toBe('unavailable');
  });

  it('when Twelve Data is the vendor, then it has no such capability: its 5,000 daily sessions already reach about 20 years', () => {
    expect(createTwelveDataProvider({ apiKey: 'k', baseUrl: 'http://127.0.0.1:9', timeoutMs: 5000 }).getPeriodBars).toBeUndefined();
  });
});

describe('Alpha Vantage dividends not yet fixed', () => {
  it('when a dividend\'s ex-date is still "None", then it is left out, and "None" in its other dates does not matter', async () => {
    const upstream = await startUpstream();
    upstream.setFor('alphavantage', 'dividends', 'IBM', {
      kind: 'json',
      body: {
        symbol: 'IBM',
        data: [
          { ex_dividend_date: 'None', declaration_date: '2026-10-29', record_date: 'None', payment_date: 'None', amount: '1.68' },
          { ex_dividend_date: '2026-08-10', declaration_date: 'None', record_date: 'None', payment_date: 'None', amount: '1.68' },
        ],
      },
    });
    const adapter = createAlphaVantageProvider({ apiKey: 'k', baseUrl: upstream.url, timeoutMs: 5000 });
    expect(await adapter.getDividends!('IBM')).toEqual([{ exDate: '2026-08-10', amount: '1.68' }]);
  });
});

describe('Twelve Data splits', () => {
  const adapterOn = (url: string) => createTwelveDataProvider({ apiKey: 'k', baseUrl: url, timeoutMs: 5000 });

  it('when asked, then it asks for the full range, not the latest split only (the default)', async () => {
    const upstream = await startUpstream();
    upstream.setFor('twelvedata', 'splits', 'NVDA', {
      kind: 'splits',
      splits: [
        { date: '2021-07-20', newShares: 4, oldShares: 1 },
        { date: '2024-06-10', newShares: 10, oldShares: 1 },
      ],
    });
    expect(await adapterOn(upstream.url).getSplits!('NVDA')).toHaveLength(2);
  });

  it('when the factors contradict the description, then the split is refused rather than inverted', async () => {
    const upstream = await startUpstream();
    // As a third-party copy of the docs shows it: factors the other way round from Twelve Data's own example.
    const inverted = { date: '2020-08-31', description: '4-for-1 split', ratio: 4, from_factor: 1, to_factor: 4 };
    upstream.setFor('twelvedata', 'splits', 'AAPL', { kind: 'json', body: { meta: { symbol: 'AAPL' }, splits: [inverted] } });
    const error = await failureOf(adapterOn(upstream.url).getSplits!('AAPL'));
    expect(error.failure).toBe('unavailable');
    expect(error.message).toMatch(/contradict/);
  });

  it('when a dividend amount is not a plain decimal, then the answer is refused as unavailable', async () => {
    const upstream = await startUpstream();
    upstream.setFor('twelvedata', 'dividends', 'PENNY', { kind: 'json', body: { meta: {}, dividends: [{ ex_date: '2024-01-05', amount: 1e-7 }] } });
    expect((await failureOf(adapterOn(upstream.url).getDividends!('PENNY'))).failure).toBe('unavailable');
  });
});

describe('the sandbox', () => {
  // After the seed's sessions, before today: the bars of the past do not depend on when they are asked.
  const clock = () => new Date('2026-01-05T23:00:00Z');
  const sandbox = createSandboxProvider({ now: clock });
  const ALL = 100_000;

  it.each([
    ['aapl', ['AAPL']],
    ['micro', ['MSFT']],
    ['ama', ['AMZN']],
    ['Q', ['QQQ']],
    ['coca', ['KO']],
    ['international business', ['IBM']],
    ['spdr', ['SPY', 'DIA']],
    ['bank', ['BAC']],
    ['  ', []],
    ['nothing like it', []],
  ])('when searching %j, then it finds %j: symbols by prefix first, then names containing it, any case', async (query, symbols) => {
    expect((await sandbox.searchSymbols!(query)).map((m) => m.symbol)).toEqual(symbols);
  });

  it('when a match is found, then it is a US listing in dollars with its real name', async () => {
    expect(await sandbox.searchSymbols!('IBM')).toEqual([
      { symbol: 'IBM', name: 'International Business Machines Corp', type: 'Equity', exchange: 'NYSE', region: 'United States', currency: 'USD' },
    ]);
    expect((await sandbox.searchSymbols!('SPY'))[0]).toMatchObject({ name: 'SPDR S&P 500 ETF Trust', type: 'ETF', exchange: 'NYSE ARCA' });
  });

  it('when a ticker is outside its universe, then it is unknown, as a vendor says it', async () => {
    for (const ask of [() => sandbox.getDailyBars('NOPE', 100), () => sandbox.getSplits!('NOPE'), () => sandbox.getDividends!('NOPE')]) {
      const error = await failureOf(ask());
      expect(error).toBeInstanceOf(ProviderError);
      expect(error.failure).toBe('unknown_symbol');
    }
  });

  it("when IBM's history is asked, then the seed's sessions of 2022-07-26..29 are exactly there, the walk running on both sides", async () => {
    const { bars } = await sandbox.getDailyBars('IBM', ALL);
    const seed = bars.filter((bar) => bar.date >= '2022-07-25' && bar.date <= '2022-08-01').reverse();
    expect(seed.map((bar) => bar.date)).toEqual(['2022-07-25', '2022-07-26', '2022-07-27', '2022-07-28', '2022-07-29', '2022-08-01']);
    expect(seed.slice(1, 5)).toEqual([
      { date: '2022-07-26', open: '128.6200', high: '129.3900', low: '127.6200', close: '128.0800', volume: 3642175 },
      { date: '2022-07-27', open: '128.4600', high: '129.0500', low: '127.7900', close: '128.8000', volume: 3582307 },
      { date: '2022-07-28', open: '128.2000', high: '129.5500', low: '127.6600', close: '129.2200', volume: 3895133 },
      { date: '2022-07-29', open: '129.5200', high: '131.0000', low: '129.3100', close: '130.7900', volume: 4236283 },
    ]);
    // Continuous: no jump of more than a few percent into or out of them.
    expect(Math.abs(+seed[0]!.close / 128.08 - 1)).toBeLessThan(0.08);
    expect(Math.abs(+seed[5]!.open / 130.79 - 1)).toBeLessThan(0.08);
  });

  it('when the whole history is asked, then it is years deep, newest first, on NYSE sessions only (no weekend, no holiday), through the latest final session', async () => {
    const { bars } = await sandbox.getDailyBars('KO', ALL);
    expect(bars[0]!.date).toBe('2026-01-05');
    expect(bars.at(-1)!.date).toBe('2000-01-03');
    const dates = bars.map((bar) => bar.date);
    expect(dates).toEqual([...dates].sort().reverse());
    expect(dates.every((date) => isTradingDay(date))).toBe(true);
    for (const holiday of ['2022-07-04', '2023-11-23', '2022-12-26', '2024-03-29', '2022-06-20']) expect(dates).not.toContain(holiday);
    expect(dates).toContain('2022-07-05');
    // And the newest `sessions` of them when fewer are asked.
    expect((await sandbox.getDailyBars('KO', 3)).bars.map((bar) => bar.date)).toEqual(['2026-01-05', '2026-01-02', '2025-12-31']);
  });

  it('when bars are asked, then they are well formed: four decimals, low ≤ open, close ≤ high, positive volume', async () => {
    for (const symbol of ['AAPL', 'NVDA', 'C', 'SPY']) {
      for (const bar of (await sandbox.getDailyBars(symbol, ALL)).bars) {
        for (const price of [bar.open, bar.high, bar.low, bar.close]) expect(price).toMatch(/^\d+\.\d{4}$/);
        expect(+bar.low).toBeLessThanOrEqual(Math.min(+bar.open, +bar.close));
        expect(+bar.high).toBeGreaterThanOrEqual(Math.max(+bar.open, +bar.close));
        expect(+bar.low).toBeGreaterThan(0);
        expect(Number.isInteger(bar.volume) && bar.volume > 0).toBe(true);
      }
    }
  });

  it('when two sandboxes are asked, then their bars are identical: deterministic, whatever the run', async () => {
    const other = createSandboxProvider({ now: clock });
    expect((await other.getDailyBars('MSFT', ALL)).bars).toEqual((await sandbox.getDailyBars('MSFT', ALL)).bars);
    // A sandbox a day later adds a session and changes none before it.
    const later = createSandboxProvider({ now: () => new Date('2026-01-06T23:00:00Z') });
    const [newest, ...rest] = (await later.getDailyBars('MSFT', ALL)).bars;
    expect(newest!.date).toBe('2026-01-06');
    expect(rest).toEqual((await sandbox.getDailyBars('MSFT', ALL)).bars);
  });

  it('when two symbols are asked, then each has its own path', async () => {
    const closes = async (symbol: string) => (await sandbox.getDailyBars(symbol, 250)).bars.map((bar) => +bar.close);
    const [pep, ko] = [await closes('PEP'), await closes('KO')];
    const ratios = pep.map((close, i) => close / ko[i]!);
    expect(Math.max(...ratios) / Math.min(...ratios)).toBeGreaterThan(1.05); // not one path scaled
    expect(new Set(pep).size).toBeGreaterThan(200);
  });

  it("when splits are asked, then they are the real ones, and the bars jump by the factor on the ex-date", async () => {
    expect(await sandbox.getSplits!('AAPL')).toEqual([
      { date: '2000-06-21', factor: '2' },
      { date: '2005-02-28', factor: '2' },
      { date: '2014-06-09', factor: '7' },
      { date: '2020-08-31', factor: '4' },
    ]);
    expect(await sandbox.getSplits!('NVDA')).toContainEqual({ date: '2024-06-10', factor: '10' });
    expect(await sandbox.getSplits!('TSLA')).toEqual([{ date: '2020-08-31', factor: '5' }, { date: '2022-08-25', factor: '3' }]);
    expect(await sandbox.getSplits!('GE')).toContainEqual({ date: '2021-08-02', factor: '0.125' });
    expect(await sandbox.getSplits!('KO')).toEqual([{ date: '2012-08-13', factor: '2' }]);
    expect(await sandbox.getSplits!('IBM')).toEqual([]);
    const jump = async (symbol: string, date: string) => {
      const bars = (await sandbox.getDailyBars(symbol, ALL)).bars;
      const at = bars.findIndex((bar) => bar.date === date);
      return +bars[at + 1]!.close / +bars[at]!.open; // the close before over the open of the day
    };
    expect(await jump('AAPL', '2020-08-31')).toBeCloseTo(4, 0);
    expect(await jump('AAPL', '2014-06-09')).toBeCloseTo(7, 0);
    expect(await jump('NVDA', '2024-06-10')).toBeCloseTo(10, 0);
    expect(await jump('GE', '2021-08-02')).toBeCloseTo(0.125, 1);
  });

  it('when dividends are asked, then payers have quarterly ones on sessions, each a small part of the price, and others have none', async () => {
    const ibm = await sandbox.getDividends!('IBM');
    expect(ibm.filter(({ exDate }) => exDate.startsWith('2022')).map(({ amount }) => amount)).toEqual(['1.64', '1.65', '1.65', '1.65']);
    expect(ibm.every(({ exDate }) => isTradingDay(exDate))).toBe(true);
    const aapl = await sandbox.getDividends!('AAPL');
    expect(aapl[0]).toEqual({ exDate: '2012-08-10', amount: '2.65' });
    expect(aapl.filter(({ exDate }) => exDate.startsWith('2021')).map(({ amount }) => amount)).toEqual(['0.205', '0.22', '0.22', '0.22']);
    expect((await sandbox.getDividends!('KO')).length).toBeGreaterThan(100);
    expect(await sandbox.getDividends!('TSLA')).toEqual([]);
    // Every payer's dividend is a small part of the price it is paid on: plausible yields only.
    for (const symbol of ['IBM', 'AAPL', 'MSFT', 'KO', 'JNJ', 'PG', 'XOM', 'JPM', 'PEP', 'MCD', 'VZ', 'SPY']) {
      const bars = new Map((await sandbox.getDailyBars(symbol, ALL)).bars.map((bar, i, all) => [bar.date, all[i + 1]]));
      for (const { exDate, amount } of await sandbox.getDividends!(symbol)) expect(+amount / +bars.get(exDate)!.close).toBeLessThan(0.04);
    }
  });
});

describe('Alpha Vantage per-second limit', () => {
  it('when asked to spread requests out, then retry is within a minute, though the notice names the daily limit too', async () => {
    const upstream = await startUpstream();
    upstream.set('alphavantage', 'IBM', { kind: 'burst' });
    const adapter = createAlphaVantageProvider({ apiKey: 'k', baseUrl: upstream.url, timeoutMs: 5000 });
    const error = await failureOf(adapter.getDailyBars('IBM', 100));
    expect(error.failure).toBe('rate_limited');
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(60);
  });
});

describe('Twelve Data daily credits', () => {
  it('when the day\'s credits are spent, then retry is after the next UTC midnight', async () => {
    const upstream = await startUpstream();
    upstream.setQuota('twelvedata', { perDay: 0 });
    const adapter = createTwelveDataProvider({ apiKey: 'k', baseUrl: upstream.url, timeoutMs: 5000 });
    const error = await failureOf(adapter.getDailyBars('IBM', 100));
    expect(error.failure).toBe('rate_limited');
    expect(error.retryAfterSeconds).toBeGreaterThan(60);
  });
});

describe('Alpha Vantage daily limit', () => {
  it('when the 25-a-day limit is hit, then retry is after the next UTC midnight', async () => {
    const upstream = await startUpstream();
    upstream.set('alphavantage', 'IBM', { kind: 'daily_limit' });
    const adapter = createAlphaVantageProvider({ apiKey: 'k', baseUrl: upstream.url, timeoutMs: 5000 });
    const error = await failureOf(adapter.getDailyBars('IBM', 100));
    const now = new Date();
    const untilMidnight = (Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime()) / 1000;
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(Math.floor(untilMidnight) - 5);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(Math.ceil(untilMidnight) + 1);
  });
});

describe('provider keys in the log of a running service', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it("when both vendors answer notices quoting their keys, then the warn log names the failures but neither key", async () => {
    const upstream = await startUpstream();
    for (const vendor of ['alphavantage', 'twelvedata'] as Vendor[]) upstream.set(vendor, 'IBM', { kind: 'quotes_key' });
    const env = providerEnv(upstream);
    const port = await freePort();
    const run = runEntry('src/main.ts', {
      ...env,
      PORT: String(port),
      DATABASE_URL: `sqlite:${join(inject('sqliteDir'), `redaction-${port}.db`)}`,
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(`${base}/health`, run);
    const key = await registerOver(base);
    const quote = await fetch(`${base}/api/v1/symbol/IBM/`, { headers: { authorization: `Token ${key}` } });
    expect(quote.status).toBe(502);
    expect(upstream.keys).toEqual({ alphavantage: [env.ALPHAVANTAGE_API_KEY], twelvedata: [env.TWELVEDATA_API_KEY] });
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);

    const warnings = run.output().split('\n').filter((line) => line.includes('market-data provider failed'));
    expect(warnings).toHaveLength(2);
    expect(warnings.join('\n')).toContain('[REDACTED]');
    expect(run.output()).not.toContain(env.ALPHAVANTAGE_API_KEY);
    expect(run.output()).not.toContain(env.TWELVEDATA_API_KEY);
  });
});

describe('redacting a provider key', () => {
  it('replaces the key as is and URL-encoded, wherever it appears', async () => {
    const { redact } = await import('../src/adapters/providers/vendor-client.js');
    const key = 'k+y/1=';
    expect(redact(`bad key ${key}; see https://x/query?apikey=${encodeURIComponent(key)}&a=${key}`, key)).toBe(
      'bad key [REDACTED]; see https://x/query?apikey=[REDACTED]&a=[REDACTED]',
    );
    expect(redact('nothing secret here', key)).toBe('nothing secret here');
  });

  it('replaces the key in any case, as a vendor may upper-case what it quotes', async () => {
    const { redact } = await import('../src/adapters/providers/vendor-client.js');
    expect(redact('key=S3CR+ET/KEY, key=s3cr%2Bet%2Fkey', 's3cr+et/key')).toBe('key=[REDACTED], key=[REDACTED]');
  });
});
