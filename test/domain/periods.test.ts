import { describe, expect, it } from 'vitest';
import {
  adjustedPeriodBar,
  checkPeriodBar,
  dividendsByPeriod,
  isPeriodSeriesDue,
  mergePeriodSeries,
  type PeriodBar,
  periodBar,
  periodGroups,
  periodOf,
} from '../../src/domain/periods.js';

describe('periods', () => {
  it('when a date is placed, then its week is the Monday on or before it, across a year end, and its month its YYYY-MM', () => {
    expect(periodOf('2024-12-30', 'week')).toBe('2024-12-30'); // a Monday
    expect(periodOf('2025-01-03', 'week')).toBe('2024-12-30'); // that week's Friday, in the next year
    expect(periodOf('2025-01-05', 'week')).toBe('2024-12-30'); // its Sunday
    expect(periodOf('2025-01-06', 'week')).toBe('2025-01-06');
    expect(periodOf('2024-02-29', 'month')).toBe('2024-02');
  });

  it('when sessions are grouped, then each run of one period is one group, in order', () => {
    const dates = ['2024-12-27', '2024-12-30', '2024-12-31', '2025-01-02', '2025-01-06'].map((date) => ({ date }));
    expect(periodGroups(dates, 'week').map((group) => group.map((d) => d.date))).toEqual([['2024-12-27'], ['2024-12-30', '2024-12-31', '2025-01-02'], ['2025-01-06']]);
    expect(periodGroups(dates, 'month').map((group) => group.length)).toEqual([3, 2]);
    expect(periodGroups([], 'week')).toEqual([]);
  });

  it('when a period bar is made, then first open, highest high and lowest low compared as decimals, last close, volumes summed, dated its last session', () => {
    const bars = [
      { date: '2024-01-02', open: '9.5', high: '9.90', low: '9.1', close: '9.8', volume: 10 },
      { date: '2024-01-03', open: '9.8', high: '10.05', low: '9.05', close: '10.0', volume: 20 },
      { date: '2024-01-04', open: '10.0', high: '10.0500', low: '9.70', close: '9.9', volume: 9_000_000_000_000 },
    ];
    expect(periodBar(bars)).toEqual({ date: '2024-01-04', open: '9.5', high: '10.05', low: '9.05', close: '9.9', volume: 9_000_000_000_030 });
  });

  it('when dividends are summed by period, then in decimal with at least 4 decimals, more when an amount has more', () => {
    const sums = dividendsByPeriod([
      { exDate: '2024-01-02', amount: '0.1' },
      { exDate: '2024-01-05', amount: '0.2' },
      { exDate: '2024-02-05', amount: '0.12345' },
    ], 'month');
    expect([...sums]).toEqual([['2024-01', '0.3000'], ['2024-02', '0.12345']]);
  });
});

