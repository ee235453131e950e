/**
 * The gateway's hand-off to the pass-through (app/market-data/pass-through.ts): a call asked of Alpha Vantage
 * as it was made, its function and parameters normalised (domain/alpha-vantage-functions.ts), and answered as
 * Alpha Vantage answered it. A module of its own so that any gateway function can hand a call over (a
 * technical indicator at an intraday interval, say) without importing the gateway that registers it.
 */
import type { PassThroughService } from '../../app/market-data/pass-through.js';
import type { CacheState, Requester } from '../../app/market-data/refresh.js';
import { type PassThroughAnswer, passThroughQuery } from '../../domain/alpha-vantage-functions.js';

/** What of a gateway call the hand-off reads. */
export interface PassedCall {
  /** A query parameter's text, the last one sent. */
  parameter(name: string): string | undefined;
  /** Every query parameter in the order sent, a repeated one once per value. */
  parameters(): [string, string][];
  requester: Requester;
}

/** Alpha Vantage's answer to `call`, as it wrote it; what the cache gave (HIT), fetched (MISS) or kept past its time (STALE). */
export async function passThroughCall(
  { passThrough }: { passThrough: PassThroughService },
  call: PassedCall,
): Promise<{ cache: CacheState; passed: PassThroughAnswer }> {
  const query = passThroughQuery(call.parameter('function') ?? '', call.parameters());
  const { answer, cache } = await passThrough.answer(query, call.requester);
  return { cache, passed: answer };
}
