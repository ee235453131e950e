/**
 * NYSE's trading calendar: which days are sessions, and so when a daily bar is
 * final and when it is worth asking upstream again.
 *
 * NYSE closes at 16:00 New York time (13:00 on its three early-close days);
 * providers publish the day's bar within the hour. A session's bar is treated
 * as final an hour after the close: from 17:00 New York time, from 14:00 on an
 * early-close day. Before that, the last *completed* session is the one to
 * serve, and re-fetching cannot give anything newer.
 *
 * Regular holidays are computed by NYSE Rule 7.2's rules for any year, so a
 * holiday is never mistaken for a session whose bar is missing. One-off
 * closures (national days of mourning, hurricanes) are not modelled: they
 * cannot be computed, and on such a day the store simply re-asks upstream once
 * per refresh interval.
 *
 * Dates are civil dates in New York, as 'YYYY-MM-DD' strings.
 */
const REGULAR_CLOSE_HOUR = 16;
const EARLY_CLOSE_HOUR = 13;
/**
 * Providers publish a session's bar within the hour after the close. The same
 * margin follows an early close: the session is as finished at 13:00 then as
 * it is at 16:00 on other days, so waiting until 17:00 would gain nothing.
 */
const PUBLISH_DELAY_HOURS = 1;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const SUNDAY = 0;
const MONDAY = 1;
const THURSDAY = 4;
const SATURDAY = 6;

const newYorkParts = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  hourCycle: 'h23',
});

