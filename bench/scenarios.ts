/** The scenarios of issue 10, each returning rows of the results table (./report.ts). */
import { join } from 'node:path';
import { request } from 'node:http';
import pg from 'pg';
import type { Upstream } from '../test/support/stand-in.js';
import { recordAnswer, type Ceiling } from './ceiling.js';
import { compare, compareAll, measureAlone, type Load, type Measurement } from './load.js';
import type { Row } from './report.js';
import { BENCH_USERS, migrate, seedAccounts, seededKey, seedTrades } from './seed.js';
import { startService, type Service } from './service.js';

export interface Context {
  upstream: Upstream;
  folder: string;
  ceiling: Ceiling;
  /** A bare Fastify app answering the same bytes: the stack's floor. */
  floor: Ceiling;
  symbols: string[];
}

export function startSqliteService(context: Context, name: string, env: Record<string, string> = {}): Promise<Service> {
  return startService({
    databaseUrl: `sqlite:${join(context.folder, `${name}.db`)}`,
    upstreamUrl: context.upstream.url,
    apiCallsLog: join(context.folder, `${name}-apicalls.log`),
    env,
  });
}

export async function register(base: string): Promise<string> {
  const response = await fetch(`${base}/api/v1/register/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bench', last_name: 'Mark', email: `bench-${process.pid}-${Date.now()}@example.com` }),
  });
  if (response.status !== 201) throw new Error(`registration answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as string;
}

async function get(base: string, path: string, headers: Record<string, string> = {}): Promise<void> {
  const response = await fetch(`${base}${path}`, { headers });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
}

/**
 * Service against ceiling and floor on a read: records the service's answers to `load.paths`, serves
 * them from the ceiling (bare node:http) and the floor (bare Fastify), alternates the three.
 */
async function againstCeiling(context: Context, service: Service, scenario: string, load: Load, target?: (ratio: number) => Pick<Row, 'target' | 'met'>): Promise<Row> {
  // 100 at a time: a load of thousands of paths (2b) would otherwise open a connection for each at once.
  const answers: Awaited<ReturnType<typeof recordAnswer>>[] = [];
  for (let i = 0; i < load.paths.length; i += 100) {
    answers.push(...(await Promise.all(load.paths.slice(i, i + 100).map((path) => recordAnswer(service.base, path, load.headers)))));
  }
  const bad = answers.find((answer) => answer.status < 200 || answer.status > 299);
  if (bad) throw new Error(`${scenario}: the service answered ${bad.status} to ${bad.path}`);
  await Promise.all([context.ceiling.serve(answers), context.floor.serve(answers)]);
  const [ours, ceiling, floor] = (await compareAll([service, context.ceiling, context.floor], load)) as [Measurement, Measurement, Measurement];
  const ratio = ours.rps / ceiling.rps;
  return { scenario, service: ours, ceiling, floor, ratio, floorRatio: floor.rps / ceiling.rps, rssMb: service.peakRssMb(), ...target?.(ratio) };
}

const atLeast = (threshold: number) => (ratio: number) => ({ target: `≥ ${threshold}× ceiling`, met: ratio >= threshold });

const NEW_TRADE = JSON.stringify({ type: 'buy', user_id: 23, symbol: 'ABX', shares: 30, price: 134, timestamp: 1531522701000 });
const POST_TRADE: Load = { paths: ['/trades'], method: 'POST', headers: { 'content-type': 'application/json' }, body: NEW_TRADE };

/** (1) A quote of a stored symbol, authenticated. */
export async function quote(context: Context, service: Service, key: string): Promise<Row[]> {
  await get(service.base, '/api/v1/symbol/IBM/', { authorization: `Token ${key}` }); // stores IBM
  const load: Load = { paths: ['/api/v1/symbol/IBM/'], headers: { authorization: `Token ${key}` } };
  return [await againstCeiling(context, service, '1. `GET /api/v1/symbol/IBM/` (stored, key)', load, atLeast(0.7))];
}

/** Trades written through the API for the distinct-id row: twice as many as an instance keeps in memory. */
const DISTINCT_TRADES = 20_000;

/**
 * (2) One trade by id, read over and over: after the first read it is answered from the instance's
 * memory (trades read by id are kept, 10,000 at most), so this row measures the cache, not the
 * database. (2b) reads 20,000 distinct ids in turn, twice what is kept: an LRU read in a cycle
 * longer than itself misses every time, so each answer is a database read, as for a client that
 * reads trades it has not read before.
 */
export async function tradeById(context: Context, service: Service): Promise<Row[]> {
  const post = async () => {
    const response = await fetch(`${service.base}/trades`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: NEW_TRADE });
    return ((await response.json()) as { id: number }).id;
  };
  const id = await post();
  const one = await againstCeiling(context, service, '2. `GET /trades/{id}` (one id: answered from memory)', { paths: [`/trades/${id}`] }, atLeast(0.7));
  const ids: number[] = [];
  while (ids.length < DISTINCT_TRADES) ids.push(...(await Promise.all(Array.from({ length: 50 }, post))));
  const distinct = await againstCeiling(
    context,
    service,
    `2b. \`GET /trades/{id}\` (${DISTINCT_TRADES.toLocaleString('en')} distinct ids: from the database)`,
    { paths: ids.map((i) => `/trades/${i}`) },
  );
  return [one, distinct];
}

