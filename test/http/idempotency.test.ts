import { describe, expect, it } from 'vitest';
import { testEngines } from '../support/engines.js';
import { startService, type TestService } from '../support/service.js';

const ABX = { type: 'buy', user_id: 23, symbol: 'ABX', shares: 30, price: 134, timestamp: 1531522701000 };
const DAVE = { name: 'Dave', last_name: 'Mustaine', email: 'dave@example.com' };

type Headers = Record<string, string | string[]>;

function client(service: TestService) {
  const postTrade = (payload: unknown, headers: Headers = {}) =>
    service.app.inject({ method: 'POST', url: '/trades', payload: payload as object, headers });
  const register = (payload: object, headers: Headers = {}) =>
    service.app.inject({ method: 'POST', url: '/api/v1/register/', payload, headers });
  const trades = async () => (await service.app.inject({ method: 'GET', url: '/trades' })).json() as { id: number }[];
  return { postTrade, register, trades };
}

describe.each(testEngines())('Idempotency-Key on %s', (engine) => {
  describe('POST /trades', () => {
    it('when a trade is retried with the same key and body, then the first answer comes back, marked a replay, and one trade is stored', async () => {
      const { postTrade, trades } = client(await startService(engine));
      const first = await postTrade(ABX, { 'idempotency-key': 'order-7f3a' });
      expect(first.statusCode).toBe(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();

      // The same body in another key order and spacing is the same request.
      const reordered = JSON.stringify({ timestamp: ABX.timestamp, price: 134, shares: 30, symbol: 'ABX', user_id: 23, type: 'buy' }, null, 2);
      const retry = await postTrade(reordered, { 'idempotency-key': 'order-7f3a', 'content-type': 'application/json' });
      expect(retry.statusCode).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.headers['content-type']).toBe(first.headers['content-type']);
      expect(retry.body).toBe(first.body);
      expect(await trades()).toEqual([{ id: 1, ...ABX }]);
    });

    it('when the key is sent as the draft\'s quoted string, then it is the same key as the bare one', async () => {
      const { postTrade, trades } = client(await startService(engine));
      await postTrade(ABX, { 'idempotency-key': 'a"b\\c' });
      const retry = await postTrade(ABX, { 'idempotency-key': '"a\\"b\\\\c"' });
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(await trades()).toHaveLength(1);
    });

    it('when the key is reused with another body, then 422 with a detail and nothing more is stored', async () => {
      const { postTrade, trades } = client(await startService(engine));
      await postTrade(ABX, { 'idempotency-key': 'k1' });
      const reused = await postTrade({ ...ABX, shares: 31 }, { 'idempotency-key': 'k1' });
      expect(reused.statusCode).toBe(422);
      expect(reused.json().detail).toMatch(/already used with a different request body/);
      expect(await trades()).toHaveLength(1);
    });

    it('when one key goes to /trades and to register, then each route has its own', async () => {
      const { postTrade, register, trades } = client(await startService(engine));
      expect((await postTrade(ABX, { 'idempotency-key': 'shared' })).statusCode).toBe(201);
      expect((await register(DAVE, { 'idempotency-key': 'shared' })).statusCode).toBe(201);
      expect(await trades()).toHaveLength(1);
    });

    it('when a request with a key is refused (400), then nothing is kept and the corrected request with that key is written', async () => {
      const { postTrade, trades } = client(await startService(engine));
      expect((await postTrade({ ...ABX, shares: 500 }, { 'idempotency-key': 'k2' })).statusCode).toBe(400);
      const corrected = await postTrade(ABX, { 'idempotency-key': 'k2' });
      expect(corrected.statusCode).toBe(201);
      expect(corrected.headers['idempotent-replayed']).toBeUndefined();
      expect(await trades()).toHaveLength(1);
    });

    it('when 20 requests with one key arrive at once, then exactly one trade is stored and the others are replays of it or 409', async () => {
      const { postTrade, trades } = client(await startService(engine));
      const answers = await Promise.all(Array.from({ length: 20 }, () => postTrade(ABX, { 'idempotency-key': 'burst' })));
      const written = answers.filter((a) => a.statusCode === 201 && a.headers['idempotent-replayed'] === undefined);
      expect(written).toHaveLength(1);
      for (const answer of answers) {
        if (answer.statusCode === 201) expect(answer.json()).toEqual({ id: 1, ...ABX });
        else {
          expect(answer.statusCode).toBe(409);
          expect(answer.json().detail).toMatch(/still being processed/);
        }
      }
      expect(await trades()).toEqual([{ id: 1, ...ABX }]);
      // Once the first is answered, a retry is a replay.
      expect((await postTrade(ABX, { 'idempotency-key': 'burst' })).headers['idempotent-replayed']).toBe('true');
    });

    it('when the key has expired (IDEMPOTENCY_TTL_SECONDS), then the same request writes again', async () => {
      let clock = Date.parse('2026-11-23T10:00:00Z');
      const service = await startService(engine, { IDEMPOTENCY_TTL_SECONDS: '60' }, undefined, { now: () => new Date(clock) });
      const { postTrade, trades } = client(service);
      await postTrade(ABX, { 'idempotency-key': 'daily' });
      clock += 59_000;
      expect((await postTrade(ABX, { 'idempotency-key': 'daily' })).headers['idempotent-replayed']).toBe('true');
      clock += 1_000;
      const again = await postTrade(ABX, { 'idempotency-key': 'daily' });
      expect(again.statusCode).toBe(201);
      expect(again.headers['idempotent-replayed']).toBeUndefined();
      expect(again.json()).toEqual({ id: 2, ...ABX });
      expect(await trades()).toHaveLength(2);
    });

    it('when expired keys pile up, then writes prune them', async () => {
      let clock = Date.parse('2026-11-23T10:00:00Z');
      const service = await startService(engine, { IDEMPOTENCY_TTL_SECONDS: '60' }, undefined, { now: () => new Date(clock) });
      const { postTrade } = client(service);
      for (const key of ['a', 'b', 'c']) await postTrade(ABX, { 'idempotency-key': key });
      clock += 61_000;
      await postTrade(ABX, { 'idempotency-key': 'd' });
      const kept = await service.db.selectFrom('idempotency_keys').select('key').execute();
      expect(kept.map((row) => row.key)).toEqual(['d']);
    });

    it.each([
      ['empty', ''],
      ['256 characters long', 'k'.repeat(256)],
      ['not ASCII', 'clé'],
      ['holding a control character', 'a\tb'],
      ['an empty quoted string', '""'],
    ])('when the key is %s, then 400 names the header and nothing is stored', async (_case, key) => {
      const { postTrade, trades } = client(await startService(engine));
      const answer = await postTrade(ABX, { 'idempotency-key': key });
      expect(answer.statusCode).toBe(400);
      expect(answer.json()).toEqual({
        detail: 'Idempotency-Key: must be 1 to 255 printable ASCII characters',
        field: 'Idempotency-Key',
      });
      expect(await trades()).toEqual([]);
    });

    it('when the header is sent twice, then 400 rather than a merged key', async () => {
      const { postTrade, trades } = client(await startService(engine));
      const answer = await postTrade(ABX, { 'idempotency-key': ['one', 'two'] });
      expect(answer.statusCode).toBe(400);
      expect(answer.json().detail).toBe('Idempotency-Key: must be sent once');
      expect(await trades()).toEqual([]);
    });

    it('when the key is 255 characters, then it is taken', async () => {
      const { postTrade } = client(await startService(engine));
      expect((await postTrade(ABX, { 'idempotency-key': `${'k'.repeat(254)}!` })).statusCode).toBe(201);
    });

    it('when no key is sent, then every POST records a trade, as before', async () => {
      const { postTrade, trades } = client(await startService(engine));
      const first = await postTrade(ABX);
      const second = await postTrade(ABX);
      expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
      expect(second.headers['idempotent-replayed']).toBeUndefined();
      expect((await trades()).map((t) => t.id)).toEqual([1, 2]);
    });
  });

  describe('POST /api/v1/register/', () => {
    it('when a registration is retried with the same key and fields, then 409 says the account exists and never shows its key again', async () => {
      const service = await startService(engine);
      const { register } = client(service);
      const first = await register(DAVE, { 'idempotency-key': 'signup-1' });
      expect(first.statusCode).toBe(201);
      const apiKey = first.json() as string;

      const retry = await register({ ...DAVE, name: ' Dave ' }, { 'idempotency-key': 'signup-1' });
      expect(retry.statusCode).toBe(409);
      expect(retry.json().detail).toMatch(/already registered with this Idempotency-Key.*shown once/);
      expect(retry.body).not.toContain(apiKey);
      // The first key is the account's, untouched.
      const me = await service.app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': apiKey } });
      expect(me.json()).toMatchObject({ email: DAVE.email });
    });

    it('when the key is reused with other fields, then 422 and no second account', async () => {
      const { register } = client(await startService(engine));
      await register(DAVE, { 'idempotency-key': 'signup-2' });
      const other = await register({ ...DAVE, email: 'kerry@example.com' }, { 'idempotency-key': 'signup-2' });
      expect(other.statusCode).toBe(422);
      expect(other.json().detail).toMatch(/different request body/);
      // Kerry's email is still free: nothing was written for the refused request.
      expect((await register({ ...DAVE, email: 'kerry@example.com' })).statusCode).toBe(201);
    });

    it('when no key is sent, then a second registration of the email is the usual 400', async () => {
      const { register } = client(await startService(engine));
      await register(DAVE);
      const again = await register(DAVE);
      expect(again.statusCode).toBe(400);
      expect(again.json().field).toBe('email');
    });
  });
});

// Only PostgreSQL serves several instances: with TEST_ENGINES=sqlite there is no such suite (not a skipped one).
describe.each(testEngines().filter((e) => e === 'postgres'))('Idempotency-Key across two instances on one %s', (engine) => {
  it('when duplicates reach both instances at once, then one trade is stored and a later retry on either is a replay', async () => {
    const a = await startService(engine);
    const b = await startService(engine, {}, a.database);
    const instances = [client(a), client(b)];
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => instances[i % 2]!.postTrade(ABX, { 'idempotency-key': 'two-instances' })),
    );
    expect(answers.filter((r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    for (const answer of answers) {
      if (answer.statusCode === 201) expect(answer.json()).toEqual({ id: 1, ...ABX });
      else expect(answer.statusCode).toBe(409);
    }
    for (const instance of instances) {
      const retry = await instance.postTrade(ABX, { 'idempotency-key': 'two-instances' });
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.json()).toEqual({ id: 1, ...ABX });
      expect(await instance.trades()).toEqual([{ id: 1, ...ABX }]);
    }
  });
});
