import { describe, expect, it } from 'vitest';
import {
  sessionsSince,
  closingHour,
  isRefreshDue,
  isTradingDay,
  latestFinalSession,
  nextSessionClose,
  nextTradingDay,
  nyseHolidays,
  previousTradingDay,
} from '../../src/domain/market-calendar.js';

// As NYSE Group published them (press releases of 27 Dec 2021, 8 Nov 2024 and
// 23 Dec 2025 announcing the 2022–2024, 2025–2027 and 2026–2028 calendars).
// 2022 and 2028 have no New Year's Day holiday: 1 January is a Saturday, and
// NYSE Rule 7.2 keeps the exchange open on 31 December.
const PUBLISHED_HOLIDAYS: Record<number, string[]> = {
  2022: ['01-17', '02-21', '04-15', '05-30', '06-20', '07-04', '09-05', '11-24', '12-26'],
  2023: ['01-02', '01-16', '02-20', '04-07', '05-29', '06-19', '07-04', '09-04', '11-23', '12-25'],
  2024: ['01-01', '01-15', '02-19', '03-29', '05-27', '06-19', '07-04', '09-02', '11-28', '12-25'],
  2025: ['01-01', '01-20', '02-17', '04-18', '05-26', '06-19', '07-04', '09-01', '11-27', '12-25'],
  2026: ['01-01', '01-19', '02-16', '04-03', '05-25', '06-19', '07-03', '09-07', '11-26', '12-25'],
  2027: ['01-01', '01-18', '02-15', '03-26', '05-31', '06-18', '07-05', '09-06', '11-25', '12-24'],
  2028: ['01-17', '02-21', '04-14', '05-29', '06-19', '07-04', '09-04', '11-23', '12-25'],
};

describe('NYSE holidays', () => {
  it.each(Object.entries(PUBLISHED_HOLIDAYS))('are computed for %s as NYSE published them', (year, days) => {
    expect(nyseHolidays(+year).map((holiday) => holiday.date)).toEqual(days.map((day) => `${year}-${day}`));
  });

  it('find Good Friday from Easter, in March or April', () => {
    const goodFriday = (year: number) => nyseHolidays(year).find((h) => h.name === 'Good Friday')?.date;
    expect(goodFriday(2024)).toBe('2024-03-29');
    expect(goodFriday(2025)).toBe('2025-04-18');
    expect(goodFriday(2026)).toBe('2026-04-03');
    // Easter's extremes: 22 March 2285 and 25 April 2038.
    expect(goodFriday(2285)).toBe('2285-03-20');
    expect(goodFriday(2038)).toBe('2038-04-23');
  });

  it('move a Saturday holiday to Friday and a Sunday one to Monday', () => {
    expect(isTradingDay('2026-07-03')).toBe(false); // Independence Day, Saturday 4 July
    expect(isTradingDay('2022-06-20')).toBe(false); // Juneteenth, Sunday 19 June
    expect(isTradingDay('2022-12-26')).toBe(false); // Christmas, Sunday 25 December
    expect(isTradingDay('2027-12-24')).toBe(false); // Christmas, Saturday 25 December
  });

  it('do not close the last day of the year for a Saturday New Year', () => {
    expect(isTradingDay('2021-12-31')).toBe(true);
    expect(isTradingDay('2027-12-31')).toBe(true);
    expect(nyseHolidays(2022).map((h) => h.name)).not.toContain("New Year's Day");
  });

  it('are each observed within their own year, where isTradingDay looks for them', () => {
    for (let year = 1998; year <= 2100; year++) {
      for (const { date } of nyseHolidays(year)) expect(date.slice(0, 4)).toBe(String(year));
    }
  });

  it('start Juneteenth in 2022: Friday 18 June 2021 was a session', () => {
    expect(isTradingDay('2021-06-18')).toBe(true);
    expect(nyseHolidays(2021)).toHaveLength(9);
  });

  it('leave ordinary weekdays and federal holidays NYSE trades through as sessions', () => {
    expect(isTradingDay('2026-11-23')).toBe(true); // a Monday
    expect(isTradingDay('2026-10-12')).toBe(true); // Columbus Day
    expect(isTradingDay('2026-11-11')).toBe(true); // Veterans Day
    expect(isTradingDay('2026-11-21')).toBe(false); // a Saturday
  });

  it('step over weekends and holidays to the neighbouring session', () => {
    expect(previousTradingDay('2026-04-06')).toBe('2026-04-02'); // Monday after Good Friday
    expect(nextTradingDay('2026-04-02')).toBe('2026-04-06');
    expect(previousTradingDay('2023-01-03')).toBe('2022-12-30'); // over Monday 2 January
    expect(nextTradingDay('2027-12-23')).toBe('2027-12-27'); // over Christmas observed on Friday
  });

  it('refuse a date that is not YYYY-MM-DD', () => {
    expect(() => isTradingDay('2026-7-3')).toThrow(RangeError);
    expect(() => isTradingDay('yesterday')).toThrow(RangeError);
  });
});

