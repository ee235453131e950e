import { describe, expect, it } from 'vitest';
import { createHoldings, figuresOf, type Holding, previousCloseOf, totalsOf, tradeOrder, valueOf } from '../../src/domain/portfolio.js';
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

  it("when the quote gives a close and its variation, then the previous close is their decimal difference", () => {
    expect(previousCloseOf('130.7900', 1.57)).toBe('129.22');
    expect(previousCloseOf('10.0001', -0.0003)).toBe('10.0004');
  });

  it('when trades are ordered, then by timestamp, then by id', () => {
    const trades = [{ id: 3, timestamp: 5 }, { id: 1, timestamp: 9 }, { id: 2, timestamp: 5 }];
    expect(trades.sort(tradeOrder).map((t) => t.id)).toEqual([2, 3, 1]);
  });
});
