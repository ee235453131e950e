import { describe, expect, it } from 'vitest';
import { Decimal } from 'decimal.js';
import { adjustBars, checkDividend, checkSplit, checkSplitSeries, impliedDividends, withSplits } from '../../src/domain/corporate-actions.js';
import type { DailyBar } from '../../src/domain/quote.js';

const bar = (date: string, open: string, high: string, low: string, close: string, volume: number): DailyBar => ({ date, open, high, low, close, volume });

// Four sessions; the price falls to about a quarter on the 4th, as after a 4-for-1 split.
const BARS: DailyBar[] = [
  bar('2024-01-02', '100', '104', '96', '100', 1000),
  bar('2024-01-03', '102', '106', '98', '104', 2000),
  bar('2024-01-04', '26', '27', '25', '26.5', 8000),
  bar('2024-01-05', '27', '28', '26', '27', 9000),
];
const [FIRST, SECOND, THIRD, FOURTH] = BARS as [DailyBar, DailyBar, DailyBar, DailyBar];

describe('adjustBars', () => {
  it('when there are no actions, then the bars come back exactly as given', () => {
    expect(adjustBars(BARS, [], [])).toEqual(BARS);
    expect(adjustBars([], [{ date: '2024-01-04', factor: '4' }], [])).toEqual([]);
  });

  it('when a 4-for-1 split falls halfway, then earlier prices are divided by 4 and volumes multiplied by 4', () => {
    expect(adjustBars(BARS, [{ date: '2024-01-04', factor: '4' }], [])).toEqual([
      bar('2024-01-02', '25.000000', '26.000000', '24.000000', '25.000000', 4000),
      bar('2024-01-03', '25.500000', '26.500000', '24.500000', '26.000000', 8000),
      THIRD,
      FOURTH,
    ]);
  });

  it('when a dividend goes ex, then earlier prices are multiplied by 1 − D / previous close and volume is kept', () => {
    // 2 on a previous close of 100: × 0.98.
    expect(adjustBars(BARS, [], [{ exDate: '2024-01-03', amount: '2' }])).toEqual([
      bar('2024-01-02', '98.000000', '101.920000', '94.080000', '98.000000', 1000),
      SECOND,
      THIRD,
      FOURTH,
    ]);
  });

  it('when splits and dividends mix, then each bar gets the product of the factors after it', () => {
    const adjusted = adjustBars(
      BARS,
      [{ date: '2024-01-04', factor: '4' }],
      // Any order in: 0.53 on 26.5 is × 0.98 for the first three; 2 on 100 is × 0.98 for the first.
      [{ exDate: '2024-01-05', amount: '0.53' }, { exDate: '2024-01-03', amount: '2' }],
    );
    expect(adjusted).toEqual([
      // × 0.98 × 0.98 / 4 = × 0.2401
      bar('2024-01-02', '24.010000', '24.970400', '23.049600', '24.010000', 4000),
      // × 0.98 / 4 = × 0.245
      bar('2024-01-03', '24.990000', '25.970000', '24.010000', '25.480000', 8000),
      bar('2024-01-04', '25.480000', '26.460000', '24.500000', '25.970000', 8000),
      FOURTH,
    ]);
  });

  it('when a split and a dividend share a date, then the dividend is per split share: the previous close is divided first', () => {
    // 0.52 on 104 / 4 = 26 is × 0.98; with the split, × 0.245.
    const adjusted = adjustBars(BARS, [{ date: '2024-01-04', factor: '4' }], [{ exDate: '2024-01-04', amount: '0.52' }]);
    expect(adjusted.slice(0, 2)).toEqual([
      bar('2024-01-02', '24.500000', '25.480000', '23.520000', '24.500000', 4000),
      bar('2024-01-03', '24.990000', '25.970000', '24.010000', '25.480000', 8000),
    ]);
  });

  it('when actions fall before the first bar or on its date, then nothing is adjusted: no bar is before them', () => {
    const splits = [{ date: '2023-06-01', factor: '2' }, { date: '2024-01-02', factor: '4' }];
    const dividends = [{ exDate: '2023-12-29', amount: '1' }, { exDate: '2024-01-02', amount: '1' }];
    expect(adjustBars(BARS, splits, dividends)).toEqual(BARS);
  });

  it('when actions fall after the last bar, then every bar is adjusted, the dividend on the last close', () => {
    // 2-for-1, and 2.7 on the last close of 27: × 0.9 / 2 = × 0.45.
    const adjusted = adjustBars(BARS, [{ date: '2024-03-01', factor: '2' }], [{ exDate: '2024-02-01', amount: '2.7' }]);
    expect(adjusted[0]).toEqual(bar('2024-01-02', '45.000000', '46.800000', '43.200000', '45.000000', 2000));
    expect(adjusted[3]).toEqual(bar('2024-01-05', '12.150000', '12.600000', '11.700000', '12.150000', 18000));
  });

  it('when a dividend is at or above the previous close, then it is ignored rather than making prices zero or negative', () => {
    expect(adjustBars(BARS, [], [{ exDate: '2024-01-03', amount: '100' }, { exDate: '2024-01-04', amount: '250' }])).toEqual(BARS);
  });

  it('rounds half-up to six decimals or the price’s own, and volume to a whole number', () => {
    const bars = [bar('2024-01-02', '100', '104', '10.12345678', '130.7900', 1005), bar('2024-01-03', '1', '1', '1', '1', 1)];
    // 3-for-1: 104 / 3 = 34.6666…67; eight decimals kept for the eight-decimal low; 1005 × 3.
    expect(adjustBars(bars, [{ date: '2024-01-03', factor: '3' }], [])[0]).toEqual(
      bar('2024-01-02', '33.333333', '34.666667', '3.37448559', '43.596667', 3015),
    );
    // 1-for-10: × 10, and 1005 × 0.1 = 100.5 → 101.
    expect(adjustBars(bars, [{ date: '2024-01-03', factor: '0.1' }], [])[0]).toEqual(
      bar('2024-01-02', '1000.000000', '1040.000000', '101.23456780', '1307.900000', 101),
    );
  });
});

