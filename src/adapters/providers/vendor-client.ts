import { Decimal } from 'decimal.js';
import { ProviderError, type ProviderFailure } from '../../app/market-data/providers.js';
import { checkSplitFactor } from '../../domain/corporate-actions.js';
import { checkBar, type DailyBar, isCalendarDate, isDecimal } from '../../domain/quote.js';

/** What every vendor adapter is configured with. */
export interface VendorOptions {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
}

export interface VendorAnswer {
  status: number;
  body: unknown;
  retryAfter: string | null;
}

/** An answer read as text, unparsed: undefined `text` when it was longer than asked. */
export interface VendorText {
  status: number;
  contentType: string;
  text: string | undefined;
}

/** One vendor's HTTP access: where its URLs are built and where its errors are made, so its key stays out of both. */
export interface VendorClient {
  /** GETs `endpoint` under the base URL with `params` and the key, and parses the JSON. */
  get(endpoint: string, params: Record<string, string>): Promise<VendorAnswer>;
  /**
   * GETs `endpoint` with `params` in their order (a name may come twice) and the key, reading at most
   * `maxBytes` of the answer as text: what is passed through as the vendor wrote it.
   */
  getText(endpoint: string, params: readonly (readonly [string, string])[], maxBytes: number): Promise<VendorText>;
  /** `text` without the key, in any form a vendor may quote it: for what is passed on to clients. */
  redact(text: string): string;
  /** A ProviderError whose message (vendor text included) never carries the key: it is logged. */
  error(failure: ProviderFailure, message: string, retryAfterSeconds?: number): ProviderError;
}

const REDACTED = '[REDACTED]';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `text` with every occurrence of `secret` (as is, or URL-encoded as in a
 * query string), in any case, replaced: a vendor may quote the key upper-cased.
 */
export function redact(text: string, secret: string): string {
  if (secret === '') return text;
  const forms = [secret, encodeURIComponent(secret)].map(escapeRegExp);
  return text.replace(new RegExp(forms.join('|'), 'gi'), REDACTED);
}

/**
 * `endpoint` under the base URL, keeping the base's path: a proxy or gateway mounted at
 * `http://host/av-proxy/` (with or without the trailing slash) gets `/av-proxy/query`.
 */
