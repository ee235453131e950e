/**
 * Momentum and trend oscillators, ported from TA-Lib 0.4.0 (see output.ts):
 * MACD, MACDEXT, STOCH, STOCHF, RSI, STOCHRSI, WILLR, ADX, ADXR, CCI, AROON,
 * AROONOSC, MOM and ROC. Every division is guarded as TA-Lib guards it, so a
 * flat series gives 0 (or TA-Lib's value), never NaN.
 */
import { ema, ma, maLookback, type MaType } from './moving-averages.js';
import { isZero, type Line, type Lines, noLine, noLines, type Real, trueRange } from './output.js';

const lastIndex = (input: Real) => input.length - 1;

/** TA-Lib's INT_MACD: EMAs seeded at the start's lookback, so the fast EMA's seed is the slow one's window end. */
export function macd(input: Real, fastPeriod: number, slowPeriod: number, signalPeriod: number): Lines {
  if (slowPeriod < fastPeriod) [fastPeriod, slowPeriod] = [slowPeriod, fastPeriod];
  const end = lastIndex(input);
  const signalLookback = signalPeriod - 1;
  const start = signalLookback + slowPeriod - 1;
  if (start > end) return noLines(3);
  const from = start - signalLookback;
  const slow = ema(input, slowPeriod, from, end, 2 / (slowPeriod + 1));
  const fast = ema(input, fastPeriod, from, end, 2 / (fastPeriod + 1));
  return macdLines(fast.values, slow.values, signalLookback, start, end, (diff) => ema(diff, signalPeriod, 0, diff.length - 1));
}

/** TA-Lib's MACDEXT: MACD with a moving average of any type for each line. */
export function macdext(
  input: Real,
  fastPeriod: number,
  fastType: MaType,
  slowPeriod: number,
  slowType: MaType,
  signalPeriod: number,
  signalType: MaType,
): Lines {
  if (slowPeriod < fastPeriod) {
    [fastPeriod, slowPeriod] = [slowPeriod, fastPeriod];
    [fastType, slowType] = [slowType, fastType];
  }
  const end = lastIndex(input);
  const largestLookback = Math.max(maLookback(fastPeriod, fastType), maLookback(slowPeriod, slowType));
  const signalLookback = maLookback(signalPeriod, signalType);
  const start = signalLookback + largestLookback;
  if (start > end) return noLines(3);
  const from = start - signalLookback;
  const slow = ma(input, slowPeriod, slowType, from, end);
  const fast = ma(input, fastPeriod, fastType, from, end);
  return macdLines(fast.values, slow.values, signalLookback, start, end, (diff) => ma(diff, signalPeriod, signalType, 0, diff.length - 1));
}

/** MACD's three lines from its fast and slow averages (both from start − signalLookback): line, signal, histogram. */
function macdLines(fast: Float64Array, slow: Float64Array, signalLookback: number, start: number, end: number, signalOf: (diff: Float64Array) => Line): Lines {
  const diff = new Float64Array(fast.length);
  for (let i = 0; i < diff.length; i++) diff[i] = fast[i]! - slow[i]!;
  const signal = signalOf(diff).values;
  const line = diff.slice(signalLookback, signalLookback + (end - start + 1)).subarray(0, signal.length);
  const histogram = new Float64Array(signal.length);
  for (let i = 0; i < signal.length; i++) histogram[i] = line[i]! - signal[i]!;
  return { begin: start, lines: [line, signal, histogram] };
}

/**
 * The raw %K of each bar from start: where the close sits in the range of the last `period` highs and lows,
 * 0 when the range is flat (TA-Lib's STOCH/STOCHF loop, with its incremental lowest and highest).
 */
