/**
 * What every indicator function returns, as TA-Lib does: the index of the
 * first bar that has a value (its lookback, when computed from the first bar)
 * and one value per bar from there to the last, per output line.
 *
 * The functions are ports of TA-Lib 0.4.0's C code, operation for operation,
 * in float64 as TA-Lib computes in double, so that they give TA-Lib's numbers
 * to the last bit or so. They take `start` and `end` (inclusive) as TA-Lib
 * does where another indicator calls them on part of a series: TA-Lib seeds
 * an EMA, an RSI or an ADX at `start` minus its lookback, not at the first
 * bar, and MACD, MACDEXT, STOCHRSI, ADXR and BBANDS rely on that.
 */

/** Values read by index: a Float64Array or a plain array of numbers. */
export type Real = ArrayLike<number>;

export interface Line {
  /** The input index of values[0]. */
  begin: number;
  values: Float64Array;
}

export interface Lines {
  begin: number;
  /** Each as long as the others, in the indicator's output order. */
  lines: Float64Array[];
}

export const noLine = (): Line => ({ begin: 0, values: new Float64Array(0) });
export const noLines = (count: number): Lines => ({ begin: 0, lines: Array.from({ length: count }, () => new Float64Array(0)) });
export const lines = (line: Line): Lines => ({ begin: line.begin, lines: [line.values] });

/** TA-Lib's TA_IS_ZERO: the threshold below which it treats a divisor as zero. */
export const isZero = (v: number) => -0.00000001 < v && v < 0.00000001;
/** TA-Lib's TA_IS_ZERO_OR_NEG. */
export const isZeroOrNegative = (v: number) => v < 0.00000001;

/** The greatest of today's range and the distances from yesterday's close (TA-Lib's TRUE_RANGE macro). */
export function trueRange(high: number, low: number, previousClose: number): number {
  let range = high - low;
  const fromHigh = Math.abs(high - previousClose);
  if (fromHigh > range) range = fromHigh;
  const fromLow = Math.abs(low - previousClose);
  if (fromLow > range) range = fromLow;
  return range;
}
