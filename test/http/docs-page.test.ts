/**
 * /docs in a real browser (Debian's Chromium): the reference renders the
 * operations, every request the page makes goes to the service itself (users
 * run offline), and the service's CSP refuses nothing the page needs.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { startService } from '../support/service.js';

let browser: TestBrowser | undefined;
afterEach(async () => {
  await browser?.close();
  browser = undefined;
});

/** URLs that are not network requests: the page's own inline images. */
const isNetwork = (url: string) => !/^(data|blob|about):/.test(url);

// A name, not 127.0.0.1: browsers treat loopback addresses as secure, a server on the network over
// plain http as not (where CSP's upgrade-insecure-requests would send the page's assets to https://).
describe.each(['127.0.0.1', 'stock-market.test'])('GET /docs in Chromium, the service reached as %s', (host) => {
  it('when opened, then the operations render from the service alone, with no CSP error, under the service\'s name and icon', { timeout: 60_000 }, async () => {
    const service = await startService('sqlite');
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    const origin = `http://${host}:${(service.app.server.address() as AddressInfo).port}`;

    browser = await launchBrowser({ args: [`--host-resolver-rules=MAP ${host} 127.0.0.1`] });
    const requested: string[] = [];
    const failed: string[] = [];
    const errors: string[] = [];
    browser.context.on('request', (request) => void requested.push(request.url()));
    browser.context.on('requestfailed', (request) => void failed.push(`${request.url()}: ${request.failure()?.errorText}`));
    const page = await browser.context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => void errors.push(error.message));

    const response = await page.goto(`${origin}/docs`);
    expect(response?.status()).toBe(200);
    // Swagger UI marks each operation with its path; this one renders once the document is fetched and read.
    const operation = page.locator('[data-path="/api/v1/symbol/{symbol}"]');
    await operation.first().waitFor({ timeout: 30_000 });
    await expect(page.locator('.opblock').count()).resolves.toBeGreaterThan(10);
    await page.waitForLoadState('networkidle');

    const network = requested.filter(isNetwork);
    expect(network).toContain(`${origin}/docs/json`);
    expect(network.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(failed).toEqual([]);
    expect(errors.filter((text) => /content security policy/i.test(text))).toEqual([]);
    // Over plain http by name Chromium ignores helmet's Cross-Origin-Opener-Policy, and says so: a notice, not a failure.
    expect(errors.filter((text) => !/^The Cross-Origin-Opener-Policy header has been ignored/.test(text))).toEqual([]);

    // Branded as this service: its name in the tab, its icon (the dashboard's) as the logo and the favicon.
    const icon = readFileSync('web/icon.svg');
    expect(await page.title()).toBe('Stock Market Service API');
    const logos = page.locator('.topbar img');
    await logos.first().waitFor();
    expect(await logos.count()).toBe(1);
    expect(await logos.first().getAttribute('src')).toBe(`data:image/svg+xml;base64,${icon.toString('base64')}`);
    const favicons = page.locator('link[rel="icon"]');
    expect(await favicons.count()).toBe(1);
    const faviconUrl = new URL((await favicons.getAttribute('href'))!, page.url());
    const favicon = await fetch(`http://127.0.0.1:${faviconUrl.port}${faviconUrl.pathname}`);
    expect(favicon.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(Buffer.from(await favicon.arrayBuffer())).toEqual(icon);
  });
});
