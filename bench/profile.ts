/**
 * A CPU profile of the built service under one scenario's load (not part of `npm run bench`):
 *
 *   npx tsx bench/profile.ts quote|by-id|user-id|adjusted|unadjusted [seconds] [out-dir]
 *
 * Starts `node --cpu-prof dist/main.js` as bench/service.ts does (user-id: on a seeded ledger of 1M
 * trades; adjusted and unadjusted: scenario 8's LONG, 20,000 imported sessions with 8 splits and 317
 * dividends, its full history at 2 connections), loads it with autocannon for `seconds` (default 10), stops it with SIGTERM so the profile is
 * written, and prints the top self-time functions. Open the .cpuprofile in Chrome DevTools for flame graphs.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IBM_BARS, startUpstream } from '../test/support/stand-in.js';
import { measure, type Load } from './load.js';
import { longHistory } from './scenarios.js';
import { BENCH_USERS, importHistory, migrate, seedTrades } from './seed.js';
import { freePort, waitUntilReady } from './service.js';

const [scenario = 'quote', secondsText = '10', outDir = mkdtempSync(join(tmpdir(), 'sms-prof-'))] = process.argv.slice(2);
const folder = mkdtempSync(join(tmpdir(), 'sms-prof-db-'));

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

function topSelf(path: string, count = 30): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as { nodes: Node[]; samples: number[] };
  const bySelf = new Map<string, number>();
  const hits = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const id of profile.samples) {
    const { callFrame } = hits.get(id)!;
    const name = `${callFrame.functionName || '(anonymous)'} ${callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${callFrame.lineNumber + 1}`;
    bySelf.set(name, (bySelf.get(name) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return [...bySelf.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, n]) => `${((100 * n) / total).toFixed(1).padStart(5)}%  ${name}`)
    .join('\n');
}

async function main() {
  const upstream = await startUpstream();
  upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
  const databasePath = join(folder, 'profile.db');
  if (scenario === 'user-id') {
    migrate(`sqlite:${databasePath}`);
    seedTrades(databasePath, 1_000_000);
  }
  const history = scenario === 'adjusted' || scenario === 'unadjusted';
  if (history) {
    const { bars, splits, dividends } = longHistory();
    importHistory(`sqlite:${databasePath}`, folder, 'LONG', bars, splits, dividends);
    upstream.set('alphavantage', 'LONG', { kind: 'bars', bars: [...bars].reverse() });
    upstream.setFor('alphavantage', 'splits', 'LONG', { kind: 'splits', splits: splits.map((s) => ({ date: s.date, newShares: s.factor, oldShares: 1 })) });
    upstream.setFor('alphavantage', 'dividends', 'LONG', { kind: 'dividends', dividends });
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${outDir}`, ...(process.env.PROFILE_NODE_ARGS?.split(' ').filter(Boolean) ?? []), 'dist/main.js'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      DATABASE_URL: `sqlite:${databasePath}`,
      APICALLS_LOG: join(folder, 'apicalls.log'),
      THROTTLE_ANON: '1000000000/day',
      THROTTLE_USER: '1000000000/day',
      THROTTLE_REGISTER: '1000000000/day',
      THROTTLE_TRADES: 'off',
      MARKET_DATA_PROVIDERS: 'alphavantage',
      ALPHAVANTAGE_API_KEY: 'bench',
      ALPHAVANTAGE_BASE_URL: upstream.url,
      ALPHAVANTAGE_DAILY_LIMIT: '0',
    },
  });
  await waitUntilReady(base, child);
  let load: Load;
  if (scenario === 'quote' || history) {
    const registered = await fetch(`${base}/api/v1/register/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Pro', last_name: 'File', email: `profile-${Date.now()}@example.com` }),
    });
    const key = (await registered.json()) as string;
    const path = history ? `/api/v1/symbol/LONG/history/?from=1900-01-01${scenario === 'adjusted' ? '&adjusted=true' : ''}` : '/api/v1/symbol/IBM/';
    load = { paths: [path], headers: { authorization: `Token ${key}` }, ...(history && { connections: 2 }) };
  } else if (scenario === 'by-id') {
    const posted = await fetch(`${base}/trades`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'buy', user_id: 23, symbol: 'ABX', shares: 30, price: 134, timestamp: 1531522701000 }),
    });
    load = { paths: [`/trades/${((await posted.json()) as { id: number }).id}`] };
  } else {
    load = { paths: Array.from({ length: BENCH_USERS }, (_, i) => `/trades?user_id=${i + 1}`) };
  }
  await (await fetch(`${base}${load.paths[0]}`, { headers: load.headers })).arrayBuffer();
  const result = await measure(base, load, Number(secondsText));
  console.log(`${scenario}: ${Math.round(result.rps)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, errors ${result.errors}`);
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
  await upstream.close();
  const file = readdirSync(outDir).filter((name) => name.endsWith('.cpuprofile')).sort().pop()!;
  console.log(`profile: ${join(outDir, file)}\n${topSelf(join(outDir, file))}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
