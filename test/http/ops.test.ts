import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, inject, it, vi } from 'vitest';
import { poolUsage } from '../../src/adapters/db/connect.js';
import { register } from '../support/api.js';
import { testEngines, testRedisEnv } from '../support/engines.js';
import { parseAnswer, rawExchange } from '../support/raw-connection.js';
import { startService } from '../support/service.js';
import { IBM_BARS, providerEnv, startUpstream } from '../support/upstream.js';

type LogLine = Record<string, unknown> & { level: number; msg: string };

/** The service's JSON log lines, as an operator's log shipper reads them. */
function logCapture() {
  const lines: LogLine[] = [];
  return { lines, logDestination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const INFO = 30;

describe.each(testEngines())('GET /ready on %s', (engine) => {
  it('when the database answers and is migrated, then 200 with each dependency as a field', async () => {
    const service = await startService(engine);
    const answer = await service.app.inject({ method: 'GET', url: '/ready' });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({ status: 'ready', database: 'ok', migrations: 'applied', redis: 'not_configured', draining: false });
  });

  it('when shutdown has begun, then 503 with a detail, while /health still says alive', async () => {
    const service = await startService(engine);
    service.draining = true;
    const answer = await service.app.inject({ method: 'GET', url: '/ready' });
    expect(answer.statusCode).toBe(503);
    expect(answer.json()).toEqual({
      detail: 'Shutting down: this instance takes no new requests.',
      status: 'draining',
      database: 'ok',
      migrations: 'applied',
      redis: 'not_configured',
      draining: true,
    });
    expect((await service.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('when the database is gone, then 503 naming it', async () => {
    const service = await startService(engine);
    await service.db.destroy();
    const answer = await service.app.inject({ method: 'GET', url: '/ready' });
    expect(answer.statusCode).toBe(503);
    expect(answer.json()).toMatchObject({ detail: 'The database cannot be reached.', status: 'unavailable', database: 'unreachable', migrations: 'unknown' });
    await service.close().catch(() => undefined); // the pool is already closed
  });
});

describe('GET /ready with Redis', () => {
  it('when Redis is configured and reachable, then it says so', async () => {
    const service = await startService('sqlite', testRedisEnv());
    await vi.waitFor(async () => {
      const answer = await service.app.inject({ method: 'GET', url: '/ready' });
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({ status: 'ready', redis: 'ok' });
    }, { timeout: 10_000 });
  });

  it('when Redis is unreachable, then ready still (requests are served uncounted), unless the policy is deny', async () => {
    const allowing = await startService('sqlite', { REDIS_URL: 'redis://127.0.0.1:1' });
    const served = await allowing.app.inject({ method: 'GET', url: '/ready' });
    expect(served.statusCode).toBe(200);
    expect(served.json()).toMatchObject({ status: 'ready', redis: 'unreachable' });

    const denying = await startService('sqlite', { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_ON_STORE_FAILURE: 'deny' });
    const refused = await denying.app.inject({ method: 'GET', url: '/ready' });
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ status: 'unavailable', redis: 'unreachable' });
    expect(refused.json().detail).toMatch(/Redis cannot be reached/);
  });
});

/** The value of one sample in a Prometheus text exposition, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',');
    if (wanted.every((label) => present.includes(label))) return Number(match[3]);
  }
  return undefined;
}

describe.each(testEngines())('GET /metrics on %s', (engine) => {
  it('when clients have been served, then every metric family is there, by route pattern and never by raw URL', async () => {
    const upstream = await startUpstream();
    upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
    const service = await startService(engine, { ...providerEnv(upstream, ['alphavantage']), THROTTLE_ANON: '3/day' });
    const key = await register(service.app); // the address's first anonymous request
    const get = (url: string, headers: Record<string, string> = {}) => service.app.inject({ method: 'GET', url, headers });
    expect((await get('/api/v1/symbol/ibm/', { authorization: `Token ${key}` })).headers['x-cache']).toBe('MISS');
    expect((await get('/api/v1/symbol/ibm/', { authorization: `Token ${key}` })).headers['x-cache']).toBe('HIT');
    expect((await get('/api/v1/')).statusCode).toBe(200);
    expect((await get('/api/v1/symbol/%zz/')).statusCode).toBe(400); // refused by the router, before any route
    expect((await get('/api/v1/')).statusCode).toBe(429); // the address's fourth anonymous request
    expect((await get('/no/such/path-12345')).statusCode).toBe(404);

    const answer = await get('/metrics');
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = answer.body;
    const quote = { route: '/api/v1/symbol/:symbol', method: 'GET', status: '200' };
    expect(sample(text, 'http_requests_total', quote)).toBe(2);
    expect(sample(text, 'http_request_duration_seconds_count', quote)).toBe(2);
    expect(sample(text, 'http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })).toBe(1);
    expect(sample(text, 'http_requests_total', { route: 'unmatched', method: 'GET', status: '400' })).toBe(1);
    expect(text).not.toContain('ibm');
    expect(text).not.toContain('path-12345');
    expect(sample(text, 'upstream_calls_total', { provider: 'alphavantage', outcome: 'answered' })).toBe(1);
    expect(sample(text, 'upstream_budget_remaining_calls', { provider: 'alphavantage', window: 'day' })).toBe(24);
    expect(sample(text, 'price_store_answers_total', { result: 'miss' })).toBe(1);
    expect(sample(text, 'price_store_answers_total', { result: 'hit' })).toBe(1);
    expect(sample(text, 'throttle_refusals_total', { scope: 'anon' })).toBe(1);
    expect(sample(text, 'apicalls_log_dropped_lines_total')).toBe(0);
    if (engine === 'postgres') {
      expect(sample(text, 'db_pool_connections', { state: 'idle' })).toBeGreaterThanOrEqual(1);
      expect(text).toContain('# TYPE db_pool_waiting_requests gauge'); // its count: below, with a query kept waiting
    } else {
      expect(text).toContain('# TYPE db_pool_connections gauge'); // no pool on SQLite: the family, without samples
    }
    // The lag is measured just after a scrape (prom-client), so a later scrape shows it: more than 0, however small.
    await vi.waitFor(async () => expect(sample((await get('/metrics')).body, 'nodejs_eventloop_lag_seconds')).toBeGreaterThan(0), { timeout: 10_000 });
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });
});

describe.each(testEngines().filter((e) => e === 'postgres'))('the database pool in /metrics on %s', (engine) => {
  it('when a query waits for a connection, then db_pool_waiting_requests counts it, and in_use the one lent', async () => {
    const service = await startService(engine, { DATABASE_POOL_SIZE: '1' });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let lent!: () => void;
    const held = new Promise<void>((resolve) => (lent = resolve));
    // The pool's one connection, held by a transaction until the test lets it go.
    const holding = service.db.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      lent();
      await released;
    });
    await held;
    const waiting = sql`select 1`.execute(service.db);
    await vi.waitFor(() => expect(poolUsage(service.db)?.waiting).toBe(1), { timeout: 10_000 });
    try {
      const text = (await service.app.inject({ method: 'GET', url: '/metrics' })).body; // without a provider, no query of its own
      expect(sample(text, 'db_pool_waiting_requests')).toBe(1);
      expect(sample(text, 'db_pool_connections', { state: 'in_use' })).toBe(1);
      expect(sample(text, 'db_pool_connections', { state: 'idle' })).toBe(0);
    } finally {
      release();
      await holding;
      await waiting;
    }
  });
});

describe('METRICS_TOKEN', () => {
  it('when set, then /metrics answers only the Bearer token, and neither throttles nor logs the scrape', async () => {
    // Just enough for the five wrong tokens: the right one is still served with the allowance spent.
    const service = await startService('sqlite', { METRICS_TOKEN: 's3cret', THROTTLE_ANON: '5/day' });
    const scrape = (authorization?: string) =>
      service.app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
    for (const wrong of [undefined, 'Bearer s3cre', 'Bearer s3cret2', 'Token s3cret', 'Bearer s3cret extra']) {
      const refused = await scrape(wrong);
      expect(refused.statusCode, String(wrong)).toBe(401);
      expect(refused.json()).toEqual({ detail: 'Metrics need "Authorization: Bearer <METRICS_TOKEN>".' });
      expect(refused.headers['www-authenticate']).toBe('Bearer');
    }
    for (let i = 0; i < 3; i++) expect((await scrape('Bearer s3cret')).statusCode).toBe(200);
  });

  it.each(['memory', 'redis'] as const)(
    "when wrong tokens are sent (rate-limit store: %s), then each spends the address's anonymous allowance, and once it is spent they are 429",
    async (store) => {
      const service = await startService('sqlite', { METRICS_TOKEN: 's3cret', THROTTLE_ANON: '2/day', ...(store === 'redis' ? testRedisEnv() : {}) });
      const scrape = (authorization: string) => service.app.inject({ method: 'GET', url: '/metrics', headers: { authorization } });
      expect((await scrape('Bearer guess-1')).statusCode).toBe(401);
      expect((await scrape('Bearer guess-2')).statusCode).toBe(401);
      const refused = await scrape('Bearer guess-3');
      expect(refused.statusCode).toBe(429);
      expect(refused.json().detail).toMatch(/^Request was throttled\. Expected available in \d+ seconds?\.$/);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // The same allowance as the address's anonymous API calls, which are refused too; the right token is not.
      expect((await service.app.inject({ method: 'GET', url: '/api/v1/' })).statusCode).toBe(429);
      expect((await scrape('Bearer s3cret')).statusCode).toBe(200);
    },
  );

  it('when unset, then /metrics is open', async () => {
    const service = await startService('sqlite');
    expect((await service.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });

  it("when the cluster's sum cannot be had (the primary does not answer), then 503 with detail and Retry-After, not a 500", async () => {
    const renderMetrics = () => Promise.reject(new Error('cluster metrics: the primary did not answer within 6000 ms'));
    const service = await startService('sqlite', {}, undefined, { renderMetrics });
    const response = await service.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ detail: 'Metrics could not be gathered from every worker; try again shortly.' });
    expect(response.headers['retry-after']).toBe('5');
  });
});

/** The service behind one proxy, which the X-Request-Id it sends comes through. */
const BEHIND_A_PROXY = { TRUST_PROXY: '1' };

describe('X-Request-Id', () => {
  it('when TRUST_PROXY is 0 (the default), then the service names every request itself: a sent id is never taken, answers and log lines alike', async () => {
    const { lines, logDestination } = logCapture();
    const service = await startService('sqlite', { LOG_LEVEL: 'info' }, undefined, { logDestination });
    const answers = [
      await service.app.inject({ method: 'GET', url: '/api/v1/', headers: { 'x-request-id': 'chosen-by-client' } }),
      await service.app.inject({ method: 'GET', url: '/nowhere', headers: { 'x-request-id': 'chosen-by-client' } }),
    ];
    const ids = answers.map((answer) => answer.headers['x-request-id'] as string);
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(2);
    expect(lines.filter((line) => line.msg === 'request').map((line) => line.request_id)).toEqual(ids);

    // The refusals the HTTP server writes itself too.
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = service.app.server.address() as AddressInfo;
    const raw = parseAnswer(await rawExchange(port, 'GET /health HTTP/1.1\r\nX-Request-Id: chosen-by-client\r\nConnection: close\r\n\r\n'));
    expect(raw.status).toBe(400);
    expect(raw.headers['x-request-id']).toMatch(UUID);
  });

  it('when well-formed and sent through a trusted proxy, then it is echoed on successes and on every kind of refusal', async () => {
    const service = await startService('sqlite', { ...BEHIND_A_PROXY, THROTTLE_ANON: '3/day' });
    const withId = (method: 'GET' | 'DELETE', url: string, id: string) =>
      service.app.inject({ method, url, headers: { 'x-request-id': id } });
    const answers = [
      await withId('GET', '/api/v1/', 'trace-1'),
      await withId('GET', '/api/v1/me/', 'trace-2'), // 401
      await withId('GET', '/no/such/path', 'trace-3'), // 404
      await withId('DELETE', '/ready', 'trace-4'), // 405
      await withId('GET', '/api/v1/symbol/%zz/', 'trace-5'), // the router refuses the URL
      await withId('GET', '/api/v1/', 'trace-6'), // 429: the fourth anonymous request
      await withId('GET', '/health', 'abc.DEF_09:x-y'),
    ];
    expect(answers.map((a) => [a.statusCode, a.headers['x-request-id']])).toEqual([
      [200, 'trace-1'],
      [401, 'trace-2'],
      [404, 'trace-3'],
      [405, 'trace-4'],
      [400, 'trace-5'],
      [429, 'trace-6'],
      [200, 'abc.DEF_09:x-y'],
    ]);
  });

  it('when absent or malformed through a trusted proxy, then a fresh UUID is used instead, never the value sent', async () => {
    const service = await startService('sqlite', BEHIND_A_PROXY);
    const sent = ['', 'has space', 'x'.repeat(20_000), 'a'.repeat(129), 'nul\u0000byte', '<script>', 'é', 'a,b'];
    for (const id of sent) {
      const answer = await service.app.inject({ method: 'GET', url: '/api/v1/', headers: { 'x-request-id': id } });
      expect(answer.headers['x-request-id'], JSON.stringify(id.slice(0, 20))).toMatch(UUID);
    }
    const twice = await service.app.inject({ method: 'GET', url: '/api/v1/', headers: { 'x-request-id': ['one', 'two'] } });
    expect(twice.headers['x-request-id']).toMatch(UUID);
    const none = await service.app.inject({ method: 'GET', url: '/nowhere' });
    expect(none.headers['x-request-id']).toMatch(UUID);
  });

  it('when a request through a trusted proxy has no Host, then the protocol refusal carries the id too', async () => {
    const service = await startService('sqlite', BEHIND_A_PROXY);
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = service.app.server.address() as AddressInfo;
    const raw = await rawExchange(port, 'GET /health HTTP/1.1\r\nX-Request-Id: no-host-1\r\nConnection: close\r\n\r\n');
    const answer = parseAnswer(raw);
    expect(answer.status).toBe(400);
    expect(answer.headers['x-request-id']).toBe('no-host-1');
  });

  it("when a request is logged, then each of its lines carries the request's id", async () => {
    const { lines, logDestination } = logCapture();
    const service = await startService('sqlite', { ...BEHIND_A_PROXY, LOG_LEVEL: 'info' }, undefined, { logDestination });
    await service.app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-request-id': 'follow-me' } });
    await service.app.inject({ method: 'GET', url: '/api/v1/', headers: { 'x-request-id': 'and-me' } });
    const generated = (await service.app.inject({ method: 'GET', url: '/api/v1/' })).headers['x-request-id'];
    const ofRequests = lines.filter((line) => line.msg === 'request');
    expect(ofRequests.map((line) => line.request_id)).toEqual(['follow-me', 'and-me', generated]);
  });
});

describe('the request log line', () => {
  it('when requests are answered, then each is one info line with method, route, status, duration and account — never the key or the query', async () => {
    const { lines, logDestination } = logCapture();
    const service = await startService('sqlite', { LOG_LEVEL: 'info' }, undefined, { logDestination });
    const key = await register(service.app);
    await service.app.inject({ method: 'GET', url: '/api/v1/me/', headers: { authorization: `Token ${key}` } });
    await service.app.inject({ method: 'GET', url: `/query?function=GLOBAL_QUOTE&symbol=IBM&apikey=${key}` });
    await service.app.inject({ method: 'GET', url: '/no/such/path?secret=1' });

    const requests = lines.filter((line) => line.msg === 'request');
    const accountId = requests[1]?.account;
    expect(accountId).toEqual(expect.any(Number));
    expect(requests.map(({ method, route, status, account }) => ({ method, route, status, account }))).toEqual([
      { method: 'POST', route: '/api/v1/register', status: 201, account: undefined },
      { method: 'GET', route: '/api/v1/me', status: 200, account: accountId },
      { method: 'GET', route: '/query', status: 200, account: accountId },
      { method: 'GET', route: 'unmatched', status: 404, account: undefined },
    ]);
    for (const line of requests) {
      expect(line.level).toBe(INFO);
      expect(typeof line.duration_ms).toBe('number');
    }
    const everything = JSON.stringify(lines);
    expect(everything).not.toContain(key);
    expect(everything).not.toContain('secret=1');
    expect(lines.some((line) => line.msg === 'incoming request' || line.msg === 'request completed')).toBe(false);
  });

  it('when LOG_LEVEL=warn, then requests write no line', async () => {
    const { lines, logDestination } = logCapture();
    const service = await startService('sqlite', { LOG_LEVEL: 'warn' }, undefined, { logDestination });
    await service.app.inject({ method: 'GET', url: '/api/v1/' });
    await service.app.inject({ method: 'GET', url: '/nowhere' });
    expect(lines.filter((line) => line.msg === 'request')).toEqual([]);
  });
});

describe('operations endpoints and apicalls.log', () => {
  it('when /ready, /metrics and /health are called, then apicalls.log lists only the API call, and no throttle counts them', async () => {
    const path = join(inject('sqliteDir'), `ops-${randomBytes(4).toString('hex')}.log`);
    const service = await startService('sqlite', { APICALLS_LOG: path, THROTTLE_ANON: '1/day' });
    for (const url of ['/ready', '/metrics', '/health', '/ready', '/metrics']) {
      expect((await service.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
    expect((await service.app.inject({ method: 'GET', url: '/api/v1/' })).statusCode).toBe(200);
    await service.close(); // flushes the log
    const logged = readFileSync(path, 'utf8').trim().split('\n');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/ GET \/api\/v1\/ AnonymousUser$/);
  });
});
