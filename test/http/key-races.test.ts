import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/adapters/db/database.js';
import { register } from '../support/api.js';
import { createTestDatabase, testEngines, testRedisEnv } from '../support/engines.js';
import { startService } from '../support/service.js';

const INVALID_TOKEN = { detail: 'Invalid token.' };
/** What "at once" allows for a Redis message to cross a loaded test machine. */
const AT_ONCE_MS = 1_000;

const rotate = (app: FastifyInstance, key: string) => app.inject({ method: 'POST', url: '/api/v1/keys/rotate/', headers: { 'x-api-key': key } });
const revoke = (app: FastifyInstance, key: string) => app.inject({ method: 'POST', url: '/api/v1/keys/revoke/', headers: { 'x-api-key': key } });
const me = async (app: FastifyInstance, key: string) => (await app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': key } })).statusCode;

async function activeKeys(db: Kysely<Database>, email: string): Promise<number> {
  const rows = await db
    .selectFrom('api_keys')
    .innerJoin('accounts', 'accounts.id', 'api_keys.account_id')
    .select('key_hash')
    .where('accounts.email', '=', email)
    .where('revoked_at', 'is', null)
    .execute();
  return rows.length;
}

/** Polls until `check` holds; fails with the last value once `withinMs` has passed. */
async function waitFor<T>(read: () => Promise<T>, check: (value: T) => boolean, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(testEngines())('key races on %s', (engine) => {
  it('when four rotations race with one key, then one answers 201, the others 401, and only its new key works', async () => {
    const { app, db } = await startService(engine);
    for (let trial = 0; trial < 8; trial++) {
      const email = `rotate-${trial}@example.com`;
      const key = await register(app, email);
      // Half the trials with the key cached, half with every request looking it up.
      if (trial % 2 === 0) expect(await me(app, key)).toBe(200);
      const responses = await Promise.all(Array.from({ length: 4 }, () => rotate(app, key)));
      const statuses = responses.map((r) => r.statusCode).sort();
      expect(statuses, `trial ${trial}`).toEqual([201, 401, 401, 401]);
      for (const loser of responses.filter((r) => r.statusCode === 401)) expect(loser.json()).toEqual(INVALID_TOKEN);
      const newKey = responses.find((r) => r.statusCode === 201)!.json<string>();
      expect(await me(app, key)).toBe(401);
      expect(await me(app, newKey)).toBe(200);
      expect(await activeKeys(db, email)).toBe(1);
    }
  });

  it('when rotate and revoke race with one key, then exactly one wins and the other is 401', async () => {
    const { app, db } = await startService(engine);
    for (let trial = 0; trial < 10; trial++) {
      const email = `race-${trial}@example.com`;
      const key = await register(app, email);
      if (trial % 2 === 0) expect(await me(app, key)).toBe(200);
      const [rotated, revoked] = await Promise.all([rotate(app, key), revoke(app, key)]);
      if (rotated.statusCode === 201) {
        expect(revoked.statusCode, `trial ${trial}`).toBe(401);
        expect(revoked.json()).toEqual(INVALID_TOKEN);
        expect(await me(app, rotated.json<string>())).toBe(200);
        expect(await activeKeys(db, email)).toBe(1);
      } else {
        expect(revoked.statusCode, `trial ${trial}`).toBe(204);
        expect(rotated.statusCode).toBe(401);
        expect(rotated.json()).toEqual(INVALID_TOKEN);
        expect(await activeKeys(db, email)).toBe(0);
      }
      expect(await me(app, key)).toBe(401);
    }
  });

  it('when a key is rotated, then a second rotation with the old key is 401 and changes nothing', async () => {
    const { app, db } = await startService(engine);
    const key = await register(app);
    const first = await rotate(app, key);
    expect(first.statusCode).toBe(201);
    const again = await rotate(app, key);
    expect(again.statusCode).toBe(401);
    expect(again.json()).toEqual(INVALID_TOKEN);
    expect(await me(app, first.json<string>())).toBe(200);
    expect(await activeKeys(db, 'dave@example.com')).toBe(1);
  });

  it('when a second active key is written for an account, then the database refuses it', async () => {
    const { app, db } = await startService(engine);
    await register(app);
    const { account_id } = await db.selectFrom('api_keys').select('account_id').executeTakeFirstOrThrow();
    const insert = db
      .insertInto('api_keys')
      .values({ key_hash: 'f'.repeat(64), account_id, prefix: 'ffffffff', created_at: Date.now(), revoked_at: null })
      .execute();
    await expect(insert).rejects.toThrow(/unique/i);
  });
});

// Only PostgreSQL serves several instances: what one revokes, the other must stop accepting.
describe.each(testEngines().filter((e) => e === 'postgres'))('keys across two instances on one %s database', (engine) => {
  it('when they share Redis and a key is rotated or revoked on one, then the other refuses the old key at once', async () => {
    const database = await createTestDatabase(engine);
    try {
      const env = testRedisEnv();
      const a = await startService(engine, env, database);
      const b = await startService(engine, env, database);
      const key = await register(a.app);
      expect(await me(b.app, key)).toBe(200); // cached on b

      // Redis has handed the message to b before the 201; b reads it as soon as its event loop turns,
      // far sooner than the 30 s its cache would otherwise keep the key.
      const rotated = await rotate(a.app, key);
      expect(rotated.statusCode).toBe(201);
      expect(await waitFor(() => me(b.app, key), (status) => status === 401, AT_ONCE_MS)).toBe(401);
      const newKey = rotated.json<string>();
      expect(await me(b.app, newKey)).toBe(200);
      expect(await me(a.app, newKey)).toBe(200); // cached on a too

      expect((await revoke(b.app, newKey)).statusCode).toBe(204);
      expect(await waitFor(() => me(a.app, newKey), (status) => status === 401, AT_ONCE_MS)).toBe(401);
    } finally {
      await database.drop();
    }
  });

  it.each([
    ['sharing Redis', testRedisEnv],
    ['without Redis', () => ({})],
  ])('when %s, rotate on one and revoke on the other race with one key, then exactly one wins', async (_case, env) => {
    const database = await createTestDatabase(engine);
    try {
      const shared = env();
      const a = await startService(engine, shared, database);
      const b = await startService(engine, shared, database);
      for (let trial = 0; trial < 8; trial++) {
        const email = `both-${trial}@example.com`;
        const key = await register(a.app, email);
        const [rotated, revoked] = await Promise.all([rotate(a.app, key), revoke(b.app, key)]);
        const statuses = [rotated.statusCode, revoked.statusCode].sort();
        expect([[201, 401], [204, 401]], `trial ${trial}`).toContainEqual(statuses);
        expect(await activeKeys(a.db, email)).toBe(rotated.statusCode === 201 ? 1 : 0);
      }
    } finally {
      await database.drop();
    }
  });

  it('when they share no Redis and an instance revokes a key, then it drops every cached key of the account', async () => {
    const database = await createTestDatabase(engine);
    try {
      const a = await startService(engine, {}, database);
      const b = await startService(engine, {}, database);
      const oldKey = await register(a.app);
      expect(await me(b.app, oldKey)).toBe(200); // cached on b for 30 s
      const rotated = await rotate(a.app, oldKey); // b is not told
      const newKey = rotated.json<string>();
      expect(await me(b.app, newKey)).toBe(200); // b now holds two keys of the account

      expect((await revoke(b.app, newKey)).statusCode).toBe(204);
      expect(await me(b.app, oldKey)).toBe(401);
      expect(await me(b.app, newKey)).toBe(401);
    } finally {
      await database.drop();
    }
  });

  it('when they share no Redis, then the other refuses the old key within AUTH_CACHE_SECONDS', async () => {
    const database = await createTestDatabase(engine);
    try {
      const env = { AUTH_CACHE_SECONDS: '1' };
      const a = await startService(engine, env, database);
      const b = await startService(engine, env, database);
      const key = await register(a.app);
      expect(await me(b.app, key)).toBe(200); // cached on b for at most 1 s
      const cachedBy = Date.now();

      const rotated = await rotate(a.app, key);
      expect(rotated.statusCode).toBe(201);
      expect(await me(a.app, key)).toBe(401); // at once where it was rotated
      expect(await waitFor(() => me(b.app, key), (status) => status === 401, 5_000)).toBe(401);
      // The bound, with room for a loaded machine's scheduling.
      expect(Date.now() - cachedBy).toBeLessThan(1_000 + 2_000);
      expect(await me(b.app, rotated.json<string>())).toBe(200);
    } finally {
      await database.drop();
    }
  });
});
