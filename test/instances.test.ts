import { describe, expect, it, vi } from 'vitest';
import { createTestDatabase, testEngines, testRedisEnv } from './support/engines.js';
import { freePort, runEntry, waitForServer } from './support/process.js';
import { IBM_BARS, providerEnv, startUpstream } from './support/upstream.js';

/** One instance of the service: its own process and port. */
async function startInstance(env: Record<string, string>) {
  const port = await freePort();
  const run = runEntry('src/main.ts', { ...env, PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  return { run, base, ready: waitForServer(`${base}/health`, run, 60_000) };
}

type Instance = Awaited<ReturnType<typeof startInstance>>;

async function call(on: Instance, method: string, path: string, options: { key?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (options.key) headers.authorization = `Token ${options.key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${on.base}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  return { status: response.status, body: (await response.json()) as unknown };
}

async function register(on: Instance, email: string): Promise<string> {
  const { status, body } = await call(on, 'POST', '/api/v1/register/', { body: { name: 'Dave', last_name: 'Mustaine', email } });
  if (status !== 201) throw new Error(`register ${email}: ${status} ${JSON.stringify(body)}`);
  return body as string;
}

/** `n` calls, alternating between the instances, all at once. */
const acrossBoth = <T>(a: Instance, b: Instance, n: number, each: (on: Instance, i: number) => Promise<T>) =>
  Promise.all(Array.from({ length: n }, (_, i) => each(i % 2 === 0 ? a : b, i)));

// Several instances share one database only on PostgreSQL.
describe.each(testEngines().filter((e) => e === 'postgres'))('two instances on one %s and one Redis', (engine) => {
  it('when both serve concurrent load, then they behave as one service', async () => {
    const upstream = await startUpstream();
    const database = await createTestDatabase(engine);
    try {
      const env = {
        DATABASE_URL: database.url,
        ...testRedisEnv(),
        ...providerEnv(upstream),
        // No daily quota: the load looks up more symbols than one client's fair share of 25 a day.
        ALPHAVANTAGE_DAILY_LIMIT: '0',
        THROTTLE_ANON: '1000/day',
        THROTTLE_REGISTER: '1000/day',
        THROTTLE_USER: '30/day',
        PREFETCH: 'off',
      };
      const [a, b] = [await startInstance(env), await startInstance(env)];
      await Promise.all([a.ready, b.ready]);

      // One account per email, whichever instance each registration reaches.
      const registrations = await acrossBoth(a, b, 10, (on) => call(on, 'POST', '/api/v1/register/', { body: { name: 'D', last_name: 'M', email: 'same@example.com' } }));
      expect(registrations.filter((r) => r.status === 201)).toHaveLength(1);
      expect(registrations.filter((r) => r.status === 400).map((r) => r.body)).toEqual(
        Array.from({ length: 9 }, () => ({ detail: 'email: An account with this email is already registered.', field: 'email' })),
      );

      // Trade ids unique and gapless.
      const trade = (i: number) => ({ type: 'buy', user_id: 1, symbol: 'ABX', shares: 1 + i, price: 100, timestamp: i });
      const trades = await acrossBoth(a, b, 40, (on, i) => call(on, 'POST', '/trades', { body: trade(i) }));
      expect(trades.map((t) => t.status)).toEqual(trades.map(() => 201));
      expect(trades.map((t) => (t.body as { id: number }).id).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));

      // Each symbol fetched upstream once, across both. The first call is held until every request was sent,
      // so the others find the store empty; later calls (a second fetch of a symbol) are let go as they come.
      const symbols = ['IBM', 'AAPL', 'MSFT', 'KO', 'GE'];
      for (const symbol of symbols) upstream.set('alphavantage', symbol, { kind: 'held', then: { kind: 'bars', bars: IBM_BARS } });
      const quoteKey = await register(a, 'quotes@example.com');
      const quoting = acrossBoth(a, b, symbols.length * 4, (on, i) => call(on, 'GET', `/api/v1/symbol/${symbols[i % symbols.length]}/`, { key: quoteKey }));
      await upstream.callsReached('alphavantage', 1);
      const releasing = setInterval(() => {
        while (upstream.heldCount('alphavantage') > 0) upstream.release('alphavantage');
      }, 10);
      try {
        const quotes = await quoting;
        expect(quotes.map((q) => q.status)).toEqual(quotes.map(() => 200));
      } finally {
        clearInterval(releasing);
      }
      expect([...upstream.calls.alphavantage].sort()).toEqual([...symbols].sort());

      // A throttle shared: 30 a day for the account, wherever its requests land.
      const throttledKey = await register(b, 'throttled@example.com');
      const asked = await acrossBoth(a, b, 40, (on) => call(on, 'GET', '/api/v1/me/', { key: throttledKey }));
      expect(asked.filter((r) => r.status === 200)).toHaveLength(30);
      expect(asked.filter((r) => r.status === 429)).toHaveLength(10);

      // A key rotated on one instance is refused on the other at once (it had it cached).
      const key = await register(a, 'rotating@example.com');
      expect((await call(b, 'GET', '/api/v1/me/', { key })).status).toBe(200);
      const rotated = await call(a, 'POST', '/api/v1/keys/rotate/', { key });
      expect(rotated.status).toBe(201);
      // A loaded machine may take a while to read the message; the cache alone would keep the key 30 s (AUTH_CACHE_SECONDS).
      await vi.waitFor(async () => expect((await call(b, 'GET', '/api/v1/me/', { key })).status).toBe(401), { timeout: 10_000 });
      expect((await call(b, 'GET', '/api/v1/me/', { key: rotated.body as string })).status).toBe(200);

      a.run.child.kill('SIGTERM');
      b.run.child.kill('SIGTERM');
      expect(await Promise.all([a.run.exited, b.run.exited])).toEqual([0, 0]);
    } finally {
      await database.drop();
    }
  }, 180_000);
});
