/**
 * Splits and cash dividends, and the adjusted history they imply.
 *
 * Adjustment is by cumulative backward factors, as CRSP and the vendors do:
 * the newest bars stay as traded, and each action scales every bar before it.
 * - A split on date d with factor f (new shares per old share): bars before d
 *   have prices divided by f and volume multiplied by f.
 * - A dividend with ex-date d and amount D: bars before d have prices multiplied
 *   by 1 − D / P, P being the close of the last bar before d (in d's share basis).
 * Volume is adjusted for splits only: a dividend does not change the share count.
 */
import { Decimal } from 'decimal.js';
import { type DailyBar, DECIMAL_MAX_CHARACTERS, isCalendarDate, isDecimal } from './quote.js';

/** A stock split effective on `date`: `factor` new shares per old share, as a decimal string (4-for-1 is "4", 1-for-10 is "0.1"). */
export interface Split {
  date: string;
  factor: string;
}

/** A cash dividend per share, in the quote's currency, for holders before its ex-date. */
export interface Dividend {
  exDate: string;
  amount: string;
}

// Forty digits: a product of decades of factors loses nothing visible at the output's scale.
const Exact = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
type Exact = InstanceType<typeof Exact>;

/**
 * Adjusted prices keep at least this many decimals (Yahoo's Adj Close has six),
 * more when the provider gave more, so a price divided by a large cumulative split
 * factor (AAPL's is 224) keeps its significant digits.
 */
export const MIN_ADJUSTED_DECIMALS = 6;

type Action = { kind: 'split'; date: string; factor: Exact } | { kind: 'dividend'; date: string; amount: Exact };

interface Factors {
  price: Exact;
  volume: Exact;
}

/**
 * Split- and dividend-adjusted bars, ascending like the input. Actions are assumed
 * checked (checkSplit, checkDividend). Rounding: a bar with no action after it is
 * returned exactly as given; an adjusted price is rounded half-up to its own
 * decimals or MIN_ADJUSTED_DECIMALS, whichever is more, trailing zeros kept
 * (fixed decimals, as the providers write prices); volume half-up to a whole number.
 *
 * Only the oldest `keep` bars are returned (all by default): the newer ones are read
 * for the factors alone — a close only where an action follows — and not adjusted,
 * so a short range long ago costs a pass over the newer bars, not their arithmetic.
 */
export function adjustBars(barsAscending: DailyBar[], splits: Split[], dividends: Dividend[], keep = barsAscending.length): DailyBar[] {
  const pending = actionsNewestFirst(splits, dividends);
  const factors: Factors = { price: new Exact(1), volume: new Exact(1) };
  let scale = scalerOf(factors);
  const adjusted: DailyBar[] = [];
  for (let i = barsAscending.length - 1; i >= 0; i--) {
    const bar = barsAscending[i]!;
    // The actions after this bar and not after the next one: this bar is the last session before each.
    const step: Action[] = [];
    while (pending.length > 0 && pending[0]!.date > bar.date) step.unshift(pending.shift()!);
    if (step.length > 0) {
      applyStep(factors, step, new Exact(bar.close));
      scale = scalerOf(factors);
    }
    if (i < keep) adjusted.push(scale(bar));
  }
  return adjusted.reverse();
}

function actionsNewestFirst(splits: Split[], dividends: Dividend[]): Action[] {
  const actions: Action[] = [
    ...splits.map((s): Action => ({ kind: 'split', date: s.date, factor: new Exact(s.factor) })),
    ...dividends.map((d): Action => ({ kind: 'dividend', date: d.exDate, amount: new Exact(d.amount) })),
  ];
  // On one date, the dividend sorts first here so that, replayed oldest first in
  // applyStep, the split comes before it: holders on that ex-date hold split shares.
  const rank = (a: Action) => (a.kind === 'split' ? 0 : 1);
  return actions.sort((a, b) => (a.date === b.date ? rank(b) - rank(a) : a.date < b.date ? 1 : -1));
}

