/**
 * Portfolios: a user's trades folded into one position per symbol by the
 * average-cost method, carried through the symbol's splits and cash
 * dividends, and positions valued at a close. Pure: no I/O.
 *
 * Trade prices are whole numbers in the currency units of the symbol's quote
 * (domain/trade.ts); closes are decimal strings as the provider gave them.
 * A trade's shares and price are in the units of its own day (UTC, as as_of
 * counts days): a split after it carries the position (shares × factor,
 * cost unchanged, so the average is divided by the factor). Shares a split
 * leaves fractional stay fractional, exactly (no cash in lieu). All
 * arithmetic is in decimal; answers are decimal strings with MONEY_DIGITS
 * (money) or PERCENT_DIGITS (percent) decimals, rounded half away from zero,
 * as the quote's change percent is.
 */
import { Decimal } from 'decimal.js';
import { type Dividend, MIN_ADJUSTED_DECIMALS, type Split } from './corporate-actions.js';
import { normalizeSymbol, PERCENT_DIGITS } from './quote.js';
import { ValidationError } from './errors.js';
import type { Trade } from './trade.js';

/**
 * Far more digits than any answer shows: an average such as 4/3, or the
 * shares a 1-for-3 split leaves of 10, is carried to 50 significant digits
 * and rounded only when written out.
 */
const Exact = Decimal.clone({ precision: 50, rounding: Decimal.ROUND_HALF_UP });
type Exact = InstanceType<typeof Exact>;

/** Decimals of every money value in an answer (the quote's prices have four: "130.7900"). */
export const MONEY_DIGITS = 4;
/** Decimals a fractional share count is written with (a whole count is written whole); the figures use the exact count. */
export const SHARES_DIGITS = 6;

export type Side = 'long' | 'short' | 'flat';

/** A symbol's splits and cash dividends, as the portfolio applies them. */
export interface SymbolActions {
  splits: Split[];
  dividends: Dividend[];
}

/** An action as a position meets it: on one date, a split comes before a dividend (holders on the ex-date hold split shares). */
type Action = { kind: 'split'; date: string; factor: string } | { kind: 'dividend'; date: string; amount: string };

/** A split or dividend that changed a position, as an answer names it. */
export type AppliedAction =
  | { symbol: string; type: 'split'; date: string; factor: string; shares_before: number; shares_after: number }
  | { symbol: string; type: 'dividend'; ex_date: string; amount: string; shares: number; cash: string };

/** One symbol's position after some trades and actions. */
export interface Holding {
  /** Upper-cased when valid ('ibm' and 'IBM' are one position); as stored otherwise. */
  symbol: string;
  /** Why the symbol can never be priced (not a valid symbol), if so. */
  invalid?: string;
  /** Signed: negative is short. Fractional only when a split made it so. */
  shares: Exact;
  /** What the open shares cost, never negative: paid for a long, received for a short. */
  cost: Exact;
  /** Profit or loss taken by closing shares (sells of a long, buys covering a short). */
  realised: Exact;
  /** Cash dividends: received by a long (positive), paid by a short (negative). */
  dividends: Exact;
  /** The symbol's splits, to put a close older than the day valued in the position's units. */
  splits: Split[];
  /** The symbol's actions, oldest first, and how many of them the position has reached. */
  actions: Action[];
  reached: number;
  /** The actions that changed the position, oldest first. */
  applied: AppliedAction[];
}

export function sideOf(shares: Decimal): Side {
  return shares.gt(0) ? 'long' : shares.lt(0) ? 'short' : 'flat';
}

/** The order trades count in: by timestamp, then by id (the ledger's order of arrival). */
export function tradeOrder(a: Pick<Trade, 'timestamp' | 'id'>, b: Pick<Trade, 'timestamp' | 'id'>): number {
  return a.timestamp - b.timestamp || a.id - b.id;
}

/** Year 10000, where YYYY-MM-DD days end: a trade at or after it is later than every action. */
const PAST_LAST_DAY_MS = Date.UTC(10000, 0, 1);

/** A trade's day: the UTC day of its timestamp (epoch milliseconds), as as_of counts days. */
export function tradeDay(timestamp: number): string {
  return timestamp >= PAST_LAST_DAY_MS ? '9999-12-31' : new Date(timestamp).toISOString().slice(0, 10);
}

