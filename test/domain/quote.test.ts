import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { checkBar, dailyChange, decimalDifference, normalizeSymbol, quoteFromBars } from '../../src/domain/quote.js';
import { SEED_QUOTE } from '../support/stand-in.js';

describe("the quote's variation", () => {
  const bar = (close: string) => ({ date: '2022-07-29', open: close, high: close, low: close, close, volume: 1 });
  it.each([
    ['130.7900', '129.2200', 1.57],
    ['129.2200', '130.7900', -1.57],
    ['0.3', '0.1', 0.2],
    ['100', '99.999', 0.001],
    ['5', '5.0000', 0],
  ])('%s after %s varies by %s exactly (decimal, not 1.5699999999999932)', (latest, previous, expected) => {
    expect(quoteFromBars('IBM', [bar(latest), { ...bar(previous), date: '2022-07-28' }])!.variation_between_last_two_days).toBe(expected);
  });
});

describe('decimalDifference', () => {
  it.each([
    ['130.7900', '129.2200', '1.5700'],
    ['129.2200', '130.7900', '-1.5700'],
    ['100', '99.999', '0.001'],
    ['0.1', '0.1000', '0.0000'],
    ['1.0', '1.05', '-0.05'],
  ])('%s − %s = %s, at the finer scale', (a, b, expected) => {
    expect(decimalDifference(a, b)).toBe(expected);
  });
});

describe('dailyChange', () => {
  const bar = (close: string) => ({ date: '2022-07-29', open: '1', high: '1', low: '1', close, volume: 1 });

  it.each([
    // The seed's IBM: 1.57 / 129.22 = 1.21498…%
    ['130.7900', '129.2200', '1.5700', '1.2150'],
    ['129.2200', '130.7900', '-1.5700', '-1.2004'],
    // 5.15 / 220.82 = 2.33221…%, Alpha Vantage's own AAPL example
    ['225.9700', '220.8200', '5.1500', '2.3322'],
    // Exactly half a unit of the last digit rounds away from zero: 0.00005% → 0.0001%, −0.00005% → −0.0001%
    ['200000.1', '200000', '0.1', '0.0001'],
    ['199999.9', '200000', '-0.1', '-0.0001'],
    ['10', '10', '0', '0.0000'],
  ])('from %s after %s: change %s, percent %s, in decimal', (close, previous, change, percent) => {
    expect(dailyChange(bar(close), bar(previous))).toEqual({ previousClose: previous, change, changePercent: percent });
  });

  it('with no previous bar, then the change is 0 and the previous close is the close', () => {
    expect(dailyChange(bar('130.7900'), undefined)).toEqual({ previousClose: '130.7900', change: '0.0000', changePercent: '0.0000' });
  });

  it('with a previous close of 0, then the percent is 0, not infinity', () => {
    expect(dailyChange(bar('1.5'), bar('0'))).toEqual({ previousClose: '0', change: '1.5', changePercent: '0.0000' });
  });
});

describe('normalizeSymbol', () => {
  it('upper-cases and accepts letters, digits, dots and dashes up to 15 characters', () => {
    expect(normalizeSymbol('ibm')).toBe('IBM');
    expect(normalizeSymbol('brk.b')).toBe('BRK.B');
    expect(normalizeSymbol('RDS-A')).toBe('RDS-A');
    expect(normalizeSymbol('A'.repeat(15))).toBe('A'.repeat(15));
  });

  // ſ, ı and ß upper-case to S, I and SS: they must not pass as SPY, IBM or SSO.
  it.each(['', 'A'.repeat(16), 'IB M', 'IBM;DROP', '../etc', '.IBM', 'ÍBM', 'IBM\n', '%2e', '\u017fpy', '\u0131bm', '\u00dfo', '\ufb01t'])('refuses %j', (raw) => {
    expect(() => normalizeSymbol(raw)).toThrow(ValidationError);
  });
});

describe('quoteFromBars', () => {
  const bar = (date: string, close: string) => ({ date, open: '1.0', high: '2.0', low: '0.5', close, volume: 1 });

  it("gives the seed's answer for the seed's IBM closes", () => {
    const quote = quoteFromBars('IBM', [
      { date: '2022-07-29', open: '129.5200', high: '131.0000', low: '129.3100', close: '130.7900', volume: 1 },
      bar('2022-07-28', '129.2200'),
    ]);
    expect(quote).toEqual({ symbol: 'IBM', ...SEED_QUOTE });
  });

  it('has a variation of 0 with a single bar, and no quote without bars', () => {
    expect(quoteFromBars('X', [bar('2024-01-02', '10')])?.variation_between_last_two_days).toBe(0);
    expect(quoteFromBars('X', [])).toBeUndefined();
  });
});

describe('checkBar', () => {
  it('refuses impossible dates and non-decimal prices', () => {
    const good = { date: '2024-02-29', open: '1', high: '2', low: '0.5', close: '1.5', volume: 10 };
    expect(checkBar(good)).toBeUndefined();
    expect(checkBar({ ...good, date: '2023-02-29' })).toMatch(/date/);
    expect(checkBar({ ...good, close: 'None' })).toMatch(/close/);
    expect(checkBar({ ...good, volume: -1 })).toMatch(/volume/);
  });

  it('refuses what no market gives: a price at or below 0 or past a billion, a low above or a high below the open or close, a huge volume, a date before 1900', () => {
    const good = { date: '2024-02-29', open: '1', high: '2', low: '0.5', close: '1.5', volume: 10 };
    expect(checkBar({ ...good, low: '0', open: '0', close: '0' })).toBe('open "0" is not a price above 0 and at most 1000000000');
    expect(checkBar({ ...good, low: '-0.5' })).toBe('low "-0.5" is not a price above 0 and at most 1000000000');
    expect(checkBar({ ...good, high: '1000000000.01' })).toBe('high "1000000000.01" is not a price above 0 and at most 1000000000');
    expect(checkBar({ ...good, high: '1000000000', open: '1000000000' })).toBeUndefined();
    expect(checkBar({ ...good, high: '0.4' })).toBe('high 0.4 is below low 0.5');
    expect(checkBar({ ...good, low: '1.2' })).toBe('low 1.2 is above open 1');
    expect(checkBar({ ...good, close: '2.0001' })).toBe('high 2 is below close 2.0001');
    expect(checkBar({ ...good, open: '0.5000', close: '2.00' })).toBeUndefined(); // equal at another scale
    expect(checkBar({ ...good, volume: 10_000_000_000_001 })).toBe('volume 10000000000001 is more than 10000000000000');
    expect(checkBar({ ...good, date: '1899-12-29' })).toBe('date 1899-12-29 is before 1900-01-01');
  });
});
