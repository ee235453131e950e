/**
 * Weekly and monthly bars made from daily ones, as Alpha Vantage makes its
 * weekly and monthly series: one bar per calendar week (Monday to Sunday) or
 * month that has sessions, dated its last session, with the first session's
 * open, the highest high, the lowest low, the last close and the volumes
 * summed. The newest period may be partial (a week still under way), as
 * Alpha Vantage's is. Prices keep their text; nothing passes through a float.
 *
 * Also the vendors' own period bars (Alpha Vantage's weekly and monthly series
 * reach back 20 years and more, its free daily series 100 sessions): how they
 * are checked, merged with the periods made from daily bars, adjusted, and
 * when they are asked again.
 */
import { Decimal } from 'decimal.js';
import { MIN_ADJUSTED_DECIMALS, type Split } from './corporate-actions.js';
import { latestFinalSession } from './market-calendar.js';
import { checkBar, compareDecimals, type DailyBar, isDecimal, PRICE_MAX } from './quote.js';

export type Period = 'week' | 'month';

const DAY_MS = 86_400_000;

/** The period a session belongs to: its month ("2024-01"), or the Monday of its week. */
export function periodOf(date: string, period: Period): string {
  if (period === 'month') return date.slice(0, 7);
  const day = Date.parse(`${date}T00:00:00Z`);
  const sinceMonday = (new Date(day).getUTCDay() + 6) % 7;
  return new Date(day - sinceMonday * DAY_MS).toISOString().slice(0, 10);
}

/** Consecutive runs of `ascending` (by date) that fall in one period each, oldest first. */
export function periodGroups<T extends { date: string }>(ascending: readonly T[], period: Period): T[][] {
  const groups: T[][] = [];
  let current: string | undefined;
  for (const item of ascending) {
    const key = periodOf(item.date, period);
    if (key !== current) {
      groups.push([]);
      current = key;
    }
    groups[groups.length - 1]!.push(item);
  }
  return groups;
}

/** One period's bar from its sessions (ascending, at least one). */
export function periodBar(sessions: readonly DailyBar[]): DailyBar {
  const first = sessions[0]!;
  const last = sessions[sessions.length - 1]!;
  let { high, low } = first;
  let volume = 0;
  for (const bar of sessions) {
    if (compareDecimals(bar.high, high) > 0) high = bar.high;
    if (compareDecimals(bar.low, low) < 0) low = bar.low;
    volume += bar.volume;
  }
  return { date: last.date, open: first.open, high, low, close: last.close, volume };
}

/**
 * The cash dividends that went ex in each period, summed, by the period's key (periodOf), written with at
 * least 4 decimals as Alpha Vantage writes its dividend amount; a period with none is absent.
 */
export function dividendsByPeriod(dividends: readonly { exDate: string; amount: string }[], period: Period): Map<string, string> {
  const sums = new Map<string, { total: Decimal; decimals: number }>();
  for (const { exDate, amount } of dividends) {
    const key = periodOf(exDate, period);
    const sum = sums.get(key) ?? { total: new Decimal(0), decimals: 4 };
    sums.set(key, { total: sum.total.plus(amount), decimals: Math.max(sum.decimals, amount.split('.')[1]?.length ?? 0) });
  }
  return new Map([...sums].map(([key, { total, decimals }]) => [key, total.toFixed(decimals)]));
}

/**
 * A weekly or monthly bar as a vendor gives it (Alpha Vantage's TIME_SERIES_WEEKLY_ADJUSTED and
 * _MONTHLY_ADJUSTED): the period as traded, the vendor's adjusted close for it (split and dividend
 * adjusted as of the vendor's answer), and the cash dividends that went ex in it ("0.0000" for none).
 */
export interface PeriodBar extends DailyBar {
  adjustedClose: string;
  dividend: string;
}

/**
 * A vendor's period bar is well-formed when its bar is (checkBar), its adjusted close is a price as any
 * other, and its dividend a decimal from 0 to PRICE_MAX: vendors' period bars are checked as their daily
 * bars are, before they are stored and served to every client.
 */
export function checkPeriodBar(bar: PeriodBar): string | undefined {
  const problem = checkBar(bar);
  if (problem) return problem;
  if (!isDecimal(bar.adjustedClose) || compareDecimals(bar.adjustedClose, '0') <= 0 || compareDecimals(bar.adjustedClose, PRICE_MAX) > 0) {
    return `adjusted close "${bar.adjustedClose}" is not a price above 0 and at most ${PRICE_MAX}`;
  }
  if (!isDecimal(bar.dividend) || compareDecimals(bar.dividend, '0') < 0 || compareDecimals(bar.dividend, PRICE_MAX) > 0) {
    return `dividend "${bar.dividend}" is not an amount from 0 to ${PRICE_MAX}`;
  }
  return undefined;
}