function fastK(high: Real, low: Real, close: Real, period: number, start: number, end: number, lookbackTotal: number): Float64Array {
  let trailing = start - lookbackTotal;
  let today = trailing + period - 1;
  const out = new Float64Array(end - today + 1);
  let lowestIdx = -1;
  let highestIdx = -1;
  let lowest = 0;
  let highest = 0;
  let diff = 0;
  let o = 0;
  while (today <= end) {
    let value = low[today]!;
    if (lowestIdx < trailing) {
      lowestIdx = trailing;
      lowest = low[lowestIdx]!;
      for (let i = lowestIdx + 1; i <= today; i++) {
        value = low[i]!;
        if (value < lowest) {
          lowestIdx = i;
          lowest = value;
        }
      }
      diff = (highest - lowest) / 100.0;
    } else if (value <= lowest) {
      lowestIdx = today;
      lowest = value;
      diff = (highest - lowest) / 100.0;
    }
    value = high[today]!;
    if (highestIdx < trailing) {
      highestIdx = trailing;
      highest = high[highestIdx]!;
      for (let i = highestIdx + 1; i <= today; i++) {
        value = high[i]!;
        if (value > highest) {
          highestIdx = i;
          highest = value;
        }
      }
      diff = (highest - lowest) / 100.0;
    } else if (value >= highest) {
      highestIdx = today;
      highest = value;
      diff = (highest - lowest) / 100.0;
    }
    out[o++] = diff !== 0.0 ? (close[today]! - lowest) / diff : 0.0;
    trailing++;
    today++;
  }
  return out;
}

/** STOCH: slow %K (a moving average of %K) and slow %D (one of slow %K). */
export function stoch(high: Real, low: Real, close: Real, fastKPeriod: number, slowKPeriod: number, slowKType: MaType, slowDPeriod: number, slowDType: MaType): Lines {
  const end = lastIndex(close);
  const slowDLookback = maLookback(slowDPeriod, slowDType);
  const start = fastKPeriod - 1 + maLookback(slowKPeriod, slowKType) + slowDLookback;
  if (start > end) return noLines(2);
  const k = fastK(high, low, close, fastKPeriod, start, end, start);
  const slowK = ma(k, slowKPeriod, slowKType, 0, k.length - 1).values;
  if (slowK.length === 0) return noLines(2);
  const slowD = ma(slowK, slowDPeriod, slowDType, 0, slowK.length - 1).values;
  return { begin: start, lines: [slowK.slice(slowDLookback, slowDLookback + slowD.length), slowD] };
}

/** STOCHF: %K and fast %D (a moving average of %K). */
export function stochf(high: Real, low: Real, close: Real, fastKPeriod: number, fastDPeriod: number, fastDType: MaType): Lines {
  const end = lastIndex(close);
  const fastDLookback = maLookback(fastDPeriod, fastDType);
  const start = fastKPeriod - 1 + fastDLookback;
  if (start > end) return noLines(2);
  const k = fastK(high, low, close, fastKPeriod, start, end, start);
  const fastD = ma(k, fastDPeriod, fastDType, 0, k.length - 1).values;
  if (fastD.length === 0) return noLines(2);
  return { begin: start, lines: [k.slice(fastDLookback, fastDLookback + fastD.length), fastD] };
}

/** Wilder's RSI (TA-Lib's classic, not Metastock's): averages seeded over `period` changes from start's lookback. */
export function rsi(input: Real, period: number, start = 0, end = lastIndex(input)): Line {
  const lookback = period;
  if (start < lookback) start = lookback;
  if (start > end) return noLine();
  const out = new Float64Array(end - start + 1);
  let o = 0;
  let today = start - lookback;
  let previous = input[today]!;
  let gain = 0;
  let loss = 0;
  today++;
  for (let i = period; i > 0; i--) {
    const value = input[today++]!;
    const change = value - previous;
    previous = value;
    if (change < 0) loss -= change;
    else gain += change;
  }
  loss /= period;
  gain /= period;
  const write = () => {
    const total = gain + loss;
    out[o++] = !isZero(total) ? 100.0 * (gain / total) : 0.0;
  };
  // TA-Lib skips bars up to start here when start is past the lookback; with its seeding, `today` is already start + 1.
  write();
  while (today <= end) {
    const value = input[today++]!;
    const change = value - previous;
    previous = value;
    loss *= period - 1;
    gain *= period - 1;
    if (change < 0) loss -= change;
    else gain += change;
    loss /= period;
    gain /= period;
    write();
  }
  return { begin: start, values: out };
}

/** STOCHRSI: STOCHF over the RSI, the RSI seeded afresh at the stochastic's lookback as TA-Lib does. */
export function stochrsi(input: Real, period: number, fastKPeriod: number, fastDPeriod: number, fastDType: MaType): Lines {
  const end = lastIndex(input);
  const stochfLookback = fastKPeriod - 1 + maLookback(fastDPeriod, fastDType);
  const start = period + stochfLookback;
  if (start > end) return noLines(2);
  const strength = rsi(input, period, start - stochfLookback, end).values;
  if (strength.length === 0) return noLines(2);
  const { lines } = stochf(strength, strength, strength, fastKPeriod, fastDPeriod, fastDType);
  return { begin: start, lines };
}

