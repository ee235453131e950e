/**
 * Portfolios: a user's trades folded into one position per symbol by the
 * average-cost method, and positions valued at a close. Pure: no I/O.
 *
 * Trade prices are whole numbers in the currency units of the symbol's quote
 * (domain/trade.ts); closes are decimal strings as the provider gave them.
 * All arithmetic is in decimal; answers are decimal strings with
 * MONEY_DIGITS (money) or PERCENT_DIGITS (percent) decimals, rounded half
 * away from zero, as the quote's change percent is.
 */
import { Decimal } from 'decimal.js';
import { normalizeSymbol, PERCENT_DIGITS } from './quote.js';
import { ValidationError } from './errors.js';
import type { Trade } from './trade.js';

/**
 * Far more digits than any answer shows: an average such as 4/3 is carried to
 * 50 significant digits and rounded only when written out.
 */
const Exact = Decimal.clone({ precision: 50, rounding: Decimal.ROUND_HALF_UP });
type Exact = InstanceType<typeof Exact>;

/** Decimals of every money value in an answer (the quote's prices have four: "130.7900"). */
export const MONEY_DIGITS = 4;

export type Side = 'long' | 'short' | 'flat';

/** One symbol's position after some trades. */
export interface Holding {
  /** Upper-cased when valid ('ibm' and 'IBM' are one position); as stored otherwise. */
  symbol: string;
  /** Why the symbol can never be priced (not a valid symbol), if so. */
  invalid?: string;
  /** Signed: negative is short. */
  shares: number;
  /** What the open shares cost, never negative: paid for a long, received for a short. */
  cost: Exact;
  /** Profit or loss taken by closing shares (sells of a long, buys covering a short). */
  realised: Exact;
}

export function sideOf(shares: number): Side {
  return shares > 0 ? 'long' : shares < 0 ? 'short' : 'flat';
}

/** The order trades count in: by timestamp, then by id (the ledger's order of arrival). */
export function tradeOrder(a: Pick<Trade, 'timestamp' | 'id'>, b: Pick<Trade, 'timestamp' | 'id'>): number {
  return a.timestamp - b.timestamp || a.id - b.id;
}

/** The position key of a stored symbol: normalised when valid, else the symbol as stored with why. */
function keyOf(symbol: string): { symbol: string; invalid?: string } {
  try {
    return { symbol: normalizeSymbol(symbol) };
  } catch (error) {
    if (error instanceof ValidationError) return { symbol, invalid: `not a valid symbol (${error.message})` };
    throw error;
  }
}

/**
 * Applies one trade to a position, average-cost method, symmetric for shorts:
 * - adding to a position (a buy on a long or flat, a sell on a short or flat)
 *   adds shares × price to its cost, so the average is cost ÷ shares;
 * - closing (a sell on a long, a buy on a short) removes the closed shares at
 *   the average, realising (price − average) per share for a long,
 *   (average − price) for a short;
 * - a trade larger than the position closes it and opens the opposite side
 *   with the rest, at the trade's price.
 */
export function applyTrade(holding: Holding, trade: Pick<Trade, 'type' | 'shares' | 'price'>): void {
  const direction = trade.type === 'buy' ? 1 : -1;
  const price = new Exact(trade.price);
  let quantity = trade.shares;
  if (holding.shares !== 0 && Math.sign(holding.shares) !== direction) {
    const held = Math.abs(holding.shares);
    const closed = Math.min(quantity, held);
    const average = holding.cost.div(held);
    // Long: sold above the average is a gain. Short: bought back below it is.
    holding.realised = holding.realised.plus(price.minus(average).times(closed).times(-direction));
    holding.cost = closed === held ? new Exact(0) : holding.cost.times(held - closed).div(held);
    holding.shares += direction * closed;
    quantity -= closed;
  }
  if (quantity > 0) {
    holding.cost = holding.cost.plus(price.times(quantity));
    holding.shares += direction * quantity;
  }
}

/** The order positions are listed in: by symbol, code point by code point. */
export function symbolOrder(a: { symbol: string }, b: { symbol: string }): number {
  return a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0;
}

/**
 * Positions folded trade by trade, in tradeOrder: memory grows with the
 * symbols, never with the trades.
 */
export function createHoldings() {
  const bySymbol = new Map<string, Holding>();
  return {
    add(trade: Pick<Trade, 'type' | 'symbol' | 'shares' | 'price'>): Holding {
      const key = keyOf(trade.symbol);
      let holding = bySymbol.get(key.symbol);
      if (!holding) {
        holding = { ...key, shares: 0, cost: new Exact(0), realised: new Exact(0) };
        bySymbol.set(key.symbol, holding);
      }
      applyTrade(holding, trade);
      return holding;
    },
    /** Every symbol ever traded, flat ones included, by symbol (code-point order). */
    list(): Holding[] {
      return [...bySymbol.values()].sort(symbolOrder);
    },
  };
}

export type Holdings = ReturnType<typeof createHoldings>;

/** A close to value a position at: the day's close, and the one before it when stored. */
export interface Close {
  date: string;
  close: string;
  previousClose?: string;
}

/**
 * The close before `close`, from the quote's variation (close − previous close).
 * The variation is a JS number made from the decimal difference of two short
 * decimals, so its shortest text ("1.57") is that difference exactly.
 */
export function previousCloseOf(close: string, variation: number): string {
  return new Exact(close).minus(new Exact(variation)).toFixed();
}