describe('impliedDividends', () => {
  const row = (date: string, close: string, adjustedClose: string) => ({ date, close, adjustedClose });

  it('when the adjusted/close ratio grows, then a dividend went ex on the later day, of close_prev × (1 − ratio_prev / ratio_cur)', () => {
    // Made by adjusting 100, 105, 110 for 2 ex on the 3rd (× 0.98) and 1.05 ex on the 4th (× 0.99).
    const rows = [row('2024-01-02', '100.000000', '97.020000'), row('2024-01-03', '105.000000', '103.950000'), row('2024-01-04', '110.000000', '110.000000')];
    const dividends = impliedDividends(rows);
    expect(dividends).toEqual([
      { exDate: '2024-01-03', amount: '2.0000' },
      { exDate: '2024-01-04', amount: '1.0500' },
    ]);
    // The inverse of adjustBars: the implied dividends give back the adjusted closes.
    const bars = rows.map((r) => bar(r.date, r.close, r.close, r.close, r.close, 1));
    expect(adjustBars(bars, [], dividends).map((b) => b.close)).toEqual(['97.020000', '103.950000', '110.000000']);
  });

  it('when the ratio only wobbles from rounding the adjusted close, then no dividend is implied', () => {
    // Both adjusted closes are 0.9 × close, rounded to six decimals (116.2980009, 117.7109937).
    expect(impliedDividends([row('2022-07-28', '129.220001', '116.298001'), row('2022-07-29', '130.789993', '117.710994')])).toEqual([]);
    // Two decimals wobble more: 0.9 × 129.26 = 116.334 and 0.9 × 130.81 = 117.729 make the ratio grow as if
    // 0.0055 went ex, within the rounding bound of 0.042.
    expect(impliedDividends([row('2022-07-28', '129.26', '116.33'), row('2022-07-29', '130.81', '117.73')])).toEqual([]);
  });

  it('when the ratio falls, or a price is zero, then no dividend is implied', () => {
    expect(impliedDividends([row('2024-01-02', '100.000000', '100.000000'), row('2024-01-03', '100.000000', '98.000000')])).toEqual([]);
    expect(impliedDividends([row('2024-01-02', '0', '0'), row('2024-01-03', '100.000000', '98.000000')])).toEqual([]);
    expect(impliedDividends([row('2024-01-02', '100.000000', '98.000000')])).toEqual([]);
  });
});

