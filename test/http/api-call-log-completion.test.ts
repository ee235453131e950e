/**
 * Review of performance round 2: apicalls.log and the served-market-data count
 * moved from onResponse hooks to the log controller's completion observers.
 * Over real HTTP, every kind of answer a client can get: one line per call,
 * and the served count as the README states it.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it, vi } from 'vitest';
import { register } from '../support/api.js';
import { parseAnswer, rawExchange } from '../support/raw-connection.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { IBM_BARS, providerEnv, startUpstream } from '../support/upstream.js';

/** Resolves once the handler of a request to `url` has ended (Fastify's diagnostics channel), answered or not. */
function handlerEnded(url: string): Promise<void> {
  const channel = 'tracing:fastify.request.handler:asyncEnd';
  return new Promise((resolve) => {
    const onEnd = (message: unknown) => {
      if ((message as { request: { url: string } }).request.url !== url) return;
      unsubscribe(channel, onEnd);
      resolve();
    };
    subscribe(channel, onEnd);
  });
}

async function setup(engine: 'sqlite' | 'postgres', env: Record<string, string> = {}) {
  const upstream = await startUpstream();
  upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
  upstream.set('alphavantage', 'SLOW', { kind: 'held', then: { kind: 'bars', bars: IBM_BARS } });
  const logPath = join(inject('sqliteDir'), `completion-${engine}-${Date.now()}-${Math.random()}.log`);
  const service = await startService(engine, { ...providerEnv(upstream, ['alphavantage']), APICALLS_LOG: logPath, ...env });
  await service.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = service.app.server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const key = await register(service.app, 'k@example.com');
  const keyed = { 'x-api-key': key };
  const status = async (path: string, init: RequestInit = {}) => (await fetch(base + path, init)).status;
  const served = async () => ((await (await fetch(`${base}/api/v1/providers/`, { headers: keyed })).json()) as { requests_served_today: number }).requests_served_today;
  /** Closes the service (which flushes the log) and returns its lines, without the time stamp. */
  const lines = async () => {
    await service.close();
    await upstream.close();
    return readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((line) => line.replace(/^.*\[API_REQUEST\] /, ''));
  };
  return { upstream, service, port, base, key, keyed, status, served, lines };
}

describe.each(testEngines())('apicalls.log and the served count at completion on %s', (engine) => {
  it('when a client gets 200, HEAD, 401, 404, 429, the gateway and a portfolio, then each call is one line and served counts the market-data 200s', async () => {
    const { key, keyed, status, served, lines, base } = await setup(engine, { THROTTLE_ANON: '5/day' });
    const buy = await fetch(`${base}/trades`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'buy', user_id: 7, symbol: 'IBM', shares: 1, price: 1, timestamp: 1 }) });
    expect(buy.status).toBe(201);
    expect(await status('/api/v1/symbol/IBM/', { headers: keyed })).toBe(200);
    expect(await status('/api/v1/symbol/IBM/', { method: 'HEAD', headers: keyed })).toBe(200);
    expect(await status('/api/v1/symbol/IBM/', { headers: { 'x-api-key': 'wrong' } })).toBe(401);
    expect(await status('/api/v1/nowhere/', { headers: keyed })).toBe(404);
    expect(await status(`/query?function=GLOBAL_QUOTE&symbol=IBM&apikey=${key}`)).toBe(200);
    expect(await status('/api/v1/portfolio/7/', { headers: keyed })).toBe(200);
    const anon = [];
    for (let i = 0; i < 4; i++) anon.push(await status('/api/v1/'));
    expect(anon.at(-1)).toBe(429);
    // The quote, its HEAD, the gateway's quote and the portfolio's one priced symbol (a promise of a cost).
    expect(await served()).toBe(4);
    expect(await lines()).toEqual([
      'POST /api/v1/register/ AnonymousUser',
      'POST /trades AnonymousUser',
      'GET /api/v1/symbol/IBM/ k@example.com',
      'HEAD /api/v1/symbol/IBM/ k@example.com',
      'GET /api/v1/symbol/IBM/ AnonymousUser',
      // No route, a valid key: a 404 counted against the account, so logged under its user.
      'GET /api/v1/nowhere/ k@example.com',
      'GET /query k@example.com',
      'GET /api/v1/portfolio/7/ k@example.com',
      ...anon.map(() => 'GET /api/v1/ AnonymousUser'),
      'GET /api/v1/providers/ k@example.com',
    ]);
  });

  it('when a client gives up while its quote is fetched, then the call the service made for it is still one line in apicalls.log, and not counted served', async () => {
    const { service, keyed, base, upstream, served, lines } = await setup(engine);
    const ended = handlerEnded('/api/v1/symbol/SLOW/'); // listened for before the request starts, as Fastify requires
    const abort = new AbortController();
    const abandoned = fetch(`${base}/api/v1/symbol/SLOW/`, { headers: keyed, signal: abort.signal }).catch(() => 'aborted');
    await upstream.callsReached('alphavantage', 1);
    abort.abort();
    expect(await abandoned).toBe('aborted');
    // The server has seen the client leave (its one connection closed) before the answer is ready.
    const connections = promisify(service.app.server.getConnections.bind(service.app.server));
    await vi.waitFor(async () => expect(await connections()).toBe(0), { timeout: 10_000 });
    upstream.release('alphavantage', 'SLOW');
    await ended;
    expect(upstream.calls.alphavantage).toEqual(['SLOW']);
    expect(await served()).toBe(0);
    expect(await lines()).toEqual(['POST /api/v1/register/ AnonymousUser', 'GET /api/v1/symbol/SLOW/ k@example.com', 'GET /api/v1/providers/ k@example.com']);
  });

  it('when the router refuses a URL under /api/v1 (malformed 400, over-long segment 414), then it is one line, as it is one request counted', async () => {
    const { port, lines } = await setup(engine);
    const malformed = await rawExchange(port, 'GET /api/v1/symbol/%ZZ/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(parseAnswer(malformed).status).toBe(400);
    const long = await rawExchange(port, `GET /trades/${'9'.repeat(600)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(parseAnswer(long).status).toBe(414);
    const elsewhere = await rawExchange(port, 'GET /nothing/%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(parseAnswer(elsewhere).status).toBe(400);
    expect(await lines()).toEqual(['POST /api/v1/register/ AnonymousUser', 'GET /api/v1/symbol/%ZZ/ AnonymousUser', `GET /trades/${'9'.repeat(600)} AnonymousUser`]);
  });
});
