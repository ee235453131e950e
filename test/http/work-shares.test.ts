/**
 * Concurrency shares (issue 18): a client runs a few expensive requests at a time (long or adjusted
 * histories, indicators, portfolios, the unpaged ledger); more wait in a short queue, then 429 with
 * Retry-After; another client is served meanwhile. Vendor answers are held and released by the test, so a
 * request stays in flight exactly as long as the test wants.
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import { register } from '../support/api.js';
import { seedTrades } from '../support/ledger.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { IBM_BARS, providerEnv, startUpstream } from '../support/upstream.js';

describe.each(testEngines())('work shares on %s', (engine) => {
  async function setup(env: Record<string, string> = {}) {
    const upstream = await startUpstream();
    for (const symbol of ['HELD', 'WAITS']) upstream.set('twelvedata', symbol, { kind: 'held', then: { kind: 'bars', bars: IBM_BARS } });
    upstream.set('twelvedata', 'FREE', { kind: 'bars', bars: IBM_BARS });
    const service = await startService(engine, {
      ...providerEnv(upstream, ['twelvedata']),
      EXPENSIVE_PER_CLIENT: '1',
      EXPENSIVE_QUEUE: '1',
      // Longer than the test: no waiter is timed out behind its back (the timeout is tested in test/app).
      EXPENSIVE_QUEUE_WAIT_MS: '60000',
      ...env,
    });
    const ada = await register(service.app, 'ada@example.com');
    const grace = await register(service.app, 'grace@example.com');
    const history = (key: string, symbol: string) =>
      service.app.inject({ method: 'GET', url: `/api/v1/symbol/${symbol}/history/?from=2000-01-01`, headers: { 'x-api-key': key } });
    const shares = () => service.app.workShares!.state();
    return { upstream, ada, grace, history, shares, service: () => service };
  }

  it('when a key has its share running and one waiting, then a further long history is 429 with Retry-After, and the waiter runs once a place frees', async () => {
    const { upstream, ada, grace, history, shares, service } = await setup();
    const running = history(ada, 'HELD');
    await upstream.callsReached('twelvedata', 1);
    const waiting = history(ada, 'WAITS');
    await vi.waitFor(() => expect(shares().waiting).toBe(1));

    const refused = await history(ada, 'FREE');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('60');
    expect(refused.json()).toEqual({
      detail: 'Too many expensive requests at once from this client; they run a few at a time. Expected available in 60 seconds.',
    });
    // Another key is served meanwhile, and a short history of the same key too (the last 100 sessions are no share's work).
    expect((await history(grace, 'FREE')).statusCode).toBe(200);
    expect((await service().app.inject({ method: 'GET', url: '/api/v1/symbol/FREE/history/', headers: { 'x-api-key': ada } })).statusCode).toBe(200);

    upstream.release('twelvedata', 'HELD');
    expect((await running).statusCode).toBe(200);
    // The waiter starts in its turn and reaches the vendor.
    await vi.waitFor(() => expect(upstream.heldCount('twelvedata')).toBe(1));
    upstream.release('twelvedata', 'WAITS');
    expect((await waiting).statusCode).toBe(200);
    expect(shares()).toEqual({ running: 0, anonymousRunning: 0, waiting: 0 });
  });

  it("when a key's share is taken, then its next portfolio is refused before the ledger is read", async () => {
    const { upstream, ada, service } = await setup({ EXPENSIVE_QUEUE: '0' });
    const { app, db } = service();
    const trade = { type: 'buy', user_id: 7, symbol: 'HELD', shares: 10, price: 100, timestamp: 1_658_966_400_000 };
    expect((await app.inject({ method: 'POST', url: '/trades', payload: trade })).statusCode).toBe(201);
    const portfolio = () => app.inject({ method: 'GET', url: '/api/v1/portfolio/7/', headers: { 'x-api-key': ada } });
    const running = portfolio();
    await upstream.callsReached('twelvedata', 1); // folded, now pricing HELD

    // With the ledger out of reach, a portfolio that read it would fail: this one is refused first.
    await sql`alter table trades rename to trades_away`.execute(db);
    try {
      const refused = await portfolio();
      expect(refused.statusCode).toBe(429);
      expect(refused.json().detail).toMatch(/^Too many expensive requests at once from this client/);
    } finally {
      await sql`alter table trades_away rename to trades`.execute(db);
    }
    upstream.release('twelvedata', 'HELD');
    expect((await running).statusCode).toBe(200);
  });

  it('when anonymous clients have their common share running, then another address waits its turn (here: refused), while pages and keyed work are served', async () => {
    const { ada, service, shares } = await setup({ EXPENSIVE_ANONYMOUS: '1', EXPENSIVE_QUEUE: '0' });
    const { app, db } = service();
    // Larger than the socket buffers hold: a client that does not read keeps the list streaming.
    await seedTrades(db, 200_000, (i) => ({ type: 'buy', user_id: i % 100, symbol: 'IBM', shares: 10, price: 100, timestamp: 1_658_966_400_000 + i }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const dumping = connect((app.server.address() as AddressInfo).port, '127.0.0.1');
    dumping.pause(); // reads nothing: the answer waits on it
    dumping.write('GET /trades HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    try {
      await vi.waitFor(() => expect(shares().anonymousRunning).toBe(1));
      const other = (url: string) => app.inject({ method: 'GET', url, remoteAddress: '198.51.100.9' });
      const refused = await other('/trades');
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBe('60');
      expect((await other('/trades?limit=10')).statusCode).toBe(200);
      const keyed = await app.inject({ method: 'GET', url: '/api/v1/portfolio/7/', headers: { 'x-api-key': ada } });
      expect(keyed.statusCode).toBe(200);
    } finally {
      dumping.destroy();
    }
    // The client gone, its place is given back.
    await vi.waitFor(() => expect(shares().anonymousRunning).toBe(0));
    expect((await app.inject({ method: 'GET', url: '/trades?user_id=7', remoteAddress: '198.51.100.9' })).statusCode).toBe(200);
  }, 60_000);
});