function newYorkDateAndHour(now: Date): { date: string; hour: number } {
  const parts = Object.fromEntries(newYorkParts.formatToParts(now).map((p) => [p.type, p.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, hour: +parts.hour! };
}

/**
 * The instant a New York wall-clock hour occurs on a date. Meant for afternoon
 * hours, far from the 02:00 clock changes, where every hour exists once.
 */
function newYorkTime(date: string, hour: number): Date {
  const winterGuess = toUtcMidnight(date) + (hour + 5) * HOUR_MS; // EST is UTC−5
  const seen = newYorkDateAndHour(new Date(winterGuess)).hour; // hour + 1 under EDT
  return new Date(winterGuess - (seen - hour) * HOUR_MS);
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function toUtcMidnight(date: string): number {
  const match = ISO_DATE.exec(date);
  const time = match ? Date.UTC(+match[1]!, +match[2]! - 1, +match[3]!) : NaN;
  if (Number.isNaN(time)) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  return time;
}

const fromUtcMidnight = (time: number) => new Date(time).toISOString().slice(0, 10);

/** The UTC calendar day of an instant, YYYY-MM-DD. */
export const utcDay = (at: Date) => fromUtcMidnight(at.getTime());

/** Month is 1–12; day may overflow (32 January is 1 February), as Date.UTC allows. */
const civilDate = (year: number, month: number, day: number) => fromUtcMidnight(Date.UTC(year, month - 1, day));

/** A YYYY-MM-DD day `days` calendar days later (earlier when negative). */
export const addDays = (date: string, days: number) => fromUtcMidnight(toUtcMidnight(date) + days * DAY_MS);

const weekdayOf = (date: string) => new Date(toUtcMidnight(date)).getUTCDay();

/** The n-th (1-based) given weekday of a month: the 3rd Monday of January is nthWeekday(y, 1, MONDAY, 3). */
function nthWeekday(year: number, month: number, weekday: number, n: number): string {
  const first = civilDate(year, month, 1);
  return addDays(first, ((weekday - weekdayOf(first) + 7) % 7) + 7 * (n - 1));
}

function lastWeekday(year: number, month: number, weekday: number): string {
  const last = civilDate(year, month + 1, 0);
  return addDays(last, -((weekdayOf(last) - weekday + 7) % 7));
}

/** Easter Sunday by the Anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
function easterSunday(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return civilDate(year, month, day);
}

const thanksgiving = (year: number) => nthWeekday(year, 11, THURSDAY, 4);

/**
 * NYSE Rule 7.2: a holiday falling on a Saturday closes the exchange the Friday
 * before, one on a Sunday the Monday after.
 */
function observed(date: string): string {
  const weekday = weekdayOf(date);
  if (weekday === SATURDAY) return addDays(date, -1);
  if (weekday === SUNDAY) return addDays(date, 1);
  return date;
}

/**
 * Rule 7.2 keeps the exchange open on the Friday before a Saturday holiday
 * when "unusual business conditions exist, such as the ending of a monthly or
 * the yearly accounting period". For a Saturday New Year's Day that Friday is
 * 31 December, the year's last day, so no New Year's holiday is observed at
 * all (NYSE's calendars for 2022 and 2028 say so, citing Rule 7.2). No other
 * regular holiday's Friday can end a month.
 */
function newYearsDay(year: number): string | undefined {
  const date = civilDate(year, 1, 1);
  return weekdayOf(date) === SATURDAY ? undefined : observed(date);
}

export interface Holiday {
  date: string;
  name: string;
}

/**
 * NYSE's regular full-day closures in a year, as observed, in date order.
 * Rules as in force today; Martin Luther King Jr. Day counts from 1998 and
 * Juneteenth from 2022, when NYSE adopted them. Older rule changes and one-off
 * closures are not modelled.
 */
export function nyseHolidays(year: number): Holiday[] {
  const candidates: Array<[string | undefined, string]> = [
    [newYearsDay(year), "New Year's Day"],
    [year >= 1998 ? nthWeekday(year, 1, MONDAY, 3) : undefined, 'Martin Luther King Jr. Day'],
    [nthWeekday(year, 2, MONDAY, 3), "Washington's Birthday"],
    [addDays(easterSunday(year), -2), 'Good Friday'],
    [lastWeekday(year, 5, MONDAY), 'Memorial Day'],
    [year >= 2022 ? observed(civilDate(year, 6, 19)) : undefined, 'Juneteenth National Independence Day'],
    [observed(civilDate(year, 7, 4)), 'Independence Day'],
    [nthWeekday(year, 9, MONDAY, 1), 'Labor Day'],
    [thanksgiving(year), 'Thanksgiving Day'],
    [observed(civilDate(year, 12, 25)), 'Christmas Day'],
  ];
  return candidates.filter((c): c is [string, string] => c[0] !== undefined).map(([date, name]) => ({ date, name }));
}

// Asked on every request (through isRefreshDue): compute each year once. No
// holiday is observed outside its own year (the New Year exception above sees
// to that), so a date's own year is the only one to look in.
const holidayDatesByYear = new Map<number, ReadonlySet<string>>();

function holidayDates(year: number): ReadonlySet<string> {
  let dates = holidayDatesByYear.get(year);
  if (!dates) {
    dates = new Set(nyseHolidays(year).map((holiday) => holiday.date));
    holidayDatesByYear.set(year, dates);
  }
  return dates;
}

/** Whether NYSE holds a regular session on this date: a weekday that is not a holiday. */
export function isTradingDay(date: string): boolean {
  const weekday = weekdayOf(date);
  if (weekday === SATURDAY || weekday === SUNDAY) return false;
  return !holidayDates(+date.slice(0, 4)).has(date);
}

/** The last trading day strictly before `date`. */
export function previousTradingDay(date: string): string {
  let day = addDays(date, -1);
  while (!isTradingDay(day)) day = addDays(day, -1);
  return day;
}

/** The first trading day strictly after `date`. */
/**
 * How many sessions a store whose newest bar is of `latest` lacks up to `finalSession`, counting
 * `latest` itself (a refresh overlaps it, so a corrected bar is seen); at most `cap`.
 */
export function sessionsSince(latest: string, finalSession: string, cap: number): number {
  let sessions = 1;
  for (let day = latest; day < finalSession && sessions < cap; day = nextTradingDay(day)) sessions++;
  return sessions;
}

export function nextTradingDay(date: string): string {
  let day = addDays(date, 1);
  while (!isTradingDay(day)) day = addDays(day, 1);
  return day;
}

/**
 * NYSE closes at 13:00 on the day before Independence Day, the day after
 * Thanksgiving and Christmas Eve, when that day is a session at all (before a
 * Saturday holiday it is the observed holiday instead). So scheduled in every
 * year's published calendar since 2013, when the early close for a Thursday
 * 4 July moved from the Friday after to the Wednesday before.
 */
function isEarlyClose(date: string): boolean {
  const monthDay = date.slice(5);
  return monthDay === '07-03' || monthDay === '12-24' || date === addDays(thanksgiving(+date.slice(0, 4)), 1);
}

/** The hour (New York time) a session closes: 16, or 13 on an early-close day; undefined on a day without one. */
export function closingHour(date: string): number | undefined {
  if (!isTradingDay(date)) return undefined;
  return isEarlyClose(date) ? EARLY_CLOSE_HOUR : REGULAR_CLOSE_HOUR;
}

/** The latest trading day (YYYY-MM-DD) whose bar is final at `now`. */
export function latestFinalSession(now: Date): string {
  const { date, hour } = newYorkDateAndHour(now);
  const close = closingHour(date);
  return close !== undefined && hour >= close + PUBLISH_DELAY_HOURS ? date : previousTradingDay(date);
}

export interface SessionClose {
  /** The session, YYYY-MM-DD. */
  session: string;
  /** When it closes: 16:00 New York time, 13:00 on an early-close day. */
  closesAt: Date;
  /** When its bar becomes final, an hour after the close: from then latestFinalSession is this session. */
  finalAt: Date;
}

/**
 * The next session whose bar is not final yet at `now`: today's until its bar
 * is final, then the next trading day's. Between a close and its bar being
 * final, closesAt has already passed. For the after-close prefetch, which
 * waits for finalAt.
 */
export function nextSessionClose(now: Date): SessionClose {
  const session = nextTradingDay(latestFinalSession(now));
  const close = closingHour(session)!;
  return {
    session,
    closesAt: newYorkTime(session, close),
    finalAt: newYorkTime(session, close + PUBLISH_DELAY_HOURS),
  };
}

export interface RefreshState {
  /** Date of the newest stored bar, if any. */
  latestBarDate: string | undefined;
  /** When upstream was last asked (successfully or not), epoch ms. */
  lastAttemptAt: number | undefined;
}

/**
 * Ask upstream only when stored data may be behind the latest final session,
 * and never more often than once per refresh interval per symbol.
 */
export function isRefreshDue(state: RefreshState, now: Date, refreshIntervalMs: number): boolean {
  if (state.lastAttemptAt !== undefined && now.getTime() - state.lastAttemptAt < refreshIntervalMs) return false;
  return state.latestBarDate === undefined || state.latestBarDate < latestFinalSession(now);
}

/**
 * The same rule for data that bears no session dates of its own (splits and
 * dividends): an attempt at `lastAttemptAt` covered every session final by then.
 */
export function isRefreshDueSinceAttempt(lastAttemptAt: number | undefined, now: Date, refreshIntervalMs: number): boolean {
  const coveredThrough = lastAttemptAt === undefined ? undefined : latestFinalSession(new Date(lastAttemptAt));
  return isRefreshDue({ latestBarDate: coveredThrough, lastAttemptAt }, now, refreshIntervalMs);
}
