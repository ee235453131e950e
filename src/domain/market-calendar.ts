/**
 * When is a daily bar final, and so when is it worth asking upstream again?
 *
 * US exchanges close at 16:00 New York time; providers publish the day's bar
 * within the hour. A day's bar is treated as final from 17:00 New York time on
 * a weekday. Before that, the last *completed* session is the one to serve, and
 * re-fetching cannot give anything newer. Exchange holidays are not modelled:
 * on a holiday the store simply re-asks once per refresh interval.
 */
const PUBLISH_HOUR_NEW_YORK = 17;

const newYorkParts = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  hourCycle: 'h23',
});

function newYorkDateAndHour(now: Date): { date: Date; hour: number } {
  const parts = Object.fromEntries(newYorkParts.formatToParts(now).map((p) => [p.type, p.value]));
  return { date: new Date(Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!)), hour: +parts.hour! };
}

const isWeekend = (day: Date) => day.getUTCDay() === 0 || day.getUTCDay() === 6;

/** The latest weekday (YYYY-MM-DD) whose bar is final at `now`. */
export function latestFinalSession(now: Date): string {
  const { date, hour } = newYorkDateAndHour(now);
  const day = new Date(date);
  if (hour < PUBLISH_HOUR_NEW_YORK) day.setUTCDate(day.getUTCDate() - 1);
  while (isWeekend(day)) day.setUTCDate(day.getUTCDate() - 1);
  return day.toISOString().slice(0, 10);
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
