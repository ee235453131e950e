/**
 * PostgreSQL and Redis going away mid-traffic and coming back. The real
 * servers are shared with other tests, so "away" is a TCP proxy cut between
 * the service and them (test/support/tcp-proxy.ts), or PostgreSQL
 * terminating this test database's connections as a restart does (57P01).
 */
import { createRequire } from 'node:module';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { Service } from '../src/compose.js';
import { adminPostgresUrl, createTestDatabase, testRedisEnv, testRedisUrl, type TestDatabase } from './support/engines.js';
import { startService } from './support/service.js';
import { addressOf, startTcpProxy } from './support/tcp-proxy.js';

const CONNECT_TIMEOUT_MS = 1000;
/** The longest a request may take while the database is away: the connect timeout, and slack for a loaded machine. */
const ANSWER_WITHIN_MS = CONNECT_TIMEOUT_MS + 3000;

interface Answer {
  request: 'write' | 'read';
  status: number;
  ms: number;
  body: { id?: number; detail?: string };
  retryAfter: string | undefined;
}

/** Writes and reads trades, `workers` at a time, until stopped; every answer is kept. */
function runTraffic(service: Service, workers = 4) {
  const answers: Answer[] = [];
  let stopped = false;
  async function worker(n: number) {
    for (let i = 0; !stopped; i++) {
      const started = Date.now();
      const write = i % 2 === 0;
      const response = await service.app.inject(
        write
          ? { method: 'POST', url: '/trades', payload: { type: 'buy', user_id: n, symbol: 'ABX', shares: 1, price: 10, timestamp: i } }
          : { method: 'GET', url: '/trades?limit=5' },
      );
      answers.push({
        request: write ? 'write' : 'read',
        status: response.statusCode,
        ms: Date.now() - started,
        body: write || response.statusCode !== 200 ? response.json() : {},
        retryAfter: response.headers['retry-after'] as string | undefined,
      });
    }
  }
  const running = Promise.all(Array.from({ length: workers }, (_, n) => worker(n + 1)));
  return {
    answers,
    /** Waits until `count` more answers than now satisfy `test`. */
    async awaitMore(test: (answer: Answer) => boolean, count: number) {
      const before = answers.filter(test).length;
      await vi.waitFor(() => expect(answers.filter(test).length).toBeGreaterThanOrEqual(before + count), { timeout: 15_000 });
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}

/** The ids of the trades really stored, read past the proxy. */
async function storedTradeIds(database: TestDatabase): Promise<number[]> {
  // One client, ended before the test's database is dropped: a pool would still be closing its connection then.
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>('select id from trades');
    return rows.map((row) => Number(row.id));
  } finally {
    await client.end();
  }
}

function expectOutageAnswers(answers: Answer[]) {
  const statuses = new Set(answers.map((a) => a.status));
  expect([...statuses].sort(), 'only success or 503: never a 500').toEqual(expect.arrayContaining([503]));
  for (const answer of answers) {
    expect([200, 201, 503]).toContain(answer.status);
    expect(answer.ms, 'no request waits on a database that is away').toBeLessThan(ANSWER_WITHIN_MS);
    if (answer.status === 503) {
      expect(answer.body).toEqual({ detail: 'The database is unavailable; try again shortly.' });
      expect(answer.retryAfter).toBe('5');
    }
  }
}

/** Every trade acknowledged with 201 is stored: nothing acknowledged is lost. */
async function expectAcknowledgedStored(answers: Answer[], database: TestDatabase) {
  const acknowledged = answers.filter((a) => a.status === 201).map((a) => a.body.id!);
  const stored = new Set(await storedTradeIds(database));
  expect(acknowledged.filter((id) => !stored.has(id)), 'acknowledged but not stored').toEqual([]);
}

async function postgresBehindProxy(env: Record<string, string> = {}) {
  const database = await createTestDatabase('postgres');
  onTestFinished(() => database.drop());
  const proxy = await startTcpProxy(addressOf(database.url));
  const service = await startService(
    'postgres',
    { DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS), DATABASE_POOL_SIZE: '4', ...env },
    { url: proxy.urlFor(database.url), drop: async () => undefined },
  );
  return { database, proxy, service };
}

