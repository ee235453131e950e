import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';

describe.each(testEngines())('what a batch of symbols costs, on %s (sandbox data)', (engine) => {
  async function client(userRate: string) {
    const { app } = await startService(engine, { THROTTLE_USER: userRate });
    const key = await register(app);
    const get = (url: string) => app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
    const used = async () => (await get('/api/v1/me/')).json().usage.used as number;
    return { get, used };
  }

  it('when a batch names symbols, then it costs one request per distinct symbol, as the headers and /me show', async () => {
    const { get, used } = await client('10/day');
    const batch = await get('/api/v1/symbols/?symbols=IBM,ibm,%20AAPL,MSFT,,AAPL');
    expect(batch.statusCode).toBe(200);
    expect(Object.keys(batch.json()).sort()).toEqual(['AAPL', 'IBM', 'MSFT']);
    expect(batch.headers.ratelimit).toMatch(/^"user";r=7;t=\d+$/);
    expect(await used()).toBe(4); // the batch's 3, and this /me
  });

  it('when a batch costs more than is left, then it is refused whole with 429, costs nothing, and says when enough is free', async () => {
    const { get, used } = await client('10/day');
    expect((await get('/api/v1/symbols/?symbols=A,B,C,D,E,F')).statusCode).toBe(200); // 6 used, 4 left
    const refused = await get('/api/v1/symbols/?symbols=G,H,I,J,K');
    expect(refused.statusCode).toBe(429);
    const wait = Number(refused.headers['retry-after']);
    expect(wait).toBeGreaterThan(86_300);
    expect(wait).toBeLessThanOrEqual(86_400);
    expect(refused.json()).toEqual({ detail: `Request was throttled. Expected available in ${wait} seconds. This request costs 5 requests.` });
    expect(refused.headers.ratelimit).toMatch(/^"user";r=4;t=\d+$/);
    expect(await used()).toBe(7); // nothing for the refused batch
    expect((await get('/api/v1/symbols/?symbols=G,H,I')).statusCode).toBe(200); // 3 still fit
  });

  it('when a batch is refused as invalid, then it costs one request, as any request', async () => {
    const { get, used } = await client('10/day');
    const invalid = await get('/api/v1/symbols/?symbols=IBM,AAPL,-BAD');
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().field).toBe('symbol');
    expect(await used()).toBe(2);
  });

  it('when a batch costs more than the whole allowance, then 400 names the field and it counts as one request, as every answer does', async () => {
    const { get, used } = await client('3/day');
    const response = await get('/api/v1/symbols/?symbols=IBM,AAPL,MSFT,ORCL');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      detail: 'symbols: costs 4 requests, more than the whole allowance of 3/day; ask for fewer at a time',
      field: 'symbols',
    });
    expect(await used()).toBe(2); // the refused batch and this /me
    expect(response.headers.ratelimit).toMatch(/^"user";r=2;t=\d+$/);
  });
});
