import { describe, expect, it } from 'vitest';
import { dividendsByPeriod, periodBar, periodGroups, periodOf } from '../../src/domain/periods.js';

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