describe('checkSplit and checkDividend', () => {
  it('accept a calendar date with a positive decimal', () => {
    expect(checkSplit({ date: '2020-08-31', factor: '4' })).toBeUndefined();
    expect(checkSplit({ date: '2020-08-31', factor: '0.1' })).toBeUndefined();
    expect(checkDividend({ exDate: '2022-08-09', amount: '1.65' })).toBeUndefined();
  });

  it.each([
    [{ date: '2020-02-30', factor: '4' }, 'date "2020-02-30" is not a YYYY-MM-DD calendar date'],
    [{ date: '2020-08-31', factor: '4:1' }, 'factor "4:1" is not a positive decimal number of at most 32 characters'],
    [{ date: '2020-08-31', factor: '0' }, 'factor "0" is not a positive decimal number of at most 32 characters'],
    [{ date: '2020-08-31', factor: '-2' }, 'factor "-2" is not a positive decimal number of at most 32 characters'],
  ])('refuse the split %j', (split, message) => {
    expect(checkSplit(split)).toBe(message);
  });

  it.each([
    [{ exDate: '22-08-09', amount: '1.65' }, 'ex_date "22-08-09" is not a YYYY-MM-DD calendar date'],
    [{ exDate: '2022-08-09', amount: '0.00' }, 'amount "0.00" is not a positive decimal number of at most 32 characters'],
    [{ exDate: '2022-08-09', amount: '$1.65' }, 'amount "$1.65" is not a positive decimal number of at most 32 characters'],
  ])('refuse the dividend %j', (dividend, message) => {
    expect(checkDividend(dividend)).toBe(message);
  });
});

/**
 * `adjusted=true&from=1962-01-02&to=1962-01-03` answers one or two bars, yet every bar after the range went
 * through the decimal arithmetic (four prices and a volume each) only to be dropped: about half a second of
 * blocked event loop for 16,000 imported sessions, per request, for anyone with a key. Bars after the kept
 * ones only move the factors: their open, high and low are never read, their close only before an action.
 */
describe('adjustBars keeping the oldest few', () => {
  function counted(bars: DailyBar[]) {
    const reads = { prices: 0, closes: 0 };
    const watched = bars.map((b) => ({
      date: b.date,
      volume: b.volume,
      get open() { reads.prices++; return b.open; },
      get high() { reads.prices++; return b.high; },
      get low() { reads.prices++; return b.low; },
      get close() { reads.closes++; return b.close; },
    }));
    return { watched, reads };
  }
  const MANY: DailyBar[] = Array.from({ length: 1000 }, (_, i) => bar(new Date(Date.UTC(2000, 0, 3 + i)).toISOString().slice(0, 10), '10.00', '11.00', '9.00', '10.50', 100));
  const SPLIT = { date: MANY[500]!.date, factor: '2' };
  const DIVIDEND = { exDate: MANY[800]!.date, amount: '0.21' };

  it('when only the oldest bar is kept, then it is adjusted by every later action as before, and no later bar is adjusted', () => {
    const { watched, reads } = counted(MANY);
    const kept = adjustBars(watched, [SPLIT], [DIVIDEND], 1);
    expect(kept).toEqual(adjustBars(MANY, [SPLIT], [DIVIDEND]).slice(0, 1));
    expect(reads.prices).toBe(3);
    expect(reads.closes).toBeLessThanOrEqual(3); // the kept bar's, and the one before each action
  });
});

