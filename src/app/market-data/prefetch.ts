/**
 * Fresh before anyone asks: after a session's bar is final (an hour after
 * the close, see domain/market-calendar.ts), the symbols clients asked for
 * recently are refreshed, most requested first, so the first client after
 * the close is served from the store. One instance runs it at a time (a
 * lease); each session is done once; background calls keep a reserve of each
 * provider's quota for clients' lookups (app/market-data/upstream-budget.ts).
 */
import { NotFoundError } from '../../domain/errors.js';
import { latestFinalSession, nextSessionClose, utcDay } from '../../domain/market-calendar.js';
import type { DemandStore } from './demand.js';
import type { PriceSource } from './prices.js';
import type { UpstreamBudget } from './upstream-budget.js';

/**
 * Port: the lease that lets one instance run the prefetch, and the last
 * session whose prefetch completed (adapters/db/prefetch-lease.ts).
 */
export interface PrefetchLease {
  lastSession(): Promise<string | undefined>;
  /**
   * Takes the lease for `holder` until `until` (epoch ms) if it is free
   * (never taken, expired at `at`) or already the holder's; the last
   * completed session with it, or undefined when another holds it.
   */
  take(holder: string, at: number, until: number): Promise<{ lastSession: string | undefined } | undefined>;
  /** Extends the holder's lease; false when it is no longer the holder's (it expired and another took it). */
  renew(holder: string, until: number): Promise<boolean>;
  /** Frees the holder's lease at `at`, recording `completed` as the last completed session when given. */
  release(holder: string, at: number, completed?: string): Promise<void>;
}

export interface PrefetchDeps {
  demand: Pick<DemandStore, 'mostRequested' | 'forgetBefore'>;
  lease: PrefetchLease;
  prices: Pick<PriceSource, 'freshBars'>;
  budget: Pick<UpstreamBudget, 'backgroundWait'>;
  /** Providers a background call may go to (their budgets decide whether the run goes on). */
  providers: string[];
  now: () => Date;
}

export interface PrefetchOptions {
  /** This instance, as the lease names it. */
  holder: string;
  /** Symbols asked for in this many days (UTC) are refreshed. */
  windowDays: number;
  /** How long the lease lasts unless renewed: a holder that dies holds it no longer than this. */
  leaseMs: number;
  /** Aborted when the service closes: the run stops between symbols. */
  signal?: AbortSignal;
}

export type PrefetchOutcome =
  /** The latest final session's prefetch completed already (a weekend, a holiday, or another instance did it). */
  | { kind: 'not_due'; session: string }
  /** Another instance holds the lease. */
  | { kind: 'busy'; session: string }
  | { kind: 'completed'; session: string; refreshed: string[] }
  /** Stopped before the end; a later run goes on (refreshed symbols are no longer due, so it skips them cheaply). */
  | { kind: 'paused'; session: string; refreshed: string[]; reason: PauseReason; retryAfterSeconds?: number };

/** budget: no provider has room outside the reserve; upstream: it keeps failing; lease_lost: another took it; stopped: the service is closing. */
export type PauseReason = 'budget' | 'upstream' | 'lease_lost' | 'stopped';

/** The account background calls are made for: not a client's id (those are numbers), so no client's fair share or turn. */
export const PREFETCH_CLIENT = 'prefetch';

const DAY_MS = 86_400_000;
const PAGE = 200;
/** Failures in a row that mean upstream is down: stop, rather than try every symbol. */
const FAILURES_TO_STOP = 3;

/** Runs the prefetch of the latest final session if it is due and this instance gets the lease. */
export async function runPrefetch(deps: PrefetchDeps, options: PrefetchOptions): Promise<PrefetchOutcome> {
  const session = latestFinalSession(deps.now());
  if (isDone(await deps.lease.lastSession(), session)) return { kind: 'not_due', session };
  const at = deps.now().getTime();
  const taken = await deps.lease.take(options.holder, at, at + options.leaseMs);
  if (!taken) return { kind: 'busy', session };
  // Another instance may have completed it between the read above and the take.
  if (isDone(taken.lastSession, session)) {
    await deps.lease.release(options.holder, deps.now().getTime());
    return { kind: 'not_due', session };
  }
  try {
    const outcome = await refreshDemanded(deps, options, session);
    if (outcome.kind !== 'paused' || outcome.reason !== 'lease_lost') {
      await deps.lease.release(options.holder, deps.now().getTime(), outcome.kind === 'completed' ? session : undefined);
    }
    return outcome;
  } catch (error) {
    await deps.lease.release(options.holder, deps.now().getTime()).catch(() => undefined);
    throw error;
  }
}