/** Folds one step of actions, oldest first, into the cumulative factors; `close` is the last close before them. */
function applyStep(factors: Factors, stepAscending: Action[], close: Exact): void {
  // Splits already in this step: a dividend after them is per split share, so the close is put in that basis.
  let basis = new Exact(1);
  for (const action of stepAscending) {
    if (action.kind === 'split') {
      basis = basis.times(action.factor);
      factors.price = factors.price.div(action.factor);
      factors.volume = factors.volume.times(action.factor);
      continue;
    }
    const previousClose = close.div(basis);
    // A dividend at or above the previous close would make prices zero or negative: it is a
    // data error (or a liquidation, which no factor describes), so it adjusts nothing.
    if (action.amount.gte(previousClose)) continue;
    factors.price = factors.price.times(new Exact(1).minus(action.amount.div(previousClose)));
  }
}

/** The adjustment of a bar under the factors as they are now: made once per step of actions, not per bar. */
function scalerOf(factors: Factors): (bar: DailyBar) => DailyBar {
  const price = scaledBy(factors.price);
  const volume = scaledBy(factors.volume);
  const scalePrice = (value: string) => (price ? price(value, Math.max(MIN_ADJUSTED_DECIMALS, decimalsOf(value))) : value);
  return (bar) => ({
    date: bar.date,
    open: scalePrice(bar.open),
    high: scalePrice(bar.high),
    low: scalePrice(bar.low),
    close: scalePrice(bar.close),
    volume: volume ? Number(volume(String(bar.volume), 0)) : bar.volume,
  });
}

/**
 * `value × factor`, written with `decimals` decimals, exactly as decimal.js writes
 * `new Exact(value).times(factor).toFixed(decimals)` — the product rounded half-up to
 * Exact's 40 significant digits, then half-up to `decimals`. A full adjusted history
 * multiplies some 80,000 prices, and decimal.js's general arithmetic cost most of a
 * second for them: in float64 when float64 cannot round differently (floatWritten),
 * else in BigInt. Undefined when the factor is 1 (the value is served as given).
 * `value` is a checked decimal string (quote.ts).
 */
function scaledBy(factor: Exact): ((value: string, decimals: number) => string) | undefined {
  if (factor.eq(1)) return undefined;
  const [factorDigits, factorScale] = digitsOf(factor.toFixed());
  const factorNumber = factor.toNumber();
  return (value, decimals) => {
    const fast = floatWritten(Number(value) * factorNumber, decimals);
    if (fast !== undefined) return fast;
    const [valueDigits, valueScale] = digitsOf(value);
    let product = valueDigits * factorDigits;
    let scale = valueScale + factorScale;
    const excess = product.toString().length - Exact.precision;
    if (excess > 0) {
      product = roundHalfUp(product, excess);
      scale -= excess;
    }
    if (scale > decimals) {
      product = roundHalfUp(product, scale - decimals);
      scale = decimals;
    }
    return written(product, scale, decimals);
  };
}

/** The product in units of the last decimal is below this: float64's error on it (a few parts in 10^16) stays under 10^-3 of a unit. */
const FLOAT_UNITS_MAX = 2 ** 40;
/** Within this of half a unit, float64 might round to the other side of the tie than exact arithmetic would: asked in BigInt. */
const FLOAT_TIE_MARGIN = 0.01;
const FLOAT_POWERS_OF_TEN = Array.from({ length: 16 }, (_, n) => 10 ** n);

/**
 * A non-negative float64 product written with `decimals` decimals, rounded half-up — when that is
 * certainly what exact arithmetic writes: the product small enough in units of the last decimal that
 * float64's error is a thousandth of a unit, and not near a tie. Undefined otherwise.
 */
function floatWritten(product: number, decimals: number): string | undefined {
  const power = FLOAT_POWERS_OF_TEN[decimals];
  if (power === undefined) return undefined;
  const units = product * power;
  if (!(units >= 0 && units < FLOAT_UNITS_MAX)) return undefined;
  const whole = Math.floor(units);
  const fraction = units - whole;
  if (Math.abs(fraction - 0.5) < FLOAT_TIE_MARGIN) return undefined;
  const text = String(fraction > 0.5 ? whole + 1 : whole).padStart(decimals + 1, '0');
  return decimals === 0 ? text : `${text.slice(0, text.length - decimals)}.${text.slice(text.length - decimals)}`;
}

