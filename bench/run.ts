/**
 * Load benchmark: starts the built service as its own process against a local
 * stand-in of the vendors, drives it with autocannon over loopback, and
 * reports throughput, latency and how many upstream calls the load cost.
 *
 *   npm run bench                        # SQLite in a temp folder
 *   BENCH_DATABASE_URL=postgres://… npm run bench
 *   BENCH_SECONDS=5 BENCH_CONNECTIONS=20 npm run bench
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { IBM_BARS, startUpstream } from '../test/support/stand-in.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SYMBOLS = ['IBM', 'AAPL', 'MSFT', 'GOOG', 'AMZN', 'TSLA', 'NVDA', 'META', 'NFLX', 'ORCL'];

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitUntilUp(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`server at ${url} did not start`);
}

async function main() {
  const upstream = await startUpstream();
  for (const symbol of SYMBOLS) upstream.set('alphavantage', symbol, { kind: 'bars', bars: IBM_BARS });

  const folder = mkdtempSync(join(tmpdir(), 'sms-bench-'));
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? `sqlite:${join(folder, 'bench.db')}`;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, ['dist/main.js'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
      APICALLS_LOG: join(folder, 'apicalls.log'),
      THROTTLE_ANON: '1000000000/day',
      THROTTLE_USER: '1000000000/day',
      MARKET_DATA_PROVIDERS: 'alphavantage',
      ALPHAVANTAGE_API_KEY: 'bench',
      ALPHAVANTAGE_BASE_URL: upstream.url,
      // The stand-in has no quota: one client's 10 first-time symbols would otherwise pass its fair share of 25 a day.
      ALPHAVANTAGE_DAILY_LIMIT: '0',
    },
  });

  try {
    await waitUntilUp(`${base}/trades/1`);
    const registered = await fetch(`${base}/api/v1/register/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bench', last_name: 'Mark', email: `bench-${Date.now()}@example.com` }),
    });
    const key = (await registered.json()) as string;
    const auth = { authorization: `Token ${key}` };
    let next = 0;

    const scenarios: [string, autocannon.Options][] = [
      ['GET /api/v1/symbol/IBM/ (one symbol)', { url: `${base}/api/v1/symbol/IBM/`, headers: auth }],
      [
        `GET /api/v1/symbol/{10 symbols}/`,
        { url: base, headers: auth, requests: [{ setupRequest: (req) => ({ ...req, path: `/api/v1/symbol/${SYMBOLS[next++ % SYMBOLS.length]}/` }) }] },
      ],
      [
        'POST /trades',
        {
          url: `${base}/trades`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'buy', user_id: 23, symbol: 'ABX', shares: 30, price: 134, timestamp: 1531522701000 }),
        },
      ],
      ['GET /trades/1', { url: `${base}/trades/1` }],
    ];

    const rows = [];
    let quoteRequests = 0;
    for (const [name, options] of scenarios) {
      const result = await autocannon({ ...options, connections, duration: seconds });
      if (name.includes('/api/v1/symbol/')) quoteRequests += result.requests.total;
      rows.push(
        `| ${name} | ${result.requests.total} | ${Math.round(result.requests.average)} | ${result.latency.p50} | ${result.latency.p99} | ${result.non2xx} |`,
      );
    }
    console.log(`\n${connections} connections, ${seconds} s per scenario, ${databaseUrl.split(':')[0]}, Node ${process.version}\n`);
    console.log('| scenario | requests | req/s | p50 ms | p99 ms | non-2xx |');
    console.log('|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);
    console.log(`\n${quoteRequests} quote requests cost ${upstream.calls.alphavantage.length} upstream calls (${SYMBOLS.length} symbols).`);
  } finally {
    server.kill('SIGTERM');
    await upstream.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
