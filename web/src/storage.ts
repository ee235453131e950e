/**
 * What the page keeps, all in this browser only. The API key: sessionStorage (gone when the tab
 * closes) unless the person ticks "remember", then localStorage; never in a URL, a cookie or a log.
 * The watchlist: localStorage.
 */
const KEY = 'sms.apiKey';
const WATCHLIST = 'sms.watchlist';

function read(storage: Storage, name: string): string | null {
  try {
    return storage.getItem(name);
  } catch {
    return null; // storage disabled (a privacy mode): the page still works for this visit
  }
}

export function loadKey(): { key: string; remembered: boolean } | null {
  const remembered = read(localStorage, KEY);
  if (remembered) return { key: remembered, remembered: true };
  const session = read(sessionStorage, KEY);
  return session ? { key: session, remembered: false } : null;
}

export function saveKey(key: string, remember: boolean): void {
  forgetKey();
  try {
    (remember ? localStorage : sessionStorage).setItem(KEY, key);
  } catch {
    // not kept: it lives in the page's memory until the tab closes
  }
}

export function forgetKey(): void {
  try {
    localStorage.removeItem(KEY);
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing was kept
  }
}

export function loadWatchlist(): string[] {
  try {
    const value: unknown = JSON.parse(read(localStorage, WATCHLIST) ?? '[]');
    return Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string') : [];
  } catch {
    return [];
  }
}

export function saveWatchlist(symbols: string[]): void {
  try {
    localStorage.setItem(WATCHLIST, JSON.stringify(symbols));
  } catch {
    // kept for this visit only
  }
}
