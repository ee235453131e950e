import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';

const NEW_ACCOUNT = (i: number) => ({ name: 'Eve', last_name: 'Mallory', email: `eve${i}@example.com` });

describe.each(testEngines())('who counts against which allowance, on %s', (engine) => {
  describe('registration', () => {
    it('when each registration sends the key the previous one got, then the address still allows only THROTTLE_ANON of them', async () => {
      const { app } = await startService(engine, { THROTTLE_ANON: '5/day' });
      let key: string | undefined;
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        const response = await app.inject({
          method: 'POST',
          url: '/api/v1/register/',
          payload: NEW_ACCOUNT(i),
          headers: key ? { authorization: `Token ${key}` } : {},
        });
        statuses.push(response.statusCode);
        if (response.statusCode === 201) key = response.json<string>();
      }
      expect(statuses.filter((s) => s === 201)).toHaveLength(5);
      expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    });

    it('when THROTTLE_REGISTER is spent, then registration is 429 while the address may still make other requests', async () => {
      const { app } = await startService(engine, { THROTTLE_REGISTER: '2/hour' });
      const registerAs = (i: number) => app.inject({ method: 'POST', url: '/api/v1/register/', payload: NEW_ACCOUNT(i) });
      const first = await registerAs(1);
      expect(first.statusCode).toBe(201);
      expect(first.headers['ratelimit-policy']).toBe('"anon";q=1000000;w=86400, "register";q=2;w=3600');
      expect((await registerAs(2)).statusCode).toBe(201);
      const refused = await registerAs(3);
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(3600);
      expect(refused.json()).toEqual({ detail: `Request was throttled. Expected available in ${refused.headers['retry-after']} seconds.` });
      expect((await app.inject({ method: 'GET', url: '/api/v1/' })).statusCode).toBe(200);
    });
  });

  describe('failed authentication and unknown routes', () => {
    it('when bad keys pass the anonymous allowance, then they are 429 without a database look-up', async () => {
      const { app, db } = await startService(engine, { THROTTLE_ANON: '3/day' });
      const withKey = (key: string) => app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': key } });
      for (let i = 0; i < 3; i++) {
        const response = await withKey(`bad-${i}`);
        expect(response.statusCode).toBe(401);
        expect(response.headers.ratelimit).toMatch(new RegExp(`^"anon";r=${2 - i};t=\\d+$`));
      }
      await db.destroy(); // a look-up from now on would be a 500
      for (let i = 3; i < 10; i++) {
        const response = await withKey(`bad-${i}`);
        expect(response.statusCode).toBe(429);
        expect(response.json().detail).toMatch(/^Request was throttled\. Expected available in \d+ seconds\.$/);
      }
    });

    it('when made-up keys flood, then none is looked up: each is 401 while the database is away', async () => {
      const { app, db } = await startService(engine);
      await db.destroy(); // a look-up would be a 500
      for (const key of ['00000000000000000000000000000000000000ff', 'f'.repeat(40), 'not-a-key', 'A'.repeat(40)]) {
        const response = await app.inject({ method: 'GET', url: '/api/v1/me/', headers: { authorization: `Token ${key}` } });
        expect(response.statusCode).toBe(401);
        expect(response.json()).toEqual({ detail: 'Invalid token.' });
      }
    });

    it('when a rotated key floods, then it is looked up once and remembered', async () => {
      const { app, db } = await startService(engine);
      const old = await register(app);
      expect((await app.inject({ method: 'POST', url: '/api/v1/keys/rotate/', headers: { 'x-api-key': old } })).statusCode).toBe(201);
      const flood = () => app.inject({ method: 'GET', url: '/api/v1/me/', headers: { authorization: `Token ${old}` } });
      expect((await flood()).statusCode).toBe(401);
      await db.destroy(); // a second look-up would be a 500
      for (let i = 0; i < 20; i++) {
        const response = await flood();
        expect(response.statusCode).toBe(401);
        expect(response.json()).toEqual({ detail: 'Invalid token.' });
      }
    });

    it('when unknown /api/v1 paths flood, then they count against the address and become 429', async () => {
      const { app } = await startService(engine, { THROTTLE_ANON: '3/day' });
      const longPath = `/api/v1/${'x'.repeat(15_000)}`;
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await app.inject({ method: 'GET', url: longPath })).statusCode);
      expect(statuses).toEqual([404, 404, 404, 429, 429, 429]);
      // The address's allowance is what was spent: the root is refused too, the ledger is not.
      expect((await app.inject({ method: 'GET', url: '/api/v1/' })).statusCode).toBe(429);
      expect((await app.inject({ method: 'GET', url: '/trades' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/nope' })).statusCode).toBe(404);
    });

    it('when URLs the router refuses (414) flood /api/v1, then they count against the address and become 429', async () => {
      const { app } = await startService(engine, { THROTTLE_ANON: '3/day' });
      const overLong = `/api/v1/symbol/${'x'.repeat(15_000)}/`;
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await app.inject({ method: 'GET', url: overLong }));
      expect(answers.map((a) => a.statusCode)).toEqual([414, 414, 414, 429, 429]);
      expect(answers[0]!.json()).toEqual({ detail: 'Request URI is too long.' });
      expect(answers[3]!.json()).toEqual({ detail: `Request was throttled. Expected available in ${answers[3]!.headers['retry-after']} seconds.` });
      expect((await app.inject({ method: 'GET', url: '/api/v1/' })).statusCode).toBe(429);
      // Spelled with escapes, the router still reads /api/v1/…: counted as well.
      expect((await app.inject({ method: 'GET', url: '/%61pi/v1/%ZZ' })).statusCode).toBe(429);
    });

    it('when an address has spent its anonymous allowance, then a valid key is served, seen before or not, and a made-up one is 429 before any look-up', async () => {
      const me = (app: Awaited<ReturnType<typeof startService>>['app'], k: string) =>
        app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': k }, remoteAddress: '203.0.113.9' });
      for (const authCacheSeconds of ['30', '0']) {
        const { app, db } = await startService(engine, { THROTTLE_ANON: '2/day', AUTH_CACHE_SECONDS: authCacheSeconds });
        const seen = await register(app, 'seen@example.com'); // anonymous requests 1 and 2, from 127.0.0.1
        const unseen = await register(app, 'unseen@example.com');
        expect((await me(app, seen)).statusCode).toBe(200);
        expect((await me(app, 'f'.repeat(40))).statusCode).toBe(401);
        expect((await me(app, 'bad')).statusCode).toBe(401);
        expect((await me(app, 'bad-again')).statusCode).toBe(429);
        expect((await me(app, seen)).statusCode).toBe(200);
        expect((await me(app, unseen)).statusCode).toBe(200);
        await db.destroy();
        expect((await me(app, 'e'.repeat(40))).statusCode).toBe(429);
      }
    });
  });
});

