/**
 * Bands and ranges, ported from TA-Lib 0.4.0 (see output.ts): BBANDS,
 * MIDPOINT, TRANGE, ATR and NATR.
 */
import { ma, type MaType } from './moving-averages.js';
import { isZero, isZeroOrNegative, type Line, type Lines, noLine, noLines, type Real, trueRange } from './output.js';

const SMA: MaType = 0;
const lastIndex = (input: Real) => input.length - 1;

/** The population variance of each window of `period` from start (TA-Lib's INT_VAR). */
function variance(input: Real, period: number, start: number, end: number): Line {
  const lookback = period - 1;
  if (start < lookback) start = lookback;
  if (start > end) return noLine();
  let total1 = 0;
  let total2 = 0;
  let trailing = start - lookback;
  let i = trailing;
  if (period > 1) {
    while (i < start) {
      const value = input[i++]!;
      total1 += value;
      total2 += value * value;
    }
  }
  const out = new Float64Array(end - start + 1);
  let o = 0;
  do {
    const value = input[i++]!;
    total1 += value;
    total2 += value * value;
    const mean1 = total1 / period;
    const mean2 = total2 / period;
    const old = input[trailing++]!;
    total1 -= old;
    total2 -= old * old;
    out[o++] = mean2 - mean1 * mean1;
  } while (i <= end);
  return { begin: start, values: out };
}

/** The standard deviation around an SMA already computed (TA-Lib's INT_stddev_using_precalc_ma); 0 when the variance is not positive. */
function deviationAroundSma(input: Real, average: Line, period: number): Float64Array {
  const out = new Float64Array(average.values.length);
  let startSum = 1 + average.begin - period;
  let endSum = average.begin;
  let total2 = 0;
  for (let i = startSum; i < endSum; i++) total2 += input[i]! * input[i]!;
  for (let o = 0; o < out.length; o++, startSum++, endSum++) {
    let value = input[endSum]!;
    total2 += value * value;
    let mean2 = total2 / period;
    value = input[startSum]!;
    total2 -= value * value;
    value = average.values[o]!;
    mean2 -= value * value;
    out[o] = !isZeroOrNegative(mean2) ? Math.sqrt(mean2) : 0.0;
  }
  return out;
}

/** Bollinger Bands: upper, middle, lower (the middle a moving average of `type`, the width its population deviation). */
export function bbands(input: Real, period: number, deviationsUp: number, deviationsDown: number, type: MaType): Lines {
  const end = lastIndex(input);
  const middle = ma(input, period, type, 0, end);
  if (middle.values.length === 0) return noLines(3);
  let deviation: Float64Array;
  if (type === SMA) deviation = deviationAroundSma(input, middle, period);
  else deviation = variance(input, period, middle.begin, end).values.map((v) => (!isZeroOrNegative(v) ? Math.sqrt(v) : 0.0));
  const count = middle.values.length;
  const upper = new Float64Array(count);
  const lower = new Float64Array(count);
  const mid = middle.values;
  // TA-Lib's four cases, kept apart: each multiplies (or not) in its own order.
  for (let i = 0; i < count; i++) {
    const width = deviation[i]!;
    if (deviationsUp === deviationsDown) {
      const scaled = deviationsUp === 1.0 ? width : width * deviationsUp;
      upper[i] = mid[i]! + scaled;
      lower[i] = mid[i]! - scaled;
    } else {
      upper[i] = mid[i]! + (deviationsUp === 1.0 ? width : width * deviationsUp);
      lower[i] = mid[i]! - (deviationsDown === 1.0 ? width : width * deviationsDown);
    }
  }
  return { begin: middle.begin, lines: [upper, mid, lower] };
}

/** The midpoint of the highest and lowest value of each window. */
export function midpoint(input: Real, period: number): Line {
  const end = lastIndex(input);
  const start = period - 1;
  if (start > end) return noLine();
  const out = new Float64Array(end - start + 1);
  for (let today = start, trailing = 0, o = 0; today <= end; today++, o++) {
    let lowest = input[trailing++]!;
    let highest = lowest;
    for (let i = trailing; i <= today; i++) {
      const value = input[i]!;
      if (value < lowest) lowest = value;
      else if (value > highest) highest = value;
    }
    out[o] = (highest + lowest) / 2.0;
  }
  return { begin: start, values: out };
}

export function trange(high: Real, low: Real, close: Real): Line {
  const end = lastIndex(close);
  if (end < 1) return noLine();
  const out = new Float64Array(end);
  for (let today = 1; today <= end; today++) out[today - 1] = trueRange(high[today]!, low[today]!, close[today - 1]!);
  return { begin: 1, values: out };
}

/** Wilder's ATR, seeded by the SMA of the first `period` true ranges; `normalized` divides by the close, in percent (NATR). */
function averageTrueRange(high: Real, low: Real, close: Real, period: number, normalized: boolean): Line {
  const end = lastIndex(close);
  const start = period;
  if (start > end) return noLine();
  const ranges = trange(high, low, close).values;
  if (period <= 1) return { begin: 1, values: ranges };
  let sum = 0;
  for (let i = 0; i < period - 1; i++) sum += ranges[i]!;
  sum += ranges[period - 1]!;
  let average = sum / period;
  let today = period;
  const out = new Float64Array(end - start + 1);
  // NATR's close is today's bar; a zero close is 0 (TA-Lib 0.4.0 means to write 0 there, but writes it at index 0).
  const write = (o: number) => {
    if (!normalized) out[o] = average;
    else {
      const price = close[today]!;
      out[o] = !isZero(price) ? (average / price) * 100.0 : 0.0;
    }
  };
  write(0);
  for (let o = 1; o < out.length; o++) {
    average *= period - 1;
    average += ranges[today++]!;
    average /= period;
    write(o);
  }
  return { begin: start, values: out };
}

export const atr = (high: Real, low: Real, close: Real, period: number) => averageTrueRange(high, low, close, period, false);
export const natr = (high: Real, low: Real, close: Real, period: number) => averageTrueRange(high, low, close, period, true);