describe("a vendor's period bars beside those made from daily bars", () => {
  const dated = (...dates: string[]) => dates.map((date) => ({ date }));
  const merged = (vendor: { date: string }[], daily: { date: string }[], oldest: string | undefined, period: 'week' | 'month' = 'week') =>
    mergePeriodSeries(vendor, daily, oldest, period).map(({ from, bar }) => `${from} ${bar.date}`);

  it('when the oldest stored session is mid-week, then that week and the ones before it are the vendor\'s, the later ones the daily bars\'', () => {
    // Oldest session Wednesday 2024-01-10: its week (from Monday 8 January) is cut; the vendor's bar of it is whole.
    const vendor = dated('2023-12-29', '2024-01-05', '2024-01-12', '2024-01-19', '2024-01-22');
    const daily = dated('2024-01-12', '2024-01-19', '2024-01-22');
    expect(merged(vendor, daily, '2024-01-10')).toEqual(['vendor 2023-12-29', 'vendor 2024-01-05', 'vendor 2024-01-12', 'daily 2024-01-19', 'daily 2024-01-22']);
  });

  it("when the vendor's bar of the boundary period stops before the period's last stored session, then the daily bars make that period", () => {
    // Fetched on Tuesday of a week still under way; the store has its sessions through Thursday since.
    expect(merged(dated('2024-01-05', '2024-01-09'), dated('2024-01-11'), '2024-01-08')).toEqual(['vendor 2024-01-05', 'daily 2024-01-11']);
    expect(merged(dated('2024-01-05', '2024-01-11'), dated('2024-01-11'), '2024-01-08')).toEqual(['vendor 2024-01-05', 'vendor 2024-01-11']);
  });

  it('when the vendor has no bar of the boundary period, or no bars at all, then the daily bars make it; with no daily bar stored, the vendor makes all', () => {
    expect(merged(dated('2023-12-29'), dated('2024-01-12', '2024-01-19'), '2024-01-10')).toEqual(['vendor 2023-12-29', 'daily 2024-01-12', 'daily 2024-01-19']);
    expect(merged([], dated('2024-01-12'), '2024-01-10')).toEqual(['daily 2024-01-12']);
    expect(merged(dated('2023-12-29', '2024-01-05'), [], undefined)).toEqual(['vendor 2023-12-29', 'vendor 2024-01-05']);
  });

  it('when months are merged, then the boundary is the month of the oldest session', () => {
    expect(merged(dated('2023-12-29', '2024-01-31', '2024-02-29'), dated('2024-01-31', '2024-02-29'), '2024-01-17', 'month')).toEqual([
      'vendor 2023-12-29',
      'vendor 2024-01-31',
      'daily 2024-02-29',
    ]);
  });

  const VENDOR_WEEK: PeriodBar = { date: '2024-01-05', open: '98.0000', high: '102.0000', low: '97.0000', close: '100.0000', volume: 1000, adjustedClose: '95.0000', dividend: '0.0000' };

  it("when a vendor bar is adjusted, then its prices are scaled by adjusted close ÷ close to 6 decimals, its close is the vendor's adjusted close, and its volume is multiplied by the splits after it", () => {
    // 95 / 100 = 0.95: 98 → 93.1, 102 → 96.9, 97 → 92.15; a 2-for-1 split after the week doubles the volume, one before it does not.
    const splits = [{ date: '2023-06-01', factor: '3' }, { date: '2024-03-01', factor: '2' }];
    expect(adjustedPeriodBar(VENDOR_WEEK, splits)).toEqual({ date: '2024-01-05', open: '93.100000', high: '96.900000', low: '92.150000', close: '95.0000', volume: 2000 });
    const unadjusted = { ...VENDOR_WEEK, adjustedClose: '100.0000' };
    expect(adjustedPeriodBar(unadjusted, [])).toEqual({ date: '2024-01-05', open: '98.0000', high: '102.0000', low: '97.0000', close: '100.0000', volume: 1000 });
  });

  it('when a vendor bar is checked, then its bar, its adjusted close and its dividend must each be well-formed', () => {
    expect(checkPeriodBar(VENDOR_WEEK)).toBeUndefined();
    expect(checkPeriodBar({ ...VENDOR_WEEK, high: '96.0000' })).toMatch(/high 96.0000 is below/);
    expect(checkPeriodBar({ ...VENDOR_WEEK, adjustedClose: '0.0000' })).toMatch(/adjusted close "0.0000"/);
    expect(checkPeriodBar({ ...VENDOR_WEEK, adjustedClose: 'None' })).toMatch(/adjusted close "None"/);
    expect(checkPeriodBar({ ...VENDOR_WEEK, dividend: '-0.5000' })).toMatch(/dividend "-0.5000"/);
  });
});

describe("when a vendor's period series is asked again", () => {
  const HOUR = 3_600_000;
  // Tuesday 2024-01-09, 23:00 UTC (18:00 in New York): that session is final.
  const now = new Date('2024-01-09T23:00:00Z');
  const fetched = { at: now.getTime() - 2 * HOUR, through: '2024-01-05' };

  it('when it was never asked, then it is due; once asked, as traded, never again', () => {
    expect(isPeriodSeriesDue(undefined, undefined, now, HOUR)).toBe(true);
    expect(isPeriodSeriesDue(fetched, undefined, now, HOUR)).toBe(false);
  });

  it('when adjusted, then it is due once a split or dividend after its newest bar has a final session, and not within a refresh interval of the last ask', () => {
    expect(isPeriodSeriesDue(fetched, ['2023-11-09'], now, HOUR)).toBe(false); // older than the answer: in it already
    expect(isPeriodSeriesDue(fetched, ['2023-11-09', '2024-01-09'], now, HOUR)).toBe(true);
    expect(isPeriodSeriesDue(fetched, ['2024-01-10'], now, HOUR)).toBe(false); // announced, not yet ex
    expect(isPeriodSeriesDue(fetched, ['2024-01-09'], now, 3 * HOUR)).toBe(false);
  });
});