export function vendorUrl(baseUrl: string, endpoint: string, params: Record<string, string> | readonly (readonly [string, string])[]): URL {
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${endpoint}`;
  for (const [name, value] of Array.isArray(params) ? params : Object.entries(params)) url.searchParams.append(name, value);
  return url;
}

export function createVendorClient(provider: string, options: VendorOptions, keyParameter = 'apikey'): VendorClient {
  const error: VendorClient['error'] = (failure, message, retryAfterSeconds) =>
    new ProviderError(provider, failure, redact(message, options.apiKey), retryAfterSeconds);
  return {
    error,
    get: (endpoint, params) =>
      fetchJson(vendorUrl(options.baseUrl, endpoint, { ...params, [keyParameter]: options.apiKey }), options.timeoutMs, error),
    getText: (endpoint, params, maxBytes) =>
      fetchText(vendorUrl(options.baseUrl, endpoint, [...params, [keyParameter, options.apiKey]]), options.timeoutMs, maxBytes, error),
    redact: (text) => redact(text, options.apiKey),
  };
}

/** The bar, if well-formed (domain/quote.ts checkBar); else throws: a vendor answering malformed bars is treated as unavailable. */
export function barOrThrow(vendor: VendorClient, bar: DailyBar): DailyBar {
  const problem = checkBar(bar);
  if (problem) throw vendor.error('unavailable', `malformed bar: ${problem}`);
  return bar;
}

/** `value` if it is a YYYY-MM-DD calendar date; else throws, like a malformed bar. */
export function dateOrThrow(vendor: VendorClient, value: unknown, what: string): string {
  if (typeof value !== 'string' || !isCalendarDate(value)) throw vendor.error('unavailable', `malformed ${what}: ${String(value)}`);
  return value;
}

/**
 * `value` as a decimal string, exactly as the vendor wrote it: a string as is, a JSON number
 * through String() (0.22 → "0.22"), never through arithmetic. Anything else ("1e-7", "None") throws.
 */
export function decimalOrThrow(vendor: VendorClient, value: unknown, what: string): string {
  const text = typeof value === 'number' || typeof value === 'string' ? String(value) : '';
  if (!isDecimal(text)) throw vendor.error('unavailable', `malformed ${what}: ${String(value)}`);
  return text;
}

/**
 * A split's factor, new shares per old share, as the port wants it: a decimal string
 * without trailing zeros ("4.0000" → "4", 1 for 10 → "0.1"). Divided in decimal.js, not
 * floats; a quotient that does not terminate (2 for 3) keeps 20 significant digits.
 */
export function splitFactorOrThrow(vendor: VendorClient, newShares: unknown, oldShares: unknown = '1'): string {
  const shares = [decimalOrThrow(vendor, newShares, 'split factor'), decimalOrThrow(vendor, oldShares, 'split factor')];
  const [after, before] = shares.map((text) => new Decimal(text)) as [Decimal, Decimal];
  if (!after.gt(0) || !before.gt(0)) {
    throw vendor.error('unavailable', `malformed split factor: ${shares.join(' for ')}`);
  }
  const factor = after.div(before).toFixed();
  const problem = checkSplitFactor(factor);
  if (problem) throw vendor.error('unavailable', `split factor ${shares.join(' for ')}: ${problem}`);
  return factor;
}

/** The longest text a match field (a symbol, a company name, a region…) may have: names run to about 100 characters. */
const MATCH_TEXT_MAX_CHARACTERS = 200;

/**
 * A search match's text field, checked before it is cached and served to every client who searches the
 * same words: a string of at most 200 characters without control characters (C0, DEL, C1 — a terminal
 * escape, a NUL); else the answer is malformed, as a malformed bar is.
 */
export function matchTextOrThrow(vendor: VendorClient, value: unknown, field: string): string {
  if (typeof value !== 'string') throw vendor.error('unavailable', `malformed match: no "${field}"`);
  if ([...value].length > MATCH_TEXT_MAX_CHARACTERS || /\p{Cc}/u.test(value)) {
    throw vendor.error('unavailable', `malformed match: "${field}" is over ${MATCH_TEXT_MAX_CHARACTERS} characters or holds control characters`);
  }
  return value;
}

/**
 * The most of a vendor's answer that is read: Alpha Vantage's largest (a full daily series of decades) is a
 * few MB; an answer past this is refused unread rather than held in memory, parsed and stored.
 */
export const VENDOR_ANSWER_MAX_BYTES = 8 * 1024 * 1024;

/** The body as text, or undefined once it passes `maxBytes` (declared or as read): the rest is not read. */
async function boundedText(response: Response, maxBytes: number): Promise<string | undefined> {
  if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Why fetch failed, as the operator needs it: undici hides the reason (ECONNREFUSED, a DNS failure) in `cause`. */
function transportFailure(error: unknown, timeoutMs: number): string {
  if ((error as Error).name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `unreachable (${cause.message})` : 'unreachable';
}

/**
 * GET a vendor URL and parse its JSON, turning transport failures (timeouts,
 * refused connections, 5xx, HTML error pages) into ProviderError('unavailable').
 * The caller interprets the JSON and the non-2xx statuses it knows.
 */
async function fetchJson(url: URL, timeoutMs: number, error: VendorClient['error']): Promise<VendorAnswer> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (failure) {
    throw error('unavailable', transportFailure(failure, timeoutMs));
  }
  const text = await boundedText(response, VENDOR_ANSWER_MAX_BYTES).catch(() => '');
  if (response.status >= 500) throw error('unavailable', `answered HTTP ${response.status}`);
  if (text === undefined) throw error('unavailable', `answered more than ${VENDOR_ANSWER_MAX_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw error('unavailable', `answered HTTP ${response.status} with malformed JSON`);
  }
  return { status: response.status, body, retryAfter: response.headers.get('retry-after') };
}

/**
 * GET a vendor URL and read its answer as text, up to `maxBytes`; transport failures and 5xx are
 * ProviderError('unavailable') as for JSON. The caller interprets the text and the other statuses.
 */
async function fetchText(url: URL, timeoutMs: number, maxBytes: number, error: VendorClient['error']): Promise<VendorText> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json, text/csv' } });
  } catch (failure) {
    throw error('unavailable', transportFailure(failure, timeoutMs));
  }
  const text = await boundedText(response, Math.min(maxBytes, VENDOR_ANSWER_MAX_BYTES)).catch(() => '');
  if (response.status >= 500) throw error('unavailable', `answered HTTP ${response.status}`);
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Seconds until the next 00:00 UTC, when daily vendor quotas reset. */
export function secondsUntilUtcMidnight(now = new Date()): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((midnight - now.getTime()) / 1000));
}