function writes(scenario: string, service: Service, threshold: number) {
  return async (): Promise<Row> => {
    const result = await measureAlone(service, POST_TRADE);
    return {
      scenario,
      service: result,
      rssMb: service.peakRssMb(),
      target: `≥ ${threshold.toLocaleString('en')} trades/s`,
      met: result.errors === 0 && result.rps >= threshold,
    };
  };
}

/** (3) POST /trades on SQLite (the shared service) … */
export async function postTradesSqlite(service: Service): Promise<Row[]> {
  return [await writes('3. `POST /trades`, SQLite', service, 5_000)()];
}

/** … and on PostgreSQL: a fresh database created and dropped here unless BENCH_POSTGRES_URL names one. */
export async function postTradesPostgres(context: Context): Promise<Row[]> {
  const given = process.env.BENCH_POSTGRES_URL;
  const name = `sms_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  if (!given) {
    await admin.connect();
    await admin.query(`create database ${name}`);
  }
  const service = await startService({
    databaseUrl: given ?? `postgres://postgres@127.0.0.1:5432/${name}`,
    upstreamUrl: context.upstream.url,
    apiCallsLog: join(context.folder, 'pg-apicalls.log'),
  });
  try {
    return [await writes('3. `POST /trades`, PostgreSQL', service, 2_000)()];
  } finally {
    await service.stop();
    if (!given) {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  }
}

const userPaths = () => Array.from({ length: BENCH_USERS }, (_, i) => `/trades?user_id=${i + 1}`);

