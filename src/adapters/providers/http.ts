import { ProviderError } from '../../app/market-data.js';
import { checkBar, type DailyBar } from '../../domain/quote.js';

/** What every vendor adapter is configured with. */
export interface VendorOptions {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
}

/** The bar, if well-formed; a vendor answering malformed bars is treated as unavailable. */
export function checkedBar(provider: string, bar: DailyBar): DailyBar {
  const problem = checkBar(bar);
  if (problem) throw new ProviderError(provider, 'unavailable', `malformed bar: ${problem}`);
  return bar;
}

/**
 * GET a vendor URL and parse its JSON, turning transport failures (timeouts,
 * refused connections, 5xx, HTML error pages) into ProviderError('unavailable').
 * The caller interprets the JSON and the non-2xx statuses it knows.
 */
export async function fetchJson(
  provider: string,
  url: URL,
  timeoutMs: number,
): Promise<{ status: number; body: unknown; retryAfter: string | null }> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'unreachable';
    throw new ProviderError(provider, 'unavailable', reason);
  }
  const text = await response.text().catch(() => '');
  if (response.status >= 500) throw new ProviderError(provider, 'unavailable', `answered HTTP ${response.status}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ProviderError(provider, 'unavailable', `answered HTTP ${response.status} with malformed JSON`);
  }
  return { status: response.status, body, retryAfter: response.headers.get('retry-after') };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Seconds until the next 00:00 UTC, when daily vendor quotas reset. */
export function secondsUntilUtcMidnight(now = new Date()): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((midnight - now.getTime()) / 1000));
}
