/**
 * The dashboard in a real browser (Debian's Chromium), against the service started as a user
 * starts it (a child process on a free port, SQLite, the vendors' stand-in): a person gets a
 * key, looks a symbol up, charts it, watches it, records trades, reads a portfolio and their
 * usage — with no console error and no CSP violation on the way. Screenshots at phone and
 * desktop widths go to screenshots/ (gitignored); docs/'s come from `npm run screenshots`.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { register } from '../support/api.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { buildDashboard } from '../support/dashboard.js';
import { freePort, runEntry, waitForServer } from '../support/process.js';
import { startService } from '../support/service.js';
import { type Bar, startUpstream } from '../support/upstream.js';

/**
 * The page's globals these checks read, typed here: the tests' tsconfig has Node's types, not the DOM's
 * (a cast inside a page.evaluate callback is erased; the callback runs in the page).
 */
interface Rect {
  right: number;
}
interface PageElement {
  id: string;
  textContent: string | null;
  tagName: string;
  className: string;
  width: number;
  height: number;
  getBoundingClientRect(): Rect;
  closest(selector: string): PageElement | null;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
interface PageStorage {
  getItem(name: string): string | null;
}
interface InPage {
  getComputedStyle(element: PageElement): { outlineStyle: string; outlineColor: string; getPropertyValue(name: string): string };
  document: {
    activeElement: PageElement | null;
    location: { hash: string };
    querySelector(selector: string): PageElement | null;
    querySelectorAll(selector: string): Iterable<PageElement>;
    documentElement: { scrollWidth: number };
    addEventListener(type: 'securitypolicyviolation', listener: (event: { violatedDirective: string; blockedURI: string }) => void): void;
  };
  navigator: { clipboard: { readText(): Promise<string> } };
  sessionStorage: PageStorage;
  localStorage: PageStorage;
  cspViolations: string[];
}

const SCREENSHOTS = fileURLToPath(new URL('../../screenshots', import.meta.url));

let browser: TestBrowser | undefined;
afterEach(async () => {
  await browser?.close();
  browser = undefined;
});

// The service serves dist/web, as after `npm run build`: built here, by the one test that needs it there.
beforeAll(() => buildDashboard(), 60_000);

/** 100 weekday sessions ending the last weekday before today, IBM-like, split 2-for-1 halfway. */
function sessions(): { bars: Bar[]; days: string[]; splitDate: string } {
  const days: string[] = [];
  const day = new Date();
  while (days.length < 100) {
    day.setUTCDate(day.getUTCDate() - 1);
    if (day.getUTCDay() !== 0 && day.getUTCDay() !== 6) days.unshift(day.toISOString().slice(0, 10));
  }
  const splitDate = days[50]!;
  const bars = days.map((date, i) => {
    const traded = (i < 50 ? 260 : 130) * (1 + Math.sin(i / 6) / 25 + i / 1000);
    const close = traded.toFixed(4);
    return { date, open: (traded - 0.5).toFixed(4), high: (traded + 1).toFixed(4), low: (traded - 1).toFixed(4), close, volume: 1_000_000 + i };
  });
  return { bars: bars.reverse(), days, splitDate }; // Alpha Vantage lists the newest first
}

/** A promise the test resolves when it chooses (Promise.withResolvers, which Node 20 lacks). */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((resolved) => (resolve = resolved));
  return { promise, resolve };
}

/** Money and prices as the page shows them: 2 decimals, grouped (en-US), rounded on the decimal string. */
const twoDecimals = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) as unknown as { format(v: string | number): string };
const money = (value: string | number) => twoDecimals.format(value);
/** A signed figure as the page writes it: "+1.25", "−0.40" (a minus sign), "0.00". */
const signed = (value: string | number, suffix = '') => {
  const text = money(value).replace('-', '');
  return /^[0.,]+$/.test(text) ? `${text}${suffix}` : `${Number(value) < 0 ? '−' : '+'}${text}${suffix}`;
};

/** Waits until the locator's text satisfies `check` (never a fixed sleep). */
async function textOf(locator: Locator, check: (text: string) => boolean, timeout = 15_000): Promise<string> {
  let last = '';
  await expect
    .poll(
      async () => {
        last = (await locator.count()) > 0 ? ((await locator.first().textContent()) ?? '') : '';
        return check(last);
      },
      { timeout, interval: 50 },
    )
    .toBe(true)
    .catch((error: Error) => {
      throw new Error(`${locator}: never as expected; its last text: ${JSON.stringify(last)} (${error.message})`);
    });
  return last;
}

/** How many of the chart's canvas pixels carry the close series' colour (light scheme: #1d4ed8). */
function seriesPixels(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = (globalThis as unknown as InPage).document.querySelector('.chart canvas');
    if (!canvas || canvas.width === 0) return 0;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 200 && data[i + 2]! > 180 && data[i]! < 90 && data[i + 1]! < 130) count++;
    return count;
  });
}

/** How many canvas pixels carry the light scheme's up green (#0f7b3d) or down red (#b42318): the candles' bodies. */
function candlePixels(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = (globalThis as unknown as InPage).document.querySelector('.chart canvas');
    if (!canvas || canvas.width === 0) return 0;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
      if (a > 200 && ((r < 40 && g > 100 && g < 140 && b < 80) || (r > 160 && g < 60 && b < 50))) count++;
    }
    return count;
  });
}