describe('split bounds', () => {
  it('when a factor is from 1-for-10,000 to 10,000-for-1, then it is a split; past either end, it is refused', () => {
    for (const factor of ['0.0001', '0.1', '4', '10000', '0.66666666666666666667']) expect(checkSplit({ date: '2024-01-04', factor })).toBeUndefined();
    expect(checkSplit({ date: '2024-01-04', factor: '10000.0001' })).toBe('factor 10000.0001 is outside 0.0001 (1-for-10,000) to 10000 (10,000-for-1)');
    expect(checkSplit({ date: '2024-01-04', factor: '0.00009' })).toMatch(/^factor 0\.00009 is outside/);
    expect(checkSplit({ date: '2024-01-04', factor: '9'.repeat(32) })).toMatch(/is outside/);
  });

  it('when the splits after some bar multiply past 10^7 or below 10^-9, then the series names the split where they do', () => {
    const split = (date: string, factor: string) => ({ date, factor });
    // Walmart's: eleven 2-for-1s and a 3-for-1, 6,144 in all.
    const walmart = [...Array.from({ length: 11 }, (_, i) => split(`${1975 + 3 * i}-06-01`, '2')), split('2024-02-26', '3')];
    expect(checkSplitSeries(walmart)).toBeUndefined();
    const forward = [split('2001-01-03', '1000'), split('2003-01-03', '1000'), split('2002-01-03', '10')];
    expect(checkSplitSeries(forward)).toBeUndefined(); // 10^7 exactly
    expect(checkSplitSeries([...forward, split('2000-01-03', '2')])).toEqual({
      split: split('2000-01-03', '2'),
      problem: 'the splits from 2000-01-03 on multiply to 20000000, outside 0.000000001 to 10000000',
    });
    const reverse = Array.from({ length: 4 }, (_, i) => split(`201${i}-05-01`, '0.001'));
    expect(checkSplitSeries(reverse.slice(1))).toBeUndefined(); // 10^-9 exactly
    expect(checkSplitSeries(reverse)).toEqual({ split: reverse[0], problem: 'the splits from 2010-05-01 on multiply to 1e-12, outside 0.000000001 to 10000000' });
  });

  it('when splits are saved beside stored ones, then one of the same date takes its place', () => {
    expect(withSplits([{ date: '2020-01-02', factor: '2' }, { date: '2021-01-04', factor: '3' }], [{ date: '2021-01-04', factor: '4' }])).toEqual([
      { date: '2020-01-02', factor: '2' },
      { date: '2021-01-04', factor: '4' },
    ]);
  });
});

