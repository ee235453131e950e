/**
 * Moving averages, ported from TA-Lib 0.4.0 (see output.ts): SMA, EMA, WMA,
 * DEMA, TEMA, TRIMA, KAMA, T3, and MA, which picks one by Alpha Vantage's
 * `matype` number.
 */
import { type Line, noLine, type Real, isZero } from './output.js';

/** Alpha Vantage's (and TA-Lib's) moving-average types, by `matype`. MAMA (8) is not served. */
export const MA_TYPES = ['SMA', 'EMA', 'WMA', 'DEMA', 'TEMA', 'TRIMA', 'T3', 'KAMA'] as const;
export type MaType = number;

const lastIndex = (input: Real) => input.length - 1;

export function sma(input: Real, period: number, start = 0, end = lastIndex(input)): Line {
  const lookback = period - 1;
  if (start < lookback) start = lookback;
  if (start > end) return noLine();
  const out = new Float64Array(end - start + 1);
  let total = 0;
  let trailing = start - lookback;
  let i = trailing;
  if (period > 1) while (i < start) total += input[i++]!;
  let o = 0;
  do {
    total += input[i++]!;
    const sum = total;
    total -= input[trailing++]!;
    out[o++] = sum / period;
  } while (i <= end);
  return { begin: start, values: out };
}

/** TA-Lib's INT_EMA: seeded by the SMA of the `period` values before `start`'s lookback, then k-smoothed. */
export function ema(input: Real, period: number, start = 0, end = lastIndex(input), k = 2 / (period + 1)): Line {
  const lookback = period - 1;
  if (start < lookback) start = lookback;
  if (start > end) return noLine();
  let today = start - lookback;
  let seed = 0;
  for (let i = period; i-- > 0; ) seed += input[today++]!;
  let previous = seed / period;
  while (today <= start) previous = (input[today++]! - previous) * k + previous;
  const out = new Float64Array(end - start + 1);
  out[0] = previous;
  let o = 1;
  while (today <= end) {
    previous = (input[today++]! - previous) * k + previous;
    out[o++] = previous;
  }
  return { begin: start, values: out };
}

export function wma(input: Real, period: number, start = 0, end = lastIndex(input)): Line {
  const lookback = period - 1;
  if (start < lookback) start = lookback;
  if (start > end) return noLine();
  const divider = (period * (period + 1)) >> 1;
  const out = new Float64Array(end - start + 1);
  let trailing = start - lookback;
  let periodSum = 0;
  let periodSub = 0;
  let inIdx = trailing;
  let i = 1;
  while (inIdx < start) {
    const value = input[inIdx++]!;
    periodSub += value;
    periodSum += value * i;
    i++;
  }
  let trailingValue = 0;
  let o = 0;
  while (inIdx <= end) {
    const value = input[inIdx++]!;
    periodSub += value;
    periodSub -= trailingValue;
    periodSum += value * period;
    trailingValue = input[trailing++]!;
    out[o++] = periodSum / divider;
    periodSum -= periodSub;
  }
  return { begin: start, values: out };
}

export function dema(input: Real, period: number, start = 0, end = lastIndex(input)): Line {
  const emaLookback = period - 1;
  if (start < emaLookback * 2) start = emaLookback * 2;
  if (start > end) return noLine();
  const k = 2 / (period + 1);
  const first = ema(input, period, start - emaLookback, end, k);
  if (first.values.length === 0) return noLine();
  const second = ema(first.values, period, 0, first.values.length - 1, k);
  if (second.values.length === 0) return noLine();
  const out = new Float64Array(second.values.length);
  let firstIdx = second.begin;
  for (let o = 0; o < out.length; o++) out[o] = 2.0 * first.values[firstIdx++]! - second.values[o]!;
  return { begin: first.begin + second.begin, values: out };
}