describe('the dashboard in Chromium', () => {
  it('when a person registers, looks IBM up, watches it, records trades and opens the portfolio, then every view shows what the API says, with no console error', { timeout: 90_000 }, async () => {
    const upstream = await startUpstream();
    const { bars, days, splitDate } = sessions();
    upstream.set('alphavantage', 'IBM', { kind: 'bars', bars });
    upstream.setFor('alphavantage', 'splits', 'IBM', { kind: 'splits', splits: [{ date: splitDate, newShares: 2, oldShares: 1 }] });
    upstream.setFor('alphavantage', 'dividends', 'IBM', { kind: 'dividends', dividends: [] });
    upstream.setFor('alphavantage', 'search', 'intern', {
      kind: 'matches',
      matches: [{ symbol: 'IBM', name: 'International Business Machines Corp', type: 'Equity', region: 'United States', currency: 'USD' }],
    });

    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const service = runEntry('src/main.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(inject('sqliteDir'), `dashboard-${port}.db`)}`,
      MARKET_DATA_PROVIDERS: 'alphavantage',
      ALPHAVANTAGE_API_KEY: 'av-test-key',
      ALPHAVANTAGE_BASE_URL: upstream.url,
      ALPHAVANTAGE_DAILY_LIMIT: '0',
      PREFETCH: 'off',
    });
    await waitForServer(`${origin}/health`, service);

    browser = await launchBrowser();
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    const requested: string[] = [];
    browser.context.on('request', (request) => void requested.push(request.url()));
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => void errors.push(error.message));
    onTestFailed(async () => {
      await page.screenshot({ path: join(mkdirScreens(), 'dashboard-failure.png'), fullPage: true }).catch(() => undefined);
      console.error(`console errors: ${JSON.stringify(errors)}\nservice output:\n${service.output()}`);
    });
    // A CSP refusal is also an event in the page: collected there, before any of the page's scripts run.
    await page.addInitScript(() => {
      const seen: string[] = [];
      const page = globalThis as unknown as InPage;
      page.cspViolations = seen;
      page.document.addEventListener('securitypolicyviolation', (event) => void seen.push(`${event.violatedDirective} ${event.blockedURI}`));
    });

    // The page, without a key: the Key view.
    const response = await page.goto(`${origin}/`);
    expect(response?.status()).toBe(200);
    await page.locator('#register-name').fill('Dave');
    await page.locator('#register-last_name').fill('Mustaine');
    await page.locator('#register-email').fill('dave-at-example.com');
    await page.getByRole('button', { name: 'Register and get a key' }).click();
    // The field's error as the API words it, next to the field.
    expect(await textOf(page.locator('#register-email-error'), (t) => t !== '')).toBe('email: Enter a valid email address.');

    await page.locator('#register-email').fill('dave@example.com');
    await page.getByRole('button', { name: 'Register and get a key' }).click();
    const key = await textOf(page.locator('#new-key'), (t) => /^[0-9a-f]{40}$/.test(t));
    // Registered: the page has moved on to the market, the new key shown once above it.
    expect(await page.evaluate(() => (globalThis as unknown as InPage).document.location.hash)).toBe('#/market');
    expect(await page.getByRole('link', { name: 'Market', exact: true }).getAttribute('aria-current')).toBe('page');
    await page.getByRole('combobox', { name: 'Find a symbol' }).waitFor();
    await page.getByRole('button', { name: 'Copy key' }).click();
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as InPage).navigator.clipboard.readText())).toBe(key);
    // Kept in this tab's sessionStorage (not remembered), and never in the URL.
    expect(await page.evaluate(() => {
          const { sessionStorage, localStorage } = globalThis as unknown as InPage;
          return [sessionStorage.getItem('sms.apiKey'), localStorage.getItem('sms.apiKey')];
        })).toEqual([key, null]);
    const api = async <T>(path: string): Promise<T> => {
      const answer = await fetch(`${origin}${path}`, { headers: { 'x-api-key': key } });
      expect(answer.status, path).toBe(200);
      return (await answer.json()) as T;
    };

    // Search as you type: one search reaches the vendor, for the words typed, once typing pauses; the best
    // match is highlighted in the listbox, and Enter takes it (IBM, not a made-up "INTERN").
    const search = page.getByRole('combobox', { name: 'Find a symbol' });
    await search.pressSequentially('intern', { delay: 40 });
    const option = page.getByRole('listbox', { name: 'Matching symbols' }).getByRole('option', { name: /IBM International Business Machines/ });
    await option.waitFor();
    expect(await option.getAttribute('aria-selected')).toBe('true');
    expect(await search.getAttribute('aria-expanded')).toBe('true');
    expect(await search.getAttribute('aria-activedescendant')).toBe(await option.getAttribute('id'));
    await search.press('Enter');
    expect(await textOf(page.locator('#quote-symbol'), (t) => t !== '')).toBe('IBM');
    expect(await page.getByRole('listbox').count()).toBe(0);

    // The quote card: the company's name and currency (from the search already made: no other request), the price
    // as a market shows it (2 decimals), the change with its sign and percentage, in the colour of its direction.
    const quote = await api<{ close_value: string; last_refreshed: string; variation_between_last_two_days: number }>('/api/v1/symbol/IBM/');
    expect(await textOf(page.locator('#quote-close'), (t) => t !== '')).toBe(money(quote.close_value));
    expect(await page.locator('#quote-name').textContent()).toBe('International Business Machines Corp · United States');
    expect(await page.locator('#quote-currency').textContent()).toBe('USD');
    const change = quote.variation_between_last_two_days;
    const percent = (change / (Number(quote.close_value) - change)) * 100;
    expect(await page.locator('#quote-change').textContent()).toBe(`${signed(change)} (${signed(percent.toFixed(6), '%')})`);
    expect(await page.locator('#quote-change').getAttribute('class')).toContain(change < 0 ? 'down' : 'up');
    expect(upstream.capabilityCalls.alphavantage.search).toEqual(['intern']);
    // The session's volume, grouped (the quote has none: read from the chart's bars).
    await textOf(page.locator('#history-summary'), (t) => t.startsWith('100 sessions'));
    const lastBar = bars.find((bar) => bar.date === quote.last_refreshed)!;
    expect(await textOf(page.locator('[data-fact="volume"]'), (t) => t !== '—')).toBe(lastBar.volume.toLocaleString('en-US'));
    // No HIT/MISS on the cards: where answers came from is on the Usage view.
    expect(await page.locator('main .badge').count()).toBe(0);

    // The chart's legend shows the latest session until a point is hovered, then that point's; dates as the API writes them.
    const legend = page.locator('#chart-legend');
    expect(await textOf(legend, (t) => t !== '')).toBe(
      `${lastBar.date}O ${money(lastBar.open)}H ${money(lastBar.high)}L ${money(lastBar.low)}C ${money(lastBar.close)}Vol 1M`,
    );
    await page.locator('.chart').scrollIntoViewIfNeeded();
    const plot = await page.locator('.chart .u-over').boundingBox();
    await page.mouse.move(plot!.x + 3, plot!.y + plot!.height / 2);
    expect(await textOf(legend, (t) => !t.startsWith(lastBar.date))).toMatch(new RegExp(`^(${days.slice(0, 3).join('|')})O `)); // the leftmost sessions
    await page.mouse.move(plot!.x + plot!.width / 2, plot!.y - 60);
    expect(await textOf(legend, (t) => t.startsWith(lastBar.date))).toContain(`C ${money(lastBar.close)}`);
    await expect.poll(() => seriesPixels(page), { timeout: 10_000 }).toBeGreaterThan(200);
    const traded = await page.locator('#history-summary').textContent();
    expect(traded).toContain('as traded');
    // The range names what it asks: 1Y (the default) is a year back from today (UTC), as traded.
    const now = new Date();
    const yearAgo = new Date(Date.UTC(now.getUTCFullYear() - 1, now.getUTCMonth(), now.getUTCDate())).toISOString().slice(0, 10);
    expect(requested).toContain(`${origin}/api/v1/symbol/IBM/history/?from=${yearAgo}&adjusted=false`);

    // Adjusted: the bars before the split halve, so the first close does.
    await page.locator('#adjusted').check();
    const adjusted = await textOf(page.locator('#history-summary[data-adjusted="true"]'), (t) => t.includes('adjusted.'));
    const firstClose = (summary: string) => Number(/\(([\d.]+)\)/.exec(summary)![1]);
    // Each shown to 2 decimals: half of one is within 0.01 of the other.
    expect(Math.abs(firstClose(adjusted) - firstClose(traded!) / 2)).toBeLessThanOrEqual(0.01);
    await expect.poll(() => seriesPixels(page)).toBeGreaterThan(200);

    // Candles, as an option: green and red bodies where the line was.
    expect(await candlePixels(page)).toBeLessThan(50);
    await page.getByRole('group', { name: 'Chart type' }).getByRole('button', { name: 'Candles' }).click();
    await expect.poll(() => candlePixels(page), { timeout: 10_000 }).toBeGreaterThan(200);
    await page.getByRole('group', { name: 'Chart type' }).getByRole('button', { name: 'Line' }).click();

    // The watchlist (the batch endpoint), kept in localStorage.
    await page.getByRole('button', { name: 'Add to watchlist' }).click();
    await textOf(page.locator('#watchlist tr[data-symbol="IBM"]'), (t) => t.includes(money(quote.close_value)));
    expect(await page.evaluate(() => (globalThis as unknown as InPage).localStorage.getItem('sms.watchlist'))).toBe('["IBM"]');
    await page.screenshot({ path: join(mkdirScreens(), 'dashboard-desktop.png'), fullPage: true });

    // The ledger: a refused trade shows its field's error as the API words it; a good one appears in the table.
    await page.getByRole('link', { name: 'Ledger' }).click();
    await page.locator('#trade-user_id').fill('7');
    await page.locator('#trade-symbol').fill('IBM');
    await page.locator('#trade-shares').fill('1000');
    await page.locator('#trade-price').fill('120');
    // Bought after the split, 30 sessions ago: the portfolio's history has value to chart.
    await page.locator('#trade-when').fill(`${days[70]}T15:00`);
    await page.getByRole('button', { name: 'Record trade' }).click();
    expect(await textOf(page.locator('#trade-shares-error'), (t) => t !== '')).toBe('shares: must be an integer from 1 to 100');
    // The corrected trade's first attempt is lost on the network: "Retry" resends it with the same
    // Idempotency-Key, so it is recorded once; the next trade gets a new key.
    const keys: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url() === `${origin}/trades`) keys.push(request.headers()['idempotency-key'] ?? '');
    });
    await page.route(`${origin}/trades`, (route) => route.abort('internetdisconnected'), { times: 1 });
    await page.locator('#trade-shares').fill('10');
    await page.getByRole('button', { name: 'Record trade' }).click();
    await page.getByRole('button', { name: 'Retry' }).click();
    await textOf(page.getByRole('status').filter({ hasText: 'Recorded trade' }), (t) => t.includes('#1'));
    await textOf(page.locator('#trades tr[data-id="1"]'), (t) => t.includes('IBM') && t.includes('buy'));
    await page.getByRole('button', { name: 'Record trade' }).click();
    await textOf(page.getByRole('status').filter({ hasText: 'Recorded trade' }), (t) => t.includes('#2'));
    // The ledger lists the newest first.
    await expect.poll(() => page.locator('#trades tbody tr').evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { id: string } }).dataset.id))).toEqual(['2', '1']);
    expect(await page.locator('#trades caption').textContent()).toBe('Trades, newest first');
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
    const trades = (await (await fetch(`${origin}/trades?user_id=7`)).json()) as { id: number; shares: number; price: number }[];
    expect(trades).toMatchObject([
      { id: 1, shares: 10, price: 120 },
      { id: 2, shares: 10, price: 120 },
    ]);

    // The portfolio: its totals and positions are the API's own strings.
    await page.getByRole('link', { name: 'Portfolio' }).click();
    await page.locator('#portfolio-user').fill('7');
    await page.getByRole('button', { name: 'Show portfolio' }).click();
    await textOf(page.locator('#positions tr[data-symbol="IBM"]'), (t) => t.includes('IBM'));
    const portfolio = await api<{
      totals: Record<string, string>;
      positions: { symbol: string; market_value: string; dividends: string; total_return: string }[];
    }>('/api/v1/portfolio/7/');
    for (const name of ['market_value', 'cost_basis', 'dividends'] as const) {
      expect(await page.locator(`[data-total="${name}"]`).textContent(), name).toBe(money(portfolio.totals[name]!));
    }
    expect(await page.locator('[data-total="total_return"]').textContent()).toBe(signed(portfolio.totals.total_return!));
    expect(await page.locator('[data-total="unrealised_pl"]').textContent()).toContain(signed(portfolio.totals.unrealised_pl!));
    // The percentage, parentheses included, is in the sign's colour.
    const unrealisedPercent = page.locator('[data-total="unrealised_pl"] small > span');
    expect(await unrealisedPercent.textContent()).toMatch(/^\([+−]?[\d.,]+%\)$/);
    const sign = Math.sign(Number(portfolio.totals.unrealised_pl_percent));
    expect(await unrealisedPercent.getAttribute('class')).toBe(`num ${sign > 0 ? 'up' : sign < 0 ? 'down' : ''}`);
    const ibm = page.locator('#positions tr[data-symbol="IBM"]');
    expect(await ibm.locator('[data-field="market_value"]').textContent()).toBe(money(portfolio.positions[0]!.market_value));
    expect(await ibm.locator('[data-field="dividends"]').textContent()).toBe(money(portfolio.positions[0]!.dividends));
    expect(await ibm.locator('[data-field="total_return"]').textContent()).toBe(signed(portfolio.positions[0]!.total_return));
    // Allocation by market value: one position, all of it.
    expect(await textOf(page.locator('#allocation li[data-symbol="IBM"]'), (t) => t !== '')).toBe(`IBM100.00%${money(portfolio.positions[0]!.market_value)}`);
    // Its value since the first trade: the chart starts that day (not a range of zeros before it), its legend the latest value.
    expect(await textOf(page.locator('#performance-since'), (t) => t !== '')).toBe(`First trade ${days[70]}.`);
    const history = await api<{ points: { date: string; market_value: string; cost_basis: string }[] }>(`/api/v1/portfolio/7/history/?from=${days[70]}`);
    const latest = history.points[history.points.length - 1]!;
    expect(Number(latest.market_value)).toBeGreaterThan(0);
    expect(history.points[0]!.date).toBe(days[70]);
    expect(await textOf(page.locator('#value-legend'), (t) => t !== '')).toBe(`${latest.date} Market value ${money(latest.market_value)} Cost basis ${money(latest.cost_basis)}`);
    expect(requested).toContain(`${origin}/api/v1/portfolio/7/history/?from=${days[70]}&to=${new Date().toISOString().slice(0, 10)}`);
    await expect.poll(() => page.locator('.chart canvas').count()).toBe(1);
    await page.screenshot({ path: join(mkdirScreens(), 'dashboard-portfolio.png'), fullPage: true });

    // Usage: the allowance, in numbers; one count of requests left, the same in the header and the body.
    await page.getByRole('link', { name: 'Usage' }).click();
    await textOf(page.locator('#providers'), (t) => t.includes('alphavantage'));
    const used = await textOf(page.locator('[data-usage="used"]'), (t) => /^\d+$/.test(t));
    const remaining = await page.locator('[data-usage="remaining"]').textContent();
    expect(Number(used)).toBeGreaterThan(0);
    expect(Number(used) + Number(remaining)).toBe(1000);
    const headerLeft = () => page.locator('#allowance-left strong').textContent();
    expect(await headerLeft()).toBe(Number(remaining).toLocaleString('en-US'));
    const me = await api<{ usage: { remaining: number } }>('/api/v1/me/');
    expect(me.usage.remaining).toBe(Number(remaining) - 1); // the test's own /me, one more
    // Where each answer came from and what it cost is here, not on the cards.
    expect(await textOf(page.locator('#calls'), (t) => t.includes('GET /api/v1/me/'))).toMatch(/GET \/api\/v1\/symbol\/IBM\/200(MISS|HIT)\d+/);
    // Refresh: two more requests counted, and both numbers follow.
    await page.getByRole('button', { name: 'Refresh' }).click();
    await textOf(page.locator('[data-usage="remaining"]'), (t) => Number(t) === Number(remaining) - 3);
    expect(await headerLeft()).toBe((Number(remaining) - 3).toLocaleString('en-US'));

    // A phone's width, in the dark scheme: the market view again, laid out in one column.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByRole('link', { name: 'Market' }).click();
    await textOf(page.locator('#watchlist tr[data-symbol="IBM"]'), (t) => t.includes(money(quote.close_value)));
    // The menu is one row of tabs (it scrolls sideways when it must), not three rows of links.
    const tabs = await page.getByRole('navigation', { name: 'Views' }).getByRole('link').evaluateAll((links) =>
      links.map((link) => (link as unknown as { getBoundingClientRect(): { top: number; height: number; right: number } }).getBoundingClientRect()),
    ).then((rects) => rects.filter((rect) => rect.height > 0));
    expect(new Set(tabs.map((tab) => Math.round(tab.top))).size).toBe(1);
    expect(tabs.filter((tab) => tab.right <= 390).length).toBeGreaterThanOrEqual(5);
    const wide = await page.evaluate(() =>
      [...(globalThis as unknown as InPage).document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > 390.5 && !e.closest('.table-wrap') && !e.closest('.tabs'))
        .map((e) => `${e.tagName}.${e.className} ${e.getBoundingClientRect().right}`),
    );
    expect(wide).toEqual([]);
    // The watchlist fits too: no column cut off behind a horizontal scroll.
    expect(await page.evaluate("(() => { const w = document.querySelector('#watchlist').closest('.table-wrap'); return w.scrollWidth <= w.clientWidth; })()")).toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as InPage).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(mkdirScreens(), 'dashboard-phone.png'), fullPage: true });
    // The portfolio at that width: each position a card, its value and P/L in view, nothing to scroll sideways.
    // The tab comes back to the user shown before, named in the address so it can be bookmarked.
    await page.getByRole('link', { name: 'Portfolio' }).click();
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash)).toBe('#/portfolio/7');
    expect(await page.locator('#portfolio-user').inputValue()).toBe('7');
    const position = page.locator('#positions tr[data-symbol="IBM"] [data-field="market_value"]');
    expect(await textOf(position, (t) => t !== '')).toBe(money(portfolio.positions[0]!.market_value));
    const cell = await position.evaluate((element) => {
      const { getComputedStyle } = globalThis as unknown as { getComputedStyle(e: unknown, pseudo: string): { content: string } };
      return { label: getComputedStyle(element, '::before').content, right: (element as unknown as PageElement).getBoundingClientRect().right };
    });
    expect(cell.label).toBe('"Value"');
    expect(cell.right).toBeLessThanOrEqual(390);
    expect(await page.evaluate("(() => { const w = document.querySelector('#positions').closest('.table-wrap'); return w.scrollWidth <= w.clientWidth; })()")).toBe(true);
    await page.screenshot({ path: join(mkdirScreens(), 'dashboard-phone-portfolio.png'), fullPage: true });
    // The ledger too: each trade a card, its time in view.
    await page.getByRole('link', { name: 'Ledger' }).click();
    const when = page.locator('#trades tr[data-id="1"] td.whole-row');
    expect(await textOf(when, (t) => t !== '')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(await when.evaluate((element) => (element as unknown as PageElement).getBoundingClientRect().right)).toBeLessThanOrEqual(390);
    expect(await page.evaluate("(() => { const w = document.querySelector('#trades').closest('.table-wrap'); return w.scrollWidth <= w.clientWidth; })()")).toBe(true);
    await page.screenshot({ path: join(mkdirScreens(), 'dashboard-phone-ledger.png'), fullPage: true });

    // Forget the key: gone from storage, back to the Key view.
    await page.getByRole('link', { name: 'Key' }).click();
    await page.getByRole('button', { name: 'Forget key' }).click();
    expect(await page.evaluate(() => {
          const { sessionStorage, localStorage } = globalThis as unknown as InPage;
          return [sessionStorage.getItem('sms.apiKey'), localStorage.getItem('sms.apiKey')];
        })).toEqual([null, null]);

    expect(requested.filter((url) => !url.startsWith(`${origin}/`) && !/^(data|blob|about):/.test(url))).toEqual([]);
    expect(requested.filter((url) => url.includes(key))).toEqual([]);
    expect(await page.evaluate(() => (globalThis as unknown as InPage).cspViolations)).toEqual([]);
    // Chromium logs each non-2xx answer to fetch, and the request cut, as errors: exactly those this test caused.
    const caused = [
      'Failed to load resource: the server responded with a status of 400 (Bad Request)',
      'Failed to load resource: the server responded with a status of 400 (Bad Request)',
      'Failed to load resource: net::ERR_INTERNET_DISCONNECTED',
    ];
    expect(errors.toSorted()).toEqual(caused.toSorted());
  });

  it('when used by keyboard, then focus is visible; when the API refuses the key (401), the allowance is spent (429) or the data is stale, then the page says so plainly', { timeout: 60_000 }, async () => {
    // The sandbox serves IBM offline; three requests a day per account.
    const service = await startService('sqlite', { THROTTLE_USER: '3/day' });
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    const origin = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
    const key = await register(service.app);

    browser = await launchBrowser();
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded with a status of 4')) errors.push(message.text());
    });
    page.on('pageerror', (error) => void errors.push(error.message));

    // By keyboard: the first Tab reaches the skip link, drawn with a visible focus ring; Enter moves focus to the content, the view stays.
    await page.goto(`${origin}/#/key`);
    await page.keyboard.press('Tab');
    const focused = () =>
      page.evaluate(() => {
        const { document, getComputedStyle } = globalThis as unknown as InPage;
        const element = document.activeElement;
        return {
          text: element?.textContent?.trim(),
          id: element?.id,
          outline: element ? getComputedStyle(element).outlineStyle : '',
          colour: element ? getComputedStyle(element).outlineColor : '',
          hash: document.location.hash,
        };
      });
    expect(await focused()).toMatchObject({ text: 'Skip to content', outline: 'solid' });
    // The focus ring is its own colour (violet), not the errors' red nor the accent's blue.
    const ring = (await focused()).colour;
    const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
    const palette = await page.evaluate(() => {
      const { getComputedStyle, document } = globalThis as unknown as { getComputedStyle(e: unknown): { getPropertyValue(n: string): string }; document: { documentElement: unknown } };
      const style = getComputedStyle(document.documentElement);
      return { focus: style.getPropertyValue('--focus').trim(), down: style.getPropertyValue('--down').trim(), accent: style.getPropertyValue('--accent').trim() };
    });
    expect(ring).toBe(rgb(palette.focus));
    expect(ring).not.toBe(rgb(palette.down));
    expect(ring).not.toBe(rgb(palette.accent));
    await page.keyboard.press('Enter');
    expect(await focused()).toMatchObject({ id: 'main', hash: '#/key' });

    // Colours, light and dark: every pair the page draws meets WCAG AA (text 4.5:1, focus ring and field edges 3:1).
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const colours = await page.evaluate((names) => {
        const { getComputedStyle, document } = globalThis as unknown as {
          getComputedStyle(e: unknown): { getPropertyValue(name: string): string };
          document: { documentElement: unknown };
        };
        const style = getComputedStyle(document.documentElement);
        return Object.fromEntries(names.map((name) => [name, style.getPropertyValue(name).trim()]));
      }, [...new Set(CONTRASTS.flatMap(([a, b]) => [a, b]))]);
      const low = CONTRASTS.filter(([a, b, needed]) => !(contrast(colours[a]!, colours[b]!) >= needed)).map(
        ([a, b, needed]) => `${scheme}: ${a} ${colours[a]} on ${b} ${colours[b]} is ${contrast(colours[a]!, colours[b]!).toFixed(2)}:1, needs ${needed}:1`,
      );
      expect(low).toEqual([]);
    }
    await page.emulateMedia({ colorScheme: 'light' });

    // A key the service does not know: 401, in its words.
    await page.locator('#paste-key').fill('0000000000000000000000000000000000000000');
    await page.getByRole('button', { name: 'Use this key' }).click();
    await page.getByRole('link', { name: 'Usage' }).click();
    expect(await textOf(page.getByRole('alert'), (t) => t !== '')).toBe('Your key was not accepted (401): Invalid token. Paste another key or register under “Key”.');

    // Every view says so, with the way out: forget the refused key, back on the Key view.
    await page.getByRole('link', { name: 'Ledger' }).click();
    await textOf(page.locator('.refused'), (t) => t.includes('refused the key in use (401)'));
    await page.getByRole('button', { name: 'Forget this key' }).click();
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as InPage).document.location.hash)).toBe('#/key');
    expect(await page.locator('.refused').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as InPage).sessionStorage.getItem('sms.apiKey'))).toBeNull();

    // The real key; the quote answered as stale (X-Cache: STALE, X-Data-Stale) is marked so.
    await page.getByRole('checkbox', { name: /Remember the key/ }).check();
    await page.locator('#paste-key').fill(key);
    await page.getByRole('button', { name: 'Use this key' }).click();
    // Remembered: in localStorage, not in sessionStorage.
    expect(
      await page.evaluate(() => {
        const { sessionStorage, localStorage } = globalThis as unknown as InPage;
        return [sessionStorage.getItem('sms.apiKey'), localStorage.getItem('sms.apiKey')];
      }),
    ).toEqual([null, key]);
    await page.route(`${origin}/api/v1/symbol/IBM/`, async (route) => {
      const answer = await route.fetch();
      await route.fulfill({ response: answer, headers: { ...answer.headers(), 'x-cache': 'STALE', 'x-data-stale': 'true' } });
    });
    await page.getByRole('link', { name: 'Market' }).click();
    await page.locator('#symbol-search').fill('IBM');
    await textOf(page.locator('#search-results'), (t) => t.includes('IBM'));
    await page.locator('#symbol-search').press('Enter');
    await textOf(page.locator('.quote .badge.stale'), (t) => t === 'STALE data');
    // The company's name came with the search's match: no request of its own.
    expect(await textOf(page.locator('#quote-name'), (t) => t !== '…')).toContain('International Business Machines');
    // The sandbox, like Twelve Data, gives years at once: the 1Y chart holds a whole year of sessions.
    expect(await textOf(page.locator('#history-summary'), (t) => t.includes('sessions'))).toMatch(/^2[45]\d sessions from \d{4}-\d{2}-\d{2} \(\d+\.\d{2}\) to .*, as traded\.$/);

    // Search, quote and history spent the three requests: the usage view's are refused, with the wait.
    await page.getByRole('link', { name: 'Usage' }).click();
    const refusal = await textOf(page.getByRole('alert'), (t) => t !== '');
    expect(refusal).toMatch(/^Too many requests \(429\): Request was throttled\. Expected available in \d+ seconds\. You can try again in \d+ h \d+ min\.$/);
    expect(errors).toEqual([]);
  });

  it('when the API hands back hostile text (a symbol of HTML, a search match named as a script, a timestamp past a Date), then the page shows it as text, runs nothing and keeps working; the CSP refuses what gets through', { timeout: 60_000 }, async () => {
    const service = await startService('sqlite');
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    const origin = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
    const key = await register(service.app);
    const hostile = '<img src=x onerror=alert(1)>';
    const trade = (fields: Record<string, unknown>) =>
      service.app.inject({ method: 'POST', url: '/trades', payload: { type: 'buy', user_id: 5, shares: 3, price: 10, timestamp: 1_700_000_000_000, ...fields } });
    expect((await trade({ symbol: hostile })).statusCode).toBe(201);
    expect((await trade({ symbol: 'IBM' })).statusCode).toBe(201);
    // The API takes timestamps up to 2^53−1; a JS Date ends at 8.64e15 ms.
    expect((await trade({ symbol: 'IBM', user_id: 6, timestamp: 2 ** 53 - 1 })).statusCode).toBe(201);

    browser = await launchBrowser();
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    const errors: string[] = [];
    const dialogs: string[] = [];
    page.on('pageerror', (error) => void errors.push(error.message));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const searches: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/v1/search/')) searches.push(new URL(request.url()).searchParams.get('q') ?? '');
    });
    await page.addInitScript(() => {
      const seen: string[] = [];
      const page = globalThis as unknown as InPage;
      page.cspViolations = seen;
      page.document.addEventListener('securitypolicyviolation', (event) => void seen.push(`${event.violatedDirective} ${event.blockedURI}`));
    });

    // The ledger: the symbol is text, and the trade dated past a Date is shown as sent, not a crashed page.
    await page.goto(`${origin}/#/ledger`);
    expect(await textOf(page.locator('#trades tr[data-id="1"]'), (t) => t !== '')).toContain(hostile);
    expect(await textOf(page.locator('#trades tr[data-id="3"]'), (t) => t !== '')).toContain(`${2 ** 53 - 1} ms`);
    expect(await page.locator('main img').count()).toBe(0);

    // Enter pressed again while the trade is still out (its request held until then): one request, one trade (the
    // form's submit button is disabled meanwhile, and a form whose default button is disabled is not submitted by Enter).
    const posts: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url() === `${origin}/trades`) posts.push(request.headers()['idempotency-key'] ?? '');
    });
    const postOut = signal();
    const postReleased = signal();
    await page.route(`${origin}/trades`, async (route) => {
      if (route.request().method() === 'POST') {
        postOut.resolve();
        await postReleased.promise;
      }
      await route.continue();
    });
    await page.locator('#trade-user_id').fill('9');
    await page.locator('#trade-symbol').fill('IBM');
    await page.locator('#trade-shares').fill('1');
    await page.locator('#trade-price').fill('5');
    await page.locator('#trade-price').press('Enter');
    await postOut.promise;
    await page.locator('#trade-price').press('Enter');
    postReleased.resolve();
    await textOf(page.getByRole('status').filter({ hasText: 'Recorded trade' }), (t) => t.includes('#4'));
    expect(posts).toHaveLength(1);
    expect((await service.app.inject({ method: 'GET', url: '/trades?user_id=9' })).json()).toHaveLength(1);
    await page.unroute(`${origin}/trades`);

    // Register on the Key view, then forget: the key shown once leaves the screen with the storage.
    await page.getByRole('link', { name: 'Key' }).click();
    await page.locator('#register-name').fill('Eve');
    await page.locator('#register-last_name').fill('Hostile');
    await page.locator('#register-email').fill('eve@example.com');
    await page.getByRole('button', { name: 'Register and get a key' }).click();
    const shown = await textOf(page.locator('#new-key'), (t) => /^[0-9a-f]{40}$/.test(t));
    await page.getByRole('link', { name: 'Key' }).click();
    await page.getByRole('button', { name: 'Forget key' }).click();
    await expect.poll(() => page.locator('#new-key').count()).toBe(0);
    expect(await page.content()).not.toContain(shown);

    // The portfolio: the unpriced hostile symbol is text too, and its reason does not push the priced row's value out of view.
    await page.locator('#paste-key').fill(key);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await page.getByRole('link', { name: 'Portfolio' }).click();
    await page.locator('#portfolio-user').fill('5');
    // A slow answer (held until the test has seen the page meanwhile): the view says it is loading.
    const portfolioReleased = signal();
    await page.route(`${origin}/api/v1/portfolio/5/`, async (route) => {
      await portfolioReleased.promise;
      await route.continue();
    });
    await page.locator('#portfolio-user').press('Enter');
    await textOf(page.getByRole('status').filter({ hasText: 'Loading' }), (t) => t === 'Loading…');
    portfolioReleased.resolve();
    await textOf(page.locator('#positions tr[data-symbol="IBM"] [data-field="market_value"]'), (t) => /^[\d,]+\.\d\d$/.test(t));
    expect(await page.locator('#positions th[scope="row"]').first().textContent()).toContain(hostile);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate("(() => { const w = document.querySelector('#positions').closest('.table-wrap'); return w.scrollWidth <= w.clientWidth; })()")).toBe(true);

    // Search: one letter is not sent as you type; a match's name holding markup is text; Escape closes the list.
    await page.route(`${origin}/api/v1/search/**`, (route) => {
      const q = new URL(route.request().url()).searchParams.get('q');
      const matches =
        q === 'ibm'
          ? [{ symbol: 'IBMX', name: 'Not the one typed' }, { symbol: 'IBM', name: 'International Business Machines Corp' }]
          : q?.startsWith('international')
            ? [{ symbol: 'IBM', name: 'International Business Machines Corp', currency: 'USD' }]
            : [{ symbol: 'EVIL', name: `${hostile}<script>alert(2)</script>`, type: 'Equity', provider: '"><svg onload=alert(3)>' }];
      return route.fulfill({ json: { query: q, matches } });
    });
    await page.getByRole('link', { name: 'Market' }).click();
    await page.locator('#symbol-search').fill('e');
    await page.waitForTimeout(700); // twice the debounce: nothing may go
    expect(searches).toEqual([]);
    await page.locator('#symbol-search').pressSequentially('v', { delay: 20 });
    const match = await textOf(page.locator('#search-results'), (t) => t.includes('EVIL'));
    expect(match).toContain(`${hostile}<script>alert(2)</script>`);
    expect(searches).toEqual(['ev']);
    expect(await page.locator('#search-results img, #search-results script, #search-results svg').count()).toBe(0);
    await page.locator('#symbol-search').press('Escape');
    await expect.poll(() => page.locator('#search-results').count()).toBe(0);
    expect(await page.locator('#symbol-search').inputValue()).toBe('ev');
    // A ticker typed that is among the matches, though not the first, is the one highlighted; the arrow keys move
    // the highlight (and the field's aria-activedescendant), Enter takes the highlighted match.
    await page.locator('#symbol-search').fill('ibm');
    await textOf(page.locator('#search-results'), (t) => t.includes('IBMX'));
    const selected = () => page.getByRole('option', { selected: true }).textContent();
    expect(await selected()).toMatch(/^IBM International/);
    await page.locator('#symbol-search').press('ArrowUp');
    expect(await textOf(page.getByRole('option', { selected: true }), (t) => t.startsWith('IBMX'))).toMatch(/^IBMX Not the one typed/);
    expect(await page.locator('#symbol-search').getAttribute('aria-activedescendant')).toBe('match-0');
    await page.locator('#symbol-search').press('ArrowDown');
    expect(await textOf(page.getByRole('option', { selected: true }), (t) => t.startsWith('IBM '))).toMatch(/^IBM International/);
    await page.locator('#symbol-search').press('Enter');
    expect(await textOf(page.locator('#quote-symbol'), (t) => t !== '')).toBe('IBM');
    expect(await page.locator('#search-results').count()).toBe(0);
    // Enter before typing pauses: the search goes at once (not after the pause) and its best match is shown, never the words as a ticker.
    await page.locator('#symbol-search').fill('international');
    await page.locator('#symbol-search').press('Enter');
    expect(await textOf(page.locator('#quote-name'), (t) => t.startsWith('International'))).toBe('International Business Machines Corp');
    await expect.poll(() => page.locator('#symbol-search').inputValue()).toBe('IBM');
    expect(await page.locator('#search-results').count()).toBe(0);
    expect(await page.locator('#quote-symbol').textContent()).toBe('IBM');
    expect(searches.filter((q) => q === 'international')).toHaveLength(1);

    // The CSP is enforced, not only sent: markup that reached the DOM by any other way runs nothing.
    await page.evaluate(`(() => {
      const box = document.createElement('div');
      box.innerHTML = '<img src="/nope.png" onerror="window.pwned = 1">';
      document.body.append(box);
      const script = document.createElement('script');
      script.textContent = 'window.pwned = 2';
      document.body.append(script);
    })()`);
    await expect.poll(() => page.evaluate('window.cspViolations.length')).toBeGreaterThanOrEqual(2);
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    const violations = await page.evaluate(() => (globalThis as unknown as InPage).cspViolations);
    expect(violations.some((v) => v.startsWith('script-src-attr'))).toBe(true);
    expect(violations.some((v) => v.startsWith('script-src-elem'))).toBe(true);

    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    await service.close();
  });
});