describe('closing hours', () => {
  // The early closes (13:00) NYSE published for 2022–2028, in the same releases.
  it.each([
    '2023-07-03', '2024-07-03', '2025-07-03', '2028-07-03', // day before Independence Day
    '2022-11-25', '2023-11-24', '2024-11-29', '2025-11-28', '2026-11-27', '2027-11-26', '2028-11-24', // day after Thanksgiving
    '2024-12-24', '2025-12-24', '2026-12-24', // Christmas Eve
  ])('close at 13:00 on %s', (date) => {
    expect(closingHour(date)).toBe(13);
  });

  it.each([
    '2026-07-02', // Thursday before Independence Day observed on Friday 3 July
    '2022-12-23', // Friday before Christmas observed on Monday 26 December
    '2027-12-23', // Thursday before Christmas observed on Friday 24 December
    '2028-12-22', // Friday before a Monday Christmas
    '2026-11-25', // Wednesday before Thanksgiving
    '2026-12-31',
  ])('close at 16:00 on %s', (date) => {
    expect(closingHour(date)).toBe(16);
  });

  it('do not exist on a day without a session', () => {
    expect(closingHour('2021-12-24')).toBeUndefined(); // Christmas observed on Christmas Eve
    expect(closingHour('2026-07-03')).toBeUndefined();
    expect(closingHour('2026-11-28')).toBeUndefined(); // Saturday
  });
});

describe('the latest final session', () => {
  it('is a session from 17:00 New York time, in winter and in summer', () => {
    // Winter (EST, UTC−5): 17:00 New York is 22:00 UTC.
    expect(latestFinalSession(new Date('2026-01-14T21:59:00Z'))).toBe('2026-01-13');
    expect(latestFinalSession(new Date('2026-01-14T22:00:00Z'))).toBe('2026-01-14');
    // Summer (EDT, UTC−4): 17:00 New York is 21:00 UTC.
    expect(latestFinalSession(new Date('2026-07-15T20:59:00Z'))).toBe('2026-07-14');
    expect(latestFinalSession(new Date('2026-07-15T21:00:00Z'))).toBe('2026-07-15');
  });

  it('moves its boundary on the first sessions after each clock change', () => {
    // Clocks go forward on Sunday 8 March 2026 and back on Sunday 1 November 2026.
    expect(latestFinalSession(new Date('2026-03-06T21:30:00Z'))).toBe('2026-03-05'); // Friday, still EST
    expect(latestFinalSession(new Date('2026-03-09T21:00:00Z'))).toBe('2026-03-09'); // Monday, EDT
    expect(latestFinalSession(new Date('2026-10-30T21:00:00Z'))).toBe('2026-10-30'); // Friday, still EDT
    expect(latestFinalSession(new Date('2026-11-02T21:30:00Z'))).toBe('2026-10-30'); // Monday, EST
  });

  it('stays on Friday over the weekend', () => {
    expect(latestFinalSession(new Date('2026-11-22T12:00:00Z'))).toBe('2026-11-20'); // Sunday
    expect(latestFinalSession(new Date('2026-11-23T12:00:00Z'))).toBe('2026-11-20'); // Monday morning
  });

  it('stays on the session before a holiday, all day and evening', () => {
    expect(latestFinalSession(new Date('2026-04-03T23:00:00Z'))).toBe('2026-04-02'); // Good Friday evening
    expect(latestFinalSession(new Date('2026-04-06T14:00:00Z'))).toBe('2026-04-02'); // Monday morning after
    expect(latestFinalSession(new Date('2026-01-19T23:00:00Z'))).toBe('2026-01-16'); // MLK Day evening
    expect(latestFinalSession(new Date('2026-11-26T23:00:00Z'))).toBe('2026-11-25'); // Thanksgiving evening
  });

  it('is final an hour after an early close, at 14:00 New York time', () => {
    // Day after Thanksgiving 2026 (EST): 14:00 New York is 19:00 UTC.
    expect(latestFinalSession(new Date('2026-11-27T18:59:00Z'))).toBe('2026-11-25');
    expect(latestFinalSession(new Date('2026-11-27T19:00:00Z'))).toBe('2026-11-27');
    // Day before Independence Day 2025 (EDT): 14:00 New York is 18:00 UTC.
    expect(latestFinalSession(new Date('2025-07-03T17:59:00Z'))).toBe('2025-07-02');
    expect(latestFinalSession(new Date('2025-07-03T18:00:00Z'))).toBe('2025-07-03');
  });

  it('counts 31 December as a session when New Year falls on a Saturday', () => {
    expect(latestFinalSession(new Date('2021-12-31T23:00:00Z'))).toBe('2021-12-31');
    expect(latestFinalSession(new Date('2022-01-03T12:00:00Z'))).toBe('2021-12-31');
  });
});