export function tema(input: Real, period: number, start = 0, end = lastIndex(input)): Line {
  const emaLookback = period - 1;
  if (start < emaLookback * 3) start = emaLookback * 3;
  if (start > end) return noLine();
  const k = 2 / (period + 1);
  const first = ema(input, period, start - emaLookback * 2, end, k);
  if (first.values.length === 0) return noLine();
  const second = ema(first.values, period, 0, first.values.length - 1, k);
  if (second.values.length === 0) return noLine();
  const third = ema(second.values, period, 0, second.values.length - 1, k);
  if (third.values.length === 0) return noLine();
  let firstIdx = third.begin + second.begin;
  let secondIdx = third.begin;
  const begin = firstIdx + first.begin;
  const out = third.values;
  for (let o = 0; o < out.length; o++) out[o]! += 3.0 * first.values[firstIdx++]! - 3.0 * second.values[secondIdx++]!;
  return { begin, values: out };
}

export function trima(input: Real, period: number, start = 0, end = lastIndex(input)): Line {
  const lookback = period - 1;
  if (start < lookback) start = lookback;
  if (start > end) return noLine();
  const out = new Float64Array(end - start + 1);
  const odd = period % 2 === 1;
  const half = period >> 1;
  const factor = 1.0 / (odd ? (half + 1) * (half + 1) : half * (half + 1));
  let trailingIdx = start - lookback;
  let middleIdx = odd ? trailingIdx + half : trailingIdx + half - 1;
  let todayIdx = middleIdx + half;
  let numerator = 0;
  let numeratorSub = 0;
  for (let i = middleIdx; i >= trailingIdx; i--) {
    numeratorSub += input[i]!;
    numerator += numeratorSub;
  }
  let numeratorAdd = 0;
  middleIdx++;
  for (let i = middleIdx; i <= todayIdx; i++) {
    numeratorAdd += input[i]!;
    numerator += numeratorAdd;
  }
  let o = 0;
  let value = input[trailingIdx++]!;
  out[o++] = numerator * factor;
  todayIdx++;
  while (todayIdx <= end) {
    numerator -= numeratorSub;
    numeratorSub -= value;
    value = input[middleIdx++]!;
    numeratorSub += value;
    // The odd and even cases differ in this one order of operations, as in TA-Lib.
    if (odd) {
      numerator += numeratorAdd;
      numeratorAdd -= value;
    } else {
      numeratorAdd -= value;
      numerator += numeratorAdd;
    }
    value = input[todayIdx++]!;
    numeratorAdd += value;
    numerator += value;
    value = input[trailingIdx++]!;
    out[o++] = numerator * factor;
  }
  return { begin: start, values: out };
}

const KAMA_FASTEST = 2.0 / (30.0 + 1.0);
const KAMA_SPAN = 2.0 / (2.0 + 1.0) - KAMA_FASTEST;

export function kama(input: Real, period: number, start = 0, end = lastIndex(input)): Line {
  const lookback = period;
  if (start < lookback) start = lookback;
  if (start > end) return noLine();
  let sumROC1 = 0;
  let today = start - lookback;
  let trailingIdx = today;
  for (let i = period; i-- > 0; ) {
    let change = input[today++]!;
    change -= input[today]!;
    sumROC1 += Math.abs(change);
  }
  let previous = input[today - 1]!;
  // The efficiency ratio's smoothing constant; an unchanging window (sumROC1 zero) counts as fully efficient.
  const smoothing = (periodROC: number) => {
    const ratio = sumROC1 <= periodROC || isZero(sumROC1) ? 1.0 : Math.abs(periodROC / sumROC1);
    const constant = ratio * KAMA_SPAN + KAMA_FASTEST;
    return constant * constant;
  };
  let trailingValue = input[trailingIdx++]!;
  let constant = smoothing(input[today]! - trailingValue);
  previous = (input[today++]! - previous) * constant + previous;
  const step = () => {
    const current = input[today]!;
    const old = input[trailingIdx++]!;
    sumROC1 -= Math.abs(trailingValue - old);
    sumROC1 += Math.abs(current - input[today - 1]!);
    trailingValue = old;
    constant = smoothing(current - old);
    previous = (input[today++]! - previous) * constant + previous;
  };
  while (today <= start) step();
  const out = new Float64Array(end - start + 1);
  out[0] = previous;
  let o = 1;
  const begin = today - 1;
  while (today <= end) {
    step();
    out[o++] = previous;
  }
  return { begin, values: out };
}