/** Each bar of a merged series, and where it comes from: the vendor's period series, or the daily bars. */
export type MergedPeriod<V, D> = { from: 'vendor'; bar: V } | { from: 'daily'; bar: D };

/**
 * A weekly or monthly series from two sources, oldest first. The daily bars make every period after
 * the one of the oldest stored session (`oldestSession`); the vendor's period bars give that period
 * and the ones before it, which the daily bars do not reach or reach only in part (a compact daily
 * series starts mid-week). At that boundary the vendor's bar is taken only when it reaches the
 * period's last stored session: a vendor bar of a period still under way when it was fetched is
 * older than the daily bars since. Both lists are ascending, one bar per period each.
 */
export function mergePeriodSeries<V extends { date: string }, D extends { date: string }>(
  vendorAscending: readonly V[],
  dailyAscending: readonly D[],
  oldestSession: string | undefined,
  period: Period,
): MergedPeriod<V, D>[] {
  const vendor = (bar: V): MergedPeriod<V, D> => ({ from: 'vendor', bar });
  const daily = (bar: D): MergedPeriod<V, D> => ({ from: 'daily', bar });
  // No daily bar stored: the vendor's series is all there is.
  if (oldestSession === undefined) return vendorAscending.map(vendor);
  const boundary = periodOf(oldestSession, period);
  const atBoundary = <T extends { date: string }>(bars: readonly T[]) => bars.find((bar) => periodOf(bar.date, period) === boundary);
  const vendorAtBoundary = atBoundary(vendorAscending);
  const dailyAtBoundary = atBoundary(dailyAscending);
  const vendorHasBoundary = vendorAtBoundary !== undefined && (dailyAtBoundary === undefined || vendorAtBoundary.date >= dailyAtBoundary.date);
  const older = vendorAscending.filter((bar) => {
    const key = periodOf(bar.date, period);
    return key < boundary || (key === boundary && vendorHasBoundary);
  });
  const newer = dailyAscending.filter((bar) => {
    const key = periodOf(bar.date, period);
    return key > boundary || (key === boundary && !vendorHasBoundary);
  });
  return [...older.map(vendor), ...newer.map(daily)];
}

// Forty digits, rounding half-up, as domain/corporate-actions.ts adjusts: one rule for every adjusted price.
const Exact = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });

/**
 * A vendor's period bar adjusted as the vendor's adjusted close says: each price scaled by adjusted
 * close ÷ close (the close becomes the adjusted close exactly as the vendor wrote it), rounded half-up
 * to its own decimals or MIN_ADJUSTED_DECIMALS, whichever is more, as adjustBars rounds; the volume
 * multiplied by the stored splits after the period, as adjustBars multiplies a daily volume (the
 * vendor's adjusted close cannot tell a split's share of it from a dividend's). A bar whose adjusted
 * close is its close, with no split after it, is returned as given.
 */
export function adjustedPeriodBar(bar: PeriodBar, splits: readonly Split[]): DailyBar {
  const factor = new Exact(bar.adjustedClose).div(bar.close);
  const price = (value: string) => (factor.eq(1) ? value : new Exact(value).times(factor).toFixed(Math.max(MIN_ADJUSTED_DECIMALS, decimalsOf(value))));
  const volumeFactor = splits.filter((split) => split.date > bar.date).reduce((product, split) => product.times(split.factor), new Exact(1));
  return {
    date: bar.date,
    open: price(bar.open),
    high: price(bar.high),
    low: price(bar.low),
    close: bar.adjustedClose,
    volume: volumeFactor.eq(1) ? bar.volume : new Exact(bar.volume).times(volumeFactor).toDecimalPlaces(0).toNumber(),
  };
}

function decimalsOf(value: string): number {
  return value.split('.')[1]?.length ?? 0;
}

/** The last time a symbol's vendor period series was asked, and the newest bar its answer had. */
export interface PeriodSeriesFetch {
  /** Epoch ms. */
  at: number;
  /** YYYY-MM-DD: the newest bar of the answer, or the day it was asked when it had none. */
  through: string;
}

/**
 * Whether a symbol's vendor period series is to be asked (again). Once asked, its bars of past periods
 * as traded never change, so it is asked again only for adjusted prices, and only when a stored split
 * or dividend took effect after the newest bar the answer had (`through`) and its session is final by
 * now: the vendor's adjusted closes of every period before it changed then. (A split or dividend older
 * than the answer, even one stored since, is already in it.) At most once per refresh interval, so a
 * vendor slow to apply an action is not asked on every request.
 */
export function isPeriodSeriesDue(
  last: PeriodSeriesFetch | undefined,
  actionDates: readonly string[] | undefined,
  now: Date,
  refreshIntervalMs: number,
): boolean {
  if (last === undefined) return true;
  if (actionDates === undefined || now.getTime() - last.at < refreshIntervalMs) return false;
  const finalSession = latestFinalSession(now);
  return actionDates.some((date) => date > last.through && date <= finalSession);
}
