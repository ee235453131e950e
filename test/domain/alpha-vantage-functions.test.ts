import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ALPHA_VANTAGE_FUNCTIONS,
  answersCsv,
  canonicalQuery,
  keptUntil,
  PASS_THROUGH_MAX_PARAMETERS,
  passThroughQuery,
} from '../../src/domain/alpha-vantage-functions.js';
import { ValidationError } from '../../src/domain/errors.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const query = (name: string, parameters: Record<string, string> = {}) => passThroughQuery(name, Object.entries(parameters));
const lifetimeAt = (at: string, name: string, parameters: Record<string, string> = {}, kind: 'data' | 'error' | 'premium' | 'notice' = 'data') =>
  keptUntil(query(name, parameters), kind, new Date(at)) - new Date(at).getTime();

describe('the table of Alpha Vantage functions', () => {
  it('gives every function served from the store, passed through or indicated a class, and each passed-through one a lifetime', () => {
    for (const [name, fn] of ALPHA_VANTAGE_FUNCTIONS) {
      expect(fn.name).toBe(name);
      if (fn.class === 'pass_through' || fn.class === 'indicator') expect(fn.lifetime, name).toBeDefined();
      if (fn.class === 'not_offered') expect(fn.reason, name).toBeTruthy();
    }
    expect(ALPHA_VANTAGE_FUNCTIONS.get('GLOBAL_QUOTE')?.class).toBe('store');
    expect(ALPHA_VANTAGE_FUNCTIONS.get('OVERVIEW')?.class).toBe('pass_through');
    expect(ALPHA_VANTAGE_FUNCTIONS.get('RSI')?.class).toBe('indicator');
    expect([...ALPHA_VANTAGE_FUNCTIONS.values()].filter((f) => f.class === 'not_offered').map((f) => f.name)).toEqual(['TIME_SERIES_INTRADAY_EXTENDED']);
  });

  it("is the gateway page's table of functions (docs/reference/gateway.md): each function in one row, of its class", () => {
    const page = readFileSync(new URL('../../docs/reference/gateway.md', import.meta.url), 'utf8');
    expect(page).toContain('| group | functions | class |');
    const table = page.slice(page.indexOf('| group | functions | class |'));
    const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
    const documented = rows.flatMap((row) => {
      const [, , functions, cls] = row.split('|').map((cell) => cell.trim());
      const words = { store: 'store', 'pass-through': 'pass_through', indicator: 'indicator' } as Record<string, string>;
      return [...functions!.matchAll(/`([A-Z0-9_]+)`/g)].map((match) => [match[1], words[cls!] ?? (cls!.startsWith('not offered') ? 'not_offered' : cls)]);
    });
    expect(documented.sort()).toEqual([...ALPHA_VANTAGE_FUNCTIONS.values()].map((f) => [f.name, f.class]).sort());
  });
});

describe('a passed-through call', () => {
  it('when it carries a key in any spelling, the function, or parameters Alpha Vantage does not document, then none is forwarded', () => {
    const call = passThroughQuery('OVERVIEW', [
      ['function', 'OVERVIEW'],
      ['apikey', 'client-key'],
      ['APIKEY', 'client-key'],
      ['ApiKey', 'client-key'],
      ['symbol', 'IBM'],
      ['x', '1'],
      ['__proto__', 'y'],
    ]);
    expect(call).toEqual({ function: 'OVERVIEW', parameters: [['symbol', 'IBM']] });
  });

  it('when parameters come in any order, then they are sorted by name, a repeated one keeping its values in the order sent', () => {
    const a = passThroughQuery('ANALYTICS_FIXED_WINDOW', [['SYMBOLS', 'AAPL,IBM'], ['RANGE', '2023-07-01'], ['INTERVAL', 'DAILY'], ['RANGE', '2023-08-31']]);
    expect(a.parameters).toEqual([['INTERVAL', 'DAILY'], ['RANGE', '2023-07-01'], ['RANGE', '2023-08-31'], ['SYMBOLS', 'AAPL,IBM']]);
    const b = passThroughQuery('ANALYTICS_FIXED_WINDOW', [['RANGE', '2023-07-01'], ['RANGE', '2023-08-31'], ['SYMBOLS', 'AAPL,IBM'], ['INTERVAL', 'DAILY']]);
    expect(canonicalQuery(b)).toBe(canonicalQuery(a));
    expect(canonicalQuery(a)).toBe('function=ANALYTICS_FIXED_WINDOW&INTERVAL=DAILY&RANGE=2023-07-01&RANGE=2023-08-31&SYMBOLS=AAPL%2CIBM');
  });

  it('when datatype is json, anything but csv, or left out, then it is one call; csv is another', () => {
    const forms = ['json', 'JSON', 'xml', undefined].map((datatype) => canonicalQuery(query('FX_DAILY', { from_symbol: 'EUR', to_symbol: 'USD', ...(datatype && { datatype }) })));
    expect(new Set(forms).size).toBe(1);
    const csv = query('FX_DAILY', { from_symbol: 'EUR', to_symbol: 'USD', datatype: 'csv' });
    expect(canonicalQuery(csv)).not.toBe(forms[0]);
    expect(answersCsv(csv)).toBe(true);
    expect(answersCsv(query('LISTING_STATUS'))).toBe(true);
    expect(answersCsv(query('OVERVIEW', { symbol: 'IBM' }))).toBe(false);
  });

  it.each([
    ['a NUL', { symbol: 'IB\u0000M' }],
    ['a line break', { symbol: 'IB\nM' }],
    ['bytes that were not UTF-8', { symbol: 'IB\udcffM' }],
    ['a value of 1,001 characters', { symbol: 'A'.repeat(1001) }],
  ])('when a forwarded value holds %s, then the call is refused', (_, parameters) => {
    expect(() => query('OVERVIEW', parameters)).toThrow(ValidationError);
  });

  it('when a parameter that is not forwarded holds a control character, then it is left out, not refused', () => {
    expect(query('OVERVIEW', { symbol: 'IBM', x: '\u0000' }).parameters).toEqual([['symbol', 'IBM']]);
  });

  it('when more parameters come than any call takes, then the call is refused, whatever they are', () => {
    const many = Array.from({ length: PASS_THROUGH_MAX_PARAMETERS + 1 }, (_, i): [string, string] => [`p${i}`, 'x']);
    expect(() => passThroughQuery('OVERVIEW', many)).toThrow(ValidationError);
    expect(() => passThroughQuery('OVERVIEW', many.slice(1))).not.toThrow();
  });
});

