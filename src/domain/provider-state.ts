/**
 * A market-data provider's state as /api/v1/providers/ reports it, and the
 * share of requests the price store saved: pure rules over quota counts, the
 * outcomes of the provider's last calls and the time.
 */
import { windowStart } from './upstream-quota.js';

/** What a call to a provider came to. Budget refusals are not calls: nothing was asked. */
export type CallOutcome = 'answered' | 'unknown_symbol' | 'rate_limited' | 'unavailable';

/** What the last calls to a provider said. */
export interface CallRecord {
  /** When the current run of failed calls began; undefined once a call is answered. */
  failingSince?: Date;
  /** The last failure's kind ('unavailable'), never the vendor's text: that might quote a key. */
  lastError?: string;
  /** Until when the vendor itself refuses calls (its rate limit, as it announced it). */
  refusedUntil?: Date;
}

/** A provider's calls in its quota windows; a limit of 0 is no limit. */
export interface QuotaCounts {
  callsToday: number;
  dailyLimit: number;
  callsThisMinute: number;
  minuteLimit: number;
}

export type ProviderState =
  | { state: 'ok' }
  | { state: 'rate_limited'; until: Date }
  | { state: 'failing'; since: Date; lastError: string };

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/**
 * The record after a call's outcome. An answer — data, or "no such symbol",
 * which is the vendor working — ends a failing run and any refusal; a
 * refusal says nothing about whether data would come, so it leaves a failing
 * run as it was.
 */
export function recordOutcome(record: CallRecord, outcome: CallOutcome, at: Date, retryAfterSeconds = 60): CallRecord {
  switch (outcome) {
    case 'answered':
    case 'unknown_symbol':
      return {};
    case 'rate_limited':
      return { ...record, refusedUntil: new Date(at.getTime() + retryAfterSeconds * 1000) };
    case 'unavailable':
      return { ...record, failingSince: record.failingSince ?? at, lastError: outcome };
  }
}

/**
 * `rate_limited` while a quota window is spent (our count, shared by every
 * instance) or the vendor's refusal lasts, until the last of them ends: the
 * provider is not called before then. Otherwise `failing` while its last
 * call failed, since the first failure of the run. Otherwise `ok`.
 * Rate limited comes first because it says when the provider returns;
 * `counts` is undefined for a provider without a quota (the sandbox).
 */
export function providerState(counts: QuotaCounts | undefined, record: CallRecord, at: Date): ProviderState {
  const ends: number[] = [];
  if (counts && counts.dailyLimit > 0 && counts.callsToday >= counts.dailyLimit) ends.push(windowStart('day', at) + DAY_MS);
  if (counts && counts.minuteLimit > 0 && counts.callsThisMinute >= counts.minuteLimit) ends.push(windowStart('minute', at) + MINUTE_MS);
  if (record.refusedUntil && record.refusedUntil.getTime() > at.getTime()) ends.push(record.refusedUntil.getTime());
  if (ends.length > 0) return { state: 'rate_limited', until: new Date(Math.max(...ends)) };
  if (record.failingSince) return { state: 'failing', since: record.failingSince, lastError: record.lastError ?? 'unavailable' };
  return { state: 'ok' };
}

/**
 * The share of market-data requests served without an upstream call:
 * 1 − upstream calls ÷ requests served, to four decimals; null before any
 * request is served. Calls that served nobody (an unknown symbol, a failure)
 * can outnumber the requests served: the ratio is then 0, never negative.
 */
export function savedRatio(requestsServed: number, upstreamCalls: number): number | null {
  if (requestsServed === 0) return null;
  return Math.max(0, Math.round((1 - upstreamCalls / requestsServed) * 10_000) / 10_000);
}
