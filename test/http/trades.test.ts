import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';

const ABX = { type: 'buy', user_id: 23, symbol: 'ABX', shares: 30, price: 134, timestamp: 1531522701000 };

describe.each(testEngines())('the trade ledger on %s', (engine) => {
  async function ledger() {
    const { app, db } = await startService(engine);
    const post = (payload: unknown) => app.inject({ method: 'POST', url: '/trades', payload: payload as object });
    const get = (url: string) => app.inject({ method: 'GET', url });
    return { app, db, post, get };
  }

  describe('POST /trades', () => {
    it('when a valid trade is posted, then it is created with id 1 and returned with exactly the contract fields', async () => {
      const { post } = await ledger();
      const response = await post(ABX);
      expect(response.statusCode).toBe(201);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json()).toStrictEqual({ id: 1, ...ABX });
      expect(Object.keys(response.json())).toEqual(['id', 'type', 'user_id', 'symbol', 'shares', 'price', 'timestamp']);
    });

    it('when trades are posted one after another, then ids are 1, 2, 3', async () => {
      const { post } = await ledger();
      const ids = [];
      for (const type of ['buy', 'sell', 'buy']) ids.push((await post({ ...ABX, type })).json().id);
      expect(ids).toEqual([1, 2, 3]);
    });

    it('when shares is 40 (outside the seed\'s typical 10-30), then it is still accepted', async () => {
      const { post } = await ledger();
      expect((await post({ ...ABX, shares: 40 })).statusCode).toBe(201);
      expect((await post({ ...ABX, shares: 1 })).statusCode).toBe(201);
      expect((await post({ ...ABX, shares: 100 })).statusCode).toBe(201);
    });

    it.each([
      ['shares above 100', { ...ABX, shares: 101 }, 'shares'],
      ['shares of 0', { ...ABX, shares: 0 }, 'shares'],
      ['negative shares', { ...ABX, shares: -5 }, 'shares'],
      ['fractional shares', { ...ABX, shares: 10.5 }, 'shares'],
      ['shares as a string', { ...ABX, shares: '30' }, 'shares'],
      ['an invalid type', { ...ABX, type: 'hold' }, 'type'],
      ['an uppercase type', { ...ABX, type: 'BUY' }, 'type'],
      ['a client-sent id', { id: 7, ...ABX }, 'id'],
      ['a missing symbol', { ...ABX, symbol: undefined }, 'symbol'],
      ['an empty symbol', { ...ABX, symbol: '' }, 'symbol'],
      ['a numeric symbol', { ...ABX, symbol: 42 }, 'symbol'],
      ['a missing user_id', { ...ABX, user_id: undefined }, 'user_id'],
      ['a string user_id', { ...ABX, user_id: '23' }, 'user_id'],
      ['a fractional price', { ...ABX, price: 1.25 }, 'price'],
      ['a null timestamp', { ...ABX, timestamp: null }, 'timestamp'],
      ['an unknown field', { ...ABX, note: 'x' }, 'note'],
      ['an array body', [ABX], 'body'],
    ])('when the trade has %s, then 400 names the field and nothing is stored', async (_case, payload, field) => {
      const { post, get } = await ledger();
      const response = await post(payload);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ field });
      expect(response.json().detail).toMatch(new RegExp(`^${field}: `));
      expect((await get('/trades')).json()).toEqual([]);
    });

    it('when the JSON is malformed, empty or not JSON at all, then 400/415 with a detail', async () => {
      const { app } = await ledger();
      const send = (payload: string, contentType: string) =>
        app.inject({ method: 'POST', url: '/trades', payload, headers: { 'content-type': contentType } });
      const malformed = await send('{"type": "buy",', 'application/json');
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json().detail).toMatch(/Malformed JSON/);
      expect((await send('', 'application/json')).statusCode).toBe(400);
      const text = await send('type=buy', 'text/plain');
      expect(text.statusCode).toBe(415);
      expect(text.json().detail).toMatch(/media type/);
    });

    it('when the body is larger than the limit, then 413', async () => {
      const { app } = await ledger();
      const response = await app.inject({
        method: 'POST',
        url: '/trades',
        payload: JSON.stringify({ ...ABX, symbol: 'x'.repeat(100_000) }),
        headers: { 'content-type': 'application/json' },
      });
      expect(response.statusCode).toBe(413);
      expect(response.json()).toHaveProperty('detail');
    });

    it('when requests are refused, then they burn no id', async () => {
      const { post } = await ledger();
      await post({ ...ABX, shares: 500 });
      await post({ ...ABX, type: 'short' });
      expect((await post(ABX)).json().id).toBe(1);
    });

    it('when 50 trades are created concurrently, then they get ids 1..50 exactly once each', async () => {
      const { post, get } = await ledger();
      const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => post({ ...ABX, user_id: i })));
      expect(responses.every((r) => r.statusCode === 201)).toBe(true);
      const ids = responses.map((r) => r.json().id).sort((a, b) => a - b);
      expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      const listed = (await get('/trades')).json();
      expect(listed.map((t: { id: number }) => t.id)).toEqual(ids);
      for (const trade of listed) expect(trade).toStrictEqual({ ...ABX, id: trade.id, user_id: trade.user_id });
    });
    it('when the database refuses one trade of several arriving together, then only it fails and the others get consecutive ids', async () => {
      const { db, post, get } = await ledger();
      // A rule only the database knows, standing in for any row it refuses (a constraint, a trigger).
      if (engine === 'sqlite') {
        await sql`create trigger refuse_nope before insert on trades when new.symbol = 'NOPE' begin select raise(abort, 'refused'); end`.execute(db);
      } else {
        await sql`alter table trades add constraint refuse_nope check (symbol <> 'NOPE')`.execute(db);
      }
      const symbols = ['A', 'B', 'NOPE', 'C', 'D', 'E'];
      const responses = await Promise.all(symbols.map((symbol) => post({ ...ABX, symbol })));
      expect(responses.map((r) => r.statusCode)).toEqual([201, 201, 500, 201, 201, 201]);
      expect(responses[2]!.json()).toEqual({ detail: 'Internal server error.' });
      const created = responses.filter((r) => r.statusCode === 201).map((r) => r.json());
      expect(created.map((t) => t.id).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
      expect((await get('/trades')).json()).toEqual(created.sort((a, b) => a.id - b.id));
      expect((await post({ ...ABX, symbol: 'F' })).json().id).toBe(6);
    });
  });

  describe('GET /trades', () => {
    async function seeded() {
      const l = await ledger();
      await l.post({ ...ABX, user_id: 1, type: 'buy', symbol: 'ABX' });
      await l.post({ ...ABX, user_id: 2, type: 'sell', symbol: 'ABX' });
      await l.post({ ...ABX, user_id: 1, type: 'sell', symbol: 'IBM' });
      await l.post({ ...ABX, user_id: 1, type: 'buy', symbol: 'IBM' });
      return l;
    }
    const ids = (body: { id: number }[]) => body.map((t) => t.id);

    it('when the ledger is empty, then 200 with []', async () => {
      const { get } = await ledger();
      const response = await get('/trades');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual([]);
    });

    it('when there are trades, then all of them in increasing id order', async () => {
      const { get } = await seeded();
      const response = await get('/trades');
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(ids(response.json())).toEqual([1, 2, 3, 4]);
      expect(response.json()[2]).toStrictEqual({ ...ABX, id: 3, user_id: 1, type: 'sell', symbol: 'IBM' });
    });

    it('when filtered by user_id, type and symbol, then the filters combine', async () => {
      const { get } = await seeded();
      expect(ids((await get('/trades?user_id=1')).json())).toEqual([1, 3, 4]);
      expect(ids((await get('/trades?type=sell')).json())).toEqual([2, 3]);
      expect(ids((await get('/trades?user_id=1&type=sell')).json())).toEqual([3]);
      expect(ids((await get('/trades?symbol=IBM&type=buy')).json())).toEqual([4]);
      expect((await get('/trades?user_id=99')).json()).toEqual([]);
    });

    it('when a limit is given, then pages follow the Link header to the end', async () => {
      const { get } = await seeded();
      let url: string | undefined = '/trades?user_id=1&limit=2';
      const pages: number[][] = [];
      while (url) {
        const response = await get(url);
        expect(response.statusCode).toBe(200);
        pages.push(ids(response.json()));
        const link = response.headers.link as string | undefined;
        url = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
      }
      expect(pages).toEqual([[1, 3], [4]]);
    });

    it('when pages of 100 different sizes are asked (more than the ledger keeps compiled), then each is the same first page', async () => {
      const { get, post } = await ledger();
      for (let i = 0; i < 120; i += 40) await Promise.all(Array.from({ length: 40 }, () => post(ABX)));
      for (let limit = 1; limit <= 100; limit += 1) {
        for (const filter of ['', 'user_id=23&']) {
          const response = await get(`/trades?${filter}limit=${limit}&after_id=3`);
          expect(ids(response.json())).toEqual(Array.from({ length: limit }, (_, i) => i + 4));
          expect(response.headers.link).toBe(`</trades?${filter}limit=${limit}&after_id=${limit + 3}>; rel="next"`);
        }
      }
    });

    it('when more batches exist than one internal read, then the streamed array is still complete and ordered', async () => {
      const { get, post } = await ledger();
      // 1,100 trades: the stream reads in batches of 1,000.
      for (let i = 0; i < 1100; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, j) => post({ ...ABX, user_id: i + j })));
      }
      const body = (await get('/trades')).json();
      expect(body).toHaveLength(1100);
      expect(ids(body)).toEqual(Array.from({ length: 1100 }, (_, i) => i + 1));
      expect(ids((await get('/trades?after_id=1050')).json())).toHaveLength(50);
    });

    it.each([
      ['user_id=abc', 'user_id'],
      ['user_id=-1', 'user_id'],
      ['type=hold', 'type'],
      ['limit=0', 'limit'],
      ['limit=5000', 'limit'],
      ['after_id=x', 'after_id'],
      ['userid=1', 'userid'],
    ])('when the query has %s, then 400 names %s', async (query, field) => {
      const { get } = await ledger();
      const response = await get(`/trades?${query}`);
      expect(response.statusCode).toBe(400);
      expect(response.json().field).toBe(field);
    });
  });

  describe('GET /trades/{id}', () => {
    it('when the trade exists, then 200 with it; otherwise 404 with a detail', async () => {
      const { post, get } = await ledger();
      await post(ABX);
      expect((await get('/trades/1')).json()).toStrictEqual({ id: 1, ...ABX });
      for (const url of ['/trades/2', '/trades/0', '/trades/abc', '/trades/1.5', '/trades/-1', '/trades/99999999999999999999']) {
        const response = await get(url);
        expect(response.statusCode, url).toBe(404);
        expect(response.json()).toEqual({ detail: 'Not found.' });
      }
    });
  });

  describe('ids and integers past 32 bits (issue 7)', () => {
    const SAFE_MAX = Number.MAX_SAFE_INTEGER;
    const WITHIN = [2 ** 31 - 1, 2 ** 31, 2 ** 32, SAFE_MAX];
    const ids = (body: { id: number }[]) => body.map((t) => t.id);
    const BEYOND = ['9007199254740992', '9223372036854775807', '9223372036854775808', '18446744073709551616', '99999999999999999999'];

    it('when ids pass 2^31, 2^32 and reach 2^53-1, then trades are still created, found and listed', async () => {
      const { db, post, get } = await ledger();
      for (const last of [2 ** 31 - 1, 2 ** 32 - 1, SAFE_MAX - 1]) {
        await db.updateTable('id_counters').set({ last_id: last }).where('name', '=', 'trades').execute();
        const created = await post(ABX);
        expect(created.statusCode).toBe(201);
        expect(created.json().id).toBe(last + 1);
        expect((await get(`/trades/${last + 1}`)).json()).toStrictEqual({ id: last + 1, ...ABX });
      }
      expect(ids((await get(`/trades?after_id=${2 ** 31}`)).json())).toEqual([2 ** 32, SAFE_MAX]);
      expect(ids((await get(`/trades?after_id=${2 ** 31}&limit=1`)).json())).toEqual([2 ** 32]);
    });

    it('when after_id and user_id are 2^31, 2^32 or 2^53-1, then 200; past 2^53-1, 400 names the parameter', async () => {
      const { get } = await ledger();
      for (const value of WITHIN) {
        for (const query of [`after_id=${value}`, `user_id=${value}`, `after_id=${value}&limit=5`]) {
          const response = await get(`/trades?${query}`);
          expect(response.statusCode, query).toBe(200);
          expect(response.json()).toEqual([]);
        }
      }
      for (const value of BEYOND) {
        for (const field of ['after_id', 'user_id']) {
          const response = await get(`/trades?${field}=${value}`);
          expect(response.statusCode, `${field}=${value}`).toBe(400);
          expect(response.json()).toMatchObject({ field });
        }
      }
    });

    it('when a path id is past 2^31, 2^32 or 2^53, then 404 (no such trade), never a 500', async () => {
      const { get } = await ledger();
      for (const id of [...WITHIN.map(String), ...BEYOND]) {
        const response = await get(`/trades/${id}`);
        expect(response.statusCode, id).toBe(404);
        expect(response.json()).toEqual({ detail: 'Not found.' });
      }
    });

    it('when user_id, price or timestamp is 2^31, 2^32 or 2^53-1, then it is stored exactly; past 2^53-1, 400 names it', async () => {
      const { post, get } = await ledger();
      for (const field of ['user_id', 'price', 'timestamp']) {
        for (const value of WITHIN) {
          const created = await post({ ...ABX, [field]: value });
          expect(created.statusCode, `${field}=${value}`).toBe(201);
          expect((await get(`/trades/${created.json().id}`)).json()[field]).toBe(value);
        }
        for (const value of [2 ** 53, 2 ** 63, 2 ** 64, 1e20]) {
          const refused = await post({ ...ABX, [field]: value });
          expect(refused.statusCode, `${field}=${value}`).toBe(400);
          expect(refused.json()).toMatchObject({ field });
        }
      }
      expect((await get('/trades')).json()).toHaveLength(3 * WITHIN.length);
    });
  });

  describe('methods the ledger does not allow', () => {
    it.each(['PUT', 'PATCH', 'DELETE', 'POST', 'OPTIONS'] as const)(
      'when %s /trades/{id} is sent for an existing or a missing id, then 405 with Allow: GET',
      async (method) => {
        const { app, post, get } = await ledger();
        await post(ABX);
        for (const url of ['/trades/1', '/trades/999', '/trades/abc']) {
          const response = await app.inject({ method, url, payload: ABX });
          expect(response.statusCode).toBe(405);
          expect(response.headers.allow).toBe('GET');
          expect(response.json().detail).toBe(`Method "${method}" not allowed.`);
        }
        expect((await get('/trades/1')).json()).toStrictEqual({ id: 1, ...ABX });
      },
    );

    it('when PUT, PATCH, DELETE or OPTIONS hits the collection, then 405 with Allow: GET, POST', async () => {
      const { app } = await ledger();
      for (const method of ['PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const) {
        const response = await app.inject({ method, url: '/trades' });
        expect(response.statusCode).toBe(405);
        expect(response.headers.allow).toBe('GET, POST');
      }
    });

    it('when a 405 route gets an unparseable body, then it is still 405', async () => {
      const { app } = await ledger();
      const response = await app.inject({
        method: 'PUT',
        url: '/trades/1',
        payload: 'not json',
        headers: { 'content-type': 'text/plain' },
      });
      expect(response.statusCode).toBe(405);
    });
  });

  it('when a route does not exist, then 404 JSON', async () => {
    const { get } = await ledger();
    const response = await get('/no/such/route');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ detail: 'Not found.' });
  });

  it('when the service restarts, then trades and the id sequence survive', async () => {
    const database = await createTestDatabase(engine);
    try {
      const first = await startService(engine, {}, database);
      await first.app.inject({ method: 'POST', url: '/trades', payload: ABX });
      await first.app.inject({ method: 'POST', url: '/trades', payload: { ...ABX, type: 'sell' } });
      await first.close();

      const second = await startService(engine, {}, database);
      const listed = await second.app.inject({ method: 'GET', url: '/trades' });
      expect(listed.json()).toStrictEqual([{ id: 1, ...ABX }, { id: 2, ...ABX, type: 'sell' }]);
      const next = await second.app.inject({ method: 'POST', url: '/trades', payload: ABX });
      expect(next.json().id).toBe(3);
      await second.close();
    } finally {
      await database.drop();
    }
  });
});

