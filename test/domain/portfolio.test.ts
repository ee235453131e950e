import { describe, expect, it } from 'vitest';
import {
  appliedActions,
  closeInUnits,
  createHoldings,
  figuresOf,
  type Holding,
  type SymbolActions,
  totalsOf,
  tradeDay,
  tradeOrder,
  valueOf,
} from '../../src/domain/portfolio.js';
import type { TradeType } from '../../src/domain/trade.js';

type Step = [TradeType, number, number, string?];

/** The positions after `steps` ([type, shares, price, symbol = 'IBM']), in the order given. */
function fold(...steps: Step[]): Holding[] {
  const holdings = createHoldings();
  for (const [i, [type, shares, price, symbol = 'IBM']] of steps.entries()) holdings.add({ type, shares, price, symbol, timestamp: i });
  return holdings.list();
}

const only = (...steps: Step[]) => fold(...steps)[0]!;

describe('a portfolio folded from trades (average-cost method)', () => {
  it('when buys at different prices are partly sold, then the average stays, the sold shares leave at it, and the gain is realised', () => {
    // 10 at 100 and 10 at 110: 2100 for 20, an average of 105. 5 sold at 120 realise 5 × 15.
    const ibm = only(['buy', 10, 100], ['buy', 10, 110], ['sell', 5, 120]);
    expect(figuresOf(ibm)).toEqual({ symbol: 'IBM', shares: 15, side: 'long', average_cost: '105.0000', cost_basis: '1575.0000', realised_pl: '75.0000', dividends: '0.0000' });
  });

  it("when a long position is valued at the seed's IBM close, then value, unrealised P/L and the day's change follow in decimal", () => {
    const ibm = only(['buy', 10, 100], ['buy', 10, 110], ['sell', 5, 120]);
    expect(valueOf(ibm, { date: '2022-07-29', close: '130.7900', previousClose: '129.2200' })).toEqual({
      price: '130.7900',
      price_date: '2022-07-29',
      market_value: '1961.8500', // 15 × 130.79
      unrealised_pl: '386.8500', // − 1575
      unrealised_pl_percent: '24.5619', // 386.85 / 1575
      day_change: '23.5500', // 15 × 1.57
      day_change_percent: '1.2150', // the quote's own change percent: 1.57 / 129.22
      total_return: '461.8500', // 386.85 unrealised + 75 realised, no dividends
    });
  });

  it('when a sell is larger than the long, then it closes the long at the average and opens a short at its price', () => {
    // Sells 15 of 10 held at 100, at 90: −100 realised on the 10, then short 5 at 90.
    const ibm = only(['buy', 10, 100], ['sell', 15, 90]);
    expect(figuresOf(ibm)).toEqual({ symbol: 'IBM', shares: -5, side: 'short', average_cost: '90.0000', cost_basis: '-450.0000', realised_pl: '-100.0000', dividends: '0.0000' });
    // Short 5 from 90, now 80 (85 the day before): worth −400, 50 gained; the fall from 85 gained 25.
    expect(valueOf(ibm, { date: '2024-01-03', close: '80', previousClose: '85' })).toMatchObject({
      market_value: '-400.0000',
      unrealised_pl: '50.0000',
      unrealised_pl_percent: '11.1111',
      day_change: '25.0000',
      day_change_percent: '5.8824',
    });
  });

  it('when a short is covered in parts and then bought beyond, then each cover realises against the short average and the rest opens a long', () => {
    // Short 10 at 50 and 10 at 60: 1100 received for 20, average 55. Cover 5 at 40: +75.
    // Then buy 20 at 45: covers 15 (+150), opens a long of 5 at 45.
    const ibm = only(['sell', 10, 50], ['sell', 10, 60], ['buy', 5, 40], ['buy', 20, 45]);
    expect(figuresOf(ibm)).toEqual({ symbol: 'IBM', shares: 5, side: 'long', average_cost: '45.0000', cost_basis: '225.0000', realised_pl: '225.0000', dividends: '0.0000' });
  });

  it('when prices average to thirds, then the figures are exact to the last digit, and selling all at the average realises exactly nothing', () => {
    expect(figuresOf(only(['buy', 1, 1], ['buy', 1, 2])).average_cost).toBe('1.5000');
    const thirds = only(['buy', 1, 1], ['buy', 1, 1], ['buy', 1, 2]); // 4 for 3
    expect(figuresOf(thirds)).toMatchObject({ average_cost: '1.3333', cost_basis: '4.0000' });
    const partly = only(['buy', 1, 1], ['buy', 1, 1], ['buy', 1, 2], ['sell', 1, 2]); // realises 2 − 4/3
    expect(figuresOf(partly)).toMatchObject({ shares: 2, average_cost: '1.3333', cost_basis: '2.6667', realised_pl: '0.6667' });
    const closed = only(['buy', 1, 1], ['buy', 1, 1], ['buy', 1, 2], ['sell', 1, 2], ['sell', 2, 1]); // then 2 × (1 − 4/3)
    expect(figuresOf(closed)).toEqual({ symbol: 'IBM', shares: 0, side: 'flat', average_cost: '0.0000', cost_basis: '0.0000', realised_pl: '0.0000', dividends: '0.0000' });
  });

  it('when a position is closed with a gain, then it is flat with no shares and no cost, and keeps its realised P/L', () => {
    expect(figuresOf(only(['buy', 7, 10], ['sell', 7, 13]))).toEqual({
      symbol: 'IBM', shares: 0, side: 'flat', average_cost: '0.0000', cost_basis: '0.0000', realised_pl: '21.0000', dividends: '0.0000',
    });
  });

  it('when symbols differ only in case, then they are one position; an invalid symbol is its own, with why, after the valid ones (code-point order)', () => {
    const [ibm, dotless] = fold(['buy', 2, 10, 'ibm'], ['buy', 3, 20, 'IBM'], ['buy', 1, 5, 'ıbm']);
    expect(figuresOf(ibm!)).toMatchObject({ symbol: 'IBM', shares: 5, average_cost: '16.0000' });
    expect(figuresOf(dotless!)).toMatchObject({ symbol: 'ıbm', shares: 1 });
    expect(dotless!.invalid).toMatch(/^not a valid symbol \(symbol: must be 1 to 15 letters/);
  });

  it('when totals are taken, then cost basis and realised P/L cover every position, values only the priced ones', () => {
    const [aapl, ibm, nope] = fold(['buy', 10, 100, 'IBM'], ['buy', 4, 50, 'AAPL'], ['sell', 4, 60, 'AAPL'], ['buy', 3, 7, 'NOPE']);
    const closes = new Map([[ibm!, { date: '2024-01-03', close: '101.50', previousClose: '100.00' }]]);
    expect(totalsOf([aapl!, ibm!, nope!], closes)).toEqual({
      cost_basis: '1021.0000', // 1000 + 21; AAPL is flat
      market_value: '1015.0000',
      realised_pl: '40.0000',
      unrealised_pl: '15.0000',
      unrealised_pl_percent: '1.5000', // of IBM's 1000 only
      day_change: '15.0000',
      positions: 3,
      unpriced: 1, // NOPE; flat AAPL needs no price
      dividends: '0.0000',
      total_return: '55.0000', // 15 unrealised + 40 realised
    });
  });

  it('when trades are ordered, then by timestamp, then by id', () => {
    const trades = [{ id: 3, timestamp: 5 }, { id: 1, timestamp: 9 }, { id: 2, timestamp: 5 }];
    expect(trades.sort(tradeOrder).map((t) => t.id)).toEqual([2, 3, 1]);
  });
});

type DatedStep = [day: string, type: TradeType, shares: number, price: number];

/** The one position after `steps` ([YYYY-MM-DD, type, shares, price], noon UTC that day) meeting `actions`, carried to `through`. */
function carried(actions: SymbolActions, through: string, ...steps: DatedStep[]): Holding {
  const holdings = createHoldings((symbol) => (symbol === 'AAPL' ? actions : undefined));
  for (const [day, type, shares, price] of steps) holdings.add({ type, shares, price, symbol: 'AAPL', timestamp: Date.parse(`${day}T12:00:00Z`) });
  holdings.carryAllTo(through);
  return holdings.list()[0]!;
}

const FOUR_FOR_ONE: SymbolActions = { splits: [{ date: '2020-08-31', factor: '4' }], dividends: [] };

describe('a portfolio through splits and dividends', () => {
  it('when a 4-for-1 split falls between a buy and the valuation, then the shares are ×4, the average ÷4, the cost unchanged, and no loss appears', () => {
    // 10 bought at 400 on 2020-08-03: cost 4000. The split makes 40 at an average of 4000 / 40 = 100.
    const aapl = carried(FOUR_FOR_ONE, '2020-09-01', ['2020-08-03', 'buy', 10, 400]);
    expect(figuresOf(aapl)).toEqual({ symbol: 'AAPL', shares: 40, side: 'long', average_cost: '100.0000', cost_basis: '4000.0000', realised_pl: '0.0000', dividends: '0.0000' });
    // At 2020-09-01's close of 134.18 (133.74 the day before, both after the split):
    // 40 × 134.18 = 5367.20, unrealised 5367.20 − 4000 = 1367.20 (34.18%); the day 40 × 0.44 = 17.60.
    // Unsplit, it would be 10 × 134.18 = 1341.80: a loss of 2658.20 that never happened.
    expect(valueOf(aapl, { date: '2020-09-01', close: '134.18', previousClose: '133.74', previousDate: '2020-08-31' })).toEqual({
      price: '134.18', price_date: '2020-09-01', market_value: '5367.2000', unrealised_pl: '1367.2000', unrealised_pl_percent: '34.1800',
      day_change: '17.6000', day_change_percent: '0.3290', total_return: '1367.2000', // 17.60 / (40 × 133.74 = 5349.60)
    });
    expect(appliedActions([aapl])).toEqual([{ symbol: 'AAPL', type: 'split', date: '2020-08-31', factor: '4', shares_before: 10, shares_after: 40 }]);
  });

  it('when shares are sold after a split, then the sale is in post-split shares and realises against the post-split average', () => {
    // 10 at 400 (cost 4000) → 40 at 100 on 2020-08-31; 30 sold at 130 on 2020-09-02 realise 30 × (130 − 100) = 900,
    // leaving 10 at 100 (cost 4000 × 10 / 40 = 1000).
    const aapl = carried(FOUR_FOR_ONE, '2020-09-02', ['2020-08-03', 'buy', 10, 400], ['2020-09-02', 'sell', 30, 130]);
    expect(figuresOf(aapl)).toEqual({ symbol: 'AAPL', shares: 10, side: 'long', average_cost: '100.0000', cost_basis: '1000.0000', realised_pl: '900.0000', dividends: '0.0000' });
    // A trade on the split's day is in split units already: 40 bought that day stay 40.
    const sameDay = carried(FOUR_FOR_ONE, '2020-09-02', ['2020-08-31', 'buy', 40, 100]);
    expect(figuresOf(sameDay)).toMatchObject({ shares: 40, average_cost: '100.0000' });
    expect(appliedActions([sameDay])).toEqual([]);
  });

  it('when a 1-for-3 reverse split leaves a fraction of a share, then the fraction is kept exactly and the figures use it', () => {
    // 10 at 2 (cost 20); 1-for-3 as a provider's 20-digit factor: 10 × 0.33333333333333333333 = 3.3333333333333333333 shares,
    // written 3.333333; average 20 / 3.3333333333333333333 = 6.0000000000000000001 → 6.0000.
    const reverse: SymbolActions = { splits: [{ date: '2023-05-15', factor: '0.33333333333333333333' }], dividends: [] };
    const held = carried(reverse, '2023-05-16', ['2023-05-01', 'buy', 10, 2]);
    expect(figuresOf(held)).toEqual({ symbol: 'AAPL', shares: 3.333333, side: 'long', average_cost: '6.0000', cost_basis: '20.0000', realised_pl: '0.0000', dividends: '0.0000' });
    // At 6.30: 3.3333333333333333333 × 6.30 = 20.99999999999999999979 → 21.0000, unrealised 1.0000 (5%).
    expect(valueOf(held, { date: '2023-05-16', close: '6.30' })).toMatchObject({ market_value: '21.0000', unrealised_pl: '1.0000', unrealised_pl_percent: '5.0000' });
    // Selling 3 whole shares at 7 closes 3 at the average: realises 3 × (7 − 6.0000000000000000001) = 2.9999…97 → 3.0000,
    // and leaves the fraction, 0.3333333333333333333, costing 20 × 0.333… / 3.333… = 1.9999…98 → 2.0000.
    const sold = carried(reverse, '2023-05-16', ['2023-05-01', 'buy', 10, 2], ['2023-05-16', 'sell', 3, 7]);
    expect(figuresOf(sold)).toEqual({ symbol: 'AAPL', shares: 0.333333, side: 'long', average_cost: '6.0000', cost_basis: '2.0000', realised_pl: '3.0000', dividends: '0.0000' });
  });

  it('when dividends go ex while a position is open, then a long receives shares × amount and a short pays it', () => {
    const actions: SymbolActions = { splits: [], dividends: [{ exDate: '2024-02-09', amount: '0.24' }, { exDate: '2024-05-10', amount: '0.25' }] };
    // Long 10 through both: 10 × 0.24 + 10 × 0.25 = 2.40 + 2.50 = 4.90.
    const long = carried(actions, '2024-06-01', ['2024-01-02', 'buy', 10, 185]);
    expect(figuresOf(long).dividends).toBe('4.9000');
    // At 190: unrealised 10 × 5 = 50; total return 50 + 0 realised + 4.90.
    expect(valueOf(long, { date: '2024-06-01', close: '190' }).total_return).toBe('54.9000');
    // Short 4 through both: −4 × 0.24 − 4 × 0.25 = −0.96 − 1.00 = −1.96.
    const short = carried(actions, '2024-06-01', ['2024-01-02', 'sell', 4, 185]);
    expect(figuresOf(short).dividends).toBe('-1.9600');
    expect(appliedActions([short])).toEqual([
      { symbol: 'AAPL', type: 'dividend', ex_date: '2024-02-09', amount: '0.24', shares: -4, cash: '-0.9600' },
      { symbol: 'AAPL', type: 'dividend', ex_date: '2024-05-10', amount: '0.25', shares: -4, cash: '-1.0000' },
    ]);
    // Bought on an ex-date: too late for that dividend. Sold on one: still the holder's.
    expect(figuresOf(carried(actions, '2024-06-01', ['2024-02-09', 'buy', 10, 185])).dividends).toBe('2.5000'); // May's only
    expect(figuresOf(carried(actions, '2024-06-01', ['2024-01-02', 'buy', 10, 185], ['2024-02-09', 'sell', 10, 190])).dividends).toBe('2.4000');
    // Flat at an ex-date: nothing paid, nothing listed.
    const flat = carried(actions, '2024-06-01', ['2024-01-02', 'buy', 10, 185], ['2024-01-03', 'sell', 10, 186]);
    expect(figuresOf(flat).dividends).toBe('0.0000');
    expect(appliedActions([flat])).toEqual([]);
  });

  it('when a split and a dividend share a date, then the dividend is paid on the split shares', () => {
    // 10 → 20 by a 2-for-1 on 2024-03-01; 0.10 a share that day on 20 = 2.00.
    const both: SymbolActions = { splits: [{ date: '2024-03-01', factor: '2' }], dividends: [{ exDate: '2024-03-01', amount: '0.10' }] };
    const held = carried(both, '2024-03-01', ['2024-02-01', 'buy', 10, 50]);
    expect(figuresOf(held)).toMatchObject({ shares: 20, average_cost: '25.0000', dividends: '2.0000' });
    expect(appliedActions([held]).map((a) => a.type)).toEqual(['split', 'dividend']);
  });

  it('when actions are dated after the day valued, then they are not applied', () => {
    const aapl = carried(FOUR_FOR_ONE, '2020-08-28', ['2020-08-03', 'buy', 10, 400]);
    expect(figuresOf(aapl)).toMatchObject({ shares: 10, average_cost: '400.0000' });
  });

  it("when the close valued at is older than a split the position was carried through, then it is put in the position's units", () => {
    // Valued on the split's day with only the day before's close stored (499.23, pre-split): 499.23 / 4 = 124.8075,
    // × 40 = 4992.30 — the same value as 10 × 499.23, no cliff.
    const aapl = carried(FOUR_FOR_ONE, '2020-08-31', ['2020-08-03', 'buy', 10, 400]);
    const close = closeInUnits(aapl, { date: '2020-08-28', close: '499.23', previousClose: '500.04', previousDate: '2020-08-27' }, '2020-08-31');
    expect(close).toEqual({ date: '2020-08-28', close: '124.807500', previousClose: '125.010000', previousDate: '2020-08-27' });
    expect(valueOf(aapl, close)).toMatchObject({ market_value: '4992.3000', day_change: '-8.1000' }); // 40 × (124.8075 − 125.01)
    // On the split's day with its own close: the day change's base, the day before, is put in split units.
    const splitDay = closeInUnits(aapl, { date: '2020-08-31', close: '129.04', previousClose: '499.23', previousDate: '2020-08-28' }, '2020-08-31');
    expect(splitDay).toMatchObject({ close: '129.04', previousClose: '124.807500' });
    expect(valueOf(aapl, splitDay)).toMatchObject({ day_change: '169.3000', day_change_percent: '3.3912' }); // 40 × 4.2325; of 4992.30
  });

  it('when trades are timed beyond the last YYYY-MM-DD day, then every action comes before them', () => {
    expect(tradeDay(Date.parse('2024-03-01T23:59:59.999Z'))).toBe('2024-03-01');
    expect(tradeDay(Number.MAX_SAFE_INTEGER)).toBe('9999-12-31');
  });
});
