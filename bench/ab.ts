/**
 * Two builds of the service side by side, in interleaved rounds (one SQLite file shared):
 *
 *   git archive <commit> src tsconfig.json tsconfig.build.json package.json | tar -x -C .ab/old
 *   ln -s ../../node_modules .ab/old/node_modules && (cd .ab/old && npx tsc -p tsconfig.build.json)
 *   npm run build && npx tsx bench/ab.ts .ab/old/dist/main.js
 *
 * Scenarios 1 and 2 (the quote, a trade by id): requests/s, p99 and CPU per answer of each build.
 * AB_SCENARIOS=user-id (or a comma list of quote, by-id, user-id): scenario 4's `GET /trades?user_id=`
 * instead, on a ledger of 1M trades seeded first (AB_TRADES to change the size).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IBM_BARS, startUpstream } from '../test/support/stand-in.js';
import { compareAll, type Load } from './load.js';
import { register } from './scenarios.js';
import { BENCH_USERS, migrate, seedTrades } from './seed.js';
import { startService } from './service.js';
const upstream = await startUpstream();
upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
const folder = mkdtempSync(join(tmpdir(), 'sms-ab-'));
const wanted = (process.env.AB_SCENARIOS ?? 'quote,by-id').split(',');
const dbPath = join(folder, 'shared.db');
if (wanted.includes('user-id')) {
  migrate(`sqlite:${dbPath}`);
  seedTrades(dbPath, Number(process.env.AB_TRADES ?? 1_000_000));
}
const entries = [process.argv[2] ?? '.ab/old/dist/main.js', 'dist/main.js'];
const services = [];
for (const [i, entry] of entries.entries()) services.push(await startService({ databaseUrl: `sqlite:${dbPath}`, upstreamUrl: upstream.url, apiCallsLog: join(folder, `a${i}.log`), entry }));
const key = await register(services[0]!.base);
const quote = { paths: ['/api/v1/symbol/IBM/'], headers: { authorization: `Token ${key}` } };
for (const s of services) await (await fetch(`${s.base}/api/v1/symbol/IBM/`, { headers: quote.headers })).arrayBuffer();
const posted = await fetch(`${services[0]!.base}/trades`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'buy', user_id: 23, symbol: 'ABX', shares: 30, price: 134, timestamp: 1531522701000 }) });
const { id } = (await posted.json()) as { id: number };
const userIds = { paths: Array.from({ length: BENCH_USERS }, (_, i) => `/trades?user_id=${i + 1}`) };
const loads = ([['quote', quote], ['by-id', { paths: [`/trades/${id}`] }], ['user-id', userIds]] as [string, Load][]).filter(([name]) => wanted.includes(name));
for (const [name, load] of loads) {
  const m = await compareAll(services, load);
  for (const [i, r] of m.entries()) console.log(name, entries[i], Math.round(r.rps), 'req/s', r.p99, 'ms p99', r.cpuUs?.toFixed(0), 'µs CPU');
}
for (const s of services) await s.stop();
await upstream.close();
rmSync(folder, { recursive: true, force: true });