describe('the OpenAPI document', () => {
  it('when /openapi.json is fetched, then it documents every route', async () => {
    const { app } = await startService('sqlite');
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const paths = Object.keys(response.json().paths);
    for (const path of ['/trades', '/trades/{id}', '/api/v1/register', '/api/v1/symbol/{symbol}', '/api/v1/symbols', '/api/v1/symbol/{symbol}/history', '/api/v1/me', '/api/v1/keys/rotate', '/api/v1/keys/revoke']) {
      expect(paths).toContain(path);
    }
    // Only what each path serves: the methods answered 405 are not operations.
    const methodsOf = (path: string) => Object.keys(response.json().paths[path]).sort();
    expect(methodsOf('/trades')).toEqual(['get', 'post']);
    expect(methodsOf('/trades/{id}')).toEqual(['get']);
    expect(methodsOf('/api/v1/register')).toEqual(['post']);
    expect(methodsOf('/api/v1/symbol/{symbol}')).toEqual(['get']);
  });
});

describe.each(testEngines())('query and path edge cases on %s (found by the fuzz suite)', (engine) => {
  it.each(['after_id=1e309', 'after_id=Infinity', 'user_id=0x10', 'user_id=%205', 'limit=1e1', 'user_id=99999999999999999999'])(
    'when the query has %s, then 400, never a 500',
    async (query) => {
      const { app } = await startService(engine);
      const response = await app.inject({ method: 'GET', url: `/trades?${query}` });
      expect(response.statusCode).toBe(400);
    },
  );

  it('when a path parameter is very long, then the route still answers 400/404 in JSON', async () => {
    const { app } = await startService(engine);
    const key = (await app.inject({ method: 'POST', url: '/api/v1/register/', payload: { name: 'a', last_name: 'b', email: 'a@b.io' } })).json();
    expect((await app.inject({ method: 'GET', url: `/trades/${'1'.repeat(200)}` })).json()).toEqual({ detail: 'Not found.' });
    const symbol = await app.inject({ method: 'GET', url: `/api/v1/symbol/${'IBM'.repeat(60)}/`, headers: { 'x-api-key': key } });
    expect(symbol.statusCode).toBe(400);
    const huge = await app.inject({ method: 'GET', url: `/trades/${'1'.repeat(2000)}` });
    expect(huge.statusCode).toBe(414);
    expect(huge.json()).toEqual({ detail: 'Request URI is too long.' });
  });
});
