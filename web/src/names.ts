/**
 * Company names and currencies for the quote card. The quote answer has neither (its `currency` only
 * when the provider says), and the API's shapes stay as they are: a name comes from the search
 * endpoint, kept in localStorage so that each symbol costs one search request at most, ever, in this
 * browser. A symbol picked from the search list costs nothing more (its match is kept as it is shown);
 * one typed as a ticker or opened from the watchlist costs one `search?q=SYMBOL` the first time.
 * A symbol the search does not find is remembered too (as unnamed), so it is not asked again.
 */
import { useEffect, useState } from 'preact/hooks';
import { call, isAbort, type SearchMatch } from './api';

export interface CompanyName {
  name: string | null;
  currency: string | null;
  exchange: string | null;
}

const NAMES = 'sms.names';
/** Enough for any watchlist; past it the oldest entries go (a name is cheap to ask again). */
const NAMES_KEPT = 500;

function load(): Record<string, CompanyName> {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(NAMES) ?? '{}');
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, CompanyName>) : {};
  } catch {
    return {};
  }
}

const known: Record<string, CompanyName> = load();
/** Searches in flight, by symbol: two cards asking for one name share one request. */
const pending = new Map<string, Promise<CompanyName>>();

function keep(symbol: string, name: CompanyName): void {
  known[symbol.toUpperCase()] = name;
  const symbols = Object.keys(known);
  for (const old of symbols.slice(0, Math.max(0, symbols.length - NAMES_KEPT))) delete known[old];
  try {
    localStorage.setItem(NAMES, JSON.stringify(known));
  } catch {
    // kept for this visit only
  }
}

/** A search match the person saw: its name is known from now on, at no cost. */
export function rememberMatch(match: SearchMatch): void {
  keep(match.symbol, { name: match.name, currency: match.currency || null, exchange: match.exchange ?? match.region ?? null });
}

export function knownName(symbol: string): CompanyName | undefined {
  return known[symbol.toUpperCase()];
}

async function lookUp(apiKey: string, symbol: string): Promise<CompanyName> {
  const answer = await call<{ matches: SearchMatch[] }>(`/api/v1/search/?q=${encodeURIComponent(symbol)}`, { key: apiKey });
  const match = answer.body.matches.find((m) => m.symbol.toUpperCase() === symbol.toUpperCase());
  if (match) rememberMatch(match);
  else keep(symbol, { name: null, currency: null, exchange: null });
  return knownName(symbol)!;
}

/** The symbol's name and currency: from this browser's store, else one search (then stored). */
export function useCompanyName(apiKey: string, symbol: string): CompanyName | undefined {
  const [name, setName] = useState(() => knownName(symbol));
  useEffect(() => {
    const stored = knownName(symbol);
    setName(stored);
    if (stored) return;
    let current = true;
    const key = symbol.toUpperCase();
    const asked = pending.get(key) ?? lookUp(apiKey, symbol).finally(() => pending.delete(key));
    pending.set(key, asked);
    // A failed look-up (a 429, the network) leaves the card without a name; it is asked again next time.
    asked.then((found) => current && setName(found)).catch((error) => isAbort(error));
    return () => {
      current = false;
    };
  }, [apiKey, symbol]);
  return name;
}
