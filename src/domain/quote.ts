/**
 * Daily bars and the quote made from them: the seed's answer field for
 * field, with the day's change computed in decimal, never in floating point.
 */
import { ValidationError } from './errors.js';

/**
 * One trading day of a symbol. Prices are decimal strings exactly as the
 * provider gave them ("130.7900"), so nothing is lost to binary floating point.
 */
export interface DailyBar {
  date: string; // YYYY-MM-DD
  open: string;
  high: string;
  low: string;
  close: string;
  volume: number;
}

/** The seed's quote answer, field for field. */
export interface Quote {
  symbol: string;
  last_refreshed: string;
  close_value: string;
  open_value: string;
  high_value: string;
  low_value: string;
  variation_between_last_two_days: number;
}

// Checked before upper-casing: ſ, ı, ß and ﬁ upper-case to S, I, SS and FI, and would pass as other symbols.
const SYMBOL = /^[A-Za-z0-9][A-Za-z0-9.-]{0,14}$/;

/** Checks and upper-cases a symbol: ASCII letters, digits, '.' and '-', 1 to 15 characters. */
export function normalizeSymbol(raw: string): string {
  if (!SYMBOL.test(raw)) {
    throw new ValidationError('symbol', "must be 1 to 15 letters, digits, '.' or '-', starting with a letter or digit");
  }
  return raw.toUpperCase();
}

const DECIMAL = /^-?\d+(\.\d+)?$/;
/** The longest decimal the price store keeps (its varchar(32) columns): longer is refused here, on every engine alike. */
export const DECIMAL_MAX_CHARACTERS = 32;

/** A decimal number as text ("130.7900"), at most DECIMAL_MAX_CHARACTERS long. */
export function isDecimal(value: string): boolean {
  return value.length <= DECIMAL_MAX_CHARACTERS && DECIMAL.test(value);
}

/** a − b as a decimal string with the finer of the two scales: "130.7900" − "129.2200" is "1.5700". */
export function decimalDifference(a: string, b: string): string {
  const scale = Math.max(fractionDigits(a), fractionDigits(b));
  return formatScaled(toScaledInteger(a, scale) - toScaledInteger(b, scale), scale);
}

/** The move from the previous close to the latest, in decimal: what a day's quote reports beside its prices. */
export interface DailyChange {
  previousClose: string;
  /** close − previous close, at the prices' scale ("1.5700"). */
  change: string;
  /** change / previous close × 100, with PERCENT_DIGITS decimals, rounded half away from zero ("1.2150"). */
  changePercent: string;
}

/** Alpha Vantage's precision for a change in percent, which its clients parse. */
export const PERCENT_DIGITS = 4;

/**
 * The change of `latest` from `previous`. With no previous bar there is no
 * previous close: the change is 0, as for the quote's variation. A previous
 * close of 0 has no percent change; it is given as 0 rather than infinity.
 */
export function dailyChange(latest: DailyBar, previous: DailyBar | undefined): DailyChange {
  const previousClose = previous?.close ?? latest.close;
  const scale = Math.max(fractionDigits(latest.close), fractionDigits(previousClose));
  const change = toScaledInteger(latest.close, scale) - toScaledInteger(previousClose, scale);
  const base = toScaledInteger(previousClose, scale);
  return {
    previousClose,
    change: formatScaled(change, scale),
    changePercent: formatScaled(base === 0n ? 0n : roundedQuotient(change * 100n * 10n ** BigInt(PERCENT_DIGITS), base), PERCENT_DIGITS),
  };
}

/** n / d rounded half away from zero, on integers. */
function roundedQuotient(n: bigint, d: bigint): bigint {
  const negative = n < 0n !== d < 0n;
  const [absN, absD] = [n < 0n ? -n : n, d < 0n ? -d : d];
  const q = (2n * absN + absD) / (2n * absD);
  return negative ? -q : q;
}

function fractionDigits(value: string): number {
  return value.split('.')[1]?.length ?? 0;
}

function toScaledInteger(value: string, scale: number): bigint {
  const [whole = '0', fraction = ''] = value.split('.');
  const negative = whole.startsWith('-');
  const digits = BigInt(whole.replace('-', '') + fraction.padEnd(scale, '0'));
  return negative ? -digits : digits;
}

function formatScaled(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`;
}

/**
 * The quote of the latest bar, with the change from the previous close.
 * With one bar only, there is no previous close: the variation is 0.
 */
export function quoteFromBars(symbol: string, barsNewestFirst: DailyBar[]): Quote | undefined {
  const [latest, previous] = barsNewestFirst;
  if (!latest) return undefined;
  return {
    symbol,
    last_refreshed: latest.date,
    close_value: latest.close,
    open_value: latest.open,
    high_value: latest.high,
    low_value: latest.low,
    // The seed's number; the one day-change rule is dailyChange's (the gateway's GLOBAL_QUOTE says it in decimal).
    variation_between_last_two_days: Number(dailyChange(latest, previous).change),
  };
}

/** No market data is older: the oldest daily series (NYSE, CRSP) start in the 1920s. */
export const EARLIEST_BAR_DATE = '1900-01-01';
/** Above any share price on record (Berkshire Hathaway's A shares are below 10^6): a higher one is a unit or data error. */
export const PRICE_MAX = '1000000000';
/** Ten trillion shares in a day, past any stock's record by a factor of hundreds: more is a data error. */
export const VOLUME_MAX = 10_000_000_000_000;

/**
 * A bar is well-formed when its date is a real calendar day from
 * EARLIEST_BAR_DATE, its prices positive decimals up to PRICE_MAX with low and
 * high bounding open and close, and its volume a whole number up to
 * VOLUME_MAX. Vendors' bars and imported ones are checked alike. (Whether its
 * session is final depends on the clock: market-calendar.ts.)
 */
export function checkBar(bar: DailyBar): string | undefined {
  if (!isCalendarDate(bar.date)) return `date "${bar.date}" is not a YYYY-MM-DD calendar date`;
  if (bar.date < EARLIEST_BAR_DATE) return `date ${bar.date} is before ${EARLIEST_BAR_DATE}`;
  for (const field of ['open', 'high', 'low', 'close'] as const) {
    const value = bar[field];
    if (!isDecimal(value)) return `${field} "${value}" is not a decimal number of at most ${DECIMAL_MAX_CHARACTERS} characters`;
    if (!isPositive(value) || compareDecimals(value, PRICE_MAX) > 0) return `${field} "${value}" is not a price above 0 and at most ${PRICE_MAX}`;
  }
  if (compareDecimals(bar.high, bar.low) < 0) return `high ${bar.high} is below low ${bar.low}`;
  for (const field of ['open', 'close'] as const) {
    if (compareDecimals(bar.low, bar[field]) > 0) return `low ${bar.low} is above ${field} ${bar[field]}`;
    if (compareDecimals(bar.high, bar[field]) < 0) return `high ${bar.high} is below ${field} ${bar[field]}`;
  }
  if (!Number.isSafeInteger(bar.volume) || bar.volume < 0) return `volume "${bar.volume}" is not a whole number`;
  if (bar.volume > VOLUME_MAX) return `volume ${bar.volume} is more than ${VOLUME_MAX}`;
  return undefined;
}

function isPositive(decimal: string): boolean {
  return !decimal.startsWith('-') && /[1-9]/.test(decimal);
}

/** The sign of a − b, for decimal strings (exactly, on scaled integers). */
export function compareDecimals(a: string, b: string): number {
  const difference = decimalDifference(a, b);
  return difference.startsWith('-') ? -1 : /[1-9]/.test(difference) ? 1 : 0;
}

export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(value);
}