/** A position in the answer's terms; money as decimal strings. */
export interface PositionFigures {
  symbol: string;
  shares: number;
  side: Side;
  average_cost: string;
  /** Signed: what a long cost, minus what a short brought in, so unrealised = market value − cost basis for both. */
  cost_basis: string;
  realised_pl: string;
}

export interface PositionValue {
  price: string;
  price_date: string;
  market_value: string;
  unrealised_pl: string;
  unrealised_pl_percent: string;
  day_change: string;
  day_change_percent: string;
}

export function money(value: Decimal.Value): string {
  const rounded = new Exact(value).toDecimalPlaces(MONEY_DIGITS);
  return (rounded.isZero() ? rounded.abs() : rounded).toFixed(MONEY_DIGITS);
}

/** part ÷ |whole| × 100 with PERCENT_DIGITS decimals; 0 when the whole is 0, as the quote's change percent. */
export function percent(part: Decimal.Value, whole: Decimal.Value): string {
  const base = new Exact(whole).abs();
  if (base.isZero()) return (0).toFixed(PERCENT_DIGITS);
  const rounded = new Exact(part).div(base).times(100).toDecimalPlaces(PERCENT_DIGITS);
  return (rounded.isZero() ? rounded.abs() : rounded).toFixed(PERCENT_DIGITS);
}

/** The signed cost basis: positive for a long, negative for a short, 0 when flat. */
export function signedCost(holding: Holding): Exact {
  return holding.shares < 0 ? holding.cost.neg() : holding.cost;
}

export function figuresOf(holding: Holding): PositionFigures {
  const held = Math.abs(holding.shares);
  return {
    symbol: holding.symbol,
    shares: holding.shares,
    side: sideOf(holding.shares),
    average_cost: money(held === 0 ? 0 : holding.cost.div(held)),
    cost_basis: money(signedCost(holding)),
    realised_pl: money(holding.realised),
  };
}

/** The exact value of a position at a close; written out by valueOf, summed by totals. */
export interface ExactValue {
  marketValue: Exact;
  costBasis: Exact;
  unrealised: Exact;
  dayChange: Exact;
  /** The market value at the previous close (the day change's base). */
  previousValue: Exact;
}

export function exactValue(holding: Holding, close: Close): ExactValue {
  const marketValue = new Exact(close.close).times(holding.shares);
  const previousValue = new Exact(close.previousClose ?? close.close).times(holding.shares);
  const costBasis = signedCost(holding);
  return { marketValue, costBasis, unrealised: marketValue.minus(costBasis), dayChange: marketValue.minus(previousValue), previousValue };
}

/** A position valued at `close`: with no previous close stored, the day's change is 0, as the quote's variation is. */
export function valueOf(holding: Holding, close: Close): PositionValue {
  const v = exactValue(holding, close);
  return {
    price: close.close,
    price_date: close.date,
    market_value: money(v.marketValue),
    unrealised_pl: money(v.unrealised),
    unrealised_pl_percent: percent(v.unrealised, v.costBasis),
    day_change: money(v.dayChange),
    day_change_percent: percent(v.dayChange, v.previousValue),
  };
}

export interface PortfolioTotals {
  cost_basis: string;
  market_value: string;
  realised_pl: string;
  unrealised_pl: string;
  unrealised_pl_percent: string;
  day_change: string;
  positions: number;
  unpriced: number;
}

/**
 * Totals of exact values (rounded once, at the end): cost basis and realised
 * P/L over every position; market value, unrealised P/L, its percent (of the
 * priced positions' cost basis) and the day's change over priced ones only.
 * `unpriced` counts open positions without a price; flat ones need none.
 */
export function totalsOf(holdings: Holding[], priced: Map<Holding, Close>): PortfolioTotals {
  let costBasis = new Exact(0);
  let realised = new Exact(0);
  let marketValue = new Exact(0);
  let pricedCost = new Exact(0);
  let pricedCostMagnitude = new Exact(0);
  let dayChange = new Exact(0);
  let unpriced = 0;
  for (const holding of holdings) {
    costBasis = costBasis.plus(signedCost(holding));
    realised = realised.plus(holding.realised);
    const close = priced.get(holding);
    if (!close) {
      if (holding.shares !== 0) unpriced++;
      continue;
    }
    const v = exactValue(holding, close);
    marketValue = marketValue.plus(v.marketValue);
    pricedCost = pricedCost.plus(v.costBasis);
    pricedCostMagnitude = pricedCostMagnitude.plus(v.costBasis.abs());
    dayChange = dayChange.plus(v.dayChange);
  }
  const unrealised = marketValue.minus(pricedCost);
  return {
    cost_basis: money(costBasis),
    market_value: money(marketValue),
    realised_pl: money(realised),
    unrealised_pl: money(unrealised),
    unrealised_pl_percent: percent(unrealised, pricedCostMagnitude),
    day_change: money(dayChange),
    positions: holdings.length,
    unpriced,
  };
}

/** One point of the value-over-time series: the positions priced that day, at that day's closes. */
export function pointOf(date: string, valued: { holding: Holding; close: Close }[]): { date: string; market_value: string; cost_basis: string; unrealised_pl: string } {
  let marketValue = new Exact(0);
  let costBasis = new Exact(0);
  for (const { holding, close } of valued) {
    const v = exactValue(holding, close);
    marketValue = marketValue.plus(v.marketValue);
    costBasis = costBasis.plus(v.costBasis);
  }
  return { date, market_value: money(marketValue), cost_basis: money(costBasis), unrealised_pl: money(marketValue.minus(costBasis)) };
}
