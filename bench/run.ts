/**
 * The benchmark suite of issue 10 (bench/README.md):
 *
 *   npm run bench                  # builds, then runs every scenario (under 10 minutes on 2 cores)
 *   BENCH_ONLY=1,2 npm run bench   # a subset of the scenarios 1–9
 *   BENCH_SECONDS=10 BENCH_ROUNDS=5 BENCH_CONNECTIONS=64 npm run bench
 *   BENCH_POSTGRES_URL=postgres://… # an existing, empty database for scenario 3 (default: one created and dropped here)
 *   BENCH_REDIS_URL=redis://…       # for scenario 7 (default redis://127.0.0.1:6379, a key prefix of its own)
 *
 * The service runs as its own process(es), the ceiling (./ceiling-server.ts) and the Fastify floor
 * (./floor-server.ts) as two others, and the load
 * (autocannon) in this one. Results: printed and written to bench/results.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IBM_BARS, startUpstream } from '../test/support/stand-in.js';
import { startCeiling } from './ceiling.js';
import { table, writeResults, type Row } from './report.js';
import * as scenarios from './scenarios.js';
import type { Service } from './service.js';

const only = new Set((process.env.BENCH_ONLY ?? '1,2,3,4,5,6,7,8,9').split(',').map((s) => Number(s.trim())));

/** 50 symbols for the batch, IBM first; the stand-in answers each with IBM's bars. */
function symbols(): string[] {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return ['IBM', ...Array.from({ length: 49 }, (_, i) => `B${letters[Math.floor(i / 26)]}${letters[i % 26]}`)];
}

async function main() {
  const started = performance.now();
  const upstream = await startUpstream();
  const context: scenarios.Context = {
    upstream,
    folder: mkdtempSync(join(tmpdir(), 'sms-bench-')),
    ceiling: await startCeiling(),
    floor: await startCeiling('bench/floor-server.ts'),
    symbols: symbols(),
  };
  for (const symbol of context.symbols) upstream.set('alphavantage', symbol, { kind: 'bars', bars: IBM_BARS });
  const rows: Row[] = [];
  const notes: string[] = [];
  const step = async (name: string, run: () => Promise<Row[]>) => {
    console.error(`${name}…`);
    const added = await run();
    rows.push(...added);
    console.error(table(added));
  };
  let main: Service | undefined;
  try {
    main = await scenarios.startSqliteService(context, 'main');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const idle = main.rssMb();
    rows.push({ scenario: 'Idle RSS after start (SQLite, no load yet)', value: `${idle.toFixed(0)} MB`, rssMb: idle, target: '< 100 MB', met: idle < 100 });
    const service = main;
    const key = await scenarios.register(service.base);
    if (only.has(1)) await step('quote', () => scenarios.quote(context, service, key));
    if (only.has(2)) await step('trade by id', () => scenarios.tradeById(context, service));
    if (only.has(5)) await step('batch and gateway', () => scenarios.batchAndGateway(context, service, key));
    if (only.has(3)) await step('POST /trades on SQLite', () => scenarios.postTradesSqlite(service));
    await main.stop();
    main = undefined;
    if (only.has(3)) await step('POST /trades on PostgreSQL', () => scenarios.postTradesPostgres(context));
    if (only.has(4) || only.has(6)) await step('ledger of 10k → 1M trades', () => scenarios.ledger(context));
    if (only.has(6)) await step('authentication as accounts grow', () => scenarios.authCurve(context));
    if (only.has(7)) await step('WEB_CONCURRENCY=2', () => scenarios.cluster(context));
    if (only.has(8)) await step('market data from the store', () => scenarios.marketData(context));
    if (only.has(9)) await step('isolation under expensive requests', () => scenarios.isolation(context));
    notes.push(
      `Upstream (stand-in Alpha Vantage) calls over the run: ${upstream.calls.alphavantage.length}.`,
      `Whole run: ${((performance.now() - started) / 60_000).toFixed(1)} min.`,
    );
    const text = writeResults(join('bench', 'results.md'), rows, notes);
    console.log(`\n${text}`);
  } finally {
    await main?.stop();
    await context.ceiling.stop();
    await context.floor.stop();
    await upstream.close();
    rmSync(context.folder, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