/** The position key of a stored symbol: normalised when valid, else the symbol as stored with why. */
export function positionKey(symbol: string): { symbol: string; invalid?: string } {
  try {
    return { symbol: normalizeSymbol(symbol) };
  } catch (error) {
    if (error instanceof ValidationError) return { symbol, invalid: `not a valid symbol (${error.message})` };
    throw error;
  }
}

function actionsInOrder({ splits, dividends }: SymbolActions): Action[] {
  const actions: Action[] = [
    ...splits.map((s): Action => ({ kind: 'split', date: s.date, factor: s.factor })),
    ...dividends.map((d): Action => ({ kind: 'dividend', date: d.exDate, amount: d.amount })),
  ];
  const rank = (a: Action) => (a.kind === 'split' ? 0 : 1);
  return actions.sort((a, b) => (a.date === b.date ? rank(a) - rank(b) : a.date < b.date ? -1 : 1));
}

/** A position with nothing yet, meeting `actions` as its trades reach their dates. */
export function newHolding(key: { symbol: string; invalid?: string }, actions: SymbolActions = { splits: [], dividends: [] }): Holding {
  return {
    ...key,
    shares: new Exact(0),
    cost: new Exact(0),
    realised: new Exact(0),
    dividends: new Exact(0),
    splits: actions.splits,
    actions: actionsInOrder(actions),
    reached: 0,
    applied: [],
  };
}

/**
 * Applies the position's actions dated on or before `day` that it has not
 * met yet, oldest first: a split multiplies the shares by its factor and
 * leaves the cost (so the average is divided by it); a dividend pays
 * shares × amount (a short pays it). A flat position meets them unchanged.
 */
