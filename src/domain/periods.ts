/**
 * Weekly and monthly bars made from daily ones, as Alpha Vantage makes its
 * weekly and monthly series: one bar per calendar week (Monday to Sunday) or
 * month that has sessions, dated its last session, with the first session's
 * open, the highest high, the lowest low, the last close and the volumes
 * summed. The newest period may be partial (a week still under way), as
 * Alpha Vantage's is. Prices keep their text; nothing passes through a float.
 */
import { Decimal } from 'decimal.js';
import { compareDecimals, type DailyBar } from './quote.js';

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
