/**
 * DRF's throttles, as the seed promises them: anonymous requests counted per
 * address, authenticated ones per account, each on its own. A valid key is
 * served within its account's allowance whatever its address has spent, on
 * one instance or several sharing Redis; and a flood of made-up keys from
 * that address costs no database look-ups (app/api-keys.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { describe, expect, inject, it } from 'vitest';
import { register } from '../support/api.js';
import { createTestDatabase, type Engine, testEngines, testRedisEnv } from '../support/engines.js';
import { startService, type TestService } from '../support/service.js';

/** The seed's rates: what the service runs with unless told otherwise. */
const SEED_RATES = { THROTTLE_ANON: '100/day', THROTTLE_USER: '1000/day', THROTTLE_KEYS: '10/day' };
const OFFICE = '198.51.100.7';
const THROTTLED_A_DAY = { detail: 'Request was throttled. Expected available in 86400 seconds.' };

type Topology = 'one instance' | 'two instances sharing Redis';
const TOPOLOGIES: Topology[] = ['one instance', 'two instances sharing Redis'];

/**
 * The instances of one service: requests go to each in turn, as a load
 * balancer would send them; `log` is every apicalls.log line, once closed.
 */
async function startInstances(engine: Engine, topology: Topology, env: Record<string, string>) {
  const shared = topology === 'one instance' ? {} : testRedisEnv();
  const database = await createTestDatabase(engine);
  const logs: string[] = [];
  const instances: TestService[] = [];
  // One stopped clock for every instance and its throttle: a wait is then exactly a day, however slowly a
  // busy machine gets from the first counted request to the refused one (seen: 86399 s under CI's load).
  const startedAt = new Date();
  const clock = () => startedAt;
  for (let i = 0; i < (topology === 'one instance' ? 1 : 2); i++) {
    const log = join(inject('sqliteDir'), `key-allowance-${randomBytes(4).toString('hex')}.log`);
    logs.push(log);
    instances.push(await startService(engine, { ...SEED_RATES, ...shared, ...env, APICALLS_LOG: log }, database, { now: clock }));
  }
  let turn = 0;
  const next = (): FastifyInstance => instances[turn++ % instances.length]!.app;
  return {
    /** GET /api/v1/symbol/IBM/ from the office, with `key` if given. */
    quote: (key?: string) =>
      next().inject({ method: 'GET', url: '/api/v1/symbol/IBM/', remoteAddress: OFFICE, headers: key ? { authorization: `Token ${key}` } : {} }),
    /** Any request from the office, with `key` if given. */
    inject: (method: 'GET' | 'POST', url: string, key?: string) =>
      next().inject({ method, url, remoteAddress: OFFICE, headers: key ? { 'x-api-key': key } : {} }),
    register: async (email: string) => {
      const app = next();
      const response = await app.inject({ method: 'POST', url: '/api/v1/register/', remoteAddress: OFFICE, payload: { name: 'N', last_name: 'L', email } });
      if (response.statusCode !== 201) throw new Error(`register: ${response.statusCode} ${response.body}`);
      return response.json<string>();
    },
    /** Key look-ups every instance has made, as /metrics says. */
    async lookups(): Promise<{ found: number; not_found: number }> {
      const total = { found: 0, not_found: 0 };
      for (const { app } of instances) {
        const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
        for (const result of ['found', 'not_found'] as const) {
          total[result] += Number(new RegExp(`^api_key_lookups_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
        }
      }
      return total;
    },
    /** Closes every instance and returns apicalls.log's lines, without their time stamps. */
    async closeAndReadLog(): Promise<string[]> {
      for (const instance of instances) await instance.close();
      await database.drop();
      return logs.flatMap((log) => readFileSync(log, 'utf8').split('\n').filter(Boolean)).map((line) => line.replace(/^.*\[API_REQUEST\] /, ''));
    },
  };
}

describe.each(testEngines())('a valid key and its address, on %s', (engine) => {
  describe.each(TOPOLOGIES)('%s', (topology) => {
    it("when the address has spent its anonymous allowance, then a key never used before is served against its own account and logged as its user (the issue's reproduction, at the seed's rates)", async () => {
      const service = await startInstances(engine, topology, {});
      const k1 = await service.register('k1@example.com');
      const k2 = await service.register('k2@example.com');
      expect((await service.quote(k1)).statusCode).toBe(200);
      // Two registrations spent 2 of the address's 100 anonymous requests.
      const anonymous: number[] = [];
      for (let i = 0; i < 99; i++) anonymous.push((await service.quote()).statusCode);
      expect(anonymous.slice(0, 98).every((status) => status === 401)).toBe(true);
      const refused = await service.quote();
      expect(anonymous[98]).toBe(429);
      expect(refused.json()).toEqual(THROTTLED_A_DAY);
      expect((await service.quote(k1)).statusCode).toBe(200);
      const second = await service.quote(k2);
      expect(second.statusCode).toBe(200);
      expect(second.headers.ratelimit).toMatch(/^"user";r=999;t=\d+$/);
      const log = await service.closeAndReadLog();
      expect(log.filter((line) => line.endsWith('k2@example.com'))).toEqual(['GET /api/v1/symbol/IBM/ k2@example.com']);
    });

    it('when one address registers 100 accounts, then its 101st anonymous request is refused, yet each key is served and one key gets exactly its 1,000', async () => {
      const service = await startInstances(engine, topology, { THROTTLE_REGISTER: '100/day' });
      const keys: string[] = [];
      for (let i = 0; i < 100; i++) keys.push(await service.register(`user${i}@example.com`));
      expect((await service.quote()).statusCode).toBe(429);
      const first: number[] = [];
      for (const key of keys) first.push((await service.quote(key)).statusCode);
      expect(first).toEqual(keys.map(() => 200));
      // keys[0] has spent 1 of its 1,000: 999 more pass, the next is refused.
      const statuses: number[] = [];
      for (let i = 0; i < 1_000; i++) statuses.push((await service.quote(keys[0])).statusCode);
      expect(statuses.filter((status) => status === 200)).toHaveLength(999);
      expect(statuses.at(-1)).toBe(429);
      expect((await service.quote(keys[1])).statusCode).toBe(200);
      await service.closeAndReadLog();
    });

    it('when 10,000 made-up keys flood from one address, then a valid key never used before is served on its first try, and the flood costs no key look-up', async () => {
      const service = await startInstances(engine, topology, {});
      const valid = await service.register('office@example.com');
      const before = await service.lookups();
      const flood = Array.from({ length: 10_000 }, () => randomBytes(20).toString('hex'));
      const statuses: number[] = [];
      let served: number | undefined;
      // 50 at a time, the valid key sent in the middle of the flood.
      for (let i = 0; i < flood.length; i += 50) {
        if (i === 5_000) served = (await service.quote(valid)).statusCode;
        statuses.push(...(await Promise.all(flood.slice(i, i + 50).map((key) => service.quote(key)))).map((r) => r.statusCode));
      }
      expect(served).toBe(200);
      // The registration spent 1 of the address's 100: 99 made-up keys are 401, the rest 429, none looked up.
      expect(statuses.filter((status) => status === 401)).toHaveLength(99);
      expect(statuses.filter((status) => status === 429)).toHaveLength(9_901);
      const after = await service.lookups();
      expect(after.found - before.found).toBe(1); // the valid key, on the instance that first saw it
      // A made-up key has a 1 in 2^32 chance of a right tag, and is then looked up once: the documented bound.
      expect(after.not_found - before.not_found).toBeLessThanOrEqual(1);
      await service.closeAndReadLog();
    });
  });
});

describe.each(testEngines())('keys that no longer work, on %s', (engine) => {
  it('when an account rotates its key an 11th time in a day, then 429 from THROTTLE_KEYS, and its current key still works', async () => {
    const service = await startInstances(engine, 'one instance', {});
    let key = await service.register('rotator@example.com');
    const rotate = (k: string) => service.inject('POST', '/api/v1/keys/rotate/', k);
    for (let i = 0; i < 10; i++) {
      const rotated = await rotate(key);
      expect(rotated.statusCode).toBe(201);
      key = rotated.json<string>();
    }
    const refused = await rotate(key);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['ratelimit-policy']).toBe('"user";q=1000;w=86400, "keys";q=10;w=86400');
    expect(refused.json()).toEqual(THROTTLED_A_DAY);
    expect((await service.quote(key)).statusCode).toBe(200);
    await service.closeAndReadLog();
  });

  it('when an address that spent its allowance replays 300 revoked keys three times over, then each is looked up once', async () => {
    const service = await startInstances(engine, 'one instance', { THROTTLE_KEYS: '1000/day' });
    let key = await service.register('collector@example.com');
    const revoked: string[] = [];
    for (let i = 0; i < 300; i++) {
      revoked.push(key);
      key = (await service.inject('POST', '/api/v1/keys/rotate/', key)).json<string>();
    }
    for (let i = 0; i < 99; i++) await service.quote(); // the registration was the first of the address's 100
    const before = await service.lookups();
    const statuses: number[] = [];
    for (let pass = 0; pass < 3; pass++) for (const old of revoked) statuses.push((await service.quote(old)).statusCode);
    expect(statuses.every((status) => status === 429)).toBe(true);
    const after = await service.lookups();
    expect(after.not_found - before.not_found).toBe(300);
    expect(after.found - before.found).toBe(0);
    await service.closeAndReadLog();
  });

  it('when a valid key asks for an unknown path from an address that spent its allowance, then 404, counted against its account', async () => {
    const service = await startInstances(engine, 'one instance', {});
    const key = await service.register('lost@example.com');
    for (let i = 0; i < 99; i++) await service.quote();
    expect((await service.quote()).statusCode).toBe(429);
    const lost = await service.inject('GET', '/api/v1/no-such-thing/', key);
    expect(lost.statusCode).toBe(404);
    expect(lost.json()).toEqual({ detail: 'Not found.' });
    expect(lost.headers.ratelimit).toMatch(/^"user";r=999;t=\d+$/);
    expect((await service.inject('GET', '/api/v1/no-such-thing/')).statusCode).toBe(429);
    const log = await service.closeAndReadLog();
    expect(log).toContain('GET /api/v1/no-such-thing/ lost@example.com');
  });
});