describe('how long a passed-through answer is kept', () => {
  // Thursday 2022-07-28, 12:00 New York (EDT): that session's bar is final at 17:00, five hours on.
  const THURSDAY_NOON = '2022-07-28T16:00:00Z';

  it('keeps fundamentals and economic indicators a day', () => {
    expect(lifetimeAt(THURSDAY_NOON, 'OVERVIEW', { symbol: 'IBM' })).toBe(DAY);
    expect(lifetimeAt(THURSDAY_NOON, 'REAL_GDP')).toBe(DAY);
  });

  it('keeps daily FX and crypto series until the next session is final, a day at most', () => {
    expect(lifetimeAt(THURSDAY_NOON, 'FX_DAILY', { from_symbol: 'EUR', to_symbol: 'USD' })).toBe(5 * HOUR);
    // Friday 18:00 New York: the next session is Monday's, 71 hours on; crypto trades meanwhile.
    expect(lifetimeAt('2022-07-29T22:00:00Z', 'DIGITAL_CURRENCY_DAILY', { symbol: 'BTC', market: 'EUR' })).toBe(DAY);
  });

  it('keeps intraday series and intraday indicators their interval, a past month a day', () => {
    expect(lifetimeAt(THURSDAY_NOON, 'TIME_SERIES_INTRADAY', { symbol: 'IBM', interval: '1min' })).toBe(MINUTE);
    expect(lifetimeAt(THURSDAY_NOON, 'TIME_SERIES_INTRADAY', { symbol: 'IBM', interval: '15min' })).toBe(15 * MINUTE);
    expect(lifetimeAt(THURSDAY_NOON, 'RSI', { symbol: 'IBM', interval: '60min', time_period: '14', series_type: 'close' })).toBe(HOUR);
    expect(lifetimeAt(THURSDAY_NOON, 'TIME_SERIES_INTRADAY', { symbol: 'IBM', interval: '5min', month: '2022-06' })).toBe(DAY);
    expect(lifetimeAt(THURSDAY_NOON, 'TIME_SERIES_INTRADAY', { symbol: 'IBM', interval: '5min', month: '2022-07' })).toBe(5 * MINUTE);
    // An indicator the store does not serve at a daily interval: until the next session is final.
    expect(lifetimeAt(THURSDAY_NOON, 'MAMA', { symbol: 'IBM', interval: 'daily', series_type: 'close' })).toBe(5 * HOUR);
  });

  it('keeps a realtime exchange rate a minute and news ten minutes', () => {
    expect(lifetimeAt(THURSDAY_NOON, 'CURRENCY_EXCHANGE_RATE', { from_currency: 'USD', to_currency: 'EUR' })).toBe(MINUTE);
    expect(lifetimeAt(THURSDAY_NOON, 'NEWS_SENTIMENT', { tickers: 'IBM' })).toBe(10 * MINUTE);
  });

  it('keeps an error as long as the data would be, a premium notice a day, another notice an hour at most', () => {
    expect(lifetimeAt(THURSDAY_NOON, 'TIME_SERIES_INTRADAY', { symbol: 'IBM', interval: 'bad' }, 'error')).toBe(5 * HOUR);
    expect(lifetimeAt(THURSDAY_NOON, 'REALTIME_BULK_QUOTES', { symbol: 'IBM' }, 'premium')).toBe(DAY);
    expect(lifetimeAt(THURSDAY_NOON, 'OVERVIEW', { symbol: 'IBM' }, 'notice')).toBe(HOUR);
    expect(lifetimeAt(THURSDAY_NOON, 'CURRENCY_EXCHANGE_RATE', {}, 'notice')).toBe(MINUTE);
  });
});
