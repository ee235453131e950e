import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCountingReport } from '../../src/adapters/http/counting-report.js';

describe('a counting report (dropped apicalls.log lines, refused connections)', () => {
  beforeEach(() => void vi.useFakeTimers({ now: new Date('2026-11-23T15:00:00Z') }));
  afterEach(() => void vi.useRealTimers());

  it('when events keep coming, then the first is reported at once and the rest at most once per interval, none lost', async () => {
    const reports: { at: number; count: number }[] = [];
    const started = Date.now();
    const report = createCountingReport(5000, (count) => reports.push({ at: Date.now() - started, count }));

    report.add();
    await vi.advanceTimersByTimeAsync(0);
    expect(reports).toEqual([{ at: 0, count: 1 }]);

    // 300 events over 12 s, one every 40 ms.
    for (let i = 0; i < 300; i++) {
      await vi.advanceTimersByTimeAsync(40);
      report.add();
    }
    await vi.advanceTimersByTimeAsync(5000);
    expect(reports).toEqual([
      { at: 0, count: 1 },
      { at: 5000, count: 124 },
      { at: 10_000, count: 125 },
      { at: 15_000, count: 51 },
    ]);

    report.add(3);
    report.flush(); // on close: at once
    expect(reports.at(-1)).toEqual({ at: 17_000, count: 3 });
  });
});
