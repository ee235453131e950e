/**
 * Reading the ledger (GET /trades, not counted against the allowance) in pages of 1,000, following
 * `Link: rel="next"`. The API lists trades in id order only (oldest recorded first, no "before"
 * cursor), so showing the newest first, or finding a user's first trade, means reading to the end.
 * Bounded: at most LEDGER_READ_MAX trades are read (about 100 bytes each on the wire); past them the
 * caller is told the read is incomplete and says so.
 */
import { call, type Trade } from './api';

export const LEDGER_PAGE = 1000;
export const LEDGER_READ_MAX = 50_000;

/** `</trades?user_id=23&limit=2&after_id=4>; rel="next"` → the next page's URL. */
export function nextLink(header: string | null): string | null {
  const match = header && /<([^>]+)>\s*;\s*rel="?next"?/.exec(header);
  return match ? match[1]! : null;
}

export interface LedgerRead {
  trades: Trade[];
  /** False when LEDGER_READ_MAX trades were read and more remain. */
  complete: boolean;
}

/** Every trade matching `filter` (user_id, type, symbol), in id order, up to LEDGER_READ_MAX. */
export async function readLedger(filter: Record<string, string>, signal?: AbortSignal): Promise<LedgerRead> {
  const params = new URLSearchParams(filter);
  params.set('limit', String(LEDGER_PAGE));
  let page: string | null = `/trades?${params}`;
  const trades: Trade[] = [];
  while (page) {
    if (trades.length >= LEDGER_READ_MAX) return { trades, complete: false };
    const answer: Awaited<ReturnType<typeof call<Trade[]>>> = await call<Trade[]>(page, { signal });
    trades.push(...answer.body);
    page = nextLink(answer.headers.get('link'));
  }
  return { trades, complete: true };
}