/** A non-negative decimal string as its digits and how many of them are decimals ("12.50" → 1250n, 2). */
function digitsOf(text: string): [bigint, number] {
  const point = text.indexOf('.');
  return point < 0 ? [BigInt(text), 0] : [BigInt(text.slice(0, point) + text.slice(point + 1)), text.length - point - 1];
}

/** 10^0 … 10^99: every power the arithmetic above meets (40 digits of factor times a price's 32 characters). */
const POWERS_OF_TEN = Array.from({ length: 100 }, (_, n) => 10n ** BigInt(n));
const powerOfTen = (n: number) => POWERS_OF_TEN[n] ?? 10n ** BigInt(n);


/** `digits` with its last `dropped` digits dropped, rounded half-up. */
function roundHalfUp(digits: bigint, dropped: number): bigint {
  const unit = powerOfTen(dropped);
  const kept = digits / unit;
  return (digits % unit) * 2n >= unit ? kept + 1n : kept;
}

/** `digits × 10^-scale` written with exactly `decimals` decimals (scale ≤ decimals). */
function written(digits: bigint, scale: number, decimals: number): string {
  const text = (digits * powerOfTen(decimals - scale)).toString().padStart(decimals + 1, '0');
  return decimals === 0 ? text : `${text.slice(0, text.length - decimals)}.${text.slice(text.length - decimals)}`;
}

function decimalsOf(value: string): number {
  const point = value.indexOf('.');
  return point < 0 ? 0 : value.length - point - 1;
}

/** One row of a file with a split-adjusted close and a split-and-dividend-adjusted close (Yahoo's Close and Adj Close). */
export interface AdjustedCloseRow {
  date: string;
  close: string;
  adjustedClose: string;
}

/** Implied dividend amounts are rounded half-up to this many decimals (cents and fractions of them). */
export const IMPLIED_DIVIDEND_DECIMALS = 4;

/**
 * The dividends a split-and-dividend-adjusted close implies. The ratio
 * adjusted/close is constant between dividends; where it grows from one row to
 * the next, a dividend went ex on the later row, of amount
 * close_prev × (1 − ratio_prev / ratio_cur) — the inverse of adjustBars' factor.
 * Rows must be ascending by date.
 */
export function impliedDividends(rowsAscending: AdjustedCloseRow[]): Dividend[] {
  const dividends: Dividend[] = [];
  for (let i = 1; i < rowsAscending.length; i++) {
    const amount = impliedAmount(rowsAscending[i - 1]!, rowsAscending[i]!);
    if (amount) dividends.push({ exDate: rowsAscending[i]!.date, amount });
  }
  return dividends;
}

function impliedAmount(previous: AdjustedCloseRow, current: AdjustedCloseRow): string | undefined {
  const written = [previous.adjustedClose, current.adjustedClose, previous.close, current.close];
  const values = written.map((v) => new Exact(v));
  // A zero price (a placeholder row) says nothing about a ratio.
  if (values.some((v) => v.lte(0))) return undefined;
  const [adjustedPrevious, adjustedCurrent, closePrevious, closeCurrent] = values as [Exact, Exact, Exact, Exact];
  const ratioChange = adjustedPrevious.div(closePrevious).div(adjustedCurrent.div(closeCurrent));
  const amount = closePrevious.times(new Exact(1).minus(ratioChange));
  // The file's prices are rounded, so the ratio wobbles from row to row. Below this bound
  // (a full unit of the last decimal of each of the four values, relative: twice the worst
  // rounding) a change is that wobble, not a dividend. A falling ratio is never a dividend.
  const relativeUnits = written.map((v, i) => new Exact(10).pow(-decimalsOf(v)).div(values[i]!));
  const wobble = closePrevious.times(relativeUnits.reduce((sum, unit) => sum.plus(unit)));
  if (amount.lte(wobble)) return undefined;
  const rounded = amount.toDecimalPlaces(IMPLIED_DIVIDEND_DECIMALS);
  return rounded.gt(0) ? rounded.toFixed(IMPLIED_DIVIDEND_DECIMALS) : undefined;
}

