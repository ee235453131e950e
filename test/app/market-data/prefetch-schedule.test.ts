import { describe, expect, it } from 'vitest';
import { nextRunInMs, type PrefetchOutcome } from '../../../src/app/market-data/prefetch.js';

const schedule = { delayMs: 60_000, retryMs: 300_000 };
const HOUR = 3_600_000;

describe('when the after-close prefetch runs next', () => {
  it('when a session was done on a Friday evening, then next on Monday after the bar is final, plus the delay', () => {
    const friday = new Date('2022-09-02T21:30:00Z'); // 17:30 New York; Monday 5 September is Labor Day
    const done: PrefetchOutcome = { kind: 'completed', session: '2022-09-02', refreshed: [] };
    // Tuesday 6 September, 17:00 New York (21:00 UTC), plus a minute.
    expect(friday.getTime() + nextRunInMs(done, friday, schedule)).toBe(Date.parse('2022-09-06T21:01:00Z'));
  });

  it('when an early close is next, then an hour after 13:00 New York', () => {
    const thanksgiving = new Date('2022-11-24T20:00:00Z');
    expect(thanksgiving.getTime() + nextRunInMs({ kind: 'not_due', session: '2022-11-23' }, thanksgiving, schedule)).toBe(Date.parse('2022-11-25T19:01:00Z'));
  });

  it('when another instance holds the lease or the service just started, then again after the retry interval', () => {
    const evening = new Date('2022-08-03T21:30:00Z');
    expect(nextRunInMs({ kind: 'busy', session: '2022-08-03' }, evening, schedule)).toBe(300_000);
    expect(nextRunInMs(undefined, evening, schedule)).toBe(300_000);
  });

  it('when the budget stopped the run, then when its window resets, never past the next session', () => {
    const evening = new Date('2022-08-03T21:30:00Z');
    const paused = (retryAfterSeconds: number): PrefetchOutcome => ({ kind: 'paused', session: '2022-08-03', refreshed: [], reason: 'budget', retryAfterSeconds });
    expect(nextRunInMs(paused(9_000), evening, schedule)).toBe(9_000_000); // 00:00 UTC, when the day's quota resets
    expect(nextRunInMs(paused(200_000), evening, schedule)).toBe(23.5 * HOUR + 60_000);
  });

  it('when a run is due shortly before the next bar is final, then the retry waits no longer than that', () => {
    const before = new Date('2022-08-03T20:58:00Z');
    expect(nextRunInMs({ kind: 'busy', session: '2022-08-02' }, before, schedule)).toBe(3 * 60_000);
  });
});
