/**
 * Numbers as a market site shows them. The API sends prices and money as decimal strings with 4
 * decimals ("130.7900"); the page shows 2 ("130.79"), grouped ("2,753.94"), as Twelve Data and
 * Ghostfolio do. Intl.NumberFormat rounds a decimal *string* exactly (half away from zero, on the
 * decimal digits, not on a binary float), so "130.785" is "130.79" as a person expects.
 * One locale (en-US) everywhere, beside ISO dates (YYYY-MM-DD, as the API writes them).
 */
const LOCALE = 'en-US';

const twoDecimals = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
/** Below 1 a market shows 4 decimals (a 0.0412 share is not "0.04"). */
const fourDecimals = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 4, maximumFractionDigits: 4 });
const whole = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(LOCALE, { notation: 'compact', maximumFractionDigits: 2 });
const shares = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 6 });

/** TypeScript's lib types `format` as taking a number; the engine (ES2023 Intl.NumberFormat v3) takes a decimal string exactly. */
type DecimalFormat = { format(value: string | number): string };
const exact = (format: Intl.NumberFormat) => format as unknown as DecimalFormat;

/** A price: "130.7900" → "130.79"; "0.0412" → "0.0412". */
export function formatPrice(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const magnitude = Math.abs(Number(value));
  return exact(magnitude !== 0 && magnitude < 1 ? fourDecimals : twoDecimals).format(value);
}

/** Money (a value, a cost, a P/L): two decimals, grouped. */
export function formatMoney(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  return exact(twoDecimals).format(value);
}

/** A signed amount as a market writes a change: "+1.25", "−0.40" (a true minus sign), "0.00". */
export function formatSigned(value: string | number, format: (v: string | number) => string = formatMoney, suffix = ''): string {
  const text = format(value);
  const zero = /^[0.,]+$/.test(text);
  if (zero) return `${text}${suffix}`;
  return Number(value) < 0 ? `−${text.replace('-', '')}${suffix}` : `+${text}${suffix}`;
}

/** A percentage the API sends as a decimal string ("-28.6174") or the page computed: two decimals. */
export function formatPercent(value: string | number): string {
  return exact(twoDecimals).format(value);
}

/** Volume in full, grouped: 4,236,283. */
export function formatVolume(value: number): string {
  return whole.format(value);
}

/** Volume short, for a chart's axis or a narrow column: 4.24M. */
export function formatCompact(value: number): string {
  return compact.format(value);
}

export function formatShares(value: number): string {
  return shares.format(value);
}

/**
 * The day's change in percent of the previous close. The quote carries the change (close − previous
 * close) and the close, so the previous close is their difference. Only for display, rounded to 2
 * decimals: the float error of this division is far below that.
 */
export function percentChange(close: string, change: number): number | null {
  const previous = Number(close) - change;
  return previous > 0 ? (change / previous) * 100 : null;
}

/** A Unix time in seconds (uPlot's x) as the API's date: YYYY-MM-DD (UTC). */
export function isoDate(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}