/**
 * A split's factor is from 1-for-10,000 to 10,000-for-1: past any split on record (forward splits
 * top out near 50-for-1, reverse splits rarely pass 1-for-1,000). Without a bound, a vendor's or a
 * file's factor of 10^31 would make every price before it a 40-digit number, or Infinity.
 */
export const SPLIT_FACTOR_MIN = '0.0001';
export const SPLIT_FACTOR_MAX = '10000';
/**
 * What the splits after any one bar may multiply to, either way: Walmart's since 1970 make 6,144, a
 * penny stock's reverse splits a few millionths. Within these bounds an adjusted price stays under
 * 10^18 (PRICE_MAX ÷ the minimum) and an adjusted volume under 10^20 (VOLUME_MAX × the maximum).
 */
export const CUMULATIVE_SPLIT_FACTOR_MIN = '0.000000001';
export const CUMULATIVE_SPLIT_FACTOR_MAX = '10000000';

/** A split is well-formed when its date is a real calendar day and its factor a decimal within the bounds above. */
export function checkSplit(split: Split): string | undefined {
  if (!isCalendarDate(split.date)) return `date "${split.date}" is not a YYYY-MM-DD calendar date`;
  return checkSplitFactor(split.factor);
}

export function checkSplitFactor(factor: string): string | undefined {
  if (!isPositiveDecimal(factor)) return `factor "${factor}" is not a positive decimal number of at most ${DECIMAL_MAX_CHARACTERS} characters`;
  const value = new Exact(factor);
  if (value.lt(SPLIT_FACTOR_MIN) || value.gt(SPLIT_FACTOR_MAX)) {
    return `factor ${factor} is outside ${SPLIT_FACTOR_MIN} (1-for-10,000) to ${SPLIT_FACTOR_MAX} (10,000-for-1)`;
  }
  return undefined;
}

/** The splits stored once `given` are saved beside them: a given split takes the place of a stored one of its date. */
export function withSplits(stored: Split[], given: Split[]): Split[] {
  const dates = new Set(given.map((split) => split.date));
  return [...stored.filter((split) => !dates.has(split.date)), ...given];
}

/**
 * Splits (each well-formed) that can adjust a series together: the product of
 * the splits after any bar, newest back, stays within the cumulative bounds.
 * Otherwise the split where the product leaves them, and why.
 */
export function checkSplitSeries(splits: Split[]): { split: Split; problem: string } | undefined {
  const newestFirst = [...splits].sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : 0));
  let product = new Exact(1);
  for (const split of newestFirst) {
    product = product.times(split.factor);
    if (product.lt(CUMULATIVE_SPLIT_FACTOR_MIN) || product.gt(CUMULATIVE_SPLIT_FACTOR_MAX)) {
      return {
        split,
        problem: `the splits from ${split.date} on multiply to ${product.toSignificantDigits(6).toString()}, outside ${CUMULATIVE_SPLIT_FACTOR_MIN} to ${CUMULATIVE_SPLIT_FACTOR_MAX}`,
      };
    }
  }
  return undefined;
}

/** A dividend is well-formed when its ex-date is a real calendar day and its amount a positive decimal. */
export function checkDividend(dividend: Dividend): string | undefined {
  if (!isCalendarDate(dividend.exDate)) return `ex_date "${dividend.exDate}" is not a YYYY-MM-DD calendar date`;
  if (!isPositiveDecimal(dividend.amount)) return `amount "${dividend.amount}" is not a positive decimal number of at most ${DECIMAL_MAX_CHARACTERS} characters`;
  return undefined;
}

function isPositiveDecimal(value: string): boolean {
  return isDecimal(value) && !value.startsWith('-') && /[1-9]/.test(value);
}