const isDone = (lastSession: string | undefined, session: string) => lastSession !== undefined && lastSession >= session;

async function refreshDemanded(deps: PrefetchDeps, options: PrefetchOptions, session: string): Promise<PrefetchOutcome> {
  const sinceDay = utcDay(new Date(deps.now().getTime() - options.windowDays * DAY_MS));
  await deps.demand.forgetBefore(sinceDay);
  const refreshed: string[] = [];
  const paused = (reason: PauseReason, retryAfterSeconds?: number): PrefetchOutcome => ({ kind: 'paused', session, refreshed, reason, retryAfterSeconds });
  const keepLease = leaseKeeper(deps, options);
  let failuresInARow = 0;
  for (let offset = 0; ; offset += PAGE) {
    const page = await deps.demand.mostRequested(sinceDay, PAGE, offset);
    for (const { symbol } of page) {
      if (options.signal?.aborted) return paused('stopped');
      if (!(await keepLease())) return paused('lease_lost');
      // Asked before each symbol, so a run over a long watchlist stops at the first "no room", not after a refusal per symbol.
      const wait = await deps.budget.backgroundWait(deps.providers);
      if (wait > 0) return paused('budget', wait);
      const result = await refreshOne(deps, symbol);
      if (result === 'refreshed') refreshed.push(symbol);
      failuresInARow = result === 'failed' ? failuresInARow + 1 : 0;
      if (failuresInARow >= FAILURES_TO_STOP) return paused('upstream');
    }
    if (page.length < PAGE) return { kind: 'completed', session, refreshed };
  }
}

/** Renews the lease once a third of it has passed; false when it was lost. */
function leaseKeeper(deps: PrefetchDeps, options: PrefetchOptions): () => Promise<boolean> {
  let renewedAt = deps.now().getTime();
  return async () => {
    const at = deps.now().getTime();
    if (at - renewedAt < options.leaseMs / 3) return true;
    renewedAt = at;
    return deps.lease.renew(options.holder, at + options.leaseMs);
  };
}

/** Through the price source: it asks upstream only when the symbol is due, once however many ask (single flight). */
async function refreshOne(deps: PrefetchDeps, symbol: string): Promise<'refreshed' | 'fresh' | 'failed'> {
  try {
    const { cache } = await deps.prices.freshBars(symbol, { client: PREFETCH_CLIENT, background: true }, 1);
    if (cache === 'STALE') return 'failed';
    return cache === 'MISS' ? 'refreshed' : 'fresh';
  } catch (error) {
    // A symbol upstream no longer knows is no failure of upstream.
    return error instanceof NotFoundError ? 'fresh' : 'failed';
  }
}

export interface PrefetchSchedule {
  /** After the bar is final, how long to wait before running (providers publish at their own pace). */
  delayMs: number;
  /** How soon to try again after a run that did not complete (another instance held the lease, upstream failed). */
  retryMs: number;
}

/** When to run next: after the next session's bar is final, or sooner to retry what did not complete. */
export function nextRunInMs(outcome: PrefetchOutcome | undefined, now: Date, schedule: PrefetchSchedule): number {
  const untilNextSession = nextSessionClose(now).finalAt.getTime() - now.getTime() + schedule.delayMs;
  if (outcome?.kind === 'completed' || outcome?.kind === 'not_due') return untilNextSession;
  // A spent budget comes back when its window resets; retrying sooner would only be refused again.
  if (outcome?.kind === 'paused' && outcome.retryAfterSeconds !== undefined) {
    return Math.min(outcome.retryAfterSeconds * 1000, untilNextSession);
  }
  return Math.min(schedule.retryMs, untilNextSession);
}