/** T3 with TA-Lib's volume factor (0.7 unless given). */
export function t3(input: Real, period: number, start = 0, end = lastIndex(input), vFactor = 0.7): Line {
  const lookback = 6 * (period - 1);
  if (start <= lookback) start = lookback;
  if (start > end) return noLine();
  let today = start - lookback;
  const k = 2.0 / (period + 1.0);
  const oneMinusK = 1.0 - k;
  const e = [0, 0, 0, 0, 0, 0];
  // Each of the six EMAs is seeded by the average of its first `period` values, as TA-Lib does.
  let sum = input[today++]!;
  for (let i = period - 1; i > 0; i--) sum += input[today++]!;
  e[0] = sum / period;
  for (let level = 1; level < 6; level++) {
    sum = e[level - 1]!;
    for (let i = period - 1; i > 0; i--) {
      e[0] = k * input[today++]! + oneMinusK * e[0]!;
      for (let j = 1; j < level; j++) e[j] = k * e[j - 1]! + oneMinusK * e[j]!;
      sum += e[level - 1]!;
    }
    e[level] = sum / period;
  }
  const advance = () => {
    e[0] = k * input[today++]! + oneMinusK * e[0]!;
    for (let j = 1; j < 6; j++) e[j] = k * e[j - 1]! + oneMinusK * e[j]!;
  };
  while (today <= start) advance();
  const square = vFactor * vFactor;
  const c1 = -(square * vFactor);
  const c2 = 3.0 * (square - c1);
  const c3 = -6.0 * square - 3.0 * (vFactor - c1);
  const c4 = 1.0 + 3.0 * vFactor - c1 + 3.0 * square;
  const out = new Float64Array(end - start + 1);
  let o = 0;
  out[o++] = c1 * e[5]! + c2 * e[4]! + c3 * e[3]! + c4 * e[2]!;
  while (today <= end) {
    advance();
    out[o++] = c1 * e[5]! + c2 * e[4]! + c3 * e[3]! + c4 * e[2]!;
  }
  return { begin: start, values: out };
}

/** The first index of a moving average of `period` of type `type` (TA-Lib's TA_MA_Lookback). */
export function maLookback(period: number, type: MaType): number {
  if (period <= 1) return 0;
  switch (MA_TYPES[type]) {
    case 'DEMA':
      return 2 * (period - 1);
    case 'TEMA':
      return 3 * (period - 1);
    case 'T3':
      return 6 * (period - 1);
    case 'KAMA':
      return period;
    default:
      return period - 1;
  }
}

/** TA-Lib's TA_MA: the moving average of `type`; a period of 1 is the input itself. */
export function ma(input: Real, period: number, type: MaType, start = 0, end = lastIndex(input)): Line {
  if (period === 1) {
    if (start > end) return noLine();
    return { begin: start, values: Float64Array.from({ length: end - start + 1 }, (_, i) => input[start + i]!) };
  }
  switch (MA_TYPES[type]) {
    case 'SMA':
      return sma(input, period, start, end);
    case 'EMA':
      return ema(input, period, start, end);
    case 'WMA':
      return wma(input, period, start, end);
    case 'DEMA':
      return dema(input, period, start, end);
    case 'TEMA':
      return tema(input, period, start, end);
    case 'TRIMA':
      return trima(input, period, start, end);
    case 'KAMA':
      return kama(input, period, start, end);
    case 'T3':
      return t3(input, period, start, end);
    default:
      throw new RangeError(`moving average type ${type} is not served`);
  }
}