describe('adjustBars against decimal.js', () => {
  // The adjustment multiplies in BigInt for speed; decimal.js's general arithmetic, as the adjustment was first
  // written (each price times the cumulative factor at 40 significant digits, half-up, then toFixed), is the reference.
  const Exact = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
  let seed = 20261207;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;

  function referenceAdjusted(bars: DailyBar[], splits: { date: string; factor: string }[], dividends: { exDate: string; amount: string }[]) {
    return bars.map((bar) => {
      let price = new Exact(1);
      let volume = new Exact(1);
      // Newest action first, as adjustBars folds them (a split before a dividend of its date, oldest first).
      const after = [
        ...splits.filter((s) => s.date > bar.date).map((s) => ({ date: s.date, rank: 0, split: s.factor })),
        ...dividends.filter((d) => d.exDate > bar.date).map((d) => ({ date: d.exDate, rank: 1, amount: d.amount })),
      ].sort((a, b) => (a.date === b.date ? b.rank - a.rank : a.date < b.date ? 1 : -1));
      let i = 0;
      while (i < after.length) {
        const date = after[i]!.date;
        const step = after.filter((a) => a.date === date).sort((a, b) => a.rank - b.rank);
        i += step.length;
        const lastBefore = bars.filter((b) => b.date < date).at(-1)!;
        let basis = new Exact(1);
        for (const action of step) {
          if ('split' in action) {
            basis = basis.times(action.split!);
            price = price.div(action.split!);
            volume = volume.times(action.split!);
          } else {
            const previous = new Exact(lastBefore.close).div(basis);
            if (new Exact(action.amount!).gte(previous)) continue;
            price = price.times(new Exact(1).minus(new Exact(action.amount!).div(previous)));
          }
        }
      }
      const decimals = (v: string) => Math.max(6, v.split('.')[1]?.length ?? 0);
      const scale = (v: string) => (price.eq(1) ? v : new Exact(v).times(price).toFixed(decimals(v)));
      return {
        date: bar.date,
        open: scale(bar.open),
        high: scale(bar.high),
        low: scale(bar.low),
        close: scale(bar.close),
        volume: volume.eq(1) ? bar.volume : new Exact(bar.volume).times(volume).toDecimalPlaces(0).toNumber(),
      };
    });
  }

  it('when a scaled price falls exactly on a half (or a hair from one), then it is rounded half-up as decimal.js rounds it', () => {
    // A 2-for-1 halves each price: 0.000001 → 0.0000005 and 1.000003 → 0.5000015 are ties at 6 decimals; 2.4999999999 → 1.24999999995 one at 10.
    const closes = ['0.000001', '1.000003', '2.4999999999', '0.000003', '7.000001', '123456.123457', '999999.999999'];
    const bars: DailyBar[] = [...closes, '1'].map((close, i) => ({ date: `2020-01-0${i + 1}`, open: close, high: close, low: close, close, volume: 2 * i + 1 }));
    const splits = [{ date: '2020-01-08', factor: '2' }];
    const adjusted = adjustBars(bars, splits, []);
    expect(adjusted).toEqual(referenceAdjusted(bars, splits, []));
    expect(adjusted.slice(0, 3).map((bar) => bar.close)).toEqual(['0.000001', '0.500002', '1.2500000000']);
  });

  it('when 200 random histories with random splits and dividends are adjusted, then every price and volume is what decimal.js writes', () => {
    for (let round = 0; round < 200; round++) {
      const bars: DailyBar[] = Array.from({ length: 40 }, (_, i) => {
        const close = (0.0001 + random() * pick([1, 100, 10_000, 1_000_000])).toFixed(pick([0, 2, 4, 6, 8]));
        const price = close === '0' || Number(close) === 0 ? '1' : close;
        return { date: `2020-01-${String(i + 1).padStart(2, '0')}`.replace(/-(\d\d)$/, (_, d) => `-${d}`), open: price, high: price, low: price, close: price, volume: Math.floor(random() * 1e9) };
      }).map((bar, i) => ({ ...bar, date: new Date(Date.UTC(2020, 0, 1 + i)).toISOString().slice(0, 10) }));
      const dates = bars.map((b) => b.date);
      const splits = Array.from({ length: Math.floor(random() * 4) }, () => ({ date: pick(dates.slice(1)), factor: pick(['2', '3', '4', '7', '0.1', '0.3333', '1.5', '10000', '0.0001']) }));
      const uniqueSplits = [...new Map(splits.map((s) => [s.date, s])).values()];
      const dividends = Array.from({ length: Math.floor(random() * 6) }, () => ({ exDate: pick(dates.slice(1)), amount: (random() * 3).toFixed(pick([2, 4, 6])) }));
      const uniqueDividends = [...new Map(dividends.map((d) => [d.exDate, d])).values()];
      expect(adjustBars(bars, uniqueSplits, uniqueDividends)).toEqual(referenceAdjusted(bars, uniqueSplits, uniqueDividends));
    }
  });
});
