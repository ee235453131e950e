/**
 * `npm run screenshots`: the dashboard's pictures in docs/ (dashboard-desktop.png, dashboard-phone.png,
 * dashboard-portfolio.png), taken from the real page. It builds the page (vite), starts the service in
 * sandbox mode (no vendor key: offline, deterministic data) on a free port with a throw-away SQLite
 * database, registers a key, records a few trades, and drives Debian's Chromium (CHROMIUM_PATH, else
 * /usr/bin/chromium) through the market and portfolio views at desktop (1280×800, light) and phone
 * (390×844, dark) sizes. Nothing is fetched from the network.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = join(ROOT, 'docs');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DAY_MS = 86_400_000;

/** A port nothing listens on now (the kernel's pick, closed again before the service takes it). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitUntilUp(origin: string, service: ChildProcess): Promise<void> {
  for (let tries = 0; tries < 600; tries++) {
    if (service.exitCode !== null) throw new Error(`the service exited with ${service.exitCode}`);
    const up = await fetch(`${origin}/health`).then((r) => r.ok, () => false);
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 100)); // polling a process start-up: nothing to wait on but the port
  }
  throw new Error('the service did not answer /health within 60 s');
}

async function api(origin: string, path: string, body: unknown, key?: string): Promise<unknown> {
  const answer = await fetch(`${origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) },
    body: JSON.stringify(body),
  });
  if (!answer.ok) throw new Error(`${path}: ${answer.status} ${await answer.text()}`);
  return answer.json();
}

/** A small portfolio for user 1: three symbols bought over the last months, one partly sold. */
async function recordTrades(origin: string): Promise<void> {
  const daysAgo = (days: number) => Date.now() - days * DAY_MS;
  const trades = [
    { type: 'buy', symbol: 'IBM', shares: 40, price: 180, timestamp: daysAgo(150) },
    { type: 'buy', symbol: 'AAPL', shares: 60, price: 150, timestamp: daysAgo(120) },
    { type: 'buy', symbol: 'MSFT', shares: 25, price: 300, timestamp: daysAgo(90) },
    { type: 'sell', symbol: 'AAPL', shares: 20, price: 170, timestamp: daysAgo(45) },
    { type: 'buy', symbol: 'IBM', shares: 10, price: 200, timestamp: daysAgo(20) },
  ];
  for (const trade of trades) await api(origin, '/trades', { user_id: 1, ...trade });
}

async function waitForChart(page: Page): Promise<void> {
  await page.locator('.chart canvas').first().waitFor();
  await page.locator('#chart-legend, #value-legend').first().waitFor();
}

async function main(): Promise<void> {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const work = mkdtempSync(join(tmpdir(), 'screenshots-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  // Sandbox mode: no vendor key in the service's environment.
  const service = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(work, 'screenshots.db')}`,
      APICALLS_LOG: join(work, 'apicalls.log'),
      LOG_LEVEL: 'warn',
      PREFETCH: 'off',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  let context: BrowserContext | undefined;
  try {
    await waitUntilUp(origin, service);
    const key = (await api(origin, '/api/v1/register/', { name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com' })) as string;
    await recordTrades(origin);

    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await context.addInitScript(
      ([apiKey]) => {
        localStorage.setItem('sms.apiKey', apiKey!);
        localStorage.setItem('sms.watchlist', JSON.stringify(['IBM', 'AAPL', 'MSFT']));
      },
      [key],
    );
    const page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(`${origin}/#/market`);
    await page.locator('#symbol-search').fill('international');
    await page.locator('#search-results [role="option"]').first().waitFor();
    await page.locator('#symbol-search').press('Enter');
    await waitForChart(page);
    await page.locator('#watchlist tr[data-symbol="MSFT"] td.num').first().waitFor();
    await page.locator('#quote-name').filter({ hasNotText: '…' }).waitFor();
    await page.locator('#symbol-search').blur();
    await page.screenshot({ path: join(DOCS, 'dashboard-desktop.png'), fullPage: true });

    await page.getByRole('link', { name: 'Portfolio' }).click();
    await page.locator('#portfolio-user').fill('1');
    await page.locator('#portfolio-user').press('Enter');
    await page.locator('#allocation').waitFor();
    await waitForChart(page);
    await page.locator('#portfolio-user').blur();
    await page.screenshot({ path: join(DOCS, 'dashboard-portfolio.png'), fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByRole('link', { name: 'Market' }).click();
    await page.locator('#symbol-search').fill('IBM');
    await page.locator('#symbol-search').press('Enter');
    await waitForChart(page);
    await page.locator('#symbol-search').blur();
    await page.screenshot({ path: join(DOCS, 'dashboard-phone.png'), fullPage: true });
    console.log(`written: ${['dashboard-desktop.png', 'dashboard-portfolio.png', 'dashboard-phone.png'].map((f) => join('docs', f)).join(', ')}`);
  } finally {
    await context?.close();
    service.kill('SIGTERM');
    rmSync(profile, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