export function carryTo(holding: Holding, day: string): void {
  for (; holding.reached < holding.actions.length; holding.reached++) {
    const action = holding.actions[holding.reached]!;
    if (action.date > day) return;
    if (holding.shares.isZero()) continue;
    if (action.kind === 'split') {
      const before = holding.shares;
      holding.shares = before.times(action.factor);
      holding.applied.push({
        symbol: holding.symbol, type: 'split', date: action.date, factor: action.factor,
        shares_before: sharesOut(before), shares_after: sharesOut(holding.shares),
      });
    } else {
      const cash = holding.shares.times(action.amount);
      holding.dividends = holding.dividends.plus(cash);
      holding.applied.push({
        symbol: holding.symbol, type: 'dividend', ex_date: action.date, amount: action.amount,
        shares: sharesOut(holding.shares), cash: money(cash),
      });
    }
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
 * The position must already be carried to the trade's day (carryTo).
 */
export function applyTrade(holding: Holding, trade: Pick<Trade, 'type' | 'shares' | 'price'>): void {
  const direction = trade.type === 'buy' ? 1 : -1;
  const price = new Exact(trade.price);
  let quantity = new Exact(trade.shares);
  const side = holding.shares.gt(0) ? 1 : holding.shares.lt(0) ? -1 : 0;
  if (side === -direction) {
    const held = holding.shares.abs();
    const closed = Exact.min(quantity, held);
    const average = holding.cost.div(held);
    // Long: sold above the average is a gain. Short: bought back below it is.
    holding.realised = holding.realised.plus(price.minus(average).times(closed).times(-direction));
    holding.cost = closed.eq(held) ? new Exact(0) : holding.cost.times(held.minus(closed)).div(held);
    holding.shares = holding.shares.plus(closed.times(direction));
    quantity = quantity.minus(closed);
  }
  if (quantity.gt(0)) {
    holding.cost = holding.cost.plus(price.times(quantity));
    holding.shares = holding.shares.plus(quantity.times(direction));
  }
}

/** The order positions are listed in: by symbol, code point by code point. */
export function symbolOrder(a: { symbol: string }, b: { symbol: string }): number {
  return a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0;
}

/**
 * Positions folded trade by trade, in tradeOrder: memory grows with the
 * symbols (and their actions), never with the trades. `actionsOf` gives a
 * valid symbol's splits and dividends when its first trade is added; each
 * trade first carries its position to the trade's day.
 */
export function createHoldings(actionsOf: (symbol: string) => SymbolActions | undefined = () => undefined) {
  const bySymbol = new Map<string, Holding>();
  return {
    add(trade: Pick<Trade, 'type' | 'symbol' | 'shares' | 'price' | 'timestamp'>): Holding {
      const key = positionKey(trade.symbol);
      let holding = bySymbol.get(key.symbol);
      if (!holding) {
        holding = newHolding(key, key.invalid ? undefined : actionsOf(key.symbol));
        bySymbol.set(key.symbol, holding);
      }
      carryTo(holding, tradeDay(trade.timestamp));
      applyTrade(holding, trade);
      return holding;
    },
    /** Carries every position through the actions dated on or before `day`. */
    carryAllTo(day: string): void {
      for (const holding of bySymbol.values()) carryTo(holding, day);
    },
    /** Every symbol ever traded, flat ones included, by symbol (code-point order). */
    list(): Holding[] {
      return [...bySymbol.values()].sort(symbolOrder);
    },
  };
}

export type Holdings = ReturnType<typeof createHoldings>;

/** The actions that changed `holdings`, by date, then symbol (a split before a dividend of one date). */
export function appliedActions(holdings: Holding[], from = '0000-01-01', to = '9999-12-31'): AppliedAction[] {
  const dateOf = (a: AppliedAction) => (a.type === 'split' ? a.date : a.ex_date);
  const rank = (a: AppliedAction) => (a.type === 'split' ? 0 : 1);
  const order = (a: AppliedAction, b: AppliedAction) =>
    dateOf(a) < dateOf(b) ? -1 : dateOf(a) > dateOf(b) ? 1 : symbolOrder(a, b) || rank(a) - rank(b);
  return holdings
    .flatMap((h) => h.applied)
    .filter((a) => dateOf(a) >= from && dateOf(a) <= to)
    .sort(order);
}

/** A close to value a position at: the day's close, and the one before it (and its date) when stored. */
export interface Close {
  date: string;
  close: string;
  previousClose?: string;
  previousDate?: string;
}

/** The product of the factors of the splits after `after` and on or before `through`. */
function splitFactorBetween(splits: Split[], after: string, through: string): Exact {
  let factor = new Exact(1);
  for (const split of splits) if (split.date > after && split.date <= through) factor = factor.times(split.factor);
  return factor;
}

function dividedBy(price: string, factor: Exact): string {
  if (factor.eq(1)) return price;
  const decimals = Math.max(MIN_ADJUSTED_DECIMALS, price.split('.')[1]?.length ?? 0);
  return new Exact(price).div(factor).toFixed(decimals);
}

/**
 * `close` in the units of the position carried to `day`: a close (or
 * previous close) dated before a split on or before `day` is divided by the
 * split's factor, as adjusted history does (at least MIN_ADJUSTED_DECIMALS
 * decimals). That is a close of a day before the one valued (a weekend, a
 * split whose day has no close stored yet), or the day change's base on a
 * split's day. A previous close without its date is taken as in the close's units.
 */
export function closeInUnits(holding: Holding, close: Close, day: string): Close {
  const inUnits: Close = { ...close, close: dividedBy(close.close, splitFactorBetween(holding.splits, close.date, day)) };
  if (close.previousClose !== undefined) {
    inUnits.previousClose = dividedBy(close.previousClose, splitFactorBetween(holding.splits, close.previousDate ?? close.date, day));
  }
  return inUnits;
}

/** A position in the answer's terms; money as decimal strings. */
export interface PositionFigures {
  symbol: string;
  /** Whole unless a split made it fractional; then rounded to SHARES_DIGITS decimals. */
  shares: number;
  side: Side;
  average_cost: string;
  /** Signed: what a long cost, minus what a short brought in, so unrealised = market value − cost basis for both. */
  cost_basis: string;
  realised_pl: string;
  dividends: string;
}

export interface PositionValue {
  price: string;
  price_date: string;
  market_value: string;
  unrealised_pl: string;
  unrealised_pl_percent: string;
  day_change: string;
  day_change_percent: string;
  total_return: string;
}

export function money(value: Decimal.Value): string {
  const rounded = new Exact(value).toDecimalPlaces(MONEY_DIGITS);
  return (rounded.isZero() ? rounded.abs() : rounded).toFixed(MONEY_DIGITS);
}

/** A share count as answers write it: a JSON number, whole when whole (as trades are), else to SHARES_DIGITS decimals. */
export function sharesOut(shares: Decimal): number {
  const rounded = shares.isInteger() ? shares : shares.toDecimalPlaces(SHARES_DIGITS, Decimal.ROUND_HALF_UP);
  return rounded.isZero() ? 0 : rounded.toNumber();
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
  return holding.shares.lt(0) ? holding.cost.neg() : holding.cost;
}

export function figuresOf(holding: Holding): PositionFigures {
  const held = holding.shares.abs();
  return {
    symbol: holding.symbol,
    shares: sharesOut(holding.shares),
    side: sideOf(holding.shares),
    average_cost: money(held.isZero() ? 0 : holding.cost.div(held)),
    cost_basis: money(signedCost(holding)),
    realised_pl: money(holding.realised),
    dividends: money(holding.dividends),
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

/** The value at `close`, which must be in the position's units (closeInUnits). */
export function exactValue(holding: Holding, close: Close): ExactValue {
  const marketValue = new Exact(close.close).times(holding.shares);
  const previousValue = new Exact(close.previousClose ?? close.close).times(holding.shares);
  const costBasis = signedCost(holding);
  return { marketValue, costBasis, unrealised: marketValue.minus(costBasis), dayChange: marketValue.minus(previousValue), previousValue };
}

/** Realised P/L + dividends + unrealised P/L (none for a flat position). */
function totalReturn(holding: Holding, unrealised: Exact): Exact {
  return holding.realised.plus(holding.dividends).plus(unrealised);
}

/** The total return of a position without a price: known when it is flat, unknown (null) when shares are held. */
export function unpricedReturn(holding: Holding): string | null {
  return holding.shares.isZero() ? money(totalReturn(holding, new Exact(0))) : null;
}

/** A position valued at `close` (in its units): with no previous close stored, the day's change is 0, as the quote's variation is. */
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
    total_return: money(totalReturn(holding, v.unrealised)),
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
  dividends: string;
  total_return: string;
}

/**
 * Totals of exact values (rounded once, at the end): cost basis, realised
 * P/L and dividends over every position; market value, unrealised P/L, its
 * percent (of the priced positions' cost basis) and the day's change over
 * priced ones only; the total return is unrealised + realised + dividends
 * as totalled. `unpriced` counts open positions without a price; flat ones
 * need none. `priced` holds each priced position's close, in its units.
 */
export function totalsOf(holdings: Holding[], priced: Map<Holding, Close>): PortfolioTotals {
  let costBasis = new Exact(0);
  let realised = new Exact(0);
  let dividends = new Exact(0);
  let marketValue = new Exact(0);
  let pricedCost = new Exact(0);
  let pricedCostMagnitude = new Exact(0);
  let dayChange = new Exact(0);
  let unpriced = 0;
  for (const holding of holdings) {
    costBasis = costBasis.plus(signedCost(holding));
    realised = realised.plus(holding.realised);
    dividends = dividends.plus(holding.dividends);
    const close = priced.get(holding);
    if (!close) {
      if (!holding.shares.isZero()) unpriced++;
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
    dividends: money(dividends),
    total_return: money(unrealised.plus(realised).plus(dividends)),
  };
}

export interface Point {
  date: string;
  market_value: string;
  cost_basis: string;
  unrealised_pl: string;
  dividends: string;
}

/**
 * One point of the value-over-time series: the positions priced that day, at
 * that day's closes (in their units), with the dividends they have had since
 * their first trade.
 */
export function pointOf(date: string, valued: { holding: Holding; close: Close }[]): Point {
  let marketValue = new Exact(0);
  let costBasis = new Exact(0);
  let dividends = new Exact(0);
  for (const { holding, close } of valued) {
    const v = exactValue(holding, close);
    marketValue = marketValue.plus(v.marketValue);
    costBasis = costBasis.plus(v.costBasis);
    dividends = dividends.plus(holding.dividends);
  }
  return { date, market_value: money(marketValue), cost_basis: money(costBasis), unrealised_pl: money(marketValue.minus(costBasis)), dividends: money(dividends) };
}