describe('the next session close', () => {
  const at = (iso: string) => nextSessionClose(new Date(iso));
  const instants = (close: ReturnType<typeof nextSessionClose>) => ({
    session: close.session,
    closesAt: close.closesAt.toISOString(),
    finalAt: close.finalAt.toISOString(),
  });

  it("is today's while today's bar is not final, even after the bell", () => {
    const today = { session: '2026-11-23', closesAt: '2026-11-23T21:00:00.000Z', finalAt: '2026-11-23T22:00:00.000Z' };
    expect(instants(at('2026-11-23T12:00:00Z'))).toEqual(today); // Monday 07:00 New York
    expect(instants(at('2026-11-23T21:30:00Z'))).toEqual(today); // 16:30: closed, not yet final
    expect(at('2026-11-23T22:00:00Z').session).toBe('2026-11-24');
  });

  it('skips holidays and weekends, and knows an early close', () => {
    // Wednesday evening before Thanksgiving: Friday closes at 13:00 EST.
    expect(instants(at('2026-11-25T23:00:00Z'))).toEqual({
      session: '2026-11-27',
      closesAt: '2026-11-27T18:00:00.000Z',
      finalAt: '2026-11-27T19:00:00.000Z',
    });
    // Thursday evening before Independence Day observed on Friday: Monday, 16:00 EDT.
    expect(instants(at('2026-07-02T22:00:00Z'))).toEqual({
      session: '2026-07-06',
      closesAt: '2026-07-06T20:00:00.000Z',
      finalAt: '2026-07-06T21:00:00.000Z',
    });
  });

  it('is the next bar to become final, at its finalAt, all year round', () => {
    // Every 7 hours: each hour of the day comes round, in both EST and EDT, in a fifth of the time.
    for (let time = Date.UTC(2026, 0, 1); time < Date.UTC(2027, 0, 1); time += 7 * 3_600_000) {
      const now = new Date(time);
      const { session, finalAt } = nextSessionClose(now);
      expect(finalAt.getTime()).toBeGreaterThan(time);
      // Nothing becomes final before finalAt, and this session does at finalAt.
      expect(latestFinalSession(new Date(finalAt.getTime() - 1))).toBe(latestFinalSession(now));
      expect(latestFinalSession(finalAt)).toBe(session);
    }
  });
});

describe('refresh policy', () => {
  const hour = 3_600_000;

  it('asks upstream only when stored data may be behind, at most once per interval', () => {
    const now = new Date('2026-11-23T23:00:00Z'); // Monday evening: Monday's bar is final
    expect(isRefreshDue({ latestBarDate: undefined, lastAttemptAt: undefined }, now, hour)).toBe(true);
    expect(isRefreshDue({ latestBarDate: '2026-11-23', lastAttemptAt: now.getTime() - 2 * hour }, now, hour)).toBe(false);
    expect(isRefreshDue({ latestBarDate: '2026-11-20', lastAttemptAt: now.getTime() - 2 * hour }, now, hour)).toBe(true);
    expect(isRefreshDue({ latestBarDate: '2026-11-20', lastAttemptAt: now.getTime() - hour / 2 }, now, hour)).toBe(false);
  });

  it('does not ask again on a holiday once the previous session is stored', () => {
    // Thanksgiving evening, the last attempt long ago: the Wednesday bar is all there is.
    const thanksgiving = new Date('2026-11-26T23:00:00Z');
    const lastAttemptAt = thanksgiving.getTime() - 24 * hour;
    expect(isRefreshDue({ latestBarDate: '2026-11-25', lastAttemptAt }, thanksgiving, hour)).toBe(false);
    // Independence Day observed on Friday 3 July 2026: Thursday's bar is the latest.
    const observedFriday = new Date('2026-07-03T22:00:00Z');
    expect(isRefreshDue({ latestBarDate: '2026-07-02', lastAttemptAt }, observedFriday, hour)).toBe(false);
  });

  it('asks on the session after a holiday once its bar is final', () => {
    const fridayEvening = new Date('2026-11-27T23:00:00Z');
    expect(isRefreshDue({ latestBarDate: '2026-11-25', lastAttemptAt: undefined }, fridayEvening, hour)).toBe(true);
  });
});

describe('sessions a store lacks', () => {
  it('counts the newest stored session and every trading day after it up to the final one, holidays and weekends skipped, at most the cap', () => {
    expect(sessionsSince('2026-11-30', '2026-11-30', 5000)).toBe(1);
    expect(sessionsSince('2026-11-30', '2026-12-01', 5000)).toBe(2);
    // Thanksgiving (Thursday 2026-11-26) and the weekend are no sessions.
    expect(sessionsSince('2026-11-25', '2026-11-30', 5000)).toBe(3);
    expect(sessionsSince('2000-01-03', '2026-11-30', 5000)).toBe(5000);
  });
});
