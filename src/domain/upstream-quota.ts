/**
 * A provider's quota and the fair share of it one client may spend: pure
 * rules, counted elsewhere (app/market-data/upstream-budget.ts).
 *
 * Both vendors reset their daily quota at 00:00 UTC (Twelve Data documents
 * it; Alpha Vantage documents none, and 00:00 UTC is what it is observed to
 * do), and count per-minute limits by the calendar minute.
 */
export type QuotaWindow = 'day' | 'minute';

const WINDOW_MS: Record<QuotaWindow, number> = { day: 86_400_000, minute: 60_000 };

/** Start (epoch ms) of the window holding `at`. */
export function windowStart(window: QuotaWindow, at: Date): number {
  return Math.floor(at.getTime() / WINDOW_MS[window]) * WINDOW_MS[window];
}

/** Whole seconds until the window holding `at` ends and its count starts again (at least 1). */
export function secondsUntilReset(window: QuotaWindow, at: Date): number {
  const end = windowStart(window, at) + WINDOW_MS[window];
  return Math.max(1, Math.ceil((end - at.getTime()) / 1000));
}

/**
 * The last call of a provider's day is kept for refreshes of stored symbols,
 * so a lookup of a new symbol needs at least this many calls left.
 */
export const CALLS_LEFT_FOR_A_LOOKUP = 2;

/**
 * How many lookups of new symbols one client may have made today through a
 * provider and still make one more: fewer than `share` of the calls the
 * provider has left today. Every client that has made none may make one
 * while the provider has two calls left.
 */
export function mayLookUp(lookupsToday: number, callsLeftToday: number, share: number): boolean {
  if (callsLeftToday < CALLS_LEFT_FOR_A_LOOKUP) return false;
  // Compared as integers (lookups × 10⁶ < share × 10⁶ × left) so 0.2 × 15 is 3, not 3.0000000000000004.
  return lookupsToday * 1_000_000 < Math.round(share * 1_000_000) * callsLeftToday;
}

/**
 * The same share of a provider's per-minute limit: fewer than `share` of the
 * calls it has left this minute. No call of a minute is kept for refreshes
 * (the next minute comes soon), so a limit of 1 a minute still serves lookups.
 */
export function mayLookUpThisMinute(lookupsThisMinute: number, callsLeftThisMinute: number, share: number): boolean {
  if (callsLeftThisMinute < 1) return false;
  return lookupsThisMinute * 1_000_000 < Math.round(share * 1_000_000) * callsLeftThisMinute;
}

/** How many more lookups the client could make today if nobody else called the provider meanwhile. */
export function lookupsLeft(lookupsToday: number, callsLeftToday: number, share: number): number {
  let more = 0;
  while (mayLookUp(lookupsToday + more, callsLeftToday - more, share)) more++;
  return more;
}