/** WCAG 2 contrast ratio of two `#rrggbb` (or, as the minifier writes some, `#rgb`) colours. */
function contrast(a: string, b: string): number {
  const luminance = (colour: string) => {
    const hex = colour.length === 4 ? `#${[...colour.slice(1)].map((c) => c + c).join('')}` : colour;
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high! + 0.05) / (low! + 0.05);
}

/** The pairs of style.css's colours the page draws on each other, and the WCAG AA ratio each needs. */
const CONTRASTS: [string, string, number][] = [
  ['--text', '--surface', 4.5],
  ['--text', '--bg', 4.5],
  ['--text-muted', '--surface', 4.5],
  ['--text-muted', '--bg', 4.5],
  ['--accent', '--surface', 4.5],
  ['--accent-text', '--accent', 4.5],
  ['--up', '--surface', 4.5],
  ['--down', '--surface', 4.5],
  ['--warn-text', '--warn-bg', 4.5],
  ['--text', '--error-bg', 4.5],
  ['--text', '--ok-bg', 4.5],
  // Non-text (1.4.11): the focus ring and a field's edge against what they are drawn on.
  ['--focus', '--surface', 3],
  ['--focus', '--bg', 3],
  ['--field-border', '--surface', 3],
  ['--field-border', '--bg', 3],
];

function mkdirScreens(): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return SCREENSHOTS;
}