describe('client addresses', () => {
  const from = (app: Awaited<ReturnType<typeof startService>>['app'], remoteAddress: string, url = '/api/v1/') =>
    app.inject({ method: 'GET', url, remoteAddress });

  it('when IPv6 clients share a /64, then they share one anonymous allowance; another /64 has its own', async () => {
    const { app } = await startService('sqlite', { THROTTLE_ANON: '2/day' });
    expect((await from(app, '2001:db8:1:2::1')).statusCode).toBe(200);
    expect((await from(app, '2001:db8:1:2:ffff:ffff:ffff:fffe')).statusCode).toBe(200);
    expect((await from(app, '2001:db8:1:2:abcd::7')).statusCode).toBe(429);
    expect((await from(app, '2001:db8:1:3::1')).statusCode).toBe(200);
  });

  it('when THROTTLE_IPV6_PREFIX is 128, then each IPv6 address counts alone; at 48 a whole /48 counts as one', async () => {
    const exact = await startService('sqlite', { THROTTLE_ANON: '1/day', THROTTLE_IPV6_PREFIX: '128' });
    expect((await from(exact.app, '2001:db8:1:2::1')).statusCode).toBe(200);
    expect((await from(exact.app, '2001:db8:1:2::2')).statusCode).toBe(200);
    const wide = await startService('sqlite', { THROTTLE_ANON: '1/day', THROTTLE_IPV6_PREFIX: '48' });
    expect((await from(wide.app, '2001:db8:1:2::1')).statusCode).toBe(200);
    expect((await from(wide.app, '2001:db8:1:ffff::1')).statusCode).toBe(429);
  });

  it('when a client comes as an IPv4-mapped IPv6 address, then it is the IPv4 address', async () => {
    const { app } = await startService('sqlite', { THROTTLE_ANON: '1/day' });
    expect((await from(app, '::ffff:203.0.113.7')).statusCode).toBe(200);
    expect((await from(app, '203.0.113.7')).statusCode).toBe(429);
    expect((await from(app, '203.0.113.8')).statusCode).toBe(200);
  });

  it('when the ledger is throttled, then IPv6 clients are grouped there too', async () => {
    const { app } = await startService('sqlite', { THROTTLE_TRADES: '1/minute' });
    expect((await from(app, '2001:db8:1:2::1', '/trades')).statusCode).toBe(200);
    expect((await from(app, '2001:db8:1:2::2', '/trades')).statusCode).toBe(429);
  });

  it('when registrations come from one IPv6 /64, then they share THROTTLE_REGISTER', async () => {
    const { app } = await startService('sqlite', { THROTTLE_REGISTER: '1/day' });
    const registerFrom = (remoteAddress: string, i: number) =>
      app.inject({ method: 'POST', url: '/api/v1/register/', payload: NEW_ACCOUNT(i), remoteAddress });
    expect((await registerFrom('2001:db8:9:9::1', 1)).statusCode).toBe(201);
    expect((await registerFrom('2001:db8:9:9::2', 2)).statusCode).toBe(429);
  });
});