describe('PostgreSQL going away mid-traffic', () => {
  it('when every connection drops and none can be made, then requests are 503 with Retry-After, and served again once it is back', async () => {
    const { database, proxy, service } = await postgresBehindProxy();
    const traffic = runTraffic(service);
    try {
      await traffic.awaitMore((a) => a.status === 201, 10);
      proxy.cut();
      await traffic.awaitMore((a) => a.status === 503 && a.request === 'write', 5);
      await traffic.awaitMore((a) => a.status === 503 && a.request === 'read', 5);
      proxy.restore();
      // Recovered without a restart: the pool replaced its dead connections.
      await traffic.awaitMore((a) => a.status === 201, 10);
      await traffic.awaitMore((a) => a.status === 200, 10);
    } finally {
      await traffic.stop();
    }
    expectOutageAnswers(traffic.answers);
    await expectAcknowledgedStored(traffic.answers, database);
  });

  it('when PostgreSQL terminates the connections (a restart, 57P01), then those requests are 503 and the next ones are served', async () => {
    const { database, service } = await postgresBehindProxy();
    const traffic = runTraffic(service);
    const admin = new pg.Client({ connectionString: adminPostgresUrl() });
    await admin.connect();
    try {
      await traffic.awaitMore((a) => a.status === 201, 10);
      const name = new URL(database.url).pathname.slice(1);
      // What a fast restart does to each session, idle or running, repeated while the traffic reconnects.
      await vi.waitFor(
        async () => {
          await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
          expect(traffic.answers.filter((a) => a.status === 503).length).toBeGreaterThanOrEqual(3);
        },
        { timeout: 15_000, interval: 20 },
      );
      await traffic.awaitMore((a) => a.status === 201, 10);
    } finally {
      await admin.end();
      await traffic.stop();
    }
    expectOutageAnswers(traffic.answers);
    await expectAcknowledgedStored(traffic.answers, database);
  });

  it('when the database is away, then a trade read by id is 503 even when this instance keeps it (its ledger may have been claimed since), and the list is 503', async () => {
    const { proxy, service } = await postgresBehindProxy();
    const trade = { type: 'buy', user_id: 1, symbol: 'ABX', shares: 1, price: 10, timestamp: 1 };
    for (let i = 0; i < 2; i++) expect((await service.app.inject({ method: 'POST', url: '/trades', payload: trade })).statusCode).toBe(201);
    const read = await service.app.inject({ method: 'GET', url: '/trades/1' });
    expect(read.statusCode).toBe(200);
    proxy.cut();
    try {
      expect((await service.app.inject({ method: 'GET', url: '/trades/1' })).statusCode).toBe(503);
      expect((await service.app.inject({ method: 'GET', url: '/trades/2' })).statusCode).toBe(503);
      expect((await service.app.inject({ method: 'GET', url: '/trades' })).statusCode).toBe(503);
    } finally {
      proxy.restore();
    }
  });

  it('when the link goes silent mid-query (nothing closed, nothing answered), then the query ends as 503 past the statement timeout, and writes go on at once when the link is back', async () => {
    // Statements bounded at 500 ms: a query silent for 1.5 s is a link gone silent, not a slow statement.
    const { proxy, service } = await postgresBehindProxy({ DATABASE_STATEMENT_TIMEOUT_MS: '500' });
    const trade = { type: 'buy', user_id: 1, symbol: 'ABX', shares: 1, price: 10, timestamp: 1 };
    expect((await service.app.inject({ method: 'POST', url: '/trades', payload: trade })).statusCode).toBe(201);
    proxy.hold();
    const silent = service.app.inject({ method: 'POST', url: '/trades', payload: trade });
    await proxy.answerHeld();
    const answer = await silent;
    expect(answer.statusCode).toBe(503);
    expect(answer.json()).toEqual({ detail: 'The database is unavailable; try again shortly.' });
    proxy.release();
    // The silent connection was ended: the next write takes a fresh one instead of queueing behind it.
    expect((await service.app.inject({ method: 'POST', url: '/trades', payload: trade })).statusCode).toBe(201);
  });

  it('when the database is away, then /health says down, and recovers with it on bounded connections', async () => {
    const { proxy, service } = await postgresBehindProxy();
    proxy.cut();
    const down = await service.app.inject({ method: 'GET', url: '/health' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ status: 'down' });
    proxy.restore();
    await vi.waitFor(async () => expect((await service.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200), {
      timeout: 10_000,
    });
    // A new connection, bounded as configured: a statement past DATABASE_STATEMENT_TIMEOUT_MS is cancelled by the server.
    expect((await sql<{ statement_timeout: string }>`show statement_timeout`.execute(service.db)).rows).toEqual([{ statement_timeout: '10s' }]);
  });
});

describe('SQLite locked by another process', () => {
  it('when a write lock is held past the busy timeout, then a write is 503 and nothing is acknowledged', async () => {
    const service = await startService('sqlite');
    const path = service.database.url.slice('sqlite:'.length);
    const SQLite = createRequire(import.meta.url)(Number(process.versions.node.split('.')[0]) < 22 ? 'better-sqlite3-node20' : 'better-sqlite3');
    // Another process (the CLI importing prices, say) holding the write lock for longer than the 5 s busy timeout.
    const other = new SQLite(path);
    other.exec('begin immediate');
    try {
      const response = await service.app.inject({
        method: 'POST',
        url: '/trades',
        payload: { type: 'buy', user_id: 1, symbol: 'ABX', shares: 1, price: 10, timestamp: 1 },
      });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({ detail: 'The database is unavailable; try again shortly.' });
    } finally {
      other.exec('rollback');
      other.close();
    }
    expect((await service.app.inject({ method: 'GET', url: '/trades' })).json()).toEqual([]);
  });
});

describe('Redis going away mid-traffic', () => {
  async function redisBehindProxy(policy: 'allow' | 'deny') {
    const redis = testRedisEnv();
    const proxy = await startTcpProxy(addressOf(testRedisUrl()));
    const service = await startService('sqlite', {
      ...redis,
      REDIS_URL: proxy.urlFor(testRedisUrl()),
      THROTTLE_ANON: '3/hour',
      RATE_LIMIT_ON_STORE_FAILURE: policy,
    });
    const ask = async () => {
      const started = Date.now();
      const response = await service.app.inject({ method: 'GET', url: '/api/v1/' });
      return { status: response.statusCode, ms: Date.now() - started, body: response.json<{ detail?: string }>() };
    };
    return { proxy, service, ask };
  }

  it.each([
    ['allow', 200],
    ['deny', 503],
  ] as const)('with RATE_LIMIT_ON_STORE_FAILURE=%s, then requests are %i while it is away, and the shared limit counts again once back', async (policy, whileAway) => {
    const { proxy, service, ask } = await redisBehindProxy(policy);
    for (let i = 0; i < 3; i++) expect((await ask()).status).toBe(200);
    expect((await ask()).status).toBe(429);

    proxy.cut();
    const away = await Promise.all(Array.from({ length: 10 }, ask));
    for (const answer of away) {
      expect(answer.status).toBe(whileAway);
      expect(answer.ms, 'fails fast: no request waits on Redis').toBeLessThan(3000);
    }
    if (whileAway === 503) expect(away[0]!.body).toEqual({ detail: 'Request rate cannot be checked right now; try again shortly.' });
    expect((await service.app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ status: 'degraded' });

    proxy.restore();
    await vi.waitFor(async () => expect((await service.app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ status: 'ok' }), {
      timeout: 10_000,
    });
    // The counts made before the outage are Redis's again: this address's allowance is still spent.
    expect((await ask()).status).toBe(429);
  });

  it('when the link to Redis goes silent (nothing closed, nothing answered), then /health says degraded, and ok again once Redis answers', async () => {
    const { proxy, service, ask } = await redisBehindProxy('allow');
    expect((await ask()).status).toBe(200);
    expect((await service.app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ status: 'ok' });

    proxy.hold();
    expect((await ask()).status, 'served uncounted, as RATE_LIMIT_ON_STORE_FAILURE=allow says').toBe(200);
    expect((await service.app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ status: 'degraded' });

    proxy.release();
    await vi.waitFor(
      async () => {
        await ask();
        expect((await service.app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ status: 'ok' });
      },
      { timeout: 10_000 },
    );
  });
});
