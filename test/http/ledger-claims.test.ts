import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { createTestDatabase, testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';

const TRADE = { type: 'buy', user_id: 7, symbol: 'IBM', shares: 10, price: 100, timestamp: 1531522701000 };
const FORBIDDEN = "user_id: this ledger is claimed; only its owner's key (Authorization: Token …) may write or read its trades.";

describe.each(testEngines())('ledger claims on %s', (engine) => {
  async function ledgers(database?: Awaited<ReturnType<typeof createTestDatabase>>, env: Record<string, string> = {}) {
    const { app, close } = await startService(engine, env, database);
    const as = (key: string | undefined) => (key === undefined ? {} : { authorization: `Token ${key}` });
    const claim = (key: string, userId: string | number) => app.inject({ method: 'POST', url: `/api/v1/ledgers/${userId}/claim`, headers: as(key) });
    const release = (key: string, userId: string | number) => app.inject({ method: 'DELETE', url: `/api/v1/ledgers/${userId}/claim`, headers: as(key) });
    const post = (trade: object, key?: string, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url: '/trades', payload: trade, headers: { ...as(key), ...headers } });
    const get = (url: string, key?: string) => app.inject({ method: 'GET', url, headers: as(key) });
    return { app, close, claim, release, post, get };
  }

  it('when an account claims an unclaimed user_id, then 201 with the claim, 200 with the same claim again, and the account lists it', async () => {
    const { app, claim, get, post } = await ledgers();
    expect((await post(TRADE)).statusCode).toBe(201);
    const owner = await register(app, 'owner@example.com');
    const first = await claim(owner, 7);
    expect(first.statusCode).toBe(201);
    expect(first.json()).toEqual({ user_id: 7, claimed_at: expect.any(Number), after_trade_id: 1 });
    const again = await claim(owner, 7);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    const listed = await get('/api/v1/ledgers/', owner);
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toEqual([first.json()]);
  });

  it('when another account claims a claimed user_id, then 409 with a detail, and the first keeps it', async () => {
    const { app, claim, get } = await ledgers();
    const owner = await register(app, 'owner@example.com');
    const other = await register(app, 'other@example.com');
    expect((await claim(owner, 7)).statusCode).toBe(201);
    const refused = await claim(other, 7);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toEqual({ detail: 'user_id: this ledger is claimed by another account.' });
    expect((await get('/api/v1/ledgers/', other)).json()).toEqual([]);
    expect((await get('/api/v1/ledgers/', owner)).json()).toHaveLength(1);
  });

  it('when two accounts claim one user_id at the same moment, then one gets 201 and the other 409', async () => {
    const { app, claim } = await ledgers();
    const keys = [await register(app, 'a@example.com'), await register(app, 'b@example.com')];
    for (let userId = 100; userId < 110; userId++) {
      const answers = await Promise.all(keys.map((key) => claim(key, userId)));
      expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409]);
    }
  });

  it('when a ledger is claimed, then writes without the owner\'s key are 403 and nothing is written; the owner\'s key writes', async () => {
    const { app, claim, post, get } = await ledgers();
    const owner = await register(app, 'owner@example.com');
    const other = await register(app, 'other@example.com');
    await claim(owner, 7);
    for (const key of [undefined, other]) {
      const refused = await post(TRADE, key);
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toEqual({ detail: FORBIDDEN });
    }
    // A wrong key on a claimed ledger is a wrong key.
    expect((await post(TRADE, 'not-a-key')).statusCode).toBe(401);
    const written = await post(TRADE, owner);
    expect(written.statusCode).toBe(201);
    // Nothing was written by the refused ones: the owner's trade is the ledger's first.
    expect(written.json().id).toBe(1);
    expect((await get('/trades?user_id=7', owner)).json()).toEqual([written.json()]);
  });

  it('when a ledger is claimed, then its lists and its trades by id are 403 to others, left out of unfiltered lists, and the owner sees them all, those before the claim included', async () => {
    const { app, claim, post, get } = await ledgers();
    const before = (await post(TRADE)).json();
    const open = (await post({ ...TRADE, user_id: 8 })).json();
    const owner = await register(app, 'owner@example.com');
    const other = await register(app, 'other@example.com');
    // The ledger's last id at the claim, the other user's trade included: this user's trades up to it came before.
    expect((await claim(owner, 7)).json().after_trade_id).toBe(open.id);
    const after = (await post(TRADE, owner)).json();

    for (const key of [undefined, other]) {
      expect((await get('/trades?user_id=7', key)).statusCode).toBe(403);
      expect((await get('/trades?user_id=7&limit=10', key)).statusCode).toBe(403);
      expect((await get(`/trades/${before.id}`, key)).statusCode).toBe(403);
      expect((await get('/trades', key)).json()).toEqual([open]);
      expect((await get('/trades?symbol=IBM&limit=10', key)).json()).toEqual([open]);
    }
    expect((await get('/trades?user_id=7', owner)).json()).toEqual([before, after]);
    expect((await get(`/trades/${before.id}`, owner)).json()).toEqual(before);
    // Unclaimed ledgers are as the seed has them, a wrong key ignored.
    expect((await get('/trades?user_id=8', 'not-a-key')).json()).toEqual([open]);
    expect((await post({ ...TRADE, user_id: 8 }, 'not-a-key')).statusCode).toBe(201);
  });

  it("when a trade was recorded with an Idempotency-Key before the claim, then a replay without the owner's key is 403, not the kept trade", async () => {
    const { app, claim, post } = await ledgers();
    const headers = { 'idempotency-key': 'k-1' };
    const first = await post(TRADE, undefined, headers);
    expect(first.statusCode).toBe(201);
    const owner = await register(app, 'owner@example.com');
    await claim(owner, 7);
    const replay = await post(TRADE, undefined, headers);
    expect(replay.statusCode).toBe(403);
    expect(replay.body).not.toContain('"id"');
    const ownReplay = await post(TRADE, owner, headers);
    expect(ownReplay.statusCode).toBe(201);
    expect(ownReplay.headers['idempotent-replayed']).toBe('true');
    expect(ownReplay.json()).toEqual(first.json());
  });

  it("when a ledger is claimed, then its portfolio and history are 403 to another account's key and answered to the owner's", async () => {
    const { app, claim, get } = await ledgers();
    const owner = await register(app, 'owner@example.com');
    const other = await register(app, 'other@example.com');
    await claim(owner, 7);
    for (const url of ['/api/v1/portfolio/7/', '/api/v1/portfolio/7/history/']) {
      const refused = await get(url, other);
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toEqual({ detail: FORBIDDEN });
      expect((await get(url, owner)).statusCode).toBe(200);
    }
  });

  it('when the owner releases a claim, then 204 and the ledger is open again; releasing what one does not hold is 404', async () => {
    const { app, claim, release, post, get } = await ledgers();
    const owner = await register(app, 'owner@example.com');
    const other = await register(app, 'other@example.com');
    await claim(owner, 7);
    const notHeld = await release(other, 7);
    expect(notHeld.statusCode).toBe(404);
    expect(notHeld.json()).toEqual({ detail: 'You have no claim on this ledger.' });
    expect((await post(TRADE)).statusCode).toBe(403);
    expect((await release(owner, 7)).statusCode).toBe(204);
    expect((await post(TRADE)).statusCode).toBe(201);
    expect((await get('/api/v1/ledgers/', owner)).json()).toEqual([]);
    expect((await release(owner, 7)).statusCode).toBe(404);
  });

  it.each([
    ['0', 201],
    ['9007199254740991', 201],
    ['-1', 400],
    ['9007199254740992', 400],
    ['1.5', 400],
    ['abc', 400],
    ['%00', 400],
  ])('when user_id %s is claimed, then %i', async (userId, status) => {
    const { app, claim, release } = await ledgers();
    const owner = await register(app, 'owner@example.com');
    const answer = await claim(owner, userId);
    expect(answer.statusCode).toBe(status);
    expect(typeof answer.json().detail === 'string' || answer.json().user_id === Number(userId)).toBe(true);
    if (status === 400) {
      expect(answer.json().field ?? 'user_id').toBe('user_id');
      expect((await release(owner, userId)).statusCode).toBe(400);
    }
  });

  it('when the greatest user_id is claimed, then trades for it need the owner\'s key', async () => {
    const { app, claim, post } = await ledgers();
    const owner = await register(app, 'owner@example.com');
    await claim(owner, Number.MAX_SAFE_INTEGER);
    expect((await post({ ...TRADE, user_id: Number.MAX_SAFE_INTEGER })).statusCode).toBe(403);
    expect((await post({ ...TRADE, user_id: Number.MAX_SAFE_INTEGER }, owner)).statusCode).toBe(201);
  });

  it('when a claim is asked without a key, then 401', async () => {
    const { app } = await ledgers();
    expect((await app.inject({ method: 'POST', url: '/api/v1/ledgers/7/claim' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/v1/ledgers/' })).statusCode).toBe(401);
  });

  it('when the owner rotates its key, then the claim stays with the account: the new key writes, the old one is 401', async () => {
    const { app, claim, post, get } = await ledgers();
    const old = await register(app, 'owner@example.com');
    await claim(old, 7);
    const rotated = await app.inject({ method: 'POST', url: '/api/v1/keys/rotate/', headers: { authorization: `Token ${old}` } });
    const fresh = rotated.json<string>();
    expect((await post(TRADE, fresh)).statusCode).toBe(201);
    expect((await post(TRADE, old)).statusCode).toBe(401);
    expect((await get('/api/v1/ledgers/', fresh)).json()).toHaveLength(1);
  });

  it('when an account holds 100 claims, then the 101st is 400 until it releases one', async () => {
    const { app, claim, release } = await ledgers();
    const owner = await register(app, 'owner@example.com');
    for (let userId = 1; userId <= 100; userId++) expect((await claim(owner, userId)).statusCode).toBe(201);
    const refused = await claim(owner, 101);
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({ detail: 'user_id: an account may claim at most 100 ledgers; release one first', field: 'user_id' });
    await release(owner, 1);
    expect((await claim(owner, 101)).statusCode).toBe(201);
  });

  it('when one instance takes a claim, then another instance on the same database refuses writes at once', async () => {
    const database = await createTestDatabase(engine);
    const a = await ledgers(database);
    const b = await ledgers(database);
    try {
      const owner = await register(a.app, 'owner@example.com');
      expect((await b.post(TRADE)).statusCode).toBe(201);
      await a.claim(owner, 7);
      expect((await b.post(TRADE)).statusCode).toBe(403);
      await a.release(owner, 7);
      expect((await b.post(TRADE)).statusCode).toBe(201);
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  });

  it("when a claimed ledger holds more trades than PORTFOLIO_MAX_TRADES, then its portfolio is 400 to the owner until the operator raises the cap, and nobody else can add to it", async () => {
    const database = await createTestDatabase(engine);
    const narrow = await ledgers(database, { PORTFOLIO_MAX_TRADES: '3' });
    try {
      const owner = await register(narrow.app, 'owner@example.com');
      await narrow.claim(owner, 7);
      for (let i = 0; i < 4; i++) expect((await narrow.post(TRADE, owner)).statusCode).toBe(201);
      expect((await narrow.post(TRADE)).statusCode).toBe(403);
      const capped = await narrow.get('/api/v1/portfolio/7/', owner);
      expect(capped.statusCode).toBe(400);
      expect(capped.json()).toEqual({
        detail: 'user_id: this user has more than 3 trades up to the day asked; a portfolio folds at most 3 per request',
        field: 'user_id',
      });
      expect((await narrow.get('/api/v1/portfolio/7/history/', owner)).statusCode).toBe(400);
      await narrow.close();
      const raised = await ledgers(database, { PORTFOLIO_MAX_TRADES: '4' });
      const portfolio = await raised.get('/api/v1/portfolio/7/', owner);
      expect(portfolio.statusCode).toBe(200);
      expect(portfolio.json().positions.map((p: { symbol: string; shares: number }) => [p.symbol, p.shares])).toEqual([['IBM', 40]]);
      await raised.close();
    } finally {
      await narrow.close();
      await database.drop();
    }
  });
});