/** Williams' %R: 0 to −100, 0 when the range is flat. */
export function willr(high: Real, low: Real, close: Real, period: number): Line {
  const end = lastIndex(close);
  const start = period - 1;
  if (start > end) return noLine();
  const out = new Float64Array(end - start + 1);
  let trailing = 0;
  let lowestIdx = -1;
  let highestIdx = -1;
  let lowest = 0;
  let highest = 0;
  let diff = 0;
  let o = 0;
  for (let today = start; today <= end; today++, trailing++) {
    let value = low[today]!;
    if (lowestIdx < trailing) {
      lowestIdx = trailing;
      lowest = low[lowestIdx]!;
      for (let i = lowestIdx + 1; i <= today; i++) {
        value = low[i]!;
        if (value < lowest) {
          lowestIdx = i;
          lowest = value;
        }
      }
      diff = (highest - lowest) / -100.0;
    } else if (value <= lowest) {
      lowestIdx = today;
      lowest = value;
      diff = (highest - lowest) / -100.0;
    }
    value = high[today]!;
    if (highestIdx < trailing) {
      highestIdx = trailing;
      highest = high[highestIdx]!;
      for (let i = highestIdx + 1; i <= today; i++) {
        value = high[i]!;
        if (value > highest) {
          highestIdx = i;
          highest = value;
        }
      }
      diff = (highest - lowest) / -100.0;
    } else if (value >= highest) {
      highestIdx = today;
      highest = value;
      diff = (highest - lowest) / -100.0;
    }
    out[o++] = diff !== 0.0 ? (highest - close[today]!) / diff : 0.0;
  }
  return { begin: start, values: out };
}

/** Wilder's ADX, from start's lookback (ADXR asks for it from an earlier start). */
export function adx(high: Real, low: Real, close: Real, period: number, start = 0, end = lastIndex(close)): Line {
  const lookback = 2 * period - 1;
  if (start < lookback) start = lookback;
  if (start > end) return noLine();
  let today = start - lookback;
  let previousHigh = high[today]!;
  let previousLow = low[today]!;
  let previousClose = close[today]!;
  let minusDM = 0;
  let plusDM = 0;
  let range = 0;
  // One bar's directional movement and true range, read into the running sums (smoothed when `smooth`).
  const read = (smooth: boolean) => {
    today++;
    let value = high[today]!;
    const diffP = value - previousHigh;
    previousHigh = value;
    value = low[today]!;
    const diffM = previousLow - value;
    previousLow = value;
    if (smooth) {
      minusDM -= minusDM / period;
      plusDM -= plusDM / period;
    }
    if (diffM > 0 && diffP < diffM) minusDM += diffM;
    else if (diffP > 0 && diffP > diffM) plusDM += diffP;
    const trueRangeToday = trueRange(previousHigh, previousLow, previousClose);
    range = smooth ? range - range / period + trueRangeToday : range + trueRangeToday;
    previousClose = close[today]!;
  };
  /** DX of the smoothed sums; undefined when the true range or the DIs sum to zero (TA-Lib then keeps the previous ADX). */
  const dx = (): number | undefined => {
    if (isZero(range)) return undefined;
    const minusDI = 100.0 * (minusDM / range);
    const plusDI = 100.0 * (plusDM / range);
    const sum = minusDI + plusDI;
    return isZero(sum) ? undefined : 100.0 * (Math.abs(minusDI - plusDI) / sum);
  };
  for (let i = period - 1; i-- > 0; ) read(false);
  let sumDX = 0;
  for (let i = period; i-- > 0; ) {
    read(true);
    sumDX += dx() ?? 0;
  }
  let previousADX = sumDX / period;
  const out = new Float64Array(end - start + 1);
  out[0] = previousADX;
  let o = 1;
  while (today < end) {
    read(true);
    const value = dx();
    if (value !== undefined) previousADX = (previousADX * (period - 1) + value) / period;
    out[o++] = previousADX;
  }
  return { begin: start, values: out };
}

/** ADXR: the average of today's ADX and the ADX of period − 1 bars before. */
export function adxr(high: Real, low: Real, close: Real, period: number): Line {
  const end = lastIndex(close);
  const start = period + (2 * period - 1) - 1;
  if (start > end) return noLine();
  const directional = adx(high, low, close, period, start - (period - 1), end).values;
  const out = new Float64Array(end - start + 1);
  for (let o = 0, i = period - 1, j = 0; o < out.length; o++) out[o] = (directional[i++]! + directional[j++]!) / 2.0;
  return { begin: start, values: out };
}

