/**
 * Indicators of price and volume, ported from TA-Lib 0.4.0 (see output.ts):
 * AD, ADOSC, OBV and MFI. A bar with no range adds nothing to the A/D line,
 * and a window with less than one unit of money flow gives an MFI of 0, as in
 * TA-Lib: a zero volume or a flat series never divides by zero.
 */
import { type Line, noLine, type Real } from './output.js';

const lastIndex = (input: Real) => input.length - 1;

/** The money flow multiplier times volume of one bar, or 0 when high equals low. */
function moneyFlowVolume(high: number, low: number, close: number, volume: number): number {
  const range = high - low;
  return range > 0.0 ? ((close - low - (high - close)) / range) * volume : 0;
}

/** Chaikin's accumulation/distribution line. */
export function ad(high: Real, low: Real, close: Real, volume: Real): Line {
  const out = new Float64Array(close.length);
  let line = 0.0;
  for (let i = 0; i < out.length; i++) {
    const range = high[i]! - low[i]!;
    if (range > 0.0) line += moneyFlowVolume(high[i]!, low[i]!, close[i]!, volume[i]!);
    out[i] = line;
  }
  return { begin: 0, values: out };
}

/** Chaikin's A/D oscillator: the fast EMA of the A/D line minus its slow EMA, both seeded at the first bar's A/D. */
export function adosc(high: Real, low: Real, close: Real, volume: Real, fastPeriod: number, slowPeriod: number): Line {
  const end = lastIndex(close);
  const start = Math.max(fastPeriod, slowPeriod) - 1;
  if (start > end) return noLine();
  const fastK = 2 / (fastPeriod + 1);
  const slowK = 2 / (slowPeriod + 1);
  const oneMinusFastK = 1.0 - fastK;
  const oneMinusSlowK = 1.0 - slowK;
  let today = 0;
  let line = 0.0;
  const next = () => {
    const range = high[today]! - low[today]!;
    if (range > 0.0) line += moneyFlowVolume(high[today]!, low[today]!, close[today]!, volume[today]!);
    today++;
  };
  next();
  let fast = line;
  let slow = line;
  while (today < start) {
    next();
    fast = fastK * line + oneMinusFastK * fast;
    slow = slowK * line + oneMinusSlowK * slow;
  }
  const out = new Float64Array(end - start + 1);
  for (let o = 0; today <= end; o++) {
    next();
    fast = fastK * line + oneMinusFastK * fast;
    slow = slowK * line + oneMinusSlowK * slow;
    out[o] = fast - slow;
  }
  return { begin: start, values: out };
}

/** On-balance volume over `input` (Alpha Vantage: the close), starting at the first bar's volume. */
export function obv(input: Real, volume: Real): Line {
  const out = new Float64Array(input.length);
  if (out.length === 0) return noLine();
  let balance = volume[0]!;
  let previous = input[0]!;
  for (let i = 0; i < out.length; i++) {
    const value = input[i]!;
    if (value > previous) balance += volume[i]!;
    else if (value < previous) balance -= volume[i]!;
    out[i] = balance;
    previous = value;
  }
  return { begin: 0, values: out };
}

/** Money flow index over the typical price, with TA-Lib's circular buffer of each bar's positive and negative flow. */
export function mfi(high: Real, low: Real, close: Real, volume: Real, period: number): Line {
  const end = lastIndex(close);
  const start = period;
  if (start > end) return noLine();
  const positive = new Float64Array(period);
  const negative = new Float64Array(period);
  let position = 0;
  let today = 0;
  let previous = (high[today]! + low[today]! + close[today]!) / 3.0;
  let positiveSum = 0.0;
  let negativeSum = 0.0;
  today++;
  const read = () => {
    let typical = (high[today]! + low[today]! + close[today]!) / 3.0;
    const change = typical - previous;
    previous = typical;
    typical *= volume[today++]!;
    positive[position] = change > 0 ? typical : 0.0;
    negative[position] = change < 0 ? typical : 0.0;
    if (change < 0) negativeSum += typical;
    else if (change > 0) positiveSum += typical;
  };
  const advance = () => (position = position + 1 === period ? 0 : position + 1);
  for (let i = period; i > 0; i--) {
    read();
    advance();
  }
  const out = new Float64Array(end - start + 1);
  // Less than one unit of money flow in the window is TA-Lib's "no flow": 0, not a ratio of near-zeros.
  const index = () => {
    const total = positiveSum + negativeSum;
    return total < 1.0 ? 0.0 : 100.0 * (positiveSum / total);
  };
  out[0] = index();
  let o = 1;
  while (today <= end) {
    positiveSum -= positive[position]!;
    negativeSum -= negative[position]!;
    read();
    out[o++] = index();
    advance();
  }
  return { begin: start, values: out };
}