/** Streams GET /trades (all of them) and samples the service's RSS while it does. */
function unpagedList(service: Service): Promise<{ seconds: number; bytes: number; growthMb: number; status: number }> {
  const before = service.rssMb();
  let highest = before;
  const sampler = setInterval(() => (highest = Math.max(highest, service.rssMb())), 50);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    request(`${service.base}/trades`, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('end', () => {
        clearInterval(sampler);
        resolve({ seconds: (performance.now() - started) / 1000, bytes, growthMb: highest - before, status: response.statusCode ?? 0 });
      });
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/**
 * (4) and the trades half of (6): the ledger grows 10k → 100k → 1M (seeded while the service is
 * stopped); at each size GET /trades?user_id= of users holding 10 trades each. At 1M: against the
 * ceiling, then the unpaged list of every trade with the service's RSS growth.
 */
export async function ledger(context: Context): Promise<Row[]> {
  const url = `sqlite:${join(context.folder, 'ledger.db')}`;
  const path = join(context.folder, 'ledger.db');
  migrate(url);
  const rows: Row[] = [];
  const load: Load = { paths: userPaths() };
  for (const size of [10_000, 100_000, 1_000_000]) {
    const seconds = seedTrades(path, size);
    const service = await startSqliteService(context, 'ledger');
    try {
      const label = `${size.toLocaleString('en')} trades`;
      console.error(`  seeded ${label} in ${seconds.toFixed(1)} s`);
      if (size < 1_000_000) {
        rows.push({ scenario: `6. \`GET /trades?user_id=\`, ${label} (10 per user)`, service: await measureAlone(service, load, 1), rssMb: service.peakRssMb() });
        continue;
      }
      const row = await againstCeiling(context, service, `4. \`GET /trades?user_id=\`, ${label} (10 per user)`, load);
      rows.push({ ...row, target: 'p99 ≤ 10 ms', met: row.service!.errors === 0 && row.service!.p99 <= 10 });
      const list = await unpagedList(service);
      rows.push({
        scenario: `4. \`GET /trades\` unpaged, ${label}`,
        value: `${list.status}, ${(list.bytes / 1e6).toFixed(0)} MB in ${list.seconds.toFixed(1)} s; RSS +${list.growthMb.toFixed(1)} MB`,
        rssMb: service.peakRssMb(),
        target: 'RSS growth < 50 MB',
        met: list.status === 200 && list.growthMb < 50,
      });
    } finally {
      await service.stop();
    }
  }
  return rows;
}

/** (5) A batch of 50 stored symbols, and the Alpha Vantage gateway's GLOBAL_QUOTE. */
export async function batchAndGateway(context: Context, service: Service, key: string): Promise<Row[]> {
  const auth = { authorization: `Token ${key}` };
  const batch = `/api/v1/symbols?symbols=${context.symbols.slice(0, 50).join(',')}`;
  await get(service.base, batch, auth); // stores the 50
  const gateway = `/query?function=GLOBAL_QUOTE&symbol=IBM&apikey=${key}`;
  await get(service.base, gateway);
  return [
    await againstCeiling(context, service, '5. `GET /api/v1/symbols?symbols={50}`', { paths: [batch], headers: auth }),
    await againstCeiling(context, service, '5. `GET /query?function=GLOBAL_QUOTE` (gateway)', { paths: [gateway] }),
  ];
}

/**
 * (6) Authentication as accounts grow: 10 → 1,000 → 100,000 accounts with one key each (seeded
 * while the service is stopped). The quote of scenario 1, each request with the next of up to
 * 1,000 keys spread over the table.
 */
export async function authCurve(context: Context): Promise<Row[]> {
  const url = `sqlite:${join(context.folder, 'accounts.db')}`;
  migrate(url);
  const rows: Row[] = [];
  for (const size of [10, 1_000, 100_000]) {
    seedAccounts(join(context.folder, 'accounts.db'), size);
    const service = await startSqliteService(context, 'accounts');
    try {
      const step = Math.max(1, Math.floor(size / 1_000));
      const keys = Array.from({ length: Math.min(size, 1_000) }, (_, i) => seededKey(1 + i * step));
      await get(service.base, '/api/v1/symbol/IBM/', { authorization: `Token ${keys[0]}` });
      const load: Load = { paths: ['/api/v1/symbol/IBM/'], authorizations: keys.map((key) => `Token ${key}`) };
      rows.push({
        scenario: `6. quote, ${size.toLocaleString('en')} accounts (${keys.length} keys in turn)`,
        service: await measureAlone(service, load, 1),
        rssMb: service.peakRssMb(),
      });
    } finally {
      await service.stop();
    }
  }
  return rows;
}

/**
 * (7) WEB_CONCURRENCY=2 against one process, on scenario 1, both with the same Redis (throttle
 * counters shared, as a cluster needs) and the same SQLite file; interleaved rounds.
 */
export async function cluster(context: Context): Promise<Row[]> {
  const redis = { REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: `sms-bench-${process.pid}-${Date.now()}:` };
  const single = await startSqliteService(context, 'cluster', redis);
  let workers: Service | undefined;
  try {
    const key = await register(single.base);
    const auth = { authorization: `Token ${key}` };
    await get(single.base, '/api/v1/symbol/IBM/', auth);
    workers = await startSqliteService(context, 'cluster', { ...redis, WEB_CONCURRENCY: '2' });
    await get(workers.base, '/api/v1/symbol/IBM/', auth);
    const [one, two] = await compare(single.base, workers.base, { paths: ['/api/v1/symbol/IBM/'], headers: auth });
    return [
      { scenario: '7. scenario 1, one process + Redis', service: one, rssMb: single.peakRssMb() },
      { scenario: '7. scenario 1, WEB_CONCURRENCY=2 + Redis', service: two, value: `scaling ×${(two.rps / one.rps).toFixed(2)}` },
    ];
  } finally {
    await workers?.stop();
    await single.stop();
  }
}