/** CCI over the typical price, with TA-Lib's circular buffer (its summing order, for its exact values). */
export function cci(high: Real, low: Real, close: Real, period: number): Line {
  const end = lastIndex(close);
  const start = period - 1;
  if (start > end) return noLine();
  const buffer = new Float64Array(period);
  let position = 0;
  let i = 0;
  while (i < start) {
    buffer[position] = (high[i]! + low[i]! + close[i]!) / 3;
    i++;
    position = position + 1 === period ? 0 : position + 1;
  }
  const out = new Float64Array(end - start + 1);
  let o = 0;
  do {
    const last = (high[i]! + low[i]! + close[i]!) / 3;
    buffer[position] = last;
    let average = 0;
    for (let j = 0; j < period; j++) average += buffer[j]!;
    average /= period;
    let deviation = 0;
    for (let j = 0; j < period; j++) deviation += Math.abs(buffer[j]! - average);
    const distance = last - average;
    out[o++] = distance !== 0.0 && deviation !== 0.0 ? distance / (0.015 * (deviation / period)) : 0.0;
    position = position + 1 === period ? 0 : position + 1;
    i++;
  } while (i <= end);
  return { begin: start, values: out };
}

/**
 * Aroon's bars since the highest high and the lowest low of the last period + 1 bars; ties go to the
 * latest bar (TA-Lib's `<=` and `>=`). Gives down, up and the oscillator (up − down).
 */
function aroonLines(high: Real, low: Real, period: number): Lines {
  const end = lastIndex(high);
  const start = period;
  if (start > end) return noLines(3);
  const count = end - start + 1;
  const down = new Float64Array(count);
  const up = new Float64Array(count);
  const oscillator = new Float64Array(count);
  const factor = 100.0 / period;
  let lowestIdx = -1;
  let highestIdx = -1;
  let lowest = 0;
  let highest = 0;
  for (let today = start, trailing = 0, o = 0; today <= end; today++, trailing++, o++) {
    let value = low[today]!;
    if (lowestIdx < trailing) {
      lowestIdx = trailing;
      lowest = low[lowestIdx]!;
      for (let i = lowestIdx + 1; i <= today; i++) {
        value = low[i]!;
        if (value <= lowest) {
          lowestIdx = i;
          lowest = value;
        }
      }
    } else if (value <= lowest) {
      lowestIdx = today;
      lowest = value;
    }
    value = high[today]!;
    if (highestIdx < trailing) {
      highestIdx = trailing;
      highest = high[highestIdx]!;
      for (let i = highestIdx + 1; i <= today; i++) {
        value = high[i]!;
        if (value >= highest) {
          highestIdx = i;
          highest = value;
        }
      }
    } else if (value >= highest) {
      highestIdx = today;
      highest = value;
    }
    up[o] = factor * (period - (today - highestIdx));
    down[o] = factor * (period - (today - lowestIdx));
    oscillator[o] = factor * (highestIdx - lowestIdx);
  }
  return { begin: start, lines: [down, up, oscillator] };
}

/** AROON: Aroon Down and Aroon Up. */
export function aroon(high: Real, low: Real, period: number): Lines {
  const { begin, lines } = aroonLines(high, low, period);
  return { begin, lines: [lines[0]!, lines[1]!] };
}

export function aroonosc(high: Real, low: Real, period: number): Line {
  const { begin, lines } = aroonLines(high, low, period);
  return { begin, values: lines[2]! };
}

export function mom(input: Real, period: number): Line {
  const end = lastIndex(input);
  if (period > end) return noLine();
  const out = new Float64Array(end - period + 1);
  for (let i = period, o = 0; i <= end; i++, o++) out[o] = input[i]! - input[i - period]!;
  return { begin: period, values: out };
}

/** ROC in percent; 0 where the earlier price is 0. */
export function roc(input: Real, period: number): Line {
  const end = lastIndex(input);
  if (period > end) return noLine();
  const out = new Float64Array(end - period + 1);
  for (let i = period, o = 0; i <= end; i++, o++) {
    const earlier = input[i - period]!;
    out[o] = earlier !== 0.0 ? (input[i]! / earlier - 1.0) * 100.0 : 0.0;
  }
  return { begin: period, values: out };
}
